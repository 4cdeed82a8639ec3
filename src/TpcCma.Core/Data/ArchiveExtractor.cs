using System.Formats.Tar;
using System.IO.Compression;

namespace TpcCma.Data;

/// <summary>
/// Extracts <c>.tar</c>, <c>.tar.gz</c>/<c>.tgz</c> and <c>.zip</c> datasets safely: entries whose names would land
/// outside the extraction folder and link entries are refused (and reported), and extraction stops once the
/// entry count or the bytes actually written pass the limits (archive bombs).
/// </summary>
public static class ArchiveExtractor
{
    public static bool IsArchive(string path) =>
        path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);

    /// <summary>Extracts into <paramref name="destination"/> (emptied first); refused entries are added to <paramref name="errors"/>.</summary>
    /// <exception cref="DatasetValidationException">The archive is over a limit or unreadable (with every error so far).</exception>
    public static void Extract(string archivePath, string destination, ArchiveLimits limits, List<DatasetError> errors)
    {
        if (Directory.Exists(destination)) Directory.Delete(destination, recursive: true);
        Directory.CreateDirectory(destination);
        var budget = new ExtractionBudget(Path.GetFileName(archivePath), limits);
        try
        {
            if (archivePath.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) ExtractZip(archivePath, destination, budget, errors);
            else ExtractTar(archivePath, destination, budget, errors);
        }
        catch (ArchiveLimitException ex)
        {
            errors.Add(new DatasetError(ex.Location, DatasetErrorKind.ArchiveTooLarge, ex.Message));
            throw new DatasetValidationException(errors);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            errors.Add(new DatasetError(budget.ArchiveName, DatasetErrorKind.MalformedEntry, $"archive is corrupt ({ex.Message})"));
            throw new DatasetValidationException(errors);
        }
    }

    private static void ExtractTar(string archivePath, string destination, ExtractionBudget budget, List<DatasetError> errors)
    {
        using var file = File.OpenRead(archivePath);
        using Stream stream = archivePath.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            var location = budget.CountEntry(entry.Name);
            if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            {
                errors.Add(new(location, DatasetErrorKind.ArchiveEntryEscapes, $"link entry (to '{entry.LinkName}') is not extracted"));
                continue;
            }
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile or TarEntryType.Directory))
                continue; // devices, fifos: nothing a dataset needs
            if (TargetPath(destination, entry.Name, location, errors) is not { } target) continue;
            if (entry.EntryType == TarEntryType.Directory) { Directory.CreateDirectory(target); continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (entry.DataStream is null) { File.WriteAllBytes(target, []); continue; }
            using var output = File.Create(target);
            budget.Copy(entry.DataStream, output, location);
        }
    }

    private static void ExtractZip(string archivePath, string destination, ExtractionBudget budget, List<DatasetError> errors)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        // Declared sizes can lie, so this only refuses early; the copy below counts the bytes really written.
        if (zip.Entries.Count > budget.Limits.MaxEntries || zip.Entries.Sum(e => e.Length) > budget.Limits.MaxTotalBytes)
            throw new ArchiveLimitException(budget.ArchiveName,
                $"archive declares {zip.Entries.Count} entries and {zip.Entries.Sum(e => e.Length)} bytes, over the limits of {budget.Limits.MaxEntries} entries and {budget.Limits.MaxTotalBytes} bytes");
        foreach (var entry in zip.Entries)
        {
            var location = budget.CountEntry(entry.FullName);
            const int unixFileTypeMask = 0xF000, unixSymlink = 0xA000;
            if (((entry.ExternalAttributes >> 16) & unixFileTypeMask) == unixSymlink)
            {
                errors.Add(new(location, DatasetErrorKind.ArchiveEntryEscapes, "link entry is not extracted"));
                continue;
            }
            if (TargetPath(destination, entry.FullName, location, errors) is not { } target) continue;
            if (entry.FullName.EndsWith('/')) { Directory.CreateDirectory(target); continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using var input = entry.Open();
            using var output = File.Create(target);
            budget.Copy(input, output, location);
        }
    }

    private static string? TargetPath(string destination, string name, string location, List<DatasetError> errors)
    {
        var normalised = name.Replace('\\', '/');
        string? reason = normalised.Length == 0 || normalised.Contains('\0') ? "empty or invalid name"
            : normalised.StartsWith('/') || (normalised.Length > 1 && normalised[1] == ':') ? "absolute path"
            : normalised.Split('/').Contains("..") ? "'..' in the path"
            : null;
        var target = reason is null ? Path.GetFullPath(Path.Combine(destination, normalised)) : null;
        if (target is not null && !DatasetPaths.IsInside(destination, target.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar))
            reason = "resolves outside the extraction folder";
        if (reason is null) return target;
        errors.Add(new(location, DatasetErrorKind.ArchiveEntryEscapes, $"entry would be written outside the extraction folder ({reason})"));
        return null;
    }

    private sealed class ExtractionBudget(string archiveName, ArchiveLimits limits)
    {
        private long bytes;
        private int entries;
        public string ArchiveName { get; } = archiveName;
        public ArchiveLimits Limits { get; } = limits;

        public string CountEntry(string name)
        {
            var location = $"{ArchiveName}!{name}";
            if (++entries > Limits.MaxEntries) throw new ArchiveLimitException(location, $"archive has more than {Limits.MaxEntries} entries");
            return location;
        }

        public void Copy(Stream input, Stream output, string location)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                bytes += read;
                if (bytes > Limits.MaxTotalBytes)
                    throw new ArchiveLimitException(location, $"archive expands to more than {Limits.MaxTotalBytes} bytes");
                output.Write(buffer, 0, read);
            }
        }
    }

    private sealed class ArchiveLimitException(string location, string message) : Exception(message)
    {
        public string Location { get; } = location;
    }
}
