using Microsoft.EntityFrameworkCore;
using TpcCma.Service.Persistence;

namespace TpcCma.Service.Auth;

/// <summary>
/// Makes the key in <c>Auth:AdminKey</c> (an environment variable or secret in production) an admin key, so a
/// fresh deployment can create the other keys. Runs after the migrations.
/// </summary>
public sealed class AdminKeySeeder(IDbContextFactory<TrainingDb> dbs, IConfiguration config, TimeProvider time) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var token = config["Auth:AdminKey"];
        if (string.IsNullOrWhiteSpace(token)) return;
        if (!token.StartsWith(ApiKey.TokenPrefix, StringComparison.Ordinal) || token.Length < 20)
            throw new InvalidOperationException($"Auth:AdminKey must start with '{ApiKey.TokenPrefix}' and be at least 20 characters long");
        var hash = ApiKey.HashOf(token);
        await using var db = await dbs.CreateDbContextAsync(ct);
        if (await db.ApiKeys.AnyAsync(k => k.Hash == hash, ct)) return;
        db.ApiKeys.Add(new ApiKey
        {
            Id = Guid.CreateVersion7(), Name = "bootstrap admin", Prefix = ApiKey.PrefixOf(token), Hash = hash,
            IsAdmin = true, CreatedAt = time.GetUtcNow(),
        });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException)
        {
            // Another process starting at the same time seeded it first; anything else is a real error.
            await using var check = await dbs.CreateDbContextAsync(ct);
            if (!await check.ApiKeys.AnyAsync(k => k.Hash == hash, ct)) throw;
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
