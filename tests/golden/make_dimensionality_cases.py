#!/usr/bin/env python3
"""Reference values for the effective dimensionality of embedding clouds (docs/METHOD.md, "Effective dimensionality").

Written with numpy from the definitions, independently of the C# code, in float64:
- participation ratio (sum l)^2 / sum l^2 over the eigenvalues l of the sample covariance (numpy.cov, 1/(N-1));
- effective rank (Roy & Vetterli 2007) exp(H(p)), p = s / sum s over the singular values s of the centred matrix.
Each case stores the points; "pairs" cases also store an image and a text cloud, which are L2-normalised first,
then measured alone and pooled (2N rows).

Run:  /usr/bin/python3 tests/golden/make_dimensionality_cases.py > tests/TpcCma.Core.Tests/Evaluation/golden/dimensionality_cases.json
"""
import json

import numpy as np


def participation_ratio(points):
    eigenvalues = np.clip(np.linalg.eigvalsh(np.cov(points, rowvar=False)), 0, None)
    return float(eigenvalues.sum() ** 2 / (eigenvalues ** 2).sum())


def effective_rank(points):
    s = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def measure(points):
    return {"participation_ratio": participation_ratio(points), "effective_rank": effective_rank(points)}


def unit(m):
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def main():
    rng = np.random.default_rng(20261204)
    clouds = {
        "isotropic_8d": rng.standard_normal((200, 8)),
        "anisotropic": rng.standard_normal((100, 6)) * np.array([5.0, 2.0, 1.0, 0.5, 0.1, 0.01]),
        "rank_two_in_10d": rng.standard_normal((50, 2)) @ rng.standard_normal((2, 10)),
        "fewer_points_than_dims": rng.standard_normal((5, 12)),
    }
    cases = [{"name": name, "points": points.tolist(), "expected": measure(points)} for name, points in clouds.items()]
    # a modality gap: the text cloud is offset and squeezed into fewer directions
    image = unit(rng.standard_normal((40, 16)))
    text = unit(rng.standard_normal((40, 16)) * np.linspace(1.0, 0.05, 16) + 2.0 * rng.standard_normal(16))
    pairs = [{"name": "gap_pair", "image": image.tolist(), "text": text.tolist(),
              "expected": {"image": measure(image), "text": measure(text), "pooled": measure(np.vstack([image, text]))}}]
    print(json.dumps({"generator": "tests/golden/make_dimensionality_cases.py", "numpy": np.__version__,
                      "clouds": cases, "pairs": pairs}, indent=1))


if __name__ == "__main__":
    main()
