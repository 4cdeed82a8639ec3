#!/usr/bin/env python3
"""Regenerates the tables of docs/RESULTS.md from the committed results files (docs/results/*.json).

Every block between a line `<!-- generated: FILE NAME [SPLIT] -->` and the next `<!-- end generated -->` is
replaced by `scripts/sweep_table.py docs/results/FILE NAME` (only SPLIT's tables when one is named; `SPLIT:summary`
keeps only its two tables of values and changes, for a comparison of methods where a fit over them means nothing), so the tables
always say what the files say. FILE may name several results files joined by `+`: sweeps run from the same base
on the same data (say, an alpha grid completed by a second sweep) are read as one, each seed's `base` and
`base_centered` rows once (they must agree). Each file may carry selectors, to compare methods run as separate
sweeps: `FILE@0.5` keeps only its `align` rows at alpha_target 0.5, and `FILE=NAME` reports its `align` rows as
the method NAME (for a sweep run without `methods`, say one with `"cma": "pairwise+geometry"` in its spec). Prose outside the blocks is left alone. `--check` exits 1 when the document is not current (nothing is written).

Usage: render_results.py [--check]
"""
import os
import re
import json
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "RESULTS.md")
BLOCK = re.compile(r"(<!-- generated: (\S+) (\S+)(?: (\S+))? -->\n)(.*?)(<!-- end generated -->)", re.S)


SELECTED = re.compile(r"^([^@=]+)(?:@([0-9.]+))?(?:=([a-z0-9][a-z0-9_+.-]*))?$")


def load(entry):
    """A results file with its selectors applied (see the module's doc)."""
    match = SELECTED.match(entry)
    if match is None:
        sys.exit(f"render_results: '{entry}' is not FILE[@ALPHA][=METHOD]")
    file, alpha, method = match.groups()
    doc = read(file)
    for body in doc["splits"].values():
        rows = body["rows"]
        if alpha is not None:
            rows = [r for r in rows if r["model"] != "align" or r.get("alpha_target") == float(alpha)]
        if method is not None:
            rows = [dict(r, method=method) if r["model"] == "align" else r for r in rows]
        body["rows"] = rows
    if alpha is not None:
        doc["alpha_targets"] = [float(alpha)]
    return doc


def read(file):
    path = os.path.join(ROOT, "docs", "results", file)
    if not os.path.exists(path):
        sys.exit(f"render_results: {path} does not exist (named in docs/RESULTS.md)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def merged(files):
    """One results document from several sweeps of the same base and data."""
    docs = [load(f) for f in files]
    if len({d["dataset"] for d in docs}) != 1:
        sys.exit(f"render_results: {'+'.join(files)} are sweeps of different data sets")
    out = {"dataset": docs[0]["dataset"], "seeds": sorted({s for d in docs for s in d["seeds"]}),
           "alpha_targets": sorted({a for d in docs for a in d["alpha_targets"]}), "splits": {}}
    for d in docs:
        for split, body in d["splits"].items():
            rows = out["splits"].setdefault(split, {"rows": []})["rows"]
            for row in body["rows"]:
                if row["model"] != "align":
                    twin = next((r for r in rows if r["model"] == row["model"] and r["seed"] == row["seed"]), None)
                    if twin is not None:
                        if twin["metrics"] != row["metrics"]:
                            sys.exit(f"render_results: the {row['model']} rows of seed {row['seed']} differ between {'+'.join(files)}: not the same base")
                        continue
                rows.append(row)
    return out


def table(file, name, split=None):
    files = file.split("+")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as tmp:
        json.dump(merged(files) if len(files) > 1 else load(files[0]), tmp)
    try:
        out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep_table.py"), tmp.name, name],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(tmp.name)
    # The file's own title is replaced by the section heading around the block; split headings go one level down.
    lines = [l for l in out.splitlines() if not l.startswith("## ")]
    summary = split is not None and split.endswith(":summary")
    if summary:
        split = split[: -len(":summary")]
    if split:
        sections, current = {}, None
        for line in lines:
            if line.startswith("### split "):
                current = line.split("`")[1]
            sections.setdefault(current, []).append(line)
        if split not in sections:
            sys.exit(f"render_results: {file} has no split '{split}'")
        lines = sections[split]
    if summary:
        cut = next((i for i, l in enumerate(lines) if l.startswith("R^2 of each")), len(lines))
        lines = lines[:cut]
    return "\n".join("#" + l if l.startswith("### ") else l for l in lines).strip() + "\n"


def render(text):
    return BLOCK.sub(lambda m: m.group(1) + table(m.group(2), m.group(3), m.group(4)) + m.group(6), text)


if __name__ == "__main__":
    with open(DOC, encoding="utf-8") as f:
        current = f.read()
    fresh = render(current)
    if "--check" in sys.argv[1:]:
        if fresh != current:
            sys.exit("docs/RESULTS.md is not current: run python3 scripts/render_results.py")
        sys.exit(0)
    with open(DOC, "w", encoding="utf-8") as f:
        f.write(fresh)
