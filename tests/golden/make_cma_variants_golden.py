#!/usr/bin/env python3
"""Reference values for the CMA variants, hard negatives and the uniformity term (docs/METHOD.md, "CMA variants",
"Hard negatives", "Spread preservation").

Written with plain PyTorch, independently of the C# code, in float64, in the manner of make_loss_golden.py. For
each case it stores the inputs, the options, every term's value and its gradient on x and y, the pulls a and b,
the weight w and the full objective with its gradient at several alphas.

Run:  python3 tests/golden/make_cma_variants_golden.py > tests/TpcCma.Core.Tests/Training/golden/cma_variants_golden.json
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)
MAX_SCALE = 100.0
UNIFORMITY_T = 2.0


def clip_loss(x, y, scale):
    logits = min(scale, MAX_SCALE) * x @ y.t()
    labels = torch.arange(x.shape[0])
    return (torch.nn.functional.cross_entropy(logits, labels)
            + torch.nn.functional.cross_entropy(logits.t(), labels)) / 2


def hn_nce_direction(logits, beta):
    """-log(e^{s_ii} / (e^{s_ii} + sum_{j!=i} w_ij e^{s_ij})), w_ij = (B-1) softmax_{k!=i}(beta s_ik), weights detached."""
    n = logits.shape[0]
    losses = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        hard = beta * logits[i, others].detach()
        weights = (n - 1) * torch.exp(hard) / torch.exp(hard).sum()
        denominator = torch.exp(logits[i, i]) + (weights * torch.exp(logits[i, others])).sum()
        losses.append(-(logits[i, i] - torch.log(denominator)))
    return torch.stack(losses).mean()


def hn_nce(x, y, scale, beta):
    logits = min(scale, MAX_SCALE) * x @ y.t()
    return (hn_nce_direction(logits, beta) + hn_nce_direction(logits.t(), beta)) / 2


def pairwise_parts(x, y, lambda_dist):
    mu_x, mu_y = x.mean(0), y.mean(0)
    cent = ((mu_x - mu_y) ** 2).sum()
    dist = (((x - mu_x) - (y - mu_y)) ** 2).sum(1).mean()
    xc, yc = x - mu_x, y - mu_y
    n = x.shape[0]
    cov = ((xc.t() @ xc / (n - 1) - yc.t() @ yc / (n - 1)) ** 2).sum()
    return cent, dist, cov


def geometry(x, y):
    """CyCLIP in-modal consistency: the mean over all (j, k) of (x_j.x_k - y_j.y_k)^2."""
    n = x.shape[0]
    total = 0.0
    for j in range(n):
        for k in range(n):
            total = total + (x[j] @ x[k] - y[j] @ y[k]) ** 2
    return total / (n * n)


def uniformity_one(x):
    """Wang & Isola: log of the mean over i != j of exp(-t ||x_i - x_j||^2)."""
    n = x.shape[0]
    terms = [torch.exp(-UNIFORMITY_T * ((x[i] - x[j]) ** 2).sum()) for i in range(n) for j in range(n) if i != j]
    return torch.log(torch.stack(terms).mean())


def uniformity(x, y):
    return (uniformity_one(x) + uniformity_one(y)) / 2


def grads(loss, x, y):
    gx, gy = torch.autograd.grad(loss, [x, y], retain_graph=True)
    return gx, gy


def pull(loss, x, y):
    gx, gy = grads(loss, x, y)
    return math.sqrt(float((gx ** 2).sum() + (gy ** 2).sum()))


def unit(t):
    return t / t.norm(dim=1, keepdim=True)


def case(name, x, y, scale, cma, negatives, beta, lambda_dist, lambda_cov, lambda_geom, lambda_unif, w_max, alphas):
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    clip = hn_nce(x, y, scale, beta) if negatives == "reweighted" else clip_loss(x, y, scale)
    cent, dist, cov = pairwise_parts(x, y, lambda_dist)
    geom, unif = geometry(x, y), uniformity(x, y)
    terms = []
    if cma in ("pairwise", "pairwise+geometry"):
        terms += [cent, lambda_dist * dist]
    if cma in ("geometry", "pairwise+geometry"):
        terms.append(lambda_geom * geom)
    if lambda_cov > 0:
        terms.append(lambda_cov * cov)
    if lambda_unif > 0:
        terms.append(lambda_unif * unif)
    total_cma = sum(terms)
    a, b = pull(clip, x, y), pull(total_cma, x, y)
    w = min(a / b, w_max) if b > 0 else w_max
    clip_gx, clip_gy = grads(clip, x, y)
    geom_gx, geom_gy = grads(geom, x, y)
    unif_gx, unif_gy = grads(unif, x, y)
    objectives = []
    for alpha in alphas:
        total = (1 - alpha) * clip + alpha * w * total_cma  # w a plain float: a constant for autograd
        gx, gy = grads(total, x, y)
        objectives.append({"alpha": alpha, "total": float(total), "grad_x": gx.tolist(), "grad_y": gy.tolist()})
    return {
        "name": name, "scale": scale, "cma": cma, "negatives": negatives, "negatives_beta": beta,
        "lambda_dist": lambda_dist, "lambda_cov": lambda_cov, "lambda_geom": lambda_geom, "lambda_unif": lambda_unif,
        "w_max": w_max, "x": x.detach().tolist(), "y": y.detach().tolist(),
        "clip": float(clip), "clip_grad_x": clip_gx.tolist(), "clip_grad_y": clip_gy.tolist(),
        "geom": float(geom), "geom_grad_x": geom_gx.tolist(), "geom_grad_y": geom_gy.tolist(),
        "unif": float(unif), "unif_grad_x": unif_gx.tolist(), "unif_grad_y": unif_gy.tolist(),
        "cent": float(cent), "dist": float(dist), "cov": float(cov), "cma_total": float(total_cma),
        "a": a, "b": b, "w": w, "objectives": objectives,
    }


def main():
    g = torch.Generator().manual_seed(20261204)
    alphas = [0.0, 0.05, 0.5, 0.9]
    x = unit(torch.randn(6, 8, generator=g))
    y = unit(torch.randn(6, 8, generator=g))
    shift = torch.randn(8, generator=g)
    gapped = unit(y + 1.5 * shift)   # every text embedding shares one offset, as in real CLIP embeddings
    cases = [
        case("geometry", x, gapped, 30.0, "geometry", "uniform", 0.5, 1.0, 0.0, 1.0, 0.0, 100.0, alphas),
        case("pairwise_geometry", x, gapped, 30.0, "pairwise+geometry", "uniform", 0.5, 1.0, 0.0, 2.0, 0.0, 100.0, alphas),
        case("pairwise_reweighted", x, y, 14.4432, "pairwise", "reweighted", 0.5, 1.0, 0.0, 1.0, 0.0, 100.0, alphas),
        # beta = 0: HN-NCE is CLIP's loss exactly
        case("reweighted_beta0", x, y, 14.4432, "pairwise", "reweighted", 0.0, 1.0, 0.0, 1.0, 0.0, 100.0, alphas),
        # the temperature above the clamp and strong hardness
        case("geometry_reweighted", x, gapped, 250.0, "geometry", "reweighted", 2.0, 1.0, 0.0, 1.0, 0.0, 100.0, alphas),
        case("pairwise_uniformity", x, gapped, 30.0, "pairwise", "uniform", 0.5, 1.0, 0.0, 1.0, 0.5, 100.0, alphas),
        case("everything", x, gapped, 20.0, "pairwise+geometry", "reweighted", 1.0, 2.0, 0.5, 0.7, 0.3, 100.0, alphas),
        case("geometry_capped", x, gapped, 30.0, "geometry", "uniform", 0.5, 1.0, 0.0, 1.0, 0.0, 2.0, alphas),
    ]
    print(json.dumps({"generator": "tests/golden/make_cma_variants_golden.py", "torch": torch.__version__,
                      "dtype": "float64", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
