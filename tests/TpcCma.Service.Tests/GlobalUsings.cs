// What nearly every service test uses: JSON over HTTP, the shared infrastructure, xUnit's output, the service's options.
global using System.Net.Http.Headers;
global using System.Net.Http.Json;
global using System.Text.Json;
global using System.Text.Json.Nodes;
global using TpcCma.Service.Hosting;
global using TpcCma.Service.Tests.Infrastructure;
global using Xunit.Abstractions;
