using TorchSharp;

namespace TpcCma.Service.Hosting;

/// <summary>
/// Whether this build carries TorchSharp's native libraries (libtorch and its glue). The API image is published with
/// <c>-p:TorchBackend=none</c> and has none of them: only workers train, convert or load models. TorchSharp loads its
/// natives in the static constructor of <c>torch</c>, so without them the first <c>torch.*</c> call throws; these
/// helpers turn that into a message that says which image to run.
/// </summary>
public static class NativeTorch
{
    /// <summary>What a missing libtorch means here, in the operator's words.</summary>
    public const string MissingExplanation =
        "this build has no TorchSharp native libraries (libtorch): it was published with TorchBackend=none, as the API image is. " +
        "Training and model work run on workers: start workers from the worker image (Dockerfile target 'worker', or Dockerfile.gpu).";

    /// <summary>
    /// Loads libtorch for the CPU, as the first training step would. A worker calls this at start so that a worker
    /// started from the API image stops at once with <see cref="MissingExplanation"/> instead of failing every job.
    /// </summary>
    /// <returns>Null when libtorch loaded; otherwise what went wrong.</returns>
    public static string? LoadProblem()
    {
        try
        {
            return torch.TryInitializeDeviceType(DeviceType.CPU) ? null : "TorchSharp could not initialise its CPU backend";
        }
        catch (Exception ex) when (IsMissingNatives(ex))
        {
            return Innermost(ex).Message;
        }
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is TorchSharp failing to find its native libraries: the type initializer of
    /// <c>torch</c> failing, its "doesn't contain a reference to libtorch" NotSupportedException, or a missing .so.
    /// </summary>
    public static bool IsMissingNatives(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is TypeInitializationException { TypeName: { } type } && type.StartsWith("TorchSharp", StringComparison.Ordinal)) return true;
            if (ex is DllNotFoundException && ex.Message.Contains("Torch", StringComparison.OrdinalIgnoreCase)) return true;
            if (ex is NotSupportedException && ex.Message.Contains("TorchSharp", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether this build ships TorchSharp's native glue (<c>LibTorchSharp</c>), found by its file and never by loading
    /// it: on a node without the glue, asking TorchSharp would still map any libtorch the system has installed into
    /// the process. The glue sits beside the assembly in a publish and under <c>runtimes/RID/native</c> in a build.
    /// </summary>
    public static bool ShipsNativeGlue()
    {
        var name = OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";
        var root = AppContext.BaseDirectory;
        return File.Exists(Path.Combine(root, name))
            || File.Exists(Path.Combine(root, "runtimes", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "native", name));
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }
}
