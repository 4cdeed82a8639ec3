// Test classes run side by side, four at a time: most of a service test is waiting (on HTTP, on worker processes, on
// PostgreSQL), so the two cores stay busy where one class at a time left them idle. Every class has its own database,
// ports, folders and processes; in-process console output is never redirected (the client commands write to the
// writers they are given), and training, which sets TorchSharp's process-global seed and threads, runs only in worker processes.
[assembly: CollectionBehavior(MaxParallelThreads = 4)]
// The classes marked [TakesAbout] start first, longest first.
[assembly: TestCollectionOrderer("TpcCma.Service.Tests.Infrastructure.LongestFirstOrderer", "TpcCma.Service.Tests")]
