using System.CommandLine;
using TorchSharp;
using System.Diagnostics;
using System.Text.Json;
using TpcCma.Model;
using static TorchSharp.torch;

namespace TpcCma.Bench.Training;

/// <summary>
/// <c>tpccma-bench matmul</c>: the machine's sustained matrix-product rate through TorchSharp (N x N times
/// N x N, 2 N^3 FLOPs), the ceiling against which training steps' model FLOP utilisation is stated.
/// </summary>
internal static class MatmulBenchmark
{
    public static int Run(ParseResult options)
    {
        int n = options.GetValue<int>("--size"), repeats = options.GetValue<int>("--repeats");
        if (options.GetValue<int>("--threads") is > 0 and var threads) set_num_threads(threads);
        var device = DeviceOptions.Parse(options.GetValue<string>("--device")!).Device;
        var dtype = options.GetValue<string>("--dtype")! switch
        {
            "float32" => ScalarType.Float32,
            "bfloat16" => ScalarType.BFloat16,
            var other => throw new ArgumentException($"--dtype must be float32 or bfloat16, got '{other}'"),
        };
        using var a = randn([n, n], dtype: dtype, device: device);
        using var b = randn([n, n], dtype: dtype, device: device);
        void Product() { using var product = a.matmul(b); if (device.type == DeviceType.CUDA) cuda.synchronize(device); }
        Product();
        Product();                                                        // warm-up: allocator and thread pool
        var gflops = Enumerable.Range(0, repeats).Select(_ =>
        {
            var watch = Stopwatch.StartNew();
            Product();
            return 2.0 * n * n * n / watch.Elapsed.TotalSeconds / 1e9;
        }).ToList();
        var median = TrainingBenchmark.Median(gflops);
        // The best run is the estimate of the ceiling: load from other processes only ever slows a run down.
        Console.WriteLine(TrainingBenchmark.Invariant(
            $"matmul {n}^3 {dtype} on {device}, {get_num_threads()} threads: peak {gflops.Max():F1} GFLOP/s (median {median:F1}, min {gflops.Min():F1}, {repeats} runs)"));
        if (options.GetValue<string>("--json") is { } path)
            File.WriteAllText(path, JsonSerializer.Serialize(new
            {
                suite = "matmul", size = n, dtype = dtype.ToString(), device = device.ToString(), threads = get_num_threads(),
                repeats, peak_gflops = gflops.Max(), median_gflops = median, min_gflops = gflops.Min(),
            }, TrainingBenchmark.JsonOptions));
        return 0;
    }
}
