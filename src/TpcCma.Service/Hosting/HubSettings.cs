using TpcCma.Checkpoints;

namespace TpcCma.Service.Hosting;

/// <summary>
/// The <c>Hub</c> section: where <c>hf:</c> references are downloaded from. Only hosts listed in
/// <c>AllowedHosts</c> are contacted; the token (a secret) comes from the environment, never from a request.
/// </summary>
public sealed class HubSettings
{
    public const string Section = "Hub";

    public string BaseUrl { get; set; } = "https://huggingface.co";
    public string[] AllowedHosts { get; set; } = ["huggingface.co"];
    public string? Token { get; set; }
    public string CacheDirectory { get; set; } = ".local/hub-cache";

    public HubOptions Options => new(new Uri(BaseUrl), Path.GetFullPath(CacheDirectory), AllowedHosts, string.IsNullOrEmpty(Token) ? null : Token);
}
