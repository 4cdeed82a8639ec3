using TpcCma.Checkpoints;
using TpcCma.Model;

namespace TpcCma.Cli.Commands;

/// <summary>
/// The options every model-using command shares: <c>--model REF</c>, <c>--tokenizer PATH</c>, for computing commands
/// <c>--device</c> and <c>--bf16</c>, and for <c>hf:</c> references <c>--hub-url</c> (or TPCCMA_HUB_URL), <c>--hub-token</c> (or HF_TOKEN),
/// <c>--cache-dir</c> (or TPCCMA_CACHE) and extra <c>--allow-host</c>s.
/// </summary>
public static class ModelArgs
{
    public const string Usage = "--model REF [--tokenizer PATH] [--hub-url URL] [--hub-token T] [--cache-dir DIR] [--allow-host HOST]...";
    public const string DeviceUsage = "[--device cpu|cuda[:N]] [--bf16]";
    public const string Bf16Flag = "bf16";

    /// <summary>Where huggingface.co sends large files.</summary>
    private static readonly string[] HuggingFaceCdnHosts = ["cdn-lfs.huggingface.co", "cdn-lfs.hf.co", "cdn-lfs-us-1.hf.co", "cas-bridge.xethub.hf.co"];

    public static string Reference(CliArgs args) => args.Required("model");

    public static ModelLoadOptions Options(CliArgs args, bool withDevice = true)
    {
        var device = withDevice ? DeviceOptions.Parse(args.Optional("device") ?? "cpu", args.Flag(Bf16Flag)) : DeviceOptions.Cpu;
        var hubText = args.Optional("hub-url") ?? Environment.GetEnvironmentVariable("TPCCMA_HUB_URL") ?? "https://huggingface.co/";
        if (!Uri.TryCreate(hubText.EndsWith('/') ? hubText : hubText + "/", UriKind.Absolute, out var hubUrl) || hubUrl.Scheme is not ("http" or "https"))
            throw new CliUsageException($"--hub-url must be an http(s) URL, got '{hubText}'");
        var hosts = new List<string> { hubUrl.Host };
        if (hubUrl.Host == "huggingface.co") hosts.AddRange(HuggingFaceCdnHosts);
        hosts.AddRange(args.All("allow-host"));
        var cache = args.Optional("cache-dir") ?? Environment.GetEnvironmentVariable("TPCCMA_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tpccma", "hub");
        var token = args.Optional("hub-token") ?? Environment.GetEnvironmentVariable("HF_TOKEN");
        return new ModelLoadOptions(args.Optional("tokenizer"), device, new HubOptions(hubUrl, cache, hosts, token));
    }

    /// <summary>Rejects options the command did not read (usually typos).</summary>
    public static void RejectUnknown(CliArgs args)
    {
        var unknown = args.Unread().ToList();
        if (unknown.Count > 0) throw new CliUsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
