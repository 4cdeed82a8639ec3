#!/usr/bin/env python3
"""Regenerates the tables of docs/RESULTS.md from the committed results files (docs/results/*.json).

Every block between a line `<!-- generated: FILE NAME [SPLIT] -->` and the next `<!-- end generated -->` is
replaced by `scripts/sweep_table.py docs/results/FILE NAME` (only SPLIT's tables when one is named), so the tables
always say what the files say. Prose outside the
blocks is left alone. `--check` exits 1 when the document is not current (nothing is written).

Usage: render_results.py [--check]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "RESULTS.md")
BLOCK = re.compile(r"(<!-- generated: (\S+) (\S+)(?: (\S+))? -->\n)(.*?)(<!-- end generated -->)", re.S)


def table(file, name, split=None):
    path = os.path.join(ROOT, "docs", "results", file)
    if not os.path.exists(path):
        sys.exit(f"render_results: {path} does not exist (named in docs/RESULTS.md)")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "sweep_table.py"), path, name],
                         check=True, capture_output=True, text=True).stdout
    # The file's own title is replaced by the section heading around the block; split headings go one level down.
    lines = [l for l in out.splitlines() if not l.startswith("## ")]
    if split:
        sections, current = {}, None
        for line in lines:
            if line.startswith("### split "):
                current = line.split("`")[1]
            sections.setdefault(current, []).append(line)
        if split not in sections:
            sys.exit(f"render_results: {file} has no split '{split}'")
        lines = sections[split]
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
