#!/usr/bin/env python3
"""Writes test-result ingestion bodies for the benchmark (stdlib only).

Usage: gen_ingest.py OUT_DIR BATCHES RESULTS_PER_BATCH
Writes json-<n>.json (JSON ingest bodies) and junit-<n>.xml (JUnit reports). Every batch holds
the same test identities (as a CI suite re-run would), 1 % failing, deterministic.
"""
import json
import os
import random
import sys

out, batches, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
for b in range(batches):
    tests = [{"suite": f"ingest.Suite{i // 100}", "testName": f"case_{i}",
              "status": "failed" if rng.random() < 0.01 else "passed",
              "durationMs": rng.randrange(500)} for i in range(per)]
    with open(os.path.join(out, f"json-{b}.json"), "w") as f:
        json.dump({"runId": f"bench-json-{b}", "commitSha": f"j{b}", "branch": "main",
                   "tests": tests}, f)
    parts = ['<?xml version="1.0"?>\n<testsuites>\n']
    for s in range(per // 100):
        parts.append(f'<testsuite name="junit.Suite{s}">\n')
        for c in range(100):
            t = rng.random()
            parts.append(f'<testcase classname="junit.Suite{s}" name="case_{c}" time="{t:.3f}">')
            if t < 0.01:
                parts.append('<failure message="boom">trace</failure>')
            parts.append("</testcase>\n")
        parts.append("</testsuite>\n")
    parts.append("</testsuites>\n")
    with open(os.path.join(out, f"junit-{b}.xml"), "w") as f:
        f.write("".join(parts))
