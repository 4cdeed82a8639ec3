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
        print()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "sweep")
