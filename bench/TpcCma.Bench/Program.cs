using TpcCma.Bench;
using TpcCma.Bench.Training;

// tpccma-bench SUITE [options]: each suite times one part of the library (ingest: the service's metric writer);
// results go to docs/BENCHMARKS.md, ingest's to docs/RELIABILITY.md.
return args switch
{
    ["loader", .. var rest] => LoaderBenchmark.Run(rest),
    ["shards", .. var rest] => ShardLoaderBenchmark.Run(rest),
    ["metrics", ..] => MetricsBenchmark.Run(args),
    ["train", .. var rest] => TrainingBenchmark.Run(rest),
    ["matmul", .. var rest] => MatmulBenchmark.Run(rest),
    ["memory", .. var rest] => MemoryBenchmark.Run(rest),
    ["smoke", .. var rest] => DeviceSmoke.Run(rest),
    ["ops", .. var rest] => OpCountBenchmark.Run(rest),
    ["ingest", .. var rest] => await IngestBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: tpccma-bench loader --data DIR [--size 32] [--batch 64] [--workers 2] [--repeats 3] [--json FILE]");
    Console.Error.WriteLine("       tpccma-bench shards --shards LIST|DIR [--folder DIR] [--mode throughput|memory] [--size 224] [--batch 64] [--workers 2]");
    Console.Error.WriteLine("                           [--max-samples N] [--rss-every BATCHES] [--cache-mib 64] [--json FILE]");
    Console.Error.WriteLine("       tpccma-bench metrics [gaps] [probe] [kmeans] [cider] [--repeats N]");
    Console.Error.WriteLine("       tpccma-bench train [--preset tiny] [--batch 64] [--steps 30] [--warmup 5] [--rounds 1] [--modes trainer,bare]");
    Console.Error.WriteLine("                          [--log-every 10] [--threads T] [--device cpu|cuda] [--bf16 true] [--peak-gflops G] [--json FILE]");
    Console.Error.WriteLine("       tpccma-bench matmul [--size 2048] [--repeats 10] [--dtype float32|bfloat16] [--threads T] [--device cpu|cuda] [--json FILE]");
    Console.Error.WriteLine("       tpccma-bench smoke [--preset tiny] [--batch 16] [--device cuda] [--json FILE]   (device vs CPU, fp32 and bf16)");
    Console.Error.WriteLine("       tpccma-bench ops [--preset tiny] [--batch 64] [--steps 3] [--json FILE]   (tensors created per part of a step)");
    Console.Error.WriteLine("       tpccma-bench memory [--preset tiny] [--batch 64] [--steps 500] [--every 50] [--threads T] [--json FILE]");
    Console.Error.WriteLine("       tpccma-bench ingest --connection CS [--jobs 8] [--metrics 20] [--rate 100] [--seconds 30] [--json FILE]");
    return 2;
}
