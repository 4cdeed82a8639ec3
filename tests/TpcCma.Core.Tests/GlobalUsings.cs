// What most core tests use: TorchSharp, the model and its tokenizer, checkpoints, data and training, and the tiny test model.
global using TorchSharp;
global using TpcCma.Checkpoints;
global using TpcCma.Core.Tests.Model;
global using TpcCma.Data;
global using TpcCma.Data.Shards;
global using TpcCma.Data.Sources;
global using TpcCma.Model;
global using TpcCma.Tokenization;
global using TpcCma.Training;
global using static TorchSharp.torch;
