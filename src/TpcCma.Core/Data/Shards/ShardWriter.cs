using System.Formats.Tar;
using System.Text;
using System.Text.Json;

namespace TpcCma.Data.Shards;

/// <summary>
/// Writes WebDataset shards: <c>KEY.EXT</c> (the encoded image), <c>KEY.txt</c> (captions, one per line) and, when
/// the sample has a label or split, <c>KEY.json</c>; a new shard every <c>shardSize</c> samples, named
/// <c>PREFIX00000.tar</c>, .... Members carry a fixed time and mode, so the same samples give byte-identical shards.
/// Each shard is written under a temporary name and renamed when complete.
/// </summary>
public sealed class ShardWriter(string folder, int shardSize, string namePrefix = "") : IDisposable
{
    private readonly List<string> files = [];
    private FileStream? stream;
    private TarWriter? tar;
    private string? currentPath;
    private int inCurrent;

    public IReadOnlyList<string> ShardFiles => files;
    public int SamplesWritten { get; private set; }

    /// <summary>The brace pattern naming the shards written so far, relative to the folder (<c>{00000..00009}.tar</c>).</summary>
    public string Pattern => $"{namePrefix}{{{0:D5}..{Math.Max(0, files.Count - 1):D5}}}.tar";

    /// <param name="id">Stored in <c>KEY.json</c> when it differs from the key (the sample's id in the source data set).</param>
    public void Write(string key, byte[] image, string imageExtension, IReadOnlyList<string> captions, string? label = null, string? split = null, string? id = null)
    {
        if (shardSize <= 0) throw new ArgumentException($"shard size must be positive, got {shardSize}");
        if (key.Contains('.')) throw new ArgumentException($"sample key '{key}' contains a dot; WebDataset keys end at the first dot");
        if (tar is null || inCurrent == shardSize) Roll();
        Add($"{key}.{imageExtension.TrimStart('.').ToLowerInvariant()}", image);
        Add($"{key}.txt", Encoding.UTF8.GetBytes(string.Join("\n", captions.Select(c => c.ReplaceLineEndings(" ")))));
        if (id == key) id = null;
        if (label is not null || split is not null || id is not null)
        {
            var metadata = new Dictionary<string, string>();
            if (id is not null) metadata["id"] = id;
            if (label is not null) metadata["label"] = label;
            if (split is not null) metadata["split"] = split;
            Add($"{key}.json", JsonSerializer.SerializeToUtf8Bytes(metadata));
        }
        inCurrent++;
        SamplesWritten++;
    }

    /// <summary>Writes <c>dataset.json</c> beside the shards: the shard pattern, class names and prompt templates.</summary>
    public void WriteDescriptor(IReadOnlyList<string>? classNames, IReadOnlyList<string>? templates)
    {
        Close();
        File.WriteAllText(Path.Combine(folder, ShardSet.DescriptorName), JsonSerializer.Serialize(new
        {
            format = "webdataset",
            shards = Pattern,
            samples = SamplesWritten,
            classes = classNames,
            templates,
        }, new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
    }

    private void Add(string name, byte[] data)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(data, writable: false),
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        tar!.WriteEntry(entry);
    }

    private void Roll()
    {
        Close();
        Directory.CreateDirectory(folder);
        currentPath = Path.Combine(folder, $"{namePrefix}{files.Count:D5}.tar");
        stream = new FileStream(currentPath + ".tmp", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        tar = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true);
        inCurrent = 0;
    }

    private void Close()
    {
        if (tar is null) return;
        tar.Dispose();
        stream!.Dispose();
        File.Move(currentPath + ".tmp", currentPath!, overwrite: true);
        files.Add(currentPath!);
        (tar, stream, currentPath) = (null, null, null);
    }

    public void Dispose() => Close();
}
