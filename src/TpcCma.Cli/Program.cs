using TpcCma.Cli;


return await CliApp.RunAsync(args);
