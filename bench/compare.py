#!/usr/bin/env python3
"""Compare sparkbench with lm-eval: the timing table and per-document agreement (stdlib only).

    compare.py table MEASUREMENTS.tsv     the table bench/vs-lm-eval.sh prints
    compare.py samples LM_EVAL.jsonl SPARKBENCH.jsonl   one task's per-document comparison

A document's decision is, for multiple choice, the argmax of the per-choice loglikelihoods in
`filtered_resps` (ties go to the first choice, like numpy) together with every per-document metric
both files carry (acc, acc_norm, ...); for generation, the filtered response of each filter together
with its metrics (exact_match). Samples are matched by (doc_id, filter).
"""

import json
import math
import sys
from pathlib import Path

# The bar: sparkbench's end-to-end documents/s over lm-eval's.
BAR = {"gsm8k": 2.0}
DEFAULT_BAR = 3.0
SHOWN_DISAGREEMENTS = 8


class CompareError(Exception):
    """A file that is missing or not what it should be; the message says which and why."""


def load_samples(path):
    """(doc_id, filter) -> sample dict, from an lm-eval-format samples JSONL file."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CompareError(f"{path} line {n}: not JSON ({e})") from e
                if not isinstance(row, dict) or "doc_id" not in row:
                    raise CompareError(f"{path} line {n}: no doc_id (is this a samples_<task>_<ts>.jsonl file?)")
                out[(row["doc_id"], row.get("filter", "none"))] = row
    except OSError as e:
        raise CompareError(f"cannot read {path}: {e}") from e
    return out


def _number(x):
    """A loglikelihood as lm-eval logs it: a str(float) (or a float)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def choice_loglikelihoods(sample):
    """The per-choice loglikelihoods of a multiple-choice sample, or None for generation."""
    resps = sample.get("filtered_resps")
    if not isinstance(resps, list) or not resps:
        return None
    lls = []
    for r in resps:
        # [ll, is_greedy] after the "none" filter; [[ll, is_greedy]] in resps.
        while isinstance(r, list) and r and isinstance(r[0], list):
            r = r[0]
        if not isinstance(r, list) or len(r) != 2:
            return None
        ll = _number(r[0])
        if ll is None:
            return None
        lls.append(ll)
    return lls


def argmax(values):
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def metric_values(sample):
    """The per-document metric values, by metric name."""
    names = sample.get("metrics") or []
    return {m: sample[m] for m in names if m in sample}


def compare_samples(lm, sb):
    """A dict: common and agree (documents; one agrees when every filter of it does), disagreements
    [(doc_id, filter, why)], only_lm and only_sb (unmatched samples), max_ll_diff, and raw_differs:
    generation documents whose unfiltered text differs although the decision may agree."""
    common = sorted(set(lm) & set(sb), key=lambda k: (str(k[1]), k[0]))
    disagreements = []
    raw_differs = set()
    max_diff = 0.0
    for key in common:
        a, b = lm[key], sb[key]
        why = []
        la, lb = choice_loglikelihoods(a), choice_loglikelihoods(b)
        if la is not None or lb is not None:
            if la is None or lb is None or len(la) != len(lb):
                why.append("different number of choices")
            else:
                if argmax(la) != argmax(lb):
                    why.append(f"argmax {argmax(la)} vs {argmax(lb)}")
                for x, y in zip(la, lb):
                    if math.isfinite(x) and math.isfinite(y):
                        max_diff = max(max_diff, abs(x - y))
        else:
            if a.get("filtered_resps") != b.get("filtered_resps"):
                why.append("filtered response differs")
            if a.get("resps") != b.get("resps"):
                raw_differs.add(key[0])
        ma, mb = metric_values(a), metric_values(b)
        for m in sorted(set(ma) & set(mb)):
            if ma[m] != mb[m]:
                why.append(f"{m} {ma[m]} vs {mb[m]}")
        if why:
            disagreements.append((key[0], key[1], "; ".join(why)))
    docs = {k[0] for k in common}
    return {
        "common": len(docs),
        "agree": len(docs - {d[0] for d in disagreements}),
        "disagreements": disagreements,
        "only_lm": len(set(lm) - set(sb)),
        "only_sb": len(set(sb) - set(lm)),
        "max_ll_diff": max_diff,
        "raw_differs": sorted(raw_differs),
    }


def find_samples(run_dir):
    """The one samples_*.jsonl file under a tool's output folder, or None."""
    found = sorted(Path(run_dir).rglob("samples_*.jsonl"))
    if len(found) > 1:
        raise CompareError(f"more than one samples file under {run_dir}: {', '.join(map(str, found))}")
    return found[0] if found else None


def read_measurements(path):
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            for n, line in enumerate(f, 2):
                cells = line.rstrip("\n").split("\t")
                if len(cells) != len(header):
                    raise CompareError(f"{path} line {n}: {len(cells)} cells, the header has {len(header)}")
                rows.append(dict(zip(header, cells)))
    except OSError as e:
        raise CompareError(f"cannot read {path}: {e}") from e
    return rows


def agreement_text(result):
    text = f"{result['agree']}/{result['common']}"
    extra = []
    if result["only_lm"] or result["only_sb"]:
        extra.append(f"unmatched {result['only_lm']}+{result['only_sb']}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def table(path):
    rows = read_measurements(path)
    tasks = []
    for r in rows:
        if r["task"] not in tasks:
            tasks.append(r["task"])
    header = ["task", "docs", "lm-eval s", "docs/s", "sparkbench s", "docs/s", "speed-up", "bar",
              "lm-eval MiB", "sparkbench MiB", "same decisions"]
    lines = []
    notes = []
    for task in tasks:
        by_tool = {r["tool"]: r for r in rows if r["task"] == task}
        cells = {"task": task}
        samples = {}
        rate = {}
        for tool, col_s, col_rate, col_mib in (("lm-eval", 2, 3, 8), ("sparkbench", 4, 5, 9)):
            r = by_tool.get(tool)
            if r is None:
                cells[col_s] = cells[col_rate] = cells[col_mib] = "-"
                continue
            if r["exit"] != "0":
                cells[col_s] = f"FAILED ({r['exit']})"
                cells[col_rate] = "-"
                cells[col_mib] = "-"
                notes.append(f"{task}: {tool} exited {r['exit']}; see {r['dir']}/log.txt")
                continue
            s = find_samples(Path(r["dir"]) / "out")
            if s is None:
                cells[col_s] = f"{float(r['wall_s']):.1f}"
                cells[col_rate] = "-"
                cells[col_mib] = f"{int(r['max_rss_kb']) // 1024}"
                notes.append(f"{task}: {tool} wrote no samples_*.jsonl under {r['dir']}/out")
                continue
            samples[tool] = load_samples(s)
            docs = len({k[0] for k in samples[tool]})
            cells.setdefault("docs", str(docs))
            if cells["docs"] != str(docs):
                cells["docs"] = f"{cells['docs']}/{docs}"
            wall = float(r["wall_s"])
            rate[tool] = docs / wall if wall > 0 else float("inf")
            cells[col_s] = f"{wall:.1f}"
            cells[col_rate] = f"{rate[tool]:.2f}"
            cells[col_mib] = f"{int(r['max_rss_kb']) // 1024}"
        cells.setdefault("docs", "-")
        if "lm-eval" in rate and "sparkbench" in rate:
            ratio = rate["sparkbench"] / rate["lm-eval"]
            bar = BAR.get(task, DEFAULT_BAR)
            cells[6] = f"{ratio:.2f}x"
            cells[7] = f">={bar:g}x {'met' if ratio >= bar else 'not met'}"
        else:
            cells[6] = cells[7] = "-"
        if "lm-eval" in samples and "sparkbench" in samples:
            result = compare_samples(samples["lm-eval"], samples["sparkbench"])
            cells[10] = agreement_text(result)
            if result["disagreements"] or result["only_lm"] or result["only_sb"]:
                shown = ", ".join(f"doc {d} [{f}]: {w}" for d, f, w in result["disagreements"][:SHOWN_DISAGREEMENTS])
                more = len(result["disagreements"]) - SHOWN_DISAGREEMENTS
                notes.append(f"{task}: differs at {shown}{f' (+{more} more)' if more > 0 else ''}")
            if result["raw_differs"]:
                notes.append(f"{task}: raw generated text differs at doc {', '.join(map(str, result['raw_differs']))}")
            if result["max_ll_diff"]:
                notes.append(f"{task}: largest |loglikelihood difference| {result['max_ll_diff']:.3g}")
        else:
            cells[10] = "-"
        lines.append([cells.get("task"), cells.get("docs")] + [cells.get(i, "-") for i in range(2, 11)])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    print(fmt(header))
    print(fmt(["-" * w for w in widths]))
    for line in lines:
        print(fmt(line))
    print("\nspeed-up = sparkbench documents/s / lm-eval documents/s, end to end (process start to exit).")
    print("MiB = peak RSS of the largest single process (GNU time %M).")
    for n in notes:
        print("note: " + n)


def samples(lm_path, sb_path):
    result = compare_samples(load_samples(lm_path), load_samples(sb_path))
    print(f"same decisions: {agreement_text(result)}; largest |loglikelihood difference|: {result['max_ll_diff']:.3g}")
    for d, f, w in result["disagreements"]:
        print(f"  doc {d} [{f}]: {w}")
    if result["raw_differs"]:
        print(f"  raw generated text differs at doc {', '.join(map(str, result['raw_differs']))}")
    return 0 if not result["disagreements"] and not result["only_lm"] and not result["only_sb"] else 1


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "table":
            table(argv[1])
            return 0
        if len(argv) == 3 and argv[0] == "samples":
            return samples(argv[1], argv[2])
    except CompareError as e:
        print(f"compare.py: error: {e}", file=sys.stderr)
        return 2
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
