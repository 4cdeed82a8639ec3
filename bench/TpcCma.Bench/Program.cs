using TpcCma.Bench;

// tpccma-bench SUITE [options]: each suite times one part of the library (ingest: the service's metric writer);
// results go to docs/BENCHMARKS.md, ingest's to docs/RELIABILITY.md. `tpccma-bench --help` lists the suites.
return await BenchCommands.RunAsync(args);
