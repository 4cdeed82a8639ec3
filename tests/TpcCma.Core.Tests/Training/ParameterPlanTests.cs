using TorchSharp.Modules;
using TpcCma.Training;
using static TorchSharp.torch;

namespace TpcCma.Core.Tests.Training;

public class ParameterPlanTests
{
    // A two-block-per-tower CLIP in the OpenAI key layout (shapes do not matter here, ranks do).
    private static readonly (string Name, long[] Shape)[] Keys =
    [
        ("positional_embedding", [16, 8]), ("text_projection", [8, 4]), ("logit_scale", []),
        ("visual.class_embedding", [8]), ("visual.positional_embedding", [5, 8]), ("visual.proj", [8, 4]),
        ("visual.conv1.weight", [8, 3, 2, 2]), ("visual.ln_pre.weight", [8]), ("visual.ln_pre.bias", [8]),
        ("visual.transformer.resblocks.0.attn.in_proj_weight", [24, 8]), ("visual.transformer.resblocks.0.attn.in_proj_bias", [24]),
        ("visual.transformer.resblocks.1.attn.in_proj_weight", [24, 8]), ("visual.transformer.resblocks.1.ln_1.weight", [8]),
        ("visual.ln_post.weight", [8]), ("visual.ln_post.bias", [8]),
        ("transformer.resblocks.0.mlp.c_fc.weight", [32, 8]), ("transformer.resblocks.1.mlp.c_fc.weight", [32, 8]),
        ("transformer.resblocks.1.mlp.c_fc.bias", [32]), ("token_embedding.weight", [100, 8]),
        ("ln_final.weight", [8]), ("ln_final.bias", [8]),
    ];

    private static List<(string, Parameter)> Named() => Keys.Select(k => (k.Name, new Parameter(zeros(k.Shape)))).ToList();

    [Fact]
    public void Create_All_DecaysOnlyMatricesAndKernels()
    {
        var plan = ParameterPlan.Create(Named(), TrainableSet.All, 1, LogitScaleMode.Learned);
        Assert.Equal(
            ["text_projection", "visual.proj", "visual.conv1.weight", "visual.transformer.resblocks.0.attn.in_proj_weight",
             "visual.transformer.resblocks.1.attn.in_proj_weight", "transformer.resblocks.0.mlp.c_fc.weight", "transformer.resblocks.1.mlp.c_fc.weight"],
            plan.Decay.Select(p => p.Name));
        Assert.Contains("token_embedding.weight", plan.NoDecay.Select(p => p.Name));
        Assert.Contains("positional_embedding", plan.NoDecay.Select(p => p.Name));
        Assert.Contains("logit_scale", plan.NoDecay.Select(p => p.Name));
        Assert.Empty(plan.Frozen);
    }

    [Fact]
    public void Create_Projections_TrainsProjectionsAndLearnedLogitScaleOnly()
    {
        var plan = ParameterPlan.Create(Named(), TrainableSet.Projections, 1, LogitScaleMode.Learned);
        Assert.Equal(new HashSet<string> { "text_projection", "visual.proj", "logit_scale" }, plan.Trainable.Select(p => p.Name).ToHashSet());
    }

    [Fact]
    public void Create_LastK_TrainsLastBlocksAndTowerHeads()
    {
        var names = ParameterPlan.Create(Named(), TrainableSet.LastK, 1, LogitScaleMode.Fixed).Trainable.Select(p => p.Name).ToHashSet();
        Assert.Equal(
            new HashSet<string> { "text_projection", "visual.proj", "visual.transformer.resblocks.1.attn.in_proj_weight",
                "visual.transformer.resblocks.1.ln_1.weight", "visual.ln_post.weight", "visual.ln_post.bias",
                "transformer.resblocks.1.mlp.c_fc.weight", "transformer.resblocks.1.mlp.c_fc.bias", "ln_final.weight", "ln_final.bias" },
            names);
    }

    [Fact]
    public void Create_FixedLogitScale_IsFrozen()
    {
        var plan = ParameterPlan.Create(Named(), TrainableSet.All, 1, LogitScaleMode.Fixed);
        Assert.Equal(["logit_scale"], plan.Frozen);
    }

    [Fact]
    public void Create_Throws_WhenProjectionsAreMissing()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            ParameterPlan.Create([("fc.weight", new Parameter(zeros(2, 2)))], TrainableSet.Projections, 1, LogitScaleMode.Learned));
        Assert.Contains("visual.proj", ex.Message);
    }

    [Fact]
    public void CreateOptimizer_PutsWeightDecayOnDecayGroupOnly()
    {
        var plan = ParameterPlan.Create(Named(), TrainableSet.All, 1, LogitScaleMode.Learned);
        using var optimizer = plan.CreateOptimizer(new TrainingSpec { WeightDecay = 0.1 });
        var groups = optimizer.ParamGroups.Cast<AdamW.ParamGroup>().ToList();
        Assert.Equal([0.1, 0.0], groups.Select(g => g.Options.weight_decay!.Value));
        Assert.Equal([plan.Decay.Count, plan.NoDecay.Count], groups.Select(g => g.Parameters.Count()));
    }
}
