#!/usr/bin/env python3
"""PyTorch reference for `tpccma-bench train`: the same CLIP training step, timed the same way.

The model is OpenAI CLIP's model.py layout (nn.MultiheadAttention over [L, B, W], QuickGELU, pre-norm blocks,
class token, EOT pooling, projections, logit scale), built from the preset JSON the library uses. Two modes:
  full  the TPC-CMA step of docs/METHOD.md: InfoNCE + CMA (centroid + lambda_dist * distribution, covariance
        as a detached diagnostic), gradient-aware weight w = min(a / b, w_max) from two autograd.grad calls
        on the embeddings, total = (1 - alpha) L_clip + alpha w L_cma, finiteness check, scalars read every
        --log-every steps;
  bare  InfoNCE only.
Both: global-norm gradient clipping at 1, AdamW (lr 1e-5, betas 0.9/0.98, eps 1e-6, weight decay 0.1 on
matrices only, as the library's ParameterPlan), logit scale clamped to [0, ln 100]. Synthetic batches: a pool
of 4 x batch random pairs, a random subset per step. Prints one JSON object.
--device cuda runs it on the GPU (each step timed to a synchronize); --bf16 runs forward and losses under
torch.autocast(bfloat16), as the library's bf16 precision (weights, optimiser and backward in float32).
"""
import contextlib
import argparse
import json
import math
import os
import statistics
import time
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, width * 4)), ("gelu", QuickGELU()), ("c_proj", nn.Linear(width * 4, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x, mask):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.width = width
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(0, 2, 1)                                   # [B, G*G, W]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)                       # LND inside, as OpenAI
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.context_length = c["context_length"]
        self.visual = VisionTransformer(c["image_resolution"], c["vision_patch_size"], c["vision_width"],
                                        c["vision_layers"], c.get("vision_heads") or c["vision_width"] // 64, c["embed_dim"])
        self.transformer = Transformer(c["transformer_width"], c["transformer_layers"], c["transformer_heads"])
        self.token_embedding = nn.Embedding(c["vocab_size"], c["transformer_width"])
        self.positional_embedding = nn.Parameter(torch.empty(self.context_length, c["transformer_width"]))
        self.ln_final = nn.LayerNorm(c["transformer_width"])
        self.text_projection = nn.Parameter(torch.empty(c["transformer_width"], c["embed_dim"]))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.register_buffer("attn_mask", torch.full((self.context_length,) * 2, float("-inf")).triu_(1), persistent=False)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.normal_(self.text_projection, std=self.transformer.width ** -0.5)

    def encode_text(self, ids):
        x = self.token_embedding(ids) + self.positional_embedding
        x = self.transformer(x.permute(1, 0, 2), self.attn_mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection

    def forward(self, pixels, ids):
        image = F.normalize(self.visual(pixels), dim=-1)
        text = F.normalize(self.encode_text(ids), dim=-1)
        return image, text, self.logit_scale.exp().clamp(max=100)


def clip_loss(x, y, scale):
    logits = scale * x @ y.t()
    labels = torch.arange(x.shape[0], device=x.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2


def cma_loss(x, y, lambda_dist=1.0):
    cx, cy = x - x.mean(0, keepdim=True), y - y.mean(0, keepdim=True)
    centroid = (x.mean(0) - y.mean(0)).square().sum()
    distribution = (cx - cy).square().sum(1).mean()
    dx, dy = cx.detach(), cy.detach()
    covariance = ((dx.t() @ dx - dy.t() @ dy) / (x.shape[0] - 1)).square().sum()   # diagnostic, as lambda_cov = 0
    return centroid, distribution, covariance, centroid + lambda_dist * distribution


def pull(loss, x, y):
    gx, gy = torch.autograd.grad([loss], [x, y], retain_graph=True)
    return (gx.square().sum() + gy.square().sum()).sqrt().detach()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="tiny")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mode", choices=["full", "bare"], default="full")
    p.add_argument("--alpha", type=float, default=0.25)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="torch.autocast to bfloat16 for forward and losses")
    p.add_argument("--json")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "../../src/TpcCma.Core/Model/Presets", a.preset + ".json")) as f:
        config = json.load(f)
    device = torch.device(a.device)
    model = CLIP(config).to(device).train()
    decay = [q for n, q in model.named_parameters() if q.dim() >= 2 and "embedding" not in n]
    no_decay = [q for n, q in model.named_parameters() if not (q.dim() >= 2 and "embedding" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-5, betas=(0.9, 0.98), eps=1e-6)
    n, size, length, vocab = 4 * a.batch, config["image_resolution"], config["context_length"], config["vocab_size"]
    pool_pixels = torch.randn(n, 3, size, size)
    cuda = device.type == "cuda"
    lengths = torch.randint(1, length - 1, (n, 1))
    pos = torch.arange(length).unsqueeze(0)
    pool_ids = torch.where(pos < lengths, torch.randint(1, vocab - 1, (n, length)),
                           torch.where(pos == lengths, torch.full((n, length), vocab - 1), torch.zeros(n, length, dtype=torch.long)))
    pool_pixels, pool_ids = pool_pixels.to(device), pool_ids.to(device)
    bad = torch.zeros((), dtype=torch.long, device=device)
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if a.bf16 else contextlib.nullcontext
    times, cpu_times = [], []
    for step in range(a.warmup + a.steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        pick = torch.randperm(n, device=device)[:a.batch]
        opt.zero_grad(set_to_none=True)
        with autocast():
            x, y, scale = model(pool_pixels[pick], pool_ids[pick])
            x, y = x.float(), y.float()   # the objective in float32, as the library's
            clip = clip_loss(x, y, scale)
            if a.mode == "full":
                cent, dist, cov, cma = cma_loss(x, y)
                ga, gb = pull(clip, x, y), pull(cma, x, y)
                w = torch.where(gb > 0, (ga / gb).clamp(max=100.0), torch.full_like(gb, 100.0))
                total = (1 - a.alpha) * clip + a.alpha * w * cma
            else:
                total = clip
        total.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        if a.mode == "full":
            finite = torch.isfinite(total) & torch.isfinite(norm)
            bad = torch.where(~finite & (bad == 0), torch.tensor(step + 1, device=device), bad)
            if (step + 1) % a.log_every == 0:
                torch.stack([total, clip, cent, dist, cov, cma, ga, gb, w, norm, scale]).detach().double().tolist()
        if cuda:
            torch.cuda.synchronize(device)   # time the work, not the launches
        if step >= a.warmup:
            times.append((time.perf_counter() - start) * 1000)
            cpu_times.append((time.process_time() - cpu_start) * 1000)   # all threads of the process
    median = statistics.median(times)
    result = {"suite": "pytorch", "preset": a.preset, "batch": a.batch, "mode": a.mode, "threads": torch.get_num_threads(),
              "torch": torch.__version__, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"), "steps": a.steps,
              "warmup": a.warmup, "median_ms": median, "min_ms": min(times), "max_ms": max(times),
              "median_cpu_ms": statistics.median(cpu_times), "device": str(device), "autocast": "bfloat16" if a.bf16 else None,
              "samples_per_s": a.batch / (median / 1000),
              "peak_memory_bytes": torch.cuda.max_memory_allocated(device) if cuda else None}
    print(json.dumps(result))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
