using TpcCma.Cli;
using static TpcCma.Cli.Tests.CliCapture;

namespace TpcCma.Cli.Tests.CommandLine;

/// <summary>
/// <c>tpccma</c>'s command line: every documented invocation parses (README.md, docs/, scripts/, bench/gpu), a bad
/// value or unknown option is refused naming the option with exit code 2, and help and version exit 0.
/// </summary>
[Collection("Console")]
public sealed class TpccmaCommandLineTests
{
    /// <summary>The invocations the docs and scripts show (FILE, DIR and ID stand for real values).</summary>
    [Theory]
    [InlineData("datasets validate DIR --policy skip --image-folder DIR --max-pixels 1000000 --max-caption-chars 300 --workers 2 --caption-field caption")]
    [InlineData("datasets stats DIR --policy skip --image-folder DIR")]
    [InlineData("datasets make-synthetic --out DIR --count 2000 --size 64 --seed 0 --labels shape --test-fraction 0.2")]
    [InlineData("datasets make-synthetic --out DIR --count 1000000 --size 8 --format webdataset --shard-size 10000")]
    [InlineData("datasets make-synthetic --out DIR --count 2048 --size 224 --seed 1 --format webdataset --shard-size 256 --image-format jpeg")]
    [InlineData("datasets convert DIR --out DIR --shard-size 1000 --policy skip --caption-field caption")]
    [InlineData("datasets import-emoji --out DIR --train-style twitter --eval-style google --labels category --cache DIR --version 16.0.0")]
    [InlineData("datasets import-icons --out DIR --sets a,b --exclude-sets c --test-sets d --size 48 --min-sets 10 --classes 100 --max-per-set-concept 3 --test-fraction 0.2 --val-fraction 0.1 --workers 2 --cache DIR --version 2.2.535")]
    [InlineData("embed --model DIR --images FILE --texts FILE --out FILE --device cpu --bf16 --batch-size 8 --allow-host a --allow-host b")]
    [InlineData("tokenize --model DIR --tokenizer FILE --context 4 TEXT @literal")]
    [InlineData("export --model FILE --tokenizer FILE --format hf --out DIR --hub-url http://hub/ --hub-token T --cache-dir DIR")]
    [InlineData("train --spec FILE --out DIR --device cuda:0 --threads 2")]
    [InlineData("evaluate --model DIR --dataset DIR --split test --captioning-steps 5 --captioning-seeds 2 --centered --out FILE")]
    [InlineData("score --cases FILE")]
    [InlineData("version")]
    [InlineData("jobs submit FILE --wait --follow --timeout 7200 --output json --idempotency-key K --retry-for 30")]
    [InlineData("jobs wait ID --follow --timeout 300 --retry-for 60 --url http://api:8080 --key K")]
    [InlineData("jobs get ID")]
    [InlineData("jobs list --status running --search x --sweep ID --limit 5 --page-size 2 --output json")]
    [InlineData("jobs cancel ID --output json")]
    [InlineData("jobs events ID --after 3")]
    [InlineData("jobs metrics ID --names loss,clip --since-step -1")]
    [InlineData("checkpoints download ID --step latest --format hf --out FILE")]
    [InlineData("checkpoints list ID")]
    [InlineData("checkpoints download ID --format hf --out FILE --timeout 600")]
    [InlineData("models import hf:org/clip --name base --timeout 900")]
    [InlineData("models import preset:tiny --no-wait")]
    [InlineData("models get ID")]
    [InlineData("operations wait ID --timeout 60")]
    [InlineData("operations get ID --output json")]
    [InlineData("sweeps submit FILE --wait --timeout 60")]
    [InlineData("sweeps get ID")]
    [InlineData("sweeps results ID --out FILE")]
    public void DocumentedInvocation_Parses(string line)
    {
        var result = CliApp.Parse(line.Split(' '));
        Assert.True(result.Errors.Count == 0, string.Join("; ", result.Errors.Select(e => e.Message)));
        Assert.Equal(string.Join(' ', line.Split(' ').TakeWhile(w => !w.StartsWith('-') && w.All(c => char.IsLower(c) || c == '-')).Take(2)),
            string.Join(' ', CommandPath(result)));
    }

    [Fact]
    public void ParsedValues_ReachTheCommand_TypedAndWithDefaults()
    {
        var result = CliApp.Parse("datasets", "make-synthetic", "--out=DIR", "--count", "25", "--test-fraction", "0.5");
        Assert.Empty(result.Errors);
        Assert.Equal("DIR", result.GetValue<string>("--out"));
        Assert.Equal(25, result.GetValue<int>("--count"));
        Assert.Equal(0.5, result.GetValue<double>("--test-fraction"));
        Assert.Equal("folder", result.GetValue<string>("--format"));   // the default

        var hosts = CliApp.Parse("embed", "--model", "m", "--texts", "t", "--out", "o", "--allow-host", "a", "--allow-host", "b");
        Assert.Equal(["a", "b"], hosts.GetValue<string[]>("--allow-host")!);

        // A subcommand's own --version is its option, not the tool's.
        var emoji = CliApp.Parse("datasets", "import-emoji", "--out", "DIR", "--version", "15.0.1");
        Assert.Empty(emoji.Errors);
        Assert.Equal("15.0.1", emoji.GetValue<string>("--version"));
    }

    [Theory]
    [InlineData("datasets make-synthetic --out DIR --count many", "--count")]
    [InlineData("datasets make-synthetic --out DIR --labels size", "--labels")]
    [InlineData("datasets make-synthetic --out DIR --test-fraction NaN", "--test-fraction")]
    [InlineData("datasets validate DIR --policy maybe", "--policy")]
    [InlineData("datasets validate DIR --workers 0", "--workers")]
    [InlineData("datasets stats DIR --colour red", "--colour")]
    [InlineData("export --model m --out o", "--format")]
    [InlineData("export --model m --format xml --out o", "--format must be hf or openclip")]
    [InlineData("embed --model m --texts t --out o --batch-size 0", "--batch-size")]
    [InlineData("score", "--cases")]
    [InlineData("jobs list --colour red", "--colour")]
    [InlineData("jobs list --limit 0", "--limit")]
    [InlineData("jobs wait ID --retry-for -1", "--retry-for")]
    [InlineData("jobs wait ID --timeout soon", "--timeout")]
    [InlineData("jobs submit FILE --output yaml", "--output")]
    [InlineData("checkpoints download ID --format onnx --out x", "--format")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task BadOptionOrValue_ExitsWithUsageCode_NamingIt(string line, string named)
    {
        var (code, stdout, stderr) = await Run(line.Split(' '));
        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.Contains(named, stderr);
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("")]
    [InlineData("jobs")]
    [InlineData("datasets")]
    [InlineData("jobs get")]
    public async Task MissingCommandOrArgument_ExitsWithUsageCode(string line)
    {
        var (code, _, stderr) = await Run(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(ExitCodes.InvalidRequest, code);
        Assert.StartsWith("error: ", stderr);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public async Task Help_ExitsZero_ListingEveryGroupAndCommand(string word)
    {
        var (code, stdout, _) = await Run(word);
        Assert.Equal(ExitCodes.Ok, code);
        foreach (var name in new[] { "datasets", "jobs", "checkpoints", "sweeps", "train", "evaluate", "embed", "export", "tokenize", "score", "version" })
            Assert.Contains(name, stdout);
    }

    [Fact]
    public async Task CommandHelp_ExitsZero_ListingItsOptionsAndDefaults()
    {
        var (code, stdout, _) = await Run("datasets", "make-synthetic", "--help");
        Assert.Equal(ExitCodes.Ok, code);
        foreach (var option in new[] { "--out", "--count", "--size", "--seed", "--labels", "--test-fraction", "--format", "--shard-size", "--image-format" })
            Assert.Contains(option, stdout);
        Assert.Contains("shape-and-colour|shape|colour", stdout);

        (code, stdout, _) = await Run("help", "jobs", "wait");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("--retry-for", stdout);
        Assert.Contains("--url", stdout);
    }

    [Fact]
    public async Task Version_ExitsZero_NamingTheTool()
    {
        var (code, stdout, _) = await Run("--version");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("tpccma ", stdout);
        Assert.Single(stdout.Trim().Split('\n'));
    }

    [Fact]
    public async Task ClientCommand_WithoutAKey_ExitsWithUsageCode_BeforeAnyRequest()
    {
        var previous = Environment.GetEnvironmentVariable("TPCCMA_API_KEY");
        Environment.SetEnvironmentVariable("TPCCMA_API_KEY", null);
        try
        {
            // Port 9 (discard) on loopback: a request would fail with exit 1, not 2.
            var (code, _, stderr) = await Run("jobs", "get", "ID", "--url", "http://127.0.0.1:9");
            Assert.Equal(ExitCodes.InvalidRequest, code);
            Assert.Contains("TPCCMA_API_KEY", stderr);
        }
        finally { Environment.SetEnvironmentVariable("TPCCMA_API_KEY", previous); }
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.ParseResult result)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = result.CommandResult; r is System.CommandLine.Parsing.CommandResult c && r.Parent is not null; r = r.Parent)
            names.Insert(0, c.Command.Name);
        return names;
    }
}
