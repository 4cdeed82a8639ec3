#!/usr/bin/env python3
"""Sums the test results files (.trx) of a folder: prints each skipped test with its reason to stderr,
then one line "PASSED FAILED SKIPPED" to stdout for scripts/test.sh."""
import glob
import os
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}


def summarise(folder):
    passed = failed = skipped = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.trx"))):
        root = ET.parse(path).getroot()
        counters = root.find("t:ResultSummary/t:Counters", NS)
        if counters is not None:
            passed += int(counters.get("passed", 0))
            failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0))
        for result in root.iter("{%s}UnitTestResult" % NS["t"]):
            if result.get("outcome") != "NotExecuted":
                continue
            skipped += 1
            texts = [e.text.strip() for e in result.iter() if e.text and e.text.strip()]
            reason = texts[0] if texts else "no reason given"
            print(f"skipped: {result.get('testName')}: {reason}", file=sys.stderr)
    return passed, failed, skipped


if __name__ == "__main__":
    p, f, s = summarise(sys.argv[1])
    print(p, f, s)
