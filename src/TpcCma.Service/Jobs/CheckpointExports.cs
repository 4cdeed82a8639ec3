using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Security.Cryptography;
using TpcCma.Checkpoints;
using TpcCma.Tokenization;
using TpcCma.Training;

namespace TpcCma.Service.Jobs;

/// <summary>A file ready to stream: its path, size and sha256 (the download's ETag).</summary>
public sealed record ExportedFile(string Path, long Size, string Sha256, string ContentType, string FileName);

/// <summary>
/// The download formats of a checkpoint folder. The trainer writes OpenCLIP-layout weights, served as they are;
/// the Hugging Face folder is converted once, by a worker (a <c>checkpoint-conversion</c> operation), and kept beside
/// them as a tar with its sha256.
/// </summary>
public sealed class CheckpointExports
{
    public const string HfTar = "hf.tar";
    public static readonly string[] Formats = ["openclip", "hf"];
    private readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new();

    public static string HfTarPath(string checkpointDirectory) => Path.Combine(checkpointDirectory, HfTar);

    /// <summary>The OpenCLIP-layout weights as they are.</summary>
    public Task<ExportedFile> OpenClipAsync(string checkpointDirectory, string name, CancellationToken ct)
    {
        var weights = Path.Combine(checkpointDirectory, CheckpointStore.WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"checkpoint weights missing: {weights}");
        return DescribeAsync(weights, "application/octet-stream", $"{name}.safetensors", ct);
    }

    /// <summary>The converted Hugging Face tar, or null when it has not been converted on this node.</summary>
    public async Task<ExportedFile?> ConvertedHfAsync(string checkpointDirectory, string name, CancellationToken ct) =>
        File.Exists(HfTarPath(checkpointDirectory)) ? await DescribeAsync(HfTarPath(checkpointDirectory), "application/x-tar", $"{name}-hf.tar", ct) : null;

    /// <summary>Converts the checkpoint to a Hugging Face folder in a tar (once; later calls find it). Loads the model: worker work.</summary>
    public async Task<ExportedFile> ConvertHfAsync(string checkpointDirectory, string tokenizerDirectory, string name, CancellationToken ct)
    {
        var weights = Path.Combine(checkpointDirectory, CheckpointStore.WeightsFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"checkpoint weights missing: {weights}");
        var tar = HfTarPath(checkpointDirectory);
        var gate = locks.GetOrAdd(tar, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (!File.Exists(tar))
            {
                var staging = Directory.CreateTempSubdirectory("tpccma-hf-").FullName;
                try
                {
                    // Conversion is CPU work on a dedicated thread: TorchSharp's dispose scopes are thread-local.
                    await Task.Factory.StartNew(() =>
                    {
                        using var model = OpenClipCheckpoint.Load(weights);
                        HfClipCheckpoint.Save(model, ClipTokenizer.Load(tokenizerDirectory), staging);
                    }, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    var partial = tar + ".tmp";
                    await TarFile.CreateFromDirectoryAsync(staging, partial, includeBaseDirectory: false, ct);
                    File.Move(partial, tar, overwrite: true);
                }
                finally { Directory.Delete(staging, recursive: true); }
            }
        }
        finally { gate.Release(); }
        return await DescribeAsync(tar, "application/x-tar", $"{name}-hf.tar", ct);
    }

    /// <summary>sha256 is cached in a side file so repeated downloads of a large file do not rehash it.</summary>
    private static async Task<ExportedFile> DescribeAsync(string path, string contentType, string fileName, CancellationToken ct)
    {
        var info = new FileInfo(path);
        var shaFile = path + ".sha256";
        string sha;
        if (File.Exists(shaFile) && File.GetLastWriteTimeUtc(shaFile) >= info.LastWriteTimeUtc
            && (await File.ReadAllTextAsync(shaFile, ct)).Trim() is { Length: Sha256HexLength } cached)
        {
            sha = cached;
        }
        else
        {
            await using (var stream = File.OpenRead(path)) sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
            await TryCacheAsync(shaFile, sha, ct);
        }
        return new ExportedFile(path, info.Length, sha, contentType, fileName);
    }

    private const int Sha256HexLength = 64;

    /// <summary>
    /// The side file is only a cache: on a full or read-only disk the checkpoint is still served (and hashed again
    /// next time). Written under a temporary name and renamed, so a failed write never leaves a truncated hash behind.
    /// </summary>
    private static async Task TryCacheAsync(string shaFile, string sha, CancellationToken ct)
    {
        var partial = $"{shaFile}.{Guid.NewGuid():N}.tmp";
        try
        {
            await File.WriteAllTextAsync(partial, sha, ct);
            File.Move(partial, shaFile, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(partial); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
        }
    }
}
