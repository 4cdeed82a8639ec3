using System.Diagnostics;
using TpcCma.Core.Tests;

namespace TpcCma.Cli.Tests.CommandLine;

/// <summary>
/// <c>tpccma-bench</c>'s command line, run as its own process (this project builds it): the invocations of
/// bench/run.sh, bench/gpu/run-device.sh and docs/BENCHMARKS.md parse (checked with the parser's <c>[diagram]</c>
/// directive, which runs nothing), bad values are refused naming the option with exit code 2, help and version exit 0.
/// </summary>
public sealed class BenchCommandLineTests
{
    [Theory]
    [InlineData("matmul --size 2048 --repeats 20 --threads 2 --json FILE")]
    [InlineData("matmul --device cuda --dtype bfloat16 --size 8192 --repeats 20 --json FILE")]
    [InlineData("train --preset tiny --batch 64 --steps 30 --warmup 5 --threads 2 --modes trainer,bare --rounds 3 --log-every 10 --json FILE")]
    [InlineData("train --preset ViT-B-32 --batch 256 --device cuda --bf16 true --steps 30 --warmup 5 --peak-gflops 500 --json FILE")]
    [InlineData("loader --data DIR --size 32 --batch 64 --workers 2 --repeats 3 --json FILE")]
    [InlineData("shards --shards DIR --folder DIR --mode memory --size 224 --batch 64 --workers 2 --max-samples 1000 --rss-every 50 --cache-mib 64 --json FILE")]
    [InlineData("memory --preset tiny --batch 64 --steps 300 --every 25 --threads 2 --json FILE")]
    [InlineData("train --preset ViT-B-32 --batch 8 --steps 3 --warmup 1 --modes parts")]
    [InlineData("smoke --device cuda --preset tiny --batch 16 --json FILE")]
    [InlineData("ops --preset tiny --batch 64 --steps 3 --threads 1 --json FILE")]
    [InlineData("metrics gaps cider --repeats 3 --threads 2 --device cpu")]
    [InlineData("ingest --connection Host=x --jobs 8 --metrics 20 --rate 100 --seconds 30 --json FILE")]
    public async Task DocumentedInvocation_Parses(string line)
    {
        var (code, stdout, stderr) = await Bench(["[diagram]", .. line.Split(' ')]);
        Assert.True(code == ExitCodes.Ok, stdout + stderr);
    }

    [Theory]
    [InlineData("train --batch many", "--batch")]
    [InlineData("train --preset tiny --colour red", "--colour")]
    [InlineData("loader --size 32", "--data")]
    [InlineData("matmul --dtype float16", "--dtype")]
    [InlineData("metrics gapz", "gapz")]
    [InlineData("shards --shards DIR --mode fast", "--mode")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task BadOptionOrValue_ExitsWithUsageCode_NamingIt(string line, string named)
    {
        var (code, _, stderr) = await Bench(line.Split(' '));
        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains(named, stderr);
    }

    [Fact]
    public async Task Help_ExitsZero_ListingEverySuite()
    {
        var (code, stdout, _) = await Bench(["--help"]);
        Assert.Equal(ExitCodes.Ok, code);
        foreach (var suite in new[] { "loader", "shards", "metrics", "train", "matmul", "memory", "smoke", "ops", "ingest" })
            Assert.Contains(suite, stdout);

        (code, stdout, _) = await Bench(["train", "--help"]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("--peak-gflops", stdout);
    }

    [Fact]
    public async Task Version_ExitsZero_NamingTheTool()
    {
        var (code, stdout, _) = await Bench(["--version"]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("tpccma-bench ", stdout);
    }

    /// <summary>The bench's build beside this one: bench/TpcCma.Bench/bin/CONFIGURATION/net10.0/tpccma-bench.dll.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> Bench(string[] args)
    {
        var ours = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));   // .../bin/Release/net10.0
        var dll = Path.Combine(RefData.RepoRoot, "bench", "TpcCma.Bench", "bin", ours.Parent!.Name, ours.Name, "tpccma-bench.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the bench");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[dll, .. args]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start tpccma-bench");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
