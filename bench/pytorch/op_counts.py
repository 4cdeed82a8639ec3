#!/usr/bin/env python3
"""Top-level aten ops PyTorch dispatches per part of the TPC-CMA training step (clip_step.py's full mode), counted
with torch.profiler: the load-independent counterpart of `tpccma-bench ops`. One warm step, one thread.
Usage: python3 bench/pytorch/op_counts.py [--preset tiny] [--batch 64]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_step as cs  # noqa: E402

PARTS = ("forward+objective", "backward", "clip", "optimizer")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "../../src/TpcCma.Core/Model/Presets", a.preset + ".json")) as f:
        config = json.load(f)
    model = cs.CLIP(config).train()
    decay = [q for n, q in model.named_parameters() if q.dim() >= 2 and "embedding" not in n]
    no_decay = [q for n, q in model.named_parameters() if not (q.dim() >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-5, betas=(0.9, 0.98), eps=1e-6)
    n, size, length, vocab = 4 * a.batch, config["image_resolution"], config["context_length"], config["vocab_size"]
    pixels = torch.randn(n, 3, size, size)
    ids = torch.randint(1, vocab - 1, (n, length))
    ids[:, -1] = vocab - 1

    def forward():
        pick = torch.randperm(n)[:a.batch]
        opt.zero_grad(set_to_none=True)
        x, y, scale = model(pixels[pick], ids[pick])
        clip = cs.clip_loss(x, y, scale)
        _, _, _, cma = cs.cma_loss(x, y)
        ga, gb = cs.pull(clip, x, y), cs.pull(cma, x, y)
        w = torch.where(gb > 0, (ga / gb).clamp(max=100.0), torch.full_like(gb, 100.0))
        return 0.75 * clip + 0.25 * w * cma

    for _ in range(2):   # warm: optimiser state exists, allocator primed
        forward().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        with torch.profiler.record_function(PARTS[0]):
            total = forward()
        with torch.profiler.record_function(PARTS[1]):
            total.backward()
        with torch.profiler.record_function(PARTS[2]):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        with torch.profiler.record_function(PARTS[3]):
            opt.step()

    def part(event):
        parent = event.cpu_parent
        while parent is not None and parent.name not in PARTS:
            parent = parent.cpu_parent
        return parent.name if parent else "other"

    counts = {}
    for e in prof.events():
        if not e.name.startswith("aten::") or (e.cpu_parent is not None and e.cpu_parent.name.startswith("aten::")):
            continue   # only top-level ops: one per dispatch from Python or the autograd engine
        counts[part(e)] = counts.get(part(e), 0) + 1
    result = {"suite": "pytorch_ops", "preset": a.preset, "batch": a.batch, "torch": torch.__version__,
              "parameter_tensors": sum(1 for _ in model.parameters()), "top_level_aten_ops": counts,
              "total": sum(counts.values())}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
