#!/usr/bin/env python3
"""Reference values for the m^2-Mix term (docs/METHOD.md, "Peer methods"), written with plain PyTorch in float64
after the authors' OpenCLIP loss (Oh et al., NeurIPS 2023): slerp mixes of each pair as hard negatives, the
diagonal kept as CLIP's logits. The temperature of the mixed logits is the model's (see METHOD.md).

Run:  /usr/bin/python3 tests/golden/make_m2mix_golden.py > tests/TpcCma.Core.Tests/Training/golden/m2mix_golden.json
"""
import json

import torch

torch.set_default_dtype(torch.float64)
MAX_SCALE = 100.0


def sph_inter(a, b, s):
    theta = torch.acos((a * b).sum(dim=1)).view(a.shape[0], 1)
    return torch.sin(s * theta) / torch.sin(theta) * a + torch.sin((1 - s) * theta) / torch.sin(theta) * b


def m2mix(x, y, scale, lam):
    s = min(scale, MAX_SCALE)
    n = x.shape[0]
    eye = torch.eye(n)
    off = 1 - eye
    labels = torch.arange(n)
    logits_image = s * x @ y.t()
    logits_text = s * y @ x.t()
    mixed = sph_inter(x, y, lam)
    image_rows = logits_image * eye + (s * x @ mixed.t()) * off
    text_rows = logits_text * eye + (s * y @ mixed.t()) * off
    return (torch.nn.functional.cross_entropy(image_rows, labels)
            + torch.nn.functional.cross_entropy(text_rows, labels)) / 2


def unit(t):
    return t / t.norm(dim=1, keepdim=True)


def case(name, x, y, scale, lam):
    x = x.clone().requires_grad_(True)
    y = y.clone().requires_grad_(True)
    loss = m2mix(x, y, scale, lam)
    gx, gy = torch.autograd.grad(loss, [x, y])
    mixed = sph_inter(x.detach(), y.detach(), lam)
    return {"name": name, "scale": scale, "lambda": lam, "x": x.detach().tolist(), "y": y.detach().tolist(),
            "loss": float(loss), "grad_x": gx.tolist(), "grad_y": gy.tolist(), "mixed": mixed.tolist()}


def main():
    g = torch.Generator().manual_seed(20261205)
    x = unit(torch.randn(6, 8, generator=g))
    y = unit(torch.randn(6, 8, generator=g))
    gapped = unit(y + 1.5 * unit(torch.randn(1, 8, generator=g)))
    cases = [
        case("random_half", x, y, 14.4432, 0.5),
        case("gap_small_lambda", x, gapped, 30.0, 0.1),
        case("gap_large_lambda_clamped_scale", x, gapped, 250.0, 0.93),
    ]
    print(json.dumps({"generator": "tests/golden/make_m2mix_golden.py", "torch": torch.__version__,
                      "dtype": "float64", "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
