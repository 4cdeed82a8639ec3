using System.Security.Cryptography;
using System.Text;

namespace TpcCma.Service.Persistence;

/// <summary>
/// A bearer token. Only its sha256 is stored; the token itself is shown once, at creation. Each key owns the
/// jobs, datasets and models created with it; admin keys see everything.
/// </summary>
public sealed class ApiKey
{
    public const string TokenPrefix = "tpc_";

    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    /// <summary>The token's first characters, safe to show in lists and logs.</summary>
    public string Prefix { get; set; } = "";
    public string Hash { get; set; } = "";
    public bool IsAdmin { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public static string NewToken() => TokenPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static string PrefixOf(string token) => token.Length <= 12 ? token : token[..12];
}
