#!/usr/bin/env python3
"""Reference values for the TPC-CMA losses (docs/METHOD.md, "Losses" and "Gradient-aware scheduling").

Written with plain PyTorch, independently of the C# code, in float64. For each case it stores the inputs
(L2-normalised embeddings x, y and the temperature exp(logit_scale)), every loss part, the gradients of
L_clip and of the full objective with respect to x and y, and the gradient-aware scale.

Run:  python3 tests/golden/make_loss_golden.py > tests/TpcCma.Core.Tests/Training/golden/loss_golden.json
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)
MAX_SCALE = 100.0  # exp(logit_scale) is clamped at 100 (ln 100 on the log scale), as in CLIP/open_clip


def clip_loss(x, y, scale):
    s = min(scale, MAX_SCALE)
    logits = s * x @ y.t()
    labels = torch.arange(x.shape[0])
    return (torch.nn.functional.cross_entropy(logits, labels)
            + torch.nn.functional.cross_entropy(logits.t(), labels)) / 2


def cma_parts(x, y, lambda_dist, lambda_cov):
    mu_x, mu_y = x.mean(0), y.mean(0)
    cent = ((mu_x - mu_y) ** 2).sum()
    d = (x - mu_x) - (y - mu_y)
    dist = (d ** 2).sum(1).mean()
    xc, yc = x - mu_x, y - mu_y
    n = x.shape[0]
    s_x, s_y = xc.t() @ xc / (n - 1), yc.t() @ yc / (n - 1)
    cov = ((s_x - s_y) ** 2).sum()
    return cent, dist, cov, cent + lambda_dist * dist + lambda_cov * cov


def pull(loss, x, y):
    gx, gy = torch.autograd.grad(loss, [x, y], retain_graph=True)
    return math.sqrt(float((gx ** 2).sum() + (gy ** 2).sum()))


def unit(t):
    return t / t.norm(dim=1, keepdim=True)


def case(name, x, y, scale, lambda_dist, lambda_cov, w_max, alphas):
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    clip = clip_loss(x, y, scale)
    cent, dist, cov, cma = cma_parts(x, y, lambda_dist, lambda_cov)
    a, b = pull(clip, x, y), pull(cma, x, y)
    w = min(a / b, w_max) if b > 0 else w_max
    clip_gx, clip_gy = torch.autograd.grad(clip, [x, y], retain_graph=True)
    objectives = []
    for alpha in alphas:
        total = (1 - alpha) * clip + alpha * w * cma  # w is a plain float: a constant for autograd
        gx, gy = torch.autograd.grad(total, [x, y], retain_graph=True)
        objectives.append({"alpha": alpha, "total": float(total), "grad_x": gx.tolist(), "grad_y": gy.tolist()})
    return {
        "name": name, "scale": scale, "lambda_dist": lambda_dist, "lambda_cov": lambda_cov, "w_max": w_max,
        "x": x.detach().tolist(), "y": y.detach().tolist(),
        "clip": float(clip), "clip_grad_x": clip_gx.tolist(), "clip_grad_y": clip_gy.tolist(),
        "cent": float(cent), "dist": float(dist), "cov": float(cov), "cma": float(cma),
        "a": a, "b": b, "w": w, "objectives": objectives,
    }


def main():
    g = torch.Generator().manual_seed(20260401)
    alphas = [0.0, 0.05, 0.25, 0.5, 0.9]
    x = unit(torch.randn(6, 8, generator=g))
    y = unit(torch.randn(6, 8, generator=g))
    shift = torch.randn(8, generator=g)
    cases = [
        case("random", x, y, 14.4432, 1.0, 0.5, 100.0, alphas),
        # a modality gap: every text embedding shares one offset, the shape of real CLIP embeddings
        case("gap", x, unit(y + 1.5 * shift), 30.0, 2.0, 0.0, 100.0, alphas),
        # the temperature above the clamp: the loss must use 100, not 250
        case("clamped_scale", x, y, 250.0, 1.0, 0.0, 100.0, alphas),
        # a / b (about 7.6 here) exceeds w_max, so w = w_max and the alignment pull is less than alpha * a
        case("capped", x, unit(y + 1.5 * shift), 30.0, 2.0, 0.0, 5.0, alphas),
        # the clouds coincide: b = 0 exactly, w = w_max (not a / 0)
        case("identical", x, x, 20.0, 1.0, 0.0, 100.0, alphas),
    ]
    print(json.dumps({"generator": "tests/golden/make_loss_golden.py", "torch": torch.__version__,
                      "dtype": "float64", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
