using TpcCma.Service.Hosting;

// Settings come from appsettings.json beside the binary (a copy of the repository's), then environment
// variables, then the command line: `--mode worker` is short for `--Service:Mode=worker`.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--mode"] = "Service:Mode", ["--node"] = "Service:NodeName" });
var options = builder.AddTpcCmaServices();
var app = builder.Build();
app.UseTpcCma(options);
app.Run();

/// <summary>Entry point type, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
