using TpcCma.Bench;

return args switch
{
    ["loader", .. var rest] => LoaderBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: TpcCma.Bench loader --data DIR [--size 32] [--batch 64] [--workers 2] [--repeats 3]");
    return 2;
}
