using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace TpcCma.Data.Sources;

/// <summary>The shapes the synthetic source draws.</summary>
public enum ShapeKind { Circle, Square, Triangle, Star, Cross, Diamond }

/// <summary>
/// Draws one filled shape with 4x4 supersampled anti-aliasing: a point-in-shape test per subsample (distance for
/// circles, even-odd ray casting for polygons, so the concave star and cross need no triangulation).
/// </summary>
public static class ShapeRasteriser
{
    private const int Subsamples = 4;

    /// <summary>Fills the shape centred at (cx, cy) with the given radius (centre to farthest point) and rotation.</summary>
    public static void Fill(Image<Rgb24> image, ShapeKind kind, double cx, double cy, double radius, double rotation, Rgb24 colour)
    {
        var polygon = kind == ShapeKind.Circle ? null : Outline(kind, cx, cy, radius, rotation);
        var x0 = Math.Max(0, (int)Math.Floor(cx - radius));
        var x1 = Math.Min(image.Width - 1, (int)Math.Ceiling(cx + radius));
        var y0 = Math.Max(0, (int)Math.Floor(cy - radius));
        var y1 = Math.Min(image.Height - 1, (int)Math.Ceiling(cy + radius));
        for (var y = y0; y <= y1; y++)
            for (var x = x0; x <= x1; x++)
            {
                var covered = 0;
                for (var sy = 0; sy < Subsamples; sy++)
                    for (var sx = 0; sx < Subsamples; sx++)
                    {
                        double px = x + (sx + 0.5) / Subsamples, py = y + (sy + 0.5) / Subsamples;
                        var inside = polygon is null
                            ? (px - cx) * (px - cx) + (py - cy) * (py - cy) <= radius * radius
                            : Contains(polygon, px, py);
                        if (inside) covered++;
                    }
                if (covered == 0) continue;
                var a = covered / (double)(Subsamples * Subsamples);
                var bg = image[x, y];
                image[x, y] = new Rgb24(Blend(bg.R, colour.R, a), Blend(bg.G, colour.G, a), Blend(bg.B, colour.B, a));
            }
    }

    private static byte Blend(byte background, byte foreground, double alpha) =>
        (byte)Math.Round(background + (foreground - background) * alpha);

    /// <summary>The polygon's vertices in pixel coordinates (y down).</summary>
    public static (double X, double Y)[] Outline(ShapeKind kind, double cx, double cy, double radius, double rotation)
    {
        (double, double)[] unit = kind switch
        {
            ShapeKind.Square => [.. Regular(4, Math.PI / 4)],
            ShapeKind.Diamond => [.. Regular(4, 0).Select(p => (p.X * 0.65, p.Y))],
            ShapeKind.Triangle => [.. Regular(3, 0)],
            ShapeKind.Star => [.. Enumerable.Range(0, 10).Select(i => Polar(i % 2 == 0 ? 1.0 : 0.42, i * Math.PI / 5))],
            ShapeKind.Cross =>
            [
                (-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3),
                (0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a polygon"),
        };
        var (cos, sin) = (Math.Cos(rotation), Math.Sin(rotation));
        return [.. unit.Select(p => (cx + radius * (p.Item1 * cos - p.Item2 * sin), cy + radius * (p.Item1 * sin + p.Item2 * cos)))];
    }

    // Vertex 0 points up (negative y), then clockwise on screen.
    private static (double X, double Y) Polar(double r, double angle) => (r * Math.Sin(angle), -r * Math.Cos(angle));

    private static IEnumerable<(double X, double Y)> Regular(int sides, double offset) =>
        Enumerable.Range(0, sides).Select(i => Polar(1.0, offset + i * 2 * Math.PI / sides));

    private static bool Contains((double X, double Y)[] polygon, double x, double y)
    {
        var inside = false;
        for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
        {
            var (xi, yi) = polygon[i];
            var (xj, yj) = polygon[j];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }
}
