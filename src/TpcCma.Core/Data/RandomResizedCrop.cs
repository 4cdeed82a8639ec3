using SixLabors.ImageSharp;

namespace TpcCma.Data;

/// <summary>torchvision's RandomResizedCrop box choice, drawn from a <see cref="DeterministicRandom"/>.</summary>
internal static class RandomResizedCrop
{
    private static readonly double LogMinRatio = Math.Log(3.0 / 4.0), LogMaxRatio = Math.Log(4.0 / 3.0);

    /// <summary>
    /// A box covering a random fraction of the area in [minScale, maxScale] with a log-uniform aspect ratio in
    /// [3/4, 4/3]; after 10 failed tries, the largest centred box with a ratio in that range.
    /// </summary>
    public static Rectangle Choose(int width, int height, double minScale, double maxScale, DeterministicRandom random)
    {
        var area = (double)width * height;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var target = area * (minScale + (maxScale - minScale) * random.NextDouble());
            var ratio = Math.Exp(LogMinRatio + (LogMaxRatio - LogMinRatio) * random.NextDouble());
            var w = (int)Math.Round(Math.Sqrt(target * ratio));
            var h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w <= 0 || h <= 0 || w > width || h > height) continue;
            return new Rectangle(random.Next(width - w + 1), random.Next(height - h + 1), w, h);
        }
        var aspect = (double)width / height;
        var (cw, ch) = aspect < 3.0 / 4.0 ? (width, (int)Math.Round(width / (3.0 / 4.0)))
            : aspect > 4.0 / 3.0 ? ((int)Math.Round(height * (4.0 / 3.0)), height)
            : (width, height);
        return new Rectangle((width - cw) / 2, (height - ch) / 2, cw, ch);
    }
}
