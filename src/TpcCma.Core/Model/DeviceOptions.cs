using static TorchSharp.torch;

namespace TpcCma.Model;

/// <summary>Where a model runs: <c>cpu</c> or <c>cuda[:N]</c>, and whether CUDA runs its matrix products in bf16 (autocast).</summary>
public sealed record DeviceOptions(string DeviceName = "cpu", bool Bf16Autocast = false)
{
    public static DeviceOptions Cpu { get; } = new();

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; CUDA must be present.</summary>
    public static DeviceOptions Parse(string device, bool bf16Autocast = false)
    {
        var options = new DeviceOptions(device.Trim().ToLowerInvariant(), bf16Autocast);
        _ = options.Device;
        return options;
    }

    /// <summary>The torch device; throws naming the problem when it is malformed or CUDA is absent.</summary>
    public Device Device
    {
        get
        {
            if (DeviceName == "cpu") return CPU;
            var ok = DeviceName == "cuda" || (DeviceName.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(DeviceName[5..], out var index) && index >= 0);
            if (!ok) throw new ArgumentException($"device must be cpu, cuda or cuda:N, got '{DeviceName}'");
            if (!cuda.is_available()) throw new ArgumentException($"device '{DeviceName}' requested but CUDA is not available in this build or machine");
            return device(DeviceName);
        }
    }

    /// <summary>bf16 on CUDA when asked for; CPU always computes in float32.</summary>
    public ScalarType? AutocastType => Bf16Autocast && DeviceName != "cpu" ? ScalarType.BFloat16 : null;

    /// <summary>Turns this device's autocast on for the current thread until disposed.</summary>
    public IDisposable EnterAutocast() => Autocast.Enter(AutocastType);

    /// <summary>
    /// The autocast dtype of a job that asks for <paramref name="requested"/>: what it names, or when it names
    /// nothing this device's default (<see cref="AutocastType"/>: bf16 on CUDA when enabled, float32 on CPU).
    /// </summary>
    public ScalarType? AutocastFor(Precision? requested) => requested switch
    {
        Precision.Bf16 => ScalarType.BFloat16,
        Precision.Fp32 => null,
        _ => AutocastType,
    };

    /// <summary>The options of the device a tensor lives on, with bf16 as the CUDA default.</summary>
    public static DeviceOptions Of(Tensor onDevice) =>
        onDevice.device_type == TorchSharp.DeviceType.CPU ? Cpu : new DeviceOptions(onDevice.device.ToString(), Bf16Autocast: true);
}
