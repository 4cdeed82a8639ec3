using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TpcCma.Model;

/// <summary>
/// Makes libtorch's OpenMP threads sleep, not spin, when they wait for work (<c>OMP_WAIT_POLICY=PASSIVE</c>),
/// unless the environment already chose a policy. With the default (active) policy each idle thread spins for
/// a long while after every parallel region; when other processes share the cores that spinning steals the time
/// slices the working thread needs, and a CLIP training step on 2 shared cores was measured 4 to 16 times slower
/// (docs/BENCHMARKS.md, "Training: what the numbers show"). Sleeping costs a few microseconds of wake-up per region on an idle machine.
/// The GNU OpenMP runtime reads the variable once, when libtorch is loaded, so it is set from the module
/// initializer: before any code of this library runs, and so before its first torch call. A host that calls
/// torch before touching this library keeps the default.
/// </summary>
internal static class OpenMpWaitPolicy
{
    public const string Variable = "OMP_WAIT_POLICY";

#pragma warning disable CA2255 // a library initializer on purpose: it must run before libtorch loads
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PreferPassiveWaiting()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null) return;
        // Environment.SetEnvironmentVariable changes only .NET's copy; the native runtime reads the C environment.
        _ = setenv(Variable, "PASSIVE", 0);
    }

    [DllImport("libc", CharSet = CharSet.Ansi, ExactSpelling = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
