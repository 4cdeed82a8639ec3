// What most commands use: System.CommandLine, the CLI's option helpers, and JSON documents from the service.
global using System.CommandLine;
global using System.Text.Json.Nodes;
global using TpcCma.Cli.CommandLine;
