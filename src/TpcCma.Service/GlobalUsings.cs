// What most of the service uses: EF Core over its own records, the hosting options, storage and telemetry.
global using Microsoft.EntityFrameworkCore;
global using TpcCma.Service.Auth;
global using TpcCma.Service.Hosting;
global using TpcCma.Service.Persistence;
global using TpcCma.Service.Storage;
global using TpcCma.Service.Telemetry;
