using System.CommandLine;
using System.Globalization;
using System.Net;
using TpcCma.Checkpoints;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Cli.Commands.Client;

/// <summary>
/// <c>tpccma checkpoints download</c>: fetches a checkpoint into <c>PATH.part</c>, resumes an interrupted
/// download with <c>Range</c> + <c>If-Range</c> (the ETag is kept beside the part file), checks the sha256
/// against the ETag and only then renames the file to PATH.
/// </summary>
public static class CheckpointsCommands
{
    private static readonly Argument<string> Job = new("JOB") { Description = "The job's id" };
    private static readonly Option<string> Step = CliOptions.Text("--step", "N|latest", "Which checkpoint", "latest");
    private static readonly Option<string> Format = CliOptions.Choice("--format", "openclip: one .safetensors file; hf: a Hugging Face folder as a tar", ["openclip", "hf"]);
    private static readonly Option<string> Out = CliOptions.Text("--out", "PATH", "The file to write (PATH.part while downloading)", required: true);

    public static IReadOnlyList<CliCommand> All { get; } =
    [
        ClientCommand.Create("checkpoints download", "Download a job's checkpoint, sha256-verified, resuming a partial download (hf: waits for the conversion first)",
            [Job, Step, Format, Out, JobWaiter.TimeoutOption], Download, waits: true),
        ClientCommand.Create("checkpoints list", "List a job's checkpoints", [Job], List),
    ];

    private static async Task<int> List(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var job = args.GetRequiredValue(Job);
        var list = await client.GetAsync($"/v1/jobs/{Uri.EscapeDataString(job)}/checkpoints", ct);
        output.Document(list, () => output.Table(["step", "phase", "bytes", "sha256"],
            list.AsArray().Select(c => (IReadOnlyList<string>)[ClientOutput.Text(c!["step"]), ClientOutput.Text(c["phase"]), ClientOutput.Text(c["size_bytes"]), ClientOutput.Text(c["sha256"])])));
        return ExitCodes.Ok;
    }

    private static async Task<int> Download(ServiceClient client, ClientOutput output, ParseResult args, CancellationToken ct)
    {
        var job = args.GetRequiredValue(Job);
        var step = args.GetValue(Step) ?? "latest";
        if (step != "latest" && !long.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new CliUsageException($"--step must be a step number or 'latest', got '{step}'");
        var format = args.GetRequiredValue(Format);
        var target = Path.GetFullPath(args.GetRequiredValue(Out));
        var timeout = JobWaiter.Timeout(args);
        if (Directory.Exists(target)) throw new CliUsageException($"--out {target} is a folder: name the file to write");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);

        var url = $"/v1/jobs/{Uri.EscapeDataString(job)}/checkpoints/{step}/download?format={format}";
        // A Hugging Face export is converted by a worker on first request (202 and an operation): wait for it first.
        if (format == "hf" && await OperationWaiter.WaitUntilReadyAsync(client, output, url, timeout, ct) is var ready and not ExitCodes.Ok) return ready;
        var download = new ResumableDownload(client.Http, url, target, output);
        var sha256 = await download.RunAsync(ct);
        if (sha256 is null) return ExitCodes.Failed;
        if (output.Json) output.Out.WriteLine(ClientCommand.Pretty(new System.Text.Json.Nodes.JsonObject { ["path"] = target, ["bytes"] = new FileInfo(target).Length, ["sha256"] = sha256 }));
        else output.Out.WriteLine($"{target}  {new FileInfo(target).Length} bytes  sha256 {sha256}");
        return ExitCodes.Ok;
    }

    /// <summary>One file's download into a <c>.part</c> file and its ETag sidecar.</summary>
    private sealed class ResumableDownload(HttpClient http, string url, string target, ClientOutput output)
    {
        private string PartPath => RangeDownload.PartPath(target);
        private string EtagPath => target + ".part.etag";

        /// <summary>Returns the verified sha256, or null (after saying why) when the bytes do not match the ETag.</summary>
        public async Task<string?> RunAsync(CancellationToken ct)
        {
            for (var attempt = 0; ; attempt++)
            {
                var etag = await TransferAsync(ct);
                var sha256 = await RangeDownload.Sha256Async(PartPath, ct);
                if (etag is null || string.Equals(etag, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    if (etag is null) output.Errors.WriteLine("warning: the service sent no ETag, so the download could not be verified");
                    File.Move(PartPath, target, overwrite: true);
                    File.Delete(EtagPath);
                    return sha256;
                }
                // A resumed part that no longer matches (the sidecar was lost or the file changed): start over once.
                File.Delete(PartPath);
                File.Delete(EtagPath);
                if (attempt > 0)
                {
                    output.Errors.WriteLine($"error: sha256 mismatch: the service's ETag is {etag}, the downloaded bytes hash to {sha256}");
                    return null;
                }
                output.Errors.WriteLine("the partial download did not match; downloading again from the start");
            }
        }

        /// <summary>Appends what is missing to the part file; returns the representation's sha256 (its ETag).</summary>
        private async Task<string?> TransferAsync(CancellationToken ct)
        {
            var have = RangeDownload.ExistingLength(PartPath);
            var knownEtag = File.Exists(EtagPath) ? (await File.ReadAllTextAsync(EtagPath, ct)).Trim() : null;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            // If-Range: the server sends the rest only if the file is still the one the part came from.
            RangeDownload.RequestFrom(request, have, knownEtag);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The part is already complete (or longer than the file): verification decides.
                return response.Headers.ETag?.Tag.Trim('"') ?? knownEtag;
            }
            await ServiceClient.EnsureSuccessAsync(response, ct);
            var etag = response.Headers.ETag?.Tag.Trim('"');
            if (etag is not null) await File.WriteAllTextAsync(EtagPath, etag, ct);
            if (RangeDownload.IsContinuation(response, have)) output.Log.WriteLine($"resuming at byte {have} of {response.Content.Headers.ContentRange?.Length ?? -1}");
            await RangeDownload.WriteBodyAsync(response, PartPath, have,
                (written, total) => output.Progress(total > 0 ? (double)written / total : 0, $"{written / 1024} / {(total > 0 ? total / 1024 : 0)} KiB"), ct);
            output.EndProgress();
            return etag;
        }
    }
}
