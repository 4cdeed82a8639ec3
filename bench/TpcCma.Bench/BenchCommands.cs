using System.CommandLine;
using TpcCma.Bench.Training;
using TpcCma.Cli;
using TpcCma.Cli.CommandLine;

namespace TpcCma.Bench;

/// <summary>
/// The suites of <c>tpccma-bench SUITE [options]</c> and the options each declares, on the same System.CommandLine
/// convention as <c>tpccma</c> (linked CliOptions/CommandLineHost): help, <c>--version</c>, errors that name the
/// option with exit code 2. A suite reads its options by name from the parse result.
/// </summary>
public static class BenchCommands
{
    public static Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null) =>
        CommandLineHost.RunAsync("tpccma-bench", Build(), args, stdout ?? Console.Out, stderr ?? Console.Error,
            ex => ex is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException);

    private static RootCommand Build()
    {
        var root = CommandLineHost.Root("tpccma-bench",
            "Timings of the science library's hot paths (docs/BENCHMARKS.md) and of the service's metric writer (docs/RELIABILITY.md).",
            typeof(BenchCommands).Assembly);
        Command[] suites =
        [
            Suite("loader", "Loader throughput (samples/s): cold, disk-cached and memory-cached epochs of a folder data set",
                [Required("--data", "DIR", "The data set"), Size(32), Batch(64), Workers(2), Repeats(3), Json()], LoaderBenchmark.Run),
            Suite("shards", "WebDataset shards: throughput beside the folder format, or resident memory along a long run",
                [Required("--shards", "LIST|DIR", "The shards"), CliOptions.Text("--folder", "DIR", "The same samples as a folder, timed beside the shards"),
                 CliOptions.Choice("--mode", "What is measured", ["throughput", "memory"]), Size(224), Batch(64), Workers(2),
                 CliOptions.Int("--max-samples", "N", "Stop after N samples", int.MaxValue, min: 1),
                 CliOptions.Int("--rss-every", "BATCHES", "Memory mode: sample the resident memory every N batches", 200, min: 1),
                 CliOptions.Int("--cache-mib", "MIB", "Memory mode: the in-memory cache's budget", 64, min: 0), Repeats(3), Json()],
                ShardLoaderBenchmark.Run),
            Suite("metrics", "Median wall time of each evaluation metric at the sizes docs/BENCHMARKS.md reports",
                [Parts(), Repeats(3), Threads(), Device("cpu")], MetricsBenchmark.Run),
            Suite("train", "Milliseconds per step of the real trainer and of a bare CLIP step, alternating in rounds",
                [Preset(), Batch(64), CliOptions.Int("--steps", "N", "Timed steps per round", 30, min: 1),
                 CliOptions.Int("--warmup", "N", "Untimed steps first", 5, min: 0), CliOptions.Int("--rounds", "N", "Rounds of every mode", 1, min: 1),
                 CliOptions.Text("--modes", "trainer,bare,parts", "The modes to time, in order", "trainer,bare"),
                 CliOptions.Int("--log-every", "N", "The trainer's logging interval", 10, min: 1), Threads(), Device("cpu"), Bf16(),
                 CliOptions.Number("--peak-gflops", "G", "The machine's matmul peak (tpccma-bench matmul), for the MFU", 0, min: 0), Json()],
                TrainingBenchmark.Run),
            Suite("matmul", "The sustained matrix-product rate (the peak the MFU is stated against)",
                [Size(2048), Repeats(20), CliOptions.Choice("--dtype", "Element type", ["float32", "bfloat16"]), Threads(), Device("cpu"), Json()],
                MatmulBenchmark.Run),
            Suite("memory", "Resident memory and live tensors along a long run of the real trainer: both must stay flat",
                [Preset(), Batch(64), CliOptions.Int("--steps", "N", "Steps", 500, min: 1), CliOptions.Int("--every", "N", "Sample every N steps", 50, min: 1),
                 Threads(), Json()],
                MemoryBenchmark.Run),
            Suite("smoke", "Device against CPU: one forward and backward, fp32 and bf16, from the same weights and batch",
                [Preset(), Batch(16), Device("cuda"), Json()], DeviceSmoke.Run),
            Suite("ops", "Tensors created per part of a training step (counted, not timed)",
                [Preset(), Batch(64), CliOptions.Int("--steps", "N", "Steps counted", 3, min: 1), Threads(), Json()], OpCountBenchmark.Run),
            Suite("ingest", "The worker's metric path under load against PostgreSQL: rows/s, post-to-commit latency, exactness",
                [Required("--connection", "CS", "An Npgsql connection string (a scratch database is created there)"),
                 CliOptions.Int("--jobs", "N", "Concurrent runs", 8, min: 1), CliOptions.Int("--metrics", "N", "Values per step", 20, min: 1),
                 CliOptions.Number("--rate", "STEPS", "Steps a second per run", 100), CliOptions.Number("--seconds", "S", "Duration", 30), Json()],
                (parse, ct) => IngestBenchmark.RunAsync(parse, ct)),
        ];
        foreach (var suite in suites) root.Subcommands.Add(suite);
        return root;
    }

    private static Command Suite(string name, string description, Symbol[] symbols, Func<ParseResult, int> run) =>
        Suite(name, description, symbols, (parse, _) => Task.FromResult(run(parse)));

    private static Command Suite(string name, string description, Symbol[] symbols, Func<ParseResult, CancellationToken, Task<int>> run)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            if (symbol is Option option) command.Options.Add(option);
            else command.Arguments.Add((Argument)symbol);
        }
        command.SetAction(run);
        return command;
    }

    private static Option<string> Required(string name, string valueName, string description) => CliOptions.Text(name, valueName, description, required: true);
    private static Option<int> Size(int fallback) => CliOptions.Int("--size", "PIXELS", "Image side (matmul: matrix side)", fallback, min: 1);
    private static Option<int> Batch(int fallback) => CliOptions.Int("--batch", "N", "Batch size", fallback, min: 1);
    private static Option<int> Workers(int fallback) => CliOptions.Int("--workers", "N", "Decode workers", fallback, min: 1);
    private static Option<int> Repeats(int fallback) => CliOptions.Int("--repeats", "N", "Timed repeats (the median is reported)", fallback, min: 1);
    private static Option<int> Threads() => CliOptions.Int("--threads", "T", "Torch threads (0: torch's default)", 0, min: 0);
    private static Option<string> Device(string fallback) => CliOptions.Text("--device", "cpu|cuda[:N]", "Where it runs", fallback);
    private static Option<string> Preset() => CliOptions.Text("--preset", "NAME", "Architecture preset (tiny, ViT-B-32, ...)", "tiny");
    private static Option<string> Json() => CliOptions.Text("--json", "FILE", "Also write the results as JSON");

    /// <summary><c>--bf16</c> alone or <c>--bf16 true|false</c> (scripts pass the value).</summary>
    private static Option<bool> Bf16() => new("--bf16") { Description = "bfloat16 autocast", Arity = ArgumentArity.ZeroOrOne };

    private static Argument<string[]> Parts()
    {
        var parts = new Argument<string[]>("PART") { Description = $"Metrics to time (default all: {string.Join(", ", MetricsBenchmark.AllParts)})", Arity = ArgumentArity.ZeroOrMore };
        parts.Validators.Add(result =>
        {
            foreach (var part in result.GetValueOrDefault<string[]>() ?? [])
                if (!MetricsBenchmark.AllParts.Contains(part)) result.AddError($"unknown metric '{part}': {string.Join(", ", MetricsBenchmark.AllParts)}");
        });
        parts.CompletionSources.Add(MetricsBenchmark.AllParts);
        return parts;
    }
}
