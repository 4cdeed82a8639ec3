using TpcCma.Bench;

// tpccma-bench SUITE [options]: each suite times one part of the library; results go to docs/BENCHMARKS.md.
return args switch
{
    ["loader", .. var rest] => LoaderBenchmark.Run(rest),
    ["metrics", ..] => MetricsBenchmark.Run(args),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: tpccma-bench loader --data DIR [--size 32] [--batch 64] [--workers 2] [--repeats 3]");
    Console.Error.WriteLine("       tpccma-bench metrics [gaps] [probe] [kmeans] [cider] [--repeats N]");
    return 2;
}
