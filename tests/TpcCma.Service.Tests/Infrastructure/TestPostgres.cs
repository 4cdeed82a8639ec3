using Npgsql;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// A fresh database on the project-local PostgreSQL (scripts/postgres.sh start) for one test class, dropped afterwards.
/// <c>TPCCMA_TEST_PG</c> overrides the server's connection string.
/// </summary>
/// <param name="server">Another server's connection string (e.g. a <see cref="ThrowawayPostgres"/>); the shared one when null.</param>
public sealed class TestDatabase(string? server = null) : IAsyncLifetime
{
    private static readonly string SharedServer =
        Environment.GetEnvironmentVariable("TPCCMA_TEST_PG")
        ?? $"Host=127.0.0.1;Port={Environment.GetEnvironmentVariable("TPCCMA_PG_PORT") ?? "55432"};Username=postgres;Database=postgres";

    private string ServerConnectionString { get; } = server ?? SharedServer;

    public string Name { get; } = "test_" + Guid.NewGuid().ToString("N")[..16];

    public string ConnectionString => new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = Name, MaxPoolSize = 40 }.ConnectionString;

    public async Task InitializeAsync()
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        try { await connection.OpenAsync(); }
        catch (NpgsqlException ex)
        {
            throw new InvalidOperationException($"PostgreSQL is not reachable ({ServerConnectionString}): start it with scripts/postgres.sh start", ex);
        }
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Name}\"", connection);
        await create.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
