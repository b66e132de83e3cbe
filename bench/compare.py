#!/usr/bin/env python3
"""Compare sparkbench with lm-eval: the timing table and per-document agreement (stdlib only).

    compare.py table MEASUREMENTS.tsv     the table bench/vs-lm-eval.sh prints
                                          (with several rounds of a task: medians, see table())
    compare.py samples LM_EVAL.jsonl SPARKBENCH.jsonl   one task's per-document comparison

A document's decision is, for multiple choice, the argmax of the per-choice loglikelihoods in
`filtered_resps` (ties go to the first choice, like numpy) together with every per-document metric
both files carry (acc, acc_norm, ...); for generation, the filtered response of each filter together
with its metrics (exact_match). Samples are matched by (doc_id, filter).
"""

import json
import math
import statistics
import sys
from pathlib import Path

# The bar: sparkbench's end-to-end documents/s over lm-eval's.
BAR = {"gsm8k": 2.0}
DEFAULT_BAR = 3.0
SHOWN_DISAGREEMENTS = 8
# The order of bench/vs-lm-eval.sh's tasks, which the table keeps.
TASK_ORDER = ("hellaswag", "arc_easy", "mmlu_abstract_algebra", "mmlu_anatomy", "gsm8k")


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


# The columns measurements.tsv must have; `round` (1, 2, ... with --repeat) came later, and a file
# without it is a file of one round.
COLUMNS = ("task", "tool", "limit", "wall_s", "max_rss_kb", "exit", "dir")
TOOLS = ("lm-eval", "sparkbench")


def _field(path, n, row, name, kind, want):
    """Cell `name` of line n as kind (int or float), which must be finite and, where want says
    "positive", above zero; else a CompareError naming the file, line, field and value."""
    text = row[name]
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or ("positive" in want and value <= 0):
        raise CompareError(f"{path} line {n}: {name} is '{text}', not {want}")
    return value


def read_measurements(path):
    """The rows of measurements.tsv as dicts of its cells, plus `line` (the line number), `round`
    (an int; 1 where the file has no round column) and, for a run that exited 0, `wall` (seconds,
    float) and `rss_kb` (int)."""
    rows = []
    first_line = {}
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise CompareError(f"{path} line 1: the header has no {', '.join(missing)} column "
                                   f"(expected: {' '.join(COLUMNS)} round)")
            for n, line in enumerate(f, 2):
                if not line.strip():
                    continue
                cells = line.rstrip("\n").split("\t")
                if len(cells) != len(header):
                    raise CompareError(f"{path} line {n}: {len(cells)} tab-separated cells, the header has "
                                       f"{len(header)} ({' '.join(header)})")
                row = dict(zip(header, cells))
                row["line"] = n
                if row["tool"] not in TOOLS:
                    raise CompareError(f"{path} line {n}: tool is '{row['tool']}', not one of {', '.join(TOOLS)}")
                row["round"] = _field(path, n, row, "round", int, "a positive whole number") if "round" in header else 1
                _field(path, n, row, "exit", int, "a whole number (an exit status)")
                if row["exit"] == "0":
                    row["wall"] = _field(path, n, row, "wall_s", float, "a positive number of seconds")
                    row["rss_kb"] = _field(path, n, row, "max_rss_kb", int, "a whole number of KiB")
                key = (row["task"], row["tool"], row["round"])
                if key in first_line:
                    raise CompareError(f"{path} line {n}: {row['task']} {row['tool']} round {row['round']} "
                                       f"again (first on line {first_line[key]})")
                first_line[key] = n
                rows.append(row)
    except OSError as e:
        raise CompareError(f"cannot read {path}: {e}") from e
    return rows


def agreement_text(result):
    text = f"{result['agree']}/{result['common']}"
    extra = []
    if result["only_lm"] or result["only_sb"]:
        extra.append(f"unmatched {result['only_lm']}+{result['only_sb']}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def rounds_text(rounds):
    """'round 2' or 'rounds 1, 3'."""
    return f"round{'s' if len(rounds) > 1 else ''} {', '.join(map(str, rounds))}"


def disagreements_text(result):
    """The first SHOWN_DISAGREEMENTS disagreements of a compare_samples result, and how many more."""
    shown = ", ".join(f"doc {d} [{f}]: {w}" for d, f, w in result["disagreements"][:SHOWN_DISAGREEMENTS])
    more = len(result["disagreements"]) - SHOWN_DISAGREEMENTS
    return shown + (f" (+{more} more)" if more > 0 else "")


def raw_differs_text(result):
    """The documents whose raw generated text differs, as a note's ending."""
    return f"raw generated text differs at doc {', '.join(map(str, result['raw_differs']))}"


def self_consistency(task, scored, label):
    """Notes where a tool's later rounds do not reproduce its first scored round: another decision
    on some document, unmatched samples, or other loglikelihoods. Both tools run the same model on
    the same data with the same threads each round, so any difference is worth a look (for
    sparkbench it would break the promise that a resumed run ends where an uninterrupted one would)."""
    notes = []
    for tool in TOOLS:
        rounds = sorted(scored[tool])
        for rnd in rounds[1:]:
            first = rounds[0]
            result = compare_samples(scored[tool][first][2], scored[tool][rnd][2])
            where = f"{task}{label(rnd)}: {tool} differs from its own round {first}"
            if result["disagreements"]:
                notes.append(f"{where} at {disagreements_text(result)}")
            if result["only_lm"] or result["only_sb"]:
                notes.append(f"{where}: {result['only_lm'] + result['only_sb']} samples (doc_id, filter) "
                             f"in one round only")
            if result["max_ll_diff"]:
                notes.append(f"{where}: loglikelihoods differ by up to {result['max_ll_diff']:.3g}")
            if result["raw_differs"]:
                notes.append(f"{where}: {raw_differs_text(result)}")
    return notes


def task_row(task, task_rows, notes):
    """One task's cells, by column key, and its notes appended to notes. With several rounds: the
    median wall time of each tool (documents/s from it), the median of the per-round speed-ups and
    their range, the largest peak RSS, and the decisions of every round compared."""
    rounds = sorted({r["round"] for r in task_rows})
    several = len(rounds) > 1
    label = (lambda rnd: f" round {rnd}") if several else (lambda rnd: "")
    cells = {"task": task}
    runs = {tool: {r["round"]: r for r in task_rows if r["tool"] == tool} for tool in TOOLS}
    counts = [len(runs[tool]) for tool in TOOLS if runs[tool]]
    cells["rounds"] = str(counts[0]) if len(set(counts)) == 1 else "/".join(map(str, counts))
    scored = {tool: {} for tool in TOOLS}  # tool -> round -> (wall, docs, samples)
    complete = {}  # tool -> every round of it ran and wrote samples
    doc_counts = []
    for tool in TOOLS:
        by_round = runs[tool]
        if not by_round:
            cells[tool, "s"] = cells[tool, "rate"] = cells[tool, "mib"] = "-"
            continue
        failed = [(rnd, r) for rnd, r in sorted(by_round.items()) if r["exit"] != "0"]
        for rnd, r in failed:
            notes.append(f"{task}{label(rnd)}: {tool} exited {r['exit']}; see {r['dir']}/log.txt")
        walls, rss, docs_of_tool = [], [], []
        for rnd, r in sorted(by_round.items()):
            if r["exit"] != "0":
                continue
            walls.append(r["wall"])
            rss.append(r["rss_kb"])
            s = find_samples(Path(r["dir"]) / "out")
            if s is None:
                notes.append(f"{task}{label(rnd)}: {tool} wrote no samples_*.jsonl under {r['dir']}/out")
                continue
            loaded = load_samples(s)
            docs = len({k[0] for k in loaded})
            scored[tool][rnd] = (r["wall"], docs, loaded)
            docs_of_tool.append(docs)
            if docs not in doc_counts:
                doc_counts.append(docs)
        complete[tool] = len(scored[tool]) == len(by_round)
        if failed:
            if several:
                cells[tool, "s"] = "FAILED (" + ", ".join(f"round {rnd}: exit {r['exit']}" for rnd, r in failed) + ")"
            else:
                cells[tool, "s"] = f"FAILED ({failed[0][1]['exit']})"
            cells[tool, "rate"] = cells[tool, "mib"] = "-"
            continue
        wall = statistics.median(walls)
        cells[tool, "s"] = f"{wall:.1f}"
        cells[tool, "mib"] = f"{max(rss) // 1024}"
        if not complete[tool]:
            cells[tool, "rate"] = "-"
        elif len(set(docs_of_tool)) > 1:
            cells[tool, "rate"] = "-"
            notes.append(f"{task}: {tool} scored {'/'.join(map(str, docs_of_tool))} documents in "
                         f"{rounds_text(sorted(scored[tool]))}; no documents/s")
        else:
            cells[tool, "rate"] = f"{docs_of_tool[0] / wall:.2f}"
    cells["docs"] = "/".join(map(str, doc_counts)) if doc_counts else "-"

    # The speed-up: per round, sparkbench documents/s over lm-eval's (lm-eval wall over sparkbench
    # wall when both scored the same documents); the median of those decides the bar.
    paired = sorted(set(scored["lm-eval"]) & set(scored["sparkbench"]))
    if runs["lm-eval"] and runs["sparkbench"] and all(complete.get(tool) for tool in TOOLS) and paired:
        ran = {tool: sorted(runs[tool]) for tool in TOOLS}
        for tool, other in (TOOLS, TOOLS[::-1]):
            alone = [rnd for rnd in ran[tool] if rnd not in runs[other]]
            if alone:
                notes.append(f"{task}: {tool} ran {rounds_text(alone)} with no {other} run in the same round; "
                             f"the speed-up is over {rounds_text(paired)}")
        ratios = []
        for rnd in paired:
            lm_wall, lm_docs, _ = scored["lm-eval"][rnd]
            sb_wall, sb_docs, _ = scored["sparkbench"][rnd]
            ratios.append((sb_docs * lm_wall) / (lm_docs * sb_wall))
        ratio = statistics.median(ratios)
        bar = BAR.get(task, DEFAULT_BAR)
        cells["speed-up"] = f"{ratio:.2f}x"
        cells["range"] = f"{min(ratios):.2f}-{max(ratios):.2f}x" if len(ratios) > 1 else "-"
        cells["bar"] = f">={bar:g}x {'met' if ratio >= bar else 'not met'}"

    # The decisions: each round's sparkbench samples against the same round's lm-eval samples.
    results = []
    for rnd in paired:
        result = compare_samples(scored["lm-eval"][rnd][2], scored["sparkbench"][rnd][2])
        results.append((rnd, result))
        if result["disagreements"]:
            notes.append(f"{task}{label(rnd)}: differs at {disagreements_text(result)}")
        if result["only_lm"] or result["only_sb"]:
            notes.append(f"{task}{label(rnd)}: unmatched samples (doc_id, filter): {result['only_lm']} only in "
                         f"lm-eval's file, {result['only_sb']} only in sparkbench's")
        if result["raw_differs"]:
            notes.append(f"{task}{label(rnd)}: {raw_differs_text(result)}")
    notes.extend(self_consistency(task, scored, label))
    if results:
        texts = [agreement_text(result) for _, result in results]
        if len(set(texts)) == 1:
            cells["same decisions"] = texts[0]
        else:
            cells["same decisions"] = "; ".join(f"round {rnd}: {t}" for (rnd, _), t in zip(results, texts))
        if several and len(results) < len(rounds):
            cells["same decisions"] += f" ({rounds_text([rnd for rnd, _ in results])} of {len(rounds)})"
        largest = max(result["max_ll_diff"] for _, result in results)
        if largest:
            notes.append(f"{task}: largest |loglikelihood difference| {largest:.3g}")
    return cells, several


def table(path):
    rows = read_measurements(path)
    # The script's order, whatever order --tasks runs left the lines in; other tasks after, as found.
    found_tasks = []
    for r in rows:
        if r["task"] not in found_tasks:
            found_tasks.append(r["task"])
    tasks = [t for t in TASK_ORDER if t in found_tasks] + [t for t in found_tasks if t not in TASK_ORDER]
    notes = []
    found = [task_row(task, [r for r in rows if r["task"] == task], notes) for task in tasks]
    multi = any(several for _, several in found)
    columns = [("task", "task"), ("docs", "docs")]
    columns += [("rounds", "rounds")] if multi else []
    columns += [(("lm-eval", "s"), "lm-eval s"), (("lm-eval", "rate"), "docs/s"),
                (("sparkbench", "s"), "sparkbench s"), (("sparkbench", "rate"), "docs/s"),
                ("speed-up", "speed-up")]
    columns += [("range", "range")] if multi else []
    columns += [("bar", "bar"), (("lm-eval", "mib"), "lm-eval MiB"), (("sparkbench", "mib"), "sparkbench MiB"),
                ("same decisions", "same decisions")]
    header = [title for _, title in columns]
    lines = [[cells.get(key, "-") for key, _ in columns] for cells, _ in found]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    print(fmt(header))
    print(fmt(["-" * w for w in widths]))
    for line in lines:
        print(fmt(line))
    print("\nspeed-up = sparkbench documents/s / lm-eval documents/s, end to end (process start to exit).")
    print("MiB = peak RSS of the largest single process (GNU time %M).")
    if multi:
        print("With several rounds: s = the median wall time of the rounds, docs/s from it; speed-up = the median")
        print("of the per-round speed-ups (lm-eval wall / sparkbench wall of the same round), which decides the bar;")
        print("range = the smallest and largest per-round speed-up; MiB = the largest of any round.")
        print("Each tool's later rounds are compared with its first; a note says where one differs.")
    for n in notes:
        print("note: " + n)


def samples(lm_path, sb_path):
    result = compare_samples(load_samples(lm_path), load_samples(sb_path))
    print(f"same decisions: {agreement_text(result)}; largest |loglikelihood difference|: {result['max_ll_diff']:.3g}")
    for d, f, w in result["disagreements"]:
        print(f"  doc {d} [{f}]: {w}")
    if result["raw_differs"]:
        print(f"  {raw_differs_text(result)}")
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
