using System.Net.Http.Json;
using Microsoft.Playwright;
using TpcCma.Service.Tests.Infrastructure;

namespace TpcCma.Service.Tests.Browser;

/// <summary>
/// A deployment for the browser tests: the stack, one worker, an API process on a real port, and Debian's
/// Chromium driven by Playwright (never a downloaded browser; <c>TPCCMA_CHROMIUM</c> names another binary).
/// </summary>
public sealed class DashboardStack : IAsyncLifetime
{
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("TPCCMA_CHROMIUM") ?? "/usr/bin/chromium";
    public static readonly string Artifacts = Path.Combine(TestPaths.RepoRoot, ".local", "test-artifacts", "browser");

    public ServiceStack Stack { get; } = new();
    public ServiceProcess Api { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string Key { get; private set; } = "";
    private string dataset = "", model = "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"no Chromium at {ChromiumPath}: run scripts/provision.sh (installs Debian's chromium) or set TPCCMA_CHROMIUM");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(Artifacts);
        await Stack.InitializeAsync();
        Key = await Stack.CreateUserKeyAsync("dashboard");
        Client = Stack.Client(Key);
        dataset = await Stack.RegisterShapesAsync(Client, count: 64);
        model = await Stack.RegisterTinyModelAsync(Client);
        await Stack.StartWorkerAsync("node-browser");
        Api = await LiveApi.StartAsync(Stack);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Api is not null) await Api.DisposeAsync();
        await Stack.DisposeAsync();
    }

    public async Task<string> SubmitAsync(string name, int steps)
    {
        var response = await Client.PostAsJsonAsync("/v1/jobs", new
        {
            name, base_model = model, dataset,
            spec = new { kind = "align", alpha_target = 0.5, steps, batch_size = 16, lr = 1e-4, checkpoint_every = 10, log_every = 1, seed = 5 },
        });
        response.EnsureSuccessStatusCode();
        return (await ServiceStack.ReadJsonAsync(response))["id"]!.GetValue<string>();
    }

    /// <summary>A fresh browser context on the API process, 1280 px wide so the charts sit side by side.</summary>
    public Task<IBrowserContext> NewContextAsync() => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = Api.BaseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
    });
}
