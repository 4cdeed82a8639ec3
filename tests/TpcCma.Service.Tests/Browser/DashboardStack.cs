using Microsoft.Playwright;

namespace TpcCma.Service.Tests.Browser;

/// <summary>
/// A live deployment and Debian's Chromium driven by Playwright (never a downloaded browser; <c>TPCCMA_CHROMIUM</c>
/// names another binary). Screenshots go to <see cref="Artifacts"/>.
/// </summary>
public sealed class DashboardStack : IAsyncLifetime
{
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("TPCCMA_CHROMIUM") ?? "/usr/bin/chromium";
    public static readonly string Artifacts = Path.Combine(TestPaths.RepoRoot, ".local", "test-artifacts", "browser");

    public LiveDeployment Live { get; } = new();
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"no Chromium at {ChromiumPath}: run scripts/provision.sh (installs Debian's chromium) or set TPCCMA_CHROMIUM");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(Artifacts);
        await Live.InitializeAsync();
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
        await Live.DisposeAsync();
    }

    /// <summary>A fresh browser context on the API process, 1280 px wide so the charts sit side by side.</summary>
    public Task<IBrowserContext> NewContextAsync() => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = Live.Api.BaseUrl, ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
    });
}
