#!/usr/bin/env python3
"""Medians of repeated bench runs, as a Markdown table.

  median.py RUN1.fig RUN2.fig …                         one group
  median.py --label A a1.fig a2.fig --label B b1.fig    one column per group (e.g. per commit)

Figure files come from BENCH_FIGURES_FILE. Each cell is the median of the group's runs with
every run's value in parentheses; ratios are recomputed from the medians of both sides, and
the verdict column judges the last group."""
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

groups, label = [], None
for arg in sys.argv[1:]:
    if label == "":
        groups.append((arg, []))
        label = arg
    elif arg == "--label":
        label = ""
    else:
        if not groups:
            groups.append(("median", []))
        groups[-1][1].append(arg)

order, units, cols = [], {}, []
for name, paths in groups:
    runs = []
    for path in paths:
        figs = {}
        for line in open(path):
            fig, backend, value, unit = line.split()[:4]
            figs[(fig, backend)] = float(value)
            units[(fig, backend)] = unit
            if (fig, backend) not in order:
                order.append((fig, backend))
        runs.append(figs)
    cols.append((name, runs))


def cell(runs, k):
    vals = [r[k] for r in runs if k in r]
    if not vals:
        return None, "–"
    med = statistics.median(vals)
    text = f"{med:g}" + (f" ({', '.join(f'{v:g}' for v in vals)})" if len(vals) > 1 else "")
    if k[0] in RATIO_OF:
        base = [r[(RATIO_OF[k[0]], k[1])] for r in runs if (RATIO_OF[k[0]], k[1]) in r]
        if base:
            text += f" → **{med / statistics.median(base):.2f}** × {RATIO_OF[k[0]]}"
    return med, text


print("| figure | backend | unit | " + " | ".join(n for n, _ in cols) + " | target | verdict |")
print("|---|---|---|" + "---|" * len(cols) + "---|---|")
for k in order:
    texts, last = [], None
    for _, runs in cols:
        med, text = cell(runs, k)
        texts.append(text)
        last = (med, runs)
    target = verdict = ""
    if k[0] in TARGETS and last[0] is not None:
        op, t, what = TARGETS[k[0]]
        v = last[0]
        if what == "ratio":
            base = [r[(RATIO_OF[k[0]], k[1])] for r in last[1] if (RATIO_OF[k[0]], k[1]) in r]
            v = last[0] / statistics.median(base)
        target = f"{what} {op} {t:g}"
        verdict = "PASS" if (v >= t if op == ">=" else v <= t) else "**MISS**"
    print(f"| {k[0]} | {k[1]} | {units[k]} | " + " | ".join(texts) + f" | {target} | {verdict} |")
