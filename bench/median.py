#!/usr/bin/env python3
"""Median of several bench runs: median.py RUN1.fig RUN2.fig … (files from BENCH_FIGURES_FILE).

Prints a Markdown table: figure, backend, median, unit, every run's value, target and
PASS/MISS of the median (ratios are recomputed from the medians of their two sides)."""
import re
import statistics
import sys

TARGETS = {  # name: (op, target, what is compared)
    "auth_me_rps": (">=", 0.50, "ratio"), "auth_me_p99": ("<=", 10, "value"),
    "auth_me_p99_login_flood": ("<=", 3.0, "ratio"), "ingest_json_rate": (">=", 50000, "value"),
    "ingest_junit_rate": (">=", 50000, "value"), "flaky_candidates_p50": ("<=", 200, "value"),
    "prisma_parse_diff_10pct": ("<=", 20, "value"), "prisma_parse_diff_all": ("<=", 20, "value"),
}
RATIO_OF = {"auth_me_rps": "health_rps", "auth_me_p99_login_flood": "auth_me_p99",
            "auth_me_rps_login_flood": "auth_me_rps", "profile_rps": "health_rps",
            "search_rps": "health_rps"}

runs = []
order = []
for path in sys.argv[1:]:
    figs = {}
    for line in open(path):
        name, backend, value, unit = line.split()[:4]
        figs[(name, backend)] = (float(value), unit)
        if (name, backend) not in order:
            order.append((name, backend))
    runs.append(figs)

med = {k: statistics.median(r[k][0] for r in runs if k in r) for k in order}
print("| figure | backend | median | unit | runs | vs. | target |")
print("|---|---|---:|---|---|---|---|")
for name, backend in order:
    k = (name, backend)
    unit = next(r[k][1] for r in runs if k in r)
    vals = ", ".join(f"{r[k][0]:g}" for r in runs if k in r)
    vs = ""
    ratio = None
    if name in RATIO_OF:
        base = med[(RATIO_OF[name], backend)]
        ratio = med[k] / base
        vs = f"{RATIO_OF[name]} {base:g} → ratio {ratio:.2f}"
    target = ""
    if name in TARGETS:
        op, t, what = TARGETS[name]
        v = ratio if what == "ratio" else med[k]
        ok = v >= t if op == ">=" else v <= t
        target = f"{what} {op} {t:g}: **{'PASS' if ok else 'MISS'}**"
    print(f"| {name} | {backend} | {med[k]:g} | {unit} | {vals} | {vs} | {target} |")
