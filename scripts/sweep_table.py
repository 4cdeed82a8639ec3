#!/usr/bin/env python3
"""Renders sweep results as Markdown tables, one set per split: each model's mean ± 95 % interval over seeds,
the changes against the base (percentages with the end values beside them), R^2 of each task metric on each gap
with R^2(G_D) - R^2(G_R), and the paper's targets met or missed.

Input, either:
- a results file (GET /v1/sweeps/{id}/results.json, docs/results/*.json): {"dataset", "seeds", "alpha_targets",
  "splits": {SPLIT: {"rows": [{"model", "alpha_target", "seed", "metrics"}]}}}; intervals are computed here with
  the service's method (percentile bootstrap over seeds, 2000 resamples, fixed seed);
- a sweep as the service returns it (GET /v1/sweeps/{id}): its report's summary and comparisons are used as they
  are; an older report without them is read as one seed per model (intervals of zero width).

"mean ± h" shows h, half the width of the 95 % interval. A target counts as met only when its interval excludes
the base value (for the zero-shot target, which asks that accuracy stay, when the interval's low end of the
relative change stays above -5 %).

Usage: sweep_table.py FILE [NAME]
"""
import functools
import json
import math
import random
import sys

RESAMPLES, SEED = 2000, 20260
TASKS = ["zero_shot_top1", "retrieval_i2t_r1", "joint_ari", "cider_image_to_text"]
GAPS = [("raw", "gap_raw"), ("centroid", "gap_centroid"), ("distribution", "gap_distribution"), ("mismatch", "gap_mismatch")]
COLUMNS = [("raw gap", "gap_raw"), ("centroid gap", "gap_centroid"), ("distribution gap", "gap_distribution"),
           ("mismatch", "gap_mismatch"), ("image spread (1-cos)", "image_spread_cosine"), ("text spread (1-cos)", "text_spread_cosine"),
           ("zero-shot top-1", "zero_shot_top1"), ("joint ARI", "joint_ari"), ("CIDEr-D i2t", "cider_image_to_text"),
           ("CIDEr-D t2t", "cider_text_to_text")]

# Shown in a table of their own when the results carry them (results files written since they were exported).
DIAGNOSTICS = [("CIDEr-D i2t", "cider_image_to_text"), ("CIDEr-D i2t DeCap", "cider_image_to_text_decap"),
               ("CIDEr-D t2t", "cider_text_to_text"), ("PR image", "participation_ratio_image"), ("PR text", "participation_ratio_text"),
               ("PR pooled", "participation_ratio_pooled"), ("eff. rank pooled", "effective_rank_pooled")]


def finite(v):
    return v is not None and v != "NaN" and not (isinstance(v, float) and math.isnan(v))


def percentile(sorted_values, p):
    rank = p / 100 * (len(sorted_values) - 1)
    low = int(math.floor(rank))
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (rank - low) * (sorted_values[high] - sorted_values[low])


@functools.lru_cache(maxsize=None)
def resamples(n):
    """The bootstrap's draws of n rows: the same for every statistic over n rows (one seed), so drawn once per n."""
    rng = random.Random(SEED)
    return [[rng.randrange(n) for _ in range(n)] for _ in range(RESAMPLES)]


def bootstrap(n, statistic):
    """(value, low, high): the statistic of rows 0..n-1 and its 95 % percentile-bootstrap interval."""
    value = statistic(list(range(n)))
    draws = []
    for rows in resamples(n):
        s = statistic(rows)
        if finite(s):
            draws.append(s)
    if len(draws) < RESAMPLES // 2:
        return (value, None, None)
    draws.sort()
    return (value, percentile(draws, 2.5), percentile(draws, 97.5))


def mean_ci(values):
    return bootstrap(len(values), lambda rows: sum(map(values.__getitem__, rows)) / len(rows))


def r_squared(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx == 0 or syy == 0:
        return float("nan")
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return sxy * sxy / (sxx * syy)


def estimate(e):
    """An estimate from the service ({"value", "low", "high"}) or from here (a tuple)."""
    if e is None:
        return None
    if isinstance(e, dict):
        return tuple(float(e[k]) if finite(e.get(k)) else None for k in ("value", "low", "high"))
    return e


# ---- the models of a split, from a results file --------------------------------------------------------------

def groups_from_rows(rows):
    """[(label, model, alpha, seeds, metrics, changes, percent)] with estimates over seeds, paired by seed."""
    bases = {}
    for r in rows:
        if r["model"] == "base":
            bases.setdefault(r["seed"], r["metrics"])
    keys = []
    for r in rows:
        key = (r["model"], r.get("alpha_target"), r.get("method"))
        if key not in keys:
            keys.append(key)
    order = {"base": 0, "base_centered": 1, "base_centered_noise": 2}
    keys.sort(key=lambda k: (order.get(k[0], 3), k[2] or "", k[1] if k[1] is not None else -1))
    groups = []
    for model, alpha, method in keys:
        members = [r for r in rows if r["model"] == model and r.get("alpha_target") == alpha and r.get("method") == method]
        names = sorted({n for r in members for n in r["metrics"]})
        metrics, changes, percent = {}, {}, {}
        for n in names:
            values = [r["metrics"][n] for r in members if finite(r["metrics"].get(n))]
            if values:
                metrics[n] = mean_ci(values)
            if model == "base":
                continue
            pairs = [(r["metrics"][n], bases[r["seed"]][n]) for r in members
                     if finite(r["metrics"].get(n)) and r["seed"] in bases and finite(bases[r["seed"]].get(n))]
            if pairs:
                changes[n] = mean_ci([a - b for a, b in pairs])
                rel = [100 * (a / b - 1) for a, b in pairs if b != 0]
                if rel:
                    percent[n] = mean_ci(rel)
        groups.append((label(model, alpha, method), model, alpha, len({r["seed"] for r in members}), metrics, changes, percent))
    return groups


def comparisons_from_rows(rows):
    out = []
    for task in TASKS:
        usable = [r["metrics"] for r in rows if all(finite(r["metrics"].get(k)) for k in (task, "gap_raw", "gap_distribution"))]
        if len(usable) < 3 or len(usable) < len(rows):
            continue
        y = [m[task] for m in usable]
        d = [m["gap_distribution"] for m in usable]
        g = [m["gap_raw"] for m in usable]
        diff = bootstrap(len(y), lambda idx: r_squared([d[i] for i in idx], [y[i] for i in idx]) - r_squared([g[i] for i in idx], [y[i] for i in idx]))
        out.append({"metric": task, "r_squared_distribution": r_squared(d, y), "r_squared_raw": r_squared(g, y), "difference": diff, "points": len(y)})
    return out


def fits_from_rows(rows):
    fits = {}
    for task in TASKS:
        for gap, key in GAPS:
            pts = [(r["metrics"][key], r["metrics"][task]) for r in rows if finite(r["metrics"].get(key)) and finite(r["metrics"].get(task))]
            if len(pts) >= 3 and len(pts) == len(rows):
                fits[(task, gap)] = r_squared([p[0] for p in pts], [p[1] for p in pts])
    return fits


# ---- the models of a split, from a service report ------------------------------------------------------------

ROW_FIELDS = {"gap_raw": "gap_raw", "gap_centroid": "gap_centroid", "gap_distribution": "gap_distribution", "gap_mismatch": "gap_mismatch",
              "zero_shot_top1": "zero_shot_top1", "ari": "joint_ari", "cider_image_to_text": "cider_image_to_text",
              "cider_text_to_text": "cider_text_to_text", "separability": "separability"}


def groups_from_report(table):
    if table.get("summary"):
        return [(label(s["model"], s.get("alpha_target"), s.get("method")), s["model"], s.get("alpha_target"), s["seeds"],
                 {k: estimate(v) for k, v in s["metrics"].items()}, {k: estimate(v) for k, v in s.get("changes", {}).items()},
                 {k: estimate(v) for k, v in s.get("percent_changes", {}).items()}) for s in table["summary"]]
    # An older report: one row per model, one seed.
    rows = []
    for r in table["rows"]:
        model = "base" if r["model"] == "base" else "base_centered" if "centering" in r["model"] else "align"
        rows.append({"model": model, "alpha_target": r.get("alpha_target"), "seed": 0,
                     "metrics": {ROW_FIELDS[k]: float(v) for k, v in r.items() if k in ROW_FIELDS and finite(v)}})
    return groups_from_rows(rows)


# ---- rendering -----------------------------------------------------------------------------------------------

def label(model, alpha, method=None):
    fixed = {"base": "base", "base_centered": "base + mean-centering", "base_centered_noise": "base + mean-centering + noise (C3)"}
    if model in fixed:
        return fixed[model]
    if method is None:
        return f"alpha_target {alpha}"
    return method if alpha is None else f"{method}, alpha_target {alpha}"


def pm(e, digits=3):
    if e is None or not finite(e[0]):
        return "-"
    if e[1] is None or e[2] is None:
        return f"{e[0]:.{digits}f}"
    return f"{e[0]:.{digits}f} ± {(e[2] - e[1]) / 2:.{digits}f}"


def interval(e, digits=3):
    if e is None or e[1] is None:
        return "-"
    return f"[{e[1]:.{digits}f}, {e[2]:.{digits}f}]"


def render_split(split, groups, fits, comparisons):
    print(f"### split `{split}`\n")
    print("Each model over its seeds: mean ± half the 95 % interval.\n")
    print("| model | seeds | " + " | ".join(c for c, _ in COLUMNS) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in COLUMNS) + " |")
    for g in groups:
        print(f"| {g[0]} | {g[3]} | " + " | ".join(pm(g[4].get(k)) for _, k in COLUMNS) + " |")

    print("\nAgainst the base of the same seed: change in percent (end value).\n")
    changed = [("raw gap", "gap_raw"), ("centroid gap", "gap_centroid"), ("distribution gap", "gap_distribution"), ("mismatch", "gap_mismatch"),
               ("zero-shot top-1", "zero_shot_top1"), ("joint ARI", "joint_ari"), ("CIDEr-D i2t", "cider_image_to_text")]
    print("| model | " + " | ".join(c for c, _ in changed) + " |")
    print("| --- | " + " | ".join("---:" for _ in changed) + " |")
    for g in groups[1:]:
        cells = []
        for _, k in changed:
            p, end = g[6].get(k), g[4].get(k)
            cells.append("-" if p is None else f"{pm(p, 1)} % ({end[0]:.3f})" if end else f"{pm(p, 1)} %")
        print(f"| {g[0]} | " + " | ".join(cells) + " |")

    extra = [(c, k) for c, k in DIAGNOSTICS if any(k in g[4] for g in groups)]
    if any(k not in ("cider_image_to_text", "cider_text_to_text") for _, k in extra):
        print("\nCaptioning read two ways (direct, and DeCap: the image embedding projected onto the training captions' "
              "embeddings first) and the effective dimensionality (participation ratio; effective rank of the pooled clouds).\n")
        print("| model | " + " | ".join(c for c, _ in extra) + " |")
        print("| --- | " + " | ".join("---:" for _ in extra) + " |")
        for g in groups:
            print(f"| {g[0]} | " + " | ".join(pm(g[4].get(k), 2 if k.startswith(("participation", "effective")) else 3) for _, k in extra) + " |")

    if fits:
        gaps = [gap for gap, _ in GAPS if any(k[1] == gap for k in fits)]
        by_metric = {c["metric"]: c for c in comparisons}
        print("\nR^2 of each task metric on each gap over every row above, and R^2(G_D) - R^2(G_R) with its paired 95 % interval:\n")
        print("| metric | " + " | ".join(gaps) + " | R^2(G_D) - R^2(G_R) |")
        print("| --- | " + " | ".join("---:" for _ in gaps) + " | ---: |")
        for task in dict.fromkeys(k[0] for k in fits):
            c = by_metric.get(task)
            diff = "-" if c is None else f"{estimate(c['difference'])[0]:+.3f} {interval(estimate(c['difference']))}"
            print(f"| {task} | " + " | ".join(f"{fits[(task, g)]:.3f}" if (task, g) in fits and finite(fits[(task, g)]) else "-" for g in gaps) + f" | {diff} |")
    targets(groups, comparisons)
    print()


def verdict(ok, measured=True):
    return "not measured" if not measured else ("met" if ok else "**missed**")


def targets(groups, comparisons):
    """The paper's targets, each met only when its interval excludes the base value."""
    by_alpha = {g[2]: g for g in groups if g[1] == "align"}
    half, low = by_alpha.get(0.5), by_alpha.get(0.05)
    if half is None and low is None:
        return
    print("\nAgainst the paper's targets (95 % intervals over seeds):\n")
    if half is not None:
        red = half[6].get("gap_raw")
        red = None if red is None else (-red[0], None if red[2] is None else -red[2], None if red[1] is None else -red[1])
        ok = red is not None and red[0] >= 80 and red[1] is not None and red[1] > 0
        print(f"- alpha_target 0.5, raw gap reduced >= 80 %: {pm(red, 1)} % {interval(red, 1)} ({verdict(ok, red is not None)})")
        d = half[5].get("joint_ari")
        ok = d is not None and d[0] >= 0.15 and d[1] is not None and d[1] > 0
        print(f"- alpha_target 0.5, ARI up >= 0.15: {pm(d)} {interval(d)} ({verdict(ok, d is not None)})")
        c = half[6].get("cider_image_to_text")
        ok = c is not None and c[0] >= 50 and c[1] is not None and c[1] > 0
        print(f"- alpha_target 0.5, CIDEr-D (image->text) up >= 50 %: {pm(c, 1)} % {interval(c, 1)} ({verdict(ok, c is not None)})")
    if low is not None:
        z = low[6].get("zero_shot_top1")
        ok = z is not None and z[1] is not None and z[1] >= -5
        print(f"- alpha_target 0.05, zero-shot top-1 down <= 5 % (relative): {pm(z, 1)} % {interval(z, 1)} ({verdict(ok, z is not None)})")
    if comparisons:
        wins = [c["metric"] for c in comparisons if estimate(c["difference"])[1] is not None and estimate(c["difference"])[1] > 0]
        print(f"- R^2 on the distribution gap above R^2 on the raw gap for >= 3 of {len(comparisons)} task metrics (interval above 0): "
              f"{len(wins)} ({', '.join(wins) or 'none'}) ({verdict(len(wins) >= 3)})")


def main(path, name):
    data = json.load(open(path))
    if "splits" in data:
        print(f"## {name}: {data['dataset']}, seeds {data['seeds']}, alpha_target {data['alpha_targets']}\n")
        for split, results in data["splits"].items():
            rows = results["rows"]
            render_split(split, groups_from_rows(rows), fits_from_rows(rows), comparisons_from_rows(rows))
    else:
        print(f"## {name}: alpha_target sweep ({data.get('status', '?')})\n")
        for table in data["report"]:
            fits = {(f["metric"], f["gap"]): (float(f["r_squared"]) if finite(f["r_squared"]) else float("nan")) for f in table.get("fits", [])}
            fits = {k: v for k, v in fits.items() if k[1] in dict(GAPS)}
            render_split(table["split"], groups_from_report(table), fits, table.get("comparisons") or [])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "sweep")
