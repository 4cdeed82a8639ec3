using System.Diagnostics;
using System.Text.Json.Nodes;

namespace TpcCma.Core.Tests.Evaluation;

/// <summary>The real <c>tpccma score</c> process on files: output, pass flags and exit codes.</summary>
public class ScoreCommandTests
{
    private static (int ExitCode, string Stdout, string Stderr) RunScore(string casesPath)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "tpccma.dll"), "score", "--cases", casesPath },
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "tpccma score did not finish");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string WriteTemp(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tpccma-cases-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Score_ExitsZeroAndReportsAllPass_OnReferenceFile()
    {
        var path = RefData.Path("metrics", "cases.json");
        var caseCount = JsonNode.Parse(File.ReadAllText(path))!["cases"]!.AsArray().Count;

        var (exitCode, stdout, stderr) = RunScore(path);

        Assert.True(exitCode == 0, stderr);
        var results = JsonNode.Parse(stdout)!.AsArray();
        Assert.Equal(caseCount, results.Count);
        Assert.All(results, r => Assert.True(r!["pass"]!.GetValue<bool>(), r!.ToJsonString()));
    }

    [Fact]
    public void Score_ReportsFalseAndExitsOne_WhenAnExpectedValueIsWrong()
    {
        var path = WriteTemp("""
            {"cases": [
              {"id": "right", "kind": "ari", "input": {"labels_true": [0,0,1,1], "labels_pred": [0,1,0,1]}, "expected": {"ari": -0.5}, "tolerance": 1e-10},
              {"id": "wrong", "kind": "ari", "input": {"labels_true": [0,0,1,1], "labels_pred": [0,0,1,2]}, "expected": {"ari": 0.6}, "tolerance": 1e-10},
              {"id": "open", "kind": "cider_d", "input": {"candidates": {"1": "a cat", "2": "a dog"}, "references": {"1": ["a cat sits"], "2": ["a dog runs"]}}}
            ]}
            """);
        try
        {
            var (exitCode, stdout, stderr) = RunScore(path);

            Assert.Equal(1, exitCode);
            var results = JsonNode.Parse(stdout)!.AsArray().ToDictionary(r => r!["id"]!.GetValue<string>());
            Assert.True(results["right"]!["pass"]!.GetValue<bool>());
            Assert.False(results["wrong"]!["pass"]!.GetValue<bool>());
            Assert.Equal(0.5714285714285714, results["wrong"]!["result"]!["ari"]!.GetValue<double>(), 1e-15);
            Assert.Null(results["open"]!["pass"]);
            Assert.Contains("wrong", stderr);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("""{"cases": [{"id": "c1", "kind": "gaps", "input": {"image": [[1, 2], [3]], "text": [[1, 2], [3, 4]]}}]}""", "case 'c1': input.image[1]")]
    [InlineData("""{"cases": [{"id": "c2", "kind": "median", "input": {}}]}""", "case 'c2': kind 'median'")]
    [InlineData("""{"cases": [{"id": "c3", "kind": "ari", "input": {"labels_true": [0, 1]}}]}""", "case 'c3': input: missing field \"labels_pred\"")]
    [InlineData("""{"cases": [{"id": "c4", "kind": "ari", "input": {"labels_true": [0], "labels_pred": [1]}, "expected": {"ari": 1}}]}""", "case 'c4': missing field \"tolerance\"")]
    [InlineData("""{"tests": []}""", "\"cases\" array")]
    [InlineData("""not json""", "not valid JSON")]
    public void Score_ExitsTwoNamingTheProblem_ForMalformedFile(string json, string message)
    {
        var path = WriteTemp(json);
        try
        {
            var (exitCode, stdout, stderr) = RunScore(path);

            Assert.Equal(2, exitCode);
            Assert.Contains(message, stderr);
            Assert.Equal("", stdout.Trim());
        }
        finally { File.Delete(path); }
    }
}
