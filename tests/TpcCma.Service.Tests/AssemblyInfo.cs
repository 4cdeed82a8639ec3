// One test class at a time: the machine has two cores, TorchSharp's RNG and thread count are process-global,
// and service tests start their own worker processes.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
