#!/usr/bin/env python3
"""Renders a sweep report (GET /v1/sweeps/{id}) as the paper-style Markdown table, one per split, plus R^2."""
import json
import math
import sys


def num(value, fmt="{:.3f}"):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "NaN":
        return "-"
    return fmt.format(float(value))


def main(path, name):
    sweep = json.load(open(path))
    print(f"## {name}: alpha_target sweep ({sweep['status']})\n")
    for table in sweep["report"]:
        print(f"### split `{table['split']}`\n")
        print("| model | raw gap | centroid gap | distribution gap | raw red. % | centroid red. % | distribution red. % | zero-shot top-1 | joint ARI | CIDEr-D i2t | CIDEr-D t2t |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in table["rows"]:
            print(f"| {r['model']} | {num(r['gap_raw'])} | {num(r['gap_centroid'])} | {num(r['gap_distribution'])} | "
                  f"{num(r['raw_reduction'], '{:.1f}')} | {num(r['centroid_reduction'], '{:.1f}')} | {num(r['distribution_reduction'], '{:.1f}')} | "
                  f"{num(r['zero_shot_top1'], '{:.3f}')} | {num(r['ari'])} | {num(r['cider_image_to_text'])} | {num(r['cider_text_to_text'])} |")
        if table["fits"]:
            print("\nR^2 of each task metric on each gap (over the rows above):\n")
            gaps = list(dict.fromkeys(f["gap"] for f in table["fits"]))
            print("| metric | " + " | ".join(gaps) + " |")
            print("| --- | " + " | ".join("---:" for _ in gaps) + " |")
            for metric in dict.fromkeys(f["metric"] for f in table["fits"]):
                row = {f["gap"]: f["r_squared"] for f in table["fits"] if f["metric"] == metric}
                print(f"| {metric} | " + " | ".join(num(row.get(g)) for g in gaps) + " |")
        targets(table)
        print()


def value(row, key):
    v = row.get(key) if row else None
    return None if v is None or v == "NaN" or (isinstance(v, float) and math.isnan(v)) else float(v)


def verdict(measured, ok):
    return "not measured" if measured is None else ("met" if ok else "**missed**")


def targets(table):
    """The paper's targets, read off this split's rows: met or missed, and by how much."""
    rows = {r["model"]: r for r in table["rows"]}
    base, half, low = rows.get("base"), rows.get("alpha_target 0.5"), rows.get("alpha_target 0.05")
    if base is None or (half is None and low is None):
        return
    print("\nAgainst the paper's targets:\n")
    red = value(half, "raw_reduction")
    print(f"- alpha_target 0.5, Raw Gap reduced >= 80 %: {num(red, '{:.1f}')} % ({verdict(red, red is not None and red >= 80)})")
    ari_b, ari_h = value(base, "ari"), value(half, "ari")
    d = None if ari_b is None or ari_h is None else ari_h - ari_b
    print(f"- alpha_target 0.5, ARI up >= 0.15: {num(d, '{:+.3f}')} ({verdict(d, d is not None and d >= 0.15)})")
    c_b, c_h = value(base, "cider_image_to_text"), value(half, "cider_image_to_text")
    up = None if c_b in (None, 0) or c_h is None else 100 * (c_h - c_b) / c_b
    print(f"- alpha_target 0.5, CIDEr-D up >= 50 %: {num(up, '{:+.1f}')} % ({verdict(up, up is not None and up >= 50)})")
    a_b, a_l = value(base, "zero_shot_top1"), value(low, "zero_shot_top1")
    change = None if a_b in (None, 0) or a_l is None else 100 * (a_l - a_b) / a_b
    print(f"- alpha_target 0.05, zero-shot accuracy down <= 5 % (relative): {num(change, '{:+.1f}')} % ({verdict(change, change is not None and change >= -5)})")
    for metric in dict.fromkeys(f["metric"] for f in table["fits"]):
        fit = {f["gap"]: f["r_squared"] for f in table["fits"] if f["metric"] == metric}
        raw, dist = value(fit, "raw"), value(fit, "distribution")
        ok = raw is not None and dist is not None and dist > raw
        print(f"- R^2 on {metric}: distribution {num(dist)} vs raw {num(raw)} ({verdict(dist, ok)})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "sweep")
