using System.Reflection;
using Xunit.Abstractions;

namespace TpcCma.Service.Tests.Infrastructure;

/// <summary>
/// About how long a test class takes in a full run of this project, for <see cref="LongestFirstOrderer"/>. Approximate
/// on purpose (docs/BENCHMARKS.md, "Test suite", has the measured spans): it only decides which classes start first.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TakesAboutAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>
/// Starts the longest test classes first. Four classes run at a time and the long ones spend most of their time waiting
/// (leases lapsing, processes restarting, jobs training in other processes), so started early their waits overlap the
/// short classes' work; started late, one of them would run alone at the end while a core idles.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string DefaultCollectionPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(ExpectedSeconds).ThenBy(c => c.DisplayName, StringComparer.Ordinal);

    /// <summary>The <see cref="TakesAboutAttribute"/> of the class a default (one class) collection holds; 0 when it has none.</summary>
    private static int ExpectedSeconds(ITestCollection collection)
    {
        if (!collection.DisplayName.StartsWith(DefaultCollectionPrefix, StringComparison.Ordinal)) return 0;
        var type = typeof(LongestFirstOrderer).Assembly.GetType(collection.DisplayName[DefaultCollectionPrefix.Length..]);
        return type?.GetCustomAttribute<TakesAboutAttribute>()?.Seconds ?? 0;
    }
}
