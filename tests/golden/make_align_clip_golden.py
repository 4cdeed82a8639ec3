#!/usr/bin/env python3
"""Reference values for the AlignCLIP baseline (docs/METHOD.md, "Peer methods"), written with plain PyTorch in float64
after the authors' ClipInModalityLoss (Eslami and de Melo, "Mitigate the Gap: Investigating Approaches for Improving
Cross-Modal Alignment in CLIP", ICLR 2025; github.com/sarahESL/AlignCLIP, align_clip/loss.py) with
nl_semantic_supervision, separate_image and separate_text on:

  D         = 1 - u u^T, u the normalised semantic embeddings of the captions (diagonal set to 0 here)
  image row = s * (D * (x x^T) + diag(x_i . y_i)),  caption row = s * (D * (y y^T) + diag(x_i . y_i))
  authors'  = alpha * (CE(s x y^T) + CE(s y x^T)) + beta * (CE(image rows) + CE(caption rows)),  alpha = 1

Ours is L = L_clip + weight * L_IMSep with both averaged over their two directions, i.e. the authors' total / 2 when
weight = beta; the script checks that identity on every case.

Run:  /usr/bin/python3 tests/golden/make_align_clip_golden.py > tests/TpcCma.Core.Tests/Training/golden/align_clip_golden.json
"""
import json

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
MAX_SCALE = 100.0


def distances(semantic):
    u = semantic / semantic.norm(dim=-1, keepdim=True)
    d = 1 - u @ u.T
    d.fill_diagonal_(0)   # 1 - u_i . u_i is 0 up to rounding; exactly 0 in the C# code
    return d


def clip_loss(x, y, s):
    labels = torch.arange(x.shape[0])
    logits = s * x @ y.T
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def separation(x, y, s, d):
    # The authors' operations: multiply by D, then add the paired similarities on the diagonal.
    n = x.shape[0]
    labels = torch.arange(n)
    paired = torch.mul(x @ y.T, torch.eye(n))
    image_rows = s * (torch.mul(x @ x.T, d) + paired)
    text_rows = s * (torch.mul(y @ y.T, d) + paired)
    return (F.cross_entropy(image_rows, labels) + F.cross_entropy(text_rows, labels)) / 2


def authors_total(x, y, s, d, beta):
    n = x.shape[0]
    labels = torch.arange(n)
    paired = torch.mul(x @ y.T, torch.eye(n))
    in_modality = beta * (F.cross_entropy(s * (torch.mul(y @ y.T, d) + paired), labels)
                          + F.cross_entropy(s * (torch.mul(x @ x.T, d) + paired), labels))
    clip = F.cross_entropy(s * x @ y.T, labels) + F.cross_entropy(s * y @ x.T, labels)
    return in_modality + clip


def unit(t):
    return t / t.norm(dim=1, keepdim=True)


def case(name, x, y, semantic, scale, weight):
    s = min(scale, MAX_SCALE)
    d = distances(semantic)
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    clip = clip_loss(x, y, s)
    sep = separation(x, y, s, d)
    loss = clip + weight * sep
    gx, gy = torch.autograd.grad(loss, [x, y])
    check = authors_total(x.detach(), y.detach(), s, d, weight) / 2
    assert abs(float(check) - float(loss)) < 1e-12, (name, float(check), float(loss))
    return {"name": name, "scale": scale, "weight": weight, "x": x.detach().tolist(), "y": y.detach().tolist(),
            "semantic": semantic.tolist(), "distances": d.tolist(), "clip": float(clip), "separation": float(sep),
            "loss": float(loss), "grad_x": gx.tolist(), "grad_y": gy.tolist()}


def main():
    g = torch.Generator().manual_seed(20261206)
    x = unit(torch.randn(6, 8, generator=g))
    y = unit(torch.randn(6, 8, generator=g))
    semantic = torch.randn(6, 5, generator=g) * 3   # unnormalised on purpose: the loss normalises
    gapped = unit(y + 1.5 * unit(torch.randn(1, 8, generator=g)))
    synonyms = semantic.clone()
    synonyms[3] = 2 * synonyms[1]   # captions 1 and 3 mean the same: D_13 = 0, those samples are not pushed apart
    cases = [
        case("random_beta_half", x, y, semantic, 14.4432, 0.5),
        case("gap_synonyms", x, gapped, synonyms, 30.0, 1.0),
        case("gap_clamped_scale", x, gapped, semantic, 250.0, 0.2),
    ]
    print(json.dumps({"generator": "tests/golden/make_align_clip_golden.py", "torch": torch.__version__,
                      "dtype": "float64", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
