using TpcCma.Bench;

return MetricsBenchmark.Run(args);
