using System.Text.Json;
using System.Text.RegularExpressions;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Data.Sources;

/// <summary>Which attribute of a synthetic image becomes its class label.</summary>
public enum ShapeLabel { ShapeAndColour, Shape, Colour }

/// <summary>Settings of the synthetic-shapes source.</summary>
/// <param name="TestFraction">Share of images put in split <c>test</c> by id hash (the rest are <c>train</c>); 0 for no split.</param>
public sealed record SyntheticShapesOptions(int Count = 1000, int Size = 64, int Seed = 0, ShapeLabel Label = ShapeLabel.ShapeAndColour, double TestFraction = 0.2)
{
    public SyntheticShapesOptions Validated()
    {
        if (Count <= 0) throw new ArgumentException($"count must be positive, got {Count}");
        if (Size is < 8 or > 1024) throw new ArgumentException($"size must be between 8 and 1024 pixels, got {Size}");
        if (TestFraction is < 0 or >= 1) throw new ArgumentException($"test fraction must be in [0, 1), got {TestFraction}");
        return this;
    }
}

/// <summary>
/// <c>synthetic-shapes</c>: one coloured shape per image on a contrasting background, with captions from several
/// templates and paraphrases (colour, shape, size, position, background). Every image depends only on (seed, index),
/// so a dataset is reproducible and any prefix of a larger one is identical to a smaller one.
/// </summary>
public static class SyntheticShapes
{
    private static readonly (string Name, Rgb24 Rgb)[] Colours =
    [
        ("red", new(220, 30, 30)), ("green", new(40, 170, 60)), ("blue", new(40, 80, 220)), ("yellow", new(240, 210, 30)),
        ("orange", new(245, 140, 20)), ("purple", new(140, 50, 180)), ("pink", new(245, 130, 190)), ("brown", new(130, 80, 40)),
    ];

    private static readonly (string Name, Rgb24 Rgb)[] Backgrounds =
        [("white", new(250, 250, 250)), ("black", new(15, 15, 15)), ("grey", new(128, 128, 128)), ("light blue", new(190, 220, 245))];

    private static readonly Dictionary<ShapeKind, string[]> ShapeWords = new()
    {
        [ShapeKind.Circle] = ["circle", "disc", "round dot"],
        [ShapeKind.Square] = ["square", "box"],
        [ShapeKind.Triangle] = ["triangle", "three-sided shape"],
        [ShapeKind.Star] = ["star", "five-pointed star"],
        [ShapeKind.Cross] = ["cross", "plus sign"],
        [ShapeKind.Diamond] = ["diamond", "rhombus"],
    };

    private static readonly string[] Templates =
    [
        "a {colour} {shape}.", "a {size} {colour} {shape} on a {background} background.", "a picture of a {colour} {shape}.",
        "a {colour} {shape} in the {position} of the image.", "the {shape} is {colour}.", "{colour} {shape}, {size}, {position}.",
        "a drawing of a {size} {shape} coloured {colour}.",
    ];

    private static readonly Regex Article = new(@"\ba ([aeiou])", RegexOptions.CultureInvariant);

    /// <summary>Writes <c>images/NNNNNN.png</c>, <c>manifest.jsonl</c> and <c>dataset.json</c> into <paramref name="outDir"/>.</summary>
    public static ImageTextDataset Write(string outDir, SyntheticShapesOptions options, CancellationToken ct = default)
    {
        options.Validated();
        Directory.CreateDirectory(Path.Combine(outDir, "images"));
        var lines = new string[options.Count];
        Parallel.For(0, options.Count, new ParallelOptions { CancellationToken = ct }, i =>
        {
            var sample = Draw(i, options);
            using (sample.Image) sample.Image.SaveAsPng(Path.Combine(outDir, sample.RelativePath));
            lines[i] = JsonSerializer.Serialize(new { image = sample.RelativePath, captions = sample.Captions, label = sample.Label, split = sample.Split });
        });
        File.WriteAllLines(Path.Combine(outDir, "manifest.jsonl"), lines);
        File.WriteAllText(Path.Combine(outDir, DatasetReader.SidecarName), JsonSerializer.Serialize(new
        {
            source = "synthetic-shapes",
            options.Seed, options.Count, options.Size,
            classes = ClassNames(options.Label),
            templates = ImageTextDataset.DefaultPromptTemplates,
        }));
        return ImageTextDataset.Open(outDir);
    }

    /// <summary>Every class name for a labelling, in a fixed order.</summary>
    public static IReadOnlyList<string> ClassNames(ShapeLabel label) => label switch
    {
        ShapeLabel.Shape => [.. Enum.GetValues<ShapeKind>().Select(s => ShapeWords[s][0])],
        ShapeLabel.Colour => [.. Colours.Select(c => c.Name)],
        _ => [.. Colours.SelectMany(c => Enum.GetValues<ShapeKind>().Select(s => $"{c.Name} {ShapeWords[s][0]}"))],
    };

    /// <summary>One image, its captions, label and split; a pure function of (seed, index, size, labelling).</summary>
    public static (Image<Rgb24> Image, string RelativePath, string[] Captions, string Label, string? Split) Draw(int index, SyntheticShapesOptions options)
    {
        var random = new DeterministicRandom(DeterministicRandom.Mix(options.Seed, index));
        var shapes = Enum.GetValues<ShapeKind>();
        var shape = shapes[random.Next(shapes.Length)];
        var colour = Colours[random.Next(Colours.Length)];
        var background = Backgrounds[random.Next(Backgrounds.Length)];
        var size = options.Size;
        var radius = size * (0.15 + 0.2 * random.NextDouble());
        var cx = radius + (size - 2 * radius) * random.NextDouble();
        var cy = radius + (size - 2 * radius) * random.NextDouble();
        var rotation = (random.NextDouble() - 0.5) * Math.PI / 6; // +-15 degrees keeps "square" and "diamond" apart

        var image = new Image<Rgb24>(size, size, background.Rgb);
        ShapeRasteriser.Fill(image, shape, cx, cy, radius, rotation, colour.Rgb);

        var words = new Dictionary<string, string>
        {
            ["colour"] = colour.Name,
            ["background"] = background.Name,
            ["size"] = radius < size * 0.25 ? "small" : "large",
            ["position"] = Position(cx / size, cy / size),
        };
        var templateOrder = random.Permutation(Templates.Length);
        var captions = templateOrder.Take(3).Select(t =>
        {
            words["shape"] = ShapeWords[shape][random.Next(ShapeWords[shape].Length)];
            var text = words.Aggregate(Templates[t], (text, w) => text.Replace("{" + w.Key + "}", w.Value, StringComparison.Ordinal));
            return Article.Replace(text, "an $1");
        }).ToArray();
        var label = options.Label switch
        {
            ShapeLabel.Shape => ShapeWords[shape][0],
            ShapeLabel.Colour => colour.Name,
            _ => $"{colour.Name} {ShapeWords[shape][0]}",
        };
        var id = $"images/{index:D6}.png";
        var split = options.TestFraction > 0 ? DatasetSplits.Assign(id, [("train", 1 - options.TestFraction), ("test", options.TestFraction)]) : null;
        return (image, id, captions, label, split);
    }

    private static string Position(double x, double y)
    {
        var vertical = y < 0.4 ? "top" : y > 0.6 ? "bottom" : "";
        var horizontal = x < 0.4 ? "left" : x > 0.6 ? "right" : "";
        return (vertical, horizontal) switch
        {
            ("", "") => "centre",
            (var v, "") => v,
            ("", var h) => h,
            var (v, h) => $"{v} {h}",
        };
    }
}
