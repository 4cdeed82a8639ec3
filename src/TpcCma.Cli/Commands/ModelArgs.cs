using System.CommandLine;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;
using TpcCma.Model;

namespace TpcCma.Cli.Commands;

/// <summary>
/// The options every model-using command shares: <c>--model REF</c>, <c>--tokenizer PATH</c>, for computing commands
/// <c>--device</c> and <c>--bf16</c>, and for <c>hf:</c> references <c>--hub-url</c> (or TPCCMA_HUB_URL), <c>--hub-token</c> (or HF_TOKEN),
/// <c>--cache-dir</c> (or TPCCMA_CACHE) and extra <c>--allow-host</c>s.
/// </summary>
public static class ModelArgs
{
    public static readonly Option<string> Model = CliOptions.Text("--model", "REF",
        "The model: a preset name, a local checkpoint or export, or hf:ORG/NAME", required: true);
    public static readonly Option<string> Tokenizer = CliOptions.Text("--tokenizer", "PATH", "BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) when the model brings none");
    public static readonly Option<string> HubUrl = CliOptions.Text("--hub-url", "URL", "Hugging Face hub for hf: references (or TPCCMA_HUB_URL; default https://huggingface.co/)");
    public static readonly Option<string> HubToken = CliOptions.Text("--hub-token", "T", "Hub access token (or HF_TOKEN)");
    public static readonly Option<string> CacheDir = CliOptions.Text("--cache-dir", "DIR", "Where hub downloads are kept (or TPCCMA_CACHE; default ~/.cache/tpccma/hub)");
    public static readonly Option<string[]> AllowHost = CliOptions.Many("--allow-host", "HOST", "Another host hub downloads may be redirected to (repeatable)");
    public static readonly Option<string> Device = CliOptions.Text("--device", "cpu|cuda[:N]", "Where the model runs", "cpu");
    public static readonly Option<bool> Bf16 = CliOptions.Flag("--bf16", "bfloat16 autocast (CUDA)");

    /// <summary>Where the weights and tokenizer come from: every command that loads a model.</summary>
    public static IReadOnlyList<Symbol> Loading { get; } = [Model, Tokenizer, HubUrl, HubToken, CacheDir, AllowHost];
    /// <summary>The hub alone: <c>train</c>, whose spec names the model.</summary>
    public static IReadOnlyList<Symbol> Hub { get; } = [HubUrl, HubToken, CacheDir, AllowHost];
    /// <summary>Commands that run the model.</summary>
    public static IReadOnlyList<Symbol> Computing { get; } = [Device, Bf16];

    /// <summary>Where huggingface.co sends large files.</summary>
    private static readonly string[] HuggingFaceCdnHosts = ["cdn-lfs.huggingface.co", "cdn-lfs.hf.co", "cdn-lfs-us-1.hf.co", "cas-bridge.xethub.hf.co"];

    public static string Reference(ParseResult args) => args.GetRequiredValue(Model);

    public static ModelLoadOptions Options(ParseResult args, bool withDevice = true)
    {
        var device = withDevice ? DeviceOptions.Parse(args.GetValue(Device) ?? "cpu", args.GetValue(Bf16)) : DeviceOptions.Cpu;
        var hubText = args.GetValue(HubUrl) ?? Environment.GetEnvironmentVariable("TPCCMA_HUB_URL") ?? "https://huggingface.co/";
        if (!Uri.TryCreate(hubText.EndsWith('/') ? hubText : hubText + "/", UriKind.Absolute, out var hubUrl) || hubUrl.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--hub-url must be an http(s) URL, got '{hubText}'");
        var hosts = new List<string> { hubUrl.Host };
        if (hubUrl.Host == "huggingface.co") hosts.AddRange(HuggingFaceCdnHosts);
        hosts.AddRange(args.GetValue(AllowHost) ?? []);
        var cache = args.GetValue(CacheDir) ?? Environment.GetEnvironmentVariable("TPCCMA_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tpccma", "hub");
        var token = args.GetValue(HubToken) ?? Environment.GetEnvironmentVariable("HF_TOKEN");
        return new ModelLoadOptions(args.GetValue(Tokenizer), device, new HubOptions(hubUrl, cache, hosts, token));
    }
}
