#!/usr/bin/env python3
"""Reference values for the CLIP-Refine objective (docs/METHOD.md, "Peer methods"), written with plain PyTorch in
float64 after Yamaguchi et al., "Post-pre-training for Modality Alignment in Vision-Language Foundation Models",
CVPR 2025: L = L_HyCD + rafa_weight * L_RaFA, with
  L_RaFA = (1 / 2B) sum_i (||x_i - z_i||^2 + ||y_i - z_i||^2),  z_i ~ N(0, I) shared by both modalities of pair i,
  L_HyCD = symmetric cross-entropy of s x y^T against q = alpha * I + (1 - alpha) * softmax(s0 x0 y0^T) (rows; columns
           for the caption direction), x0, y0, s0 the frozen starting model's features and temperature.

Run:  /usr/bin/python3 tests/golden/make_clip_refine_golden.py > tests/TpcCma.Core.Tests/Training/golden/clip_refine_golden.json
"""
import json

import torch

torch.set_default_dtype(torch.float64)
MAX_SCALE = 100.0


def soft_cross_entropy(logits, targets):
    return -(targets * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def hycd(x, y, scale, x0, y0, scale0, alpha):
    n = x.shape[0]
    logits = min(scale, MAX_SCALE) * x @ y.t()
    teacher = min(scale0, MAX_SCALE) * x0 @ y0.t()
    eye = torch.eye(n)
    image_targets = alpha * eye + (1 - alpha) * torch.softmax(teacher, dim=1)
    text_targets = alpha * eye + (1 - alpha) * torch.softmax(teacher.t(), dim=1)
    return (soft_cross_entropy(logits, image_targets) + soft_cross_entropy(logits.t(), text_targets)) / 2


def rafa(x, y, z):
    return (((x - z) ** 2).sum() + ((y - z) ** 2).sum()) / (2 * x.shape[0])


def unit(t):
    return t / t.norm(dim=1, keepdim=True)


def case(name, x, y, x0, y0, z, scale, scale0, alpha, weight):
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    h = hycd(x, y, scale, x0, y0, scale0, alpha)
    r = rafa(x, y, z)
    loss = h + weight * r
    gx, gy = torch.autograd.grad(loss, [x, y])
    return {"name": name, "scale": scale, "teacher_scale": scale0, "alpha": alpha, "rafa_weight": weight,
            "x": x.detach().tolist(), "y": y.detach().tolist(), "teacher_x": x0.tolist(), "teacher_y": y0.tolist(),
            "references": z.tolist(), "loss": float(loss), "hycd": float(h), "rafa": float(r),
            "grad_x": gx.tolist(), "grad_y": gy.tolist()}


def main():
    g = torch.Generator().manual_seed(20261204)
    x = unit(torch.randn(6, 8, generator=g))
    y = unit(torch.randn(6, 8, generator=g))
    x0 = unit(x + 0.3 * torch.randn(6, 8, generator=g))
    y0 = unit(y + 0.3 * torch.randn(6, 8, generator=g))
    z = torch.randn(6, 8, generator=g)
    gapped = unit(y + 1.5 * unit(torch.randn(1, 8, generator=g)))
    cases = [
        case("half_hybrid", x, y, x0, y0, z, 14.4432, 20.0, 0.5, 1.0),
        case("pure_one_hot_is_clip_plus_rafa", x, gapped, x0, y0, z, 30.0, 30.0, 1.0, 0.3),
        case("pure_teacher_clamped_scales", x, gapped, x0, y0, z, 250.0, 180.0, 0.0, 2.0),
    ]
    print(json.dumps({"generator": "tests/golden/make_clip_refine_golden.py", "torch": torch.__version__,
                      "dtype": "float64", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
