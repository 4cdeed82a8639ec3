// What most CLI tests use: the CLI itself, the data sets they feed it, and the console capture that runs it.
global using TpcCma.Checkpoints;
global using TpcCma.Cli;
global using TpcCma.Core.Tests;
global using TpcCma.Data;
global using TpcCma.Data.Sources;
global using static TpcCma.Cli.Tests.CliCapture;
