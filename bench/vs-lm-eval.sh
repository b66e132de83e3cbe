#!/usr/bin/env bash
# sparkbench vs lm-evaluation-harness, side by side on this machine, on the same model and the same
# local data: wall time, documents/s, peak RSS and per-document agreement for each task.
#
#   bash bench/vs-lm-eval.sh [--data DIR] [--model DIR] [--only lm-eval|sparkbench] [--tasks a,b]
#                            [--repeat N]   (N rounds per task, default 1)
#                            [--no-build]   (use the existing target/release/sparkbench)
#
# What it does (every step is reused when already done, so running it twice is fine):
#   1. GNU time (/usr/bin/time) for peak RSS: installed with apt-get when missing (needs root).
#   2. A venv at target/lm-eval-venv with lm-eval 0.4.13, transformers and torch from PyPI, pinned
#      to the reference environment (bench/lm-eval-requirements.txt, bench/lm-eval-constraints.txt).
#   3. `cargo build --release -p sparkbench`, then the model: `sparkbench model init --shape
#      smollm2-135m --out target/bench-model --seed 0` (random weights, f32). --model DIR skips this.
#   4. lm-eval task YAMLs under target/bench-vs-lm-eval/tasks/ that `include:` lm-eval's own configs
#      and point them at the local JSONL files (dataset_path: json), so both tools read the same rows.
#   5. Both tools, one after the other, on hellaswag (100 docs), arc_easy (200), mmlu_abstract_algebra
#      and mmlu_anatomy (all), gsm8k (10, max_gen_toks=64): batch size 8, f32, CPU, 2 threads.
#      --repeat N runs N rounds of each task, both tools back to back in each, lm-eval first in odd
#      rounds and sparkbench first in even ones (runs/<task>/<tool> for round 1, <tool>-r2, ... after).
#   6. bench/compare.py prints the table and checks the per-document decisions (each round's); with
#      several rounds, median wall times and the median of the per-round speed-ups decide the bar.
#
# Data: --data DIR, else $SPARKBENCH_TEST_DATA, else ../shared/data next to the repository.
# Environment knobs: BENCH_THREADS (default 2), BENCH_OUT (default target/bench-vs-lm-eval).
set -euo pipefail

die() { printf 'vs-lm-eval: error: %s\n' "$*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

data="${SPARKBENCH_TEST_DATA:-$repo/../shared/data}"
model=""
only=""
tasks_arg=""
no_build=""
repeat=1
while [ $# -gt 0 ]; do
    case "$1" in
        --data) [ $# -ge 2 ] || die "--data needs a folder"; data="$2"; shift 2 ;;
        --model) [ $# -ge 2 ] || die "--model needs a Hugging Face model folder"; model="$2"; shift 2 ;;
        --only) [ $# -ge 2 ] || die "--only needs lm-eval or sparkbench"; only="$2"; shift 2 ;;
        --no-build) no_build=1; shift ;;
        --repeat) [ $# -ge 2 ] || die "--repeat needs a number of rounds"; repeat="$2"; shift 2 ;;
        --tasks) [ $# -ge 2 ] || die "--tasks needs a comma-separated list"; tasks_arg="$2"; shift 2 ;;
        -h|--help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case "$only" in ""|lm-eval|sparkbench) ;; *) die "--only takes lm-eval or sparkbench, not '$only'" ;; esac
case "$repeat" in
    ""|*[!0-9]*|0*) die "--repeat takes a positive whole number of rounds (1, 2, 3, ...), not '$repeat'" ;;
esac

threads="${BENCH_THREADS:-2}"
out="${BENCH_OUT:-$repo/target/bench-vs-lm-eval}"
venv="$repo/target/lm-eval-venv"
sparkbench="$repo/target/release/sparkbench"

# name | limit ("" = all documents) | extra lm-eval flags | extra sparkbench flags
all_tasks=(
    "hellaswag|100||"
    "arc_easy|200||"
    "mmlu_abstract_algebra|||"
    "mmlu_anatomy|||"
    "gsm8k|10|--gen_kwargs max_gen_toks=64|--gen-kwargs max_gen_toks=64"
)
tasks=()
if [ -n "$tasks_arg" ]; then
    IFS=',' read -r -a wanted <<<"$tasks_arg"
    for w in "${wanted[@]}"; do
        found=""
        for t in "${tasks[@]}"; do [ "${t%%|*}" = "$w" ] && found=1; done  # named twice: run once
        [ -n "$found" ] && continue
        for t in "${all_tasks[@]}"; do [ "${t%%|*}" = "$w" ] && tasks+=("$t") && found=1; done
        [ -n "$found" ] || die "unknown task '$w' (known: hellaswag, arc_easy, mmlu_abstract_algebra, mmlu_anatomy, gsm8k)"
    done
else
    tasks=("${all_tasks[@]}")
fi

# --- the data ---------------------------------------------------------------------------------
[ -d "$data" ] || die "no data folder at '$data' (pass --data DIR or set SPARKBENCH_TEST_DATA to the folder holding <dataset>/<split>.jsonl)"
data="$(cd "$data" && pwd)"
for f in hellaswag/train hellaswag/validation arc_easy/train arc_easy/validation arc_easy/test \
         mmlu/test mmlu/dev mmlu/validation gsm8k/train gsm8k/test; do
    [ -s "$data/$f.jsonl" ] || die "missing or empty $data/$f.jsonl (the data folder must hold <dataset>/<split>.jsonl)"
done

# --- 1. GNU time --------------------------------------------------------------------------------
gnu_time=/usr/bin/time
if ! [ -x "$gnu_time" ] || ! "$gnu_time" --version 2>&1 | grep -q 'GNU'; then
    say "installing GNU time (Debian package 'time') for peak RSS"
    [ "$(id -u)" = 0 ] || die "/usr/bin/time (GNU time) is missing and installing it needs root: run 'sudo apt-get install time', then rerun"
    command -v apt-get >/dev/null || die "/usr/bin/time (GNU time) is missing and there is no apt-get: install GNU time, then rerun"
    apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null || die "apt-get install time failed"
    "$gnu_time" --version 2>&1 | grep -q 'GNU' || die "/usr/bin/time is still not GNU time after installing"
fi

# --- 2. the lm-eval venv ------------------------------------------------------------------------
need_lm_eval=1; [ "$only" = sparkbench ] && need_lm_eval=""
need_spark=1; [ "$only" = lm-eval ] && need_spark=""
stamp_want="$(cat bench/lm-eval-requirements.txt bench/lm-eval-constraints.txt | sha256sum | cut -c1-16)"
venv_ok() {
    [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.bench-stamp" 2>/dev/null)" = "$stamp_want" ] &&
        "$venv/bin/python" -c 'import lm_eval, torch, transformers, datasets' 2>/dev/null
}
# The venv's python also runs compare.py (stdlib only), so it is made even for --only sparkbench.
if venv_ok; then
    say "reusing $venv"
else
    say "installing lm-eval 0.4.13, transformers, torch into $venv (about 3 GB of wheels, once)"
    py="$(command -v python3 || true)"
    [ -n "$py" ] || die "python3 not found: install Python 3.10+ (with venv), then rerun"
    "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
        die "$py is $("$py" --version 2>&1); lm-eval 0.4.13 needs Python 3.10+"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv" ||
        die "'$py -m venv $venv' failed (on Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --progress-bar off -q -r bench/lm-eval-requirements.txt -c bench/lm-eval-constraints.txt ||
        die "pip install into $venv failed (see the pip output above); rerun to retry"
    "$venv/bin/python" -c 'import lm_eval, torch, transformers, datasets' ||
        die "the venv installed but 'import lm_eval, torch, transformers, datasets' fails (see above)"
    printf '%s\n' "$stamp_want" >"$venv/.bench-stamp"
fi
vpy="$venv/bin/python"
"$vpy" - <<'EOF'
import importlib.metadata as m
print("  " + ", ".join(f"{p} {m.version(p)}" for p in ("lm_eval", "transformers", "torch", "datasets", "tokenizers")))
EOF

# --- 3. sparkbench and the model -----------------------------------------------------------------
if [ -n "$need_spark" ] || [ -z "$model" ]; then
    if [ -z "$no_build" ]; then
        say "cargo build --release -p sparkbench"
        cargo build --release -p sparkbench ||
            die "cargo build --release -p sparkbench failed (see above); for the lm-eval side alone: --only lm-eval --model DIR"
    fi
    [ -x "$sparkbench" ] || die "$sparkbench is missing (drop --no-build to build it)"
fi
if [ -z "$model" ]; then
    model="$repo/target/bench-model"
    if [ -s "$model/model.safetensors" ] && [ -s "$model/config.json" ] && [ -s "$model/tokenizer.json" ]; then
        say "reusing the model at $model"
    else
        say "sparkbench model init --shape smollm2-135m --out $model --seed 0"
        rm -rf "$model"
        "$sparkbench" model init --shape smollm2-135m --out "$model" --seed 0 ||
            die "'sparkbench model init --shape smollm2-135m' failed (see above); pass --model DIR to use another Hugging Face folder"
    fi
fi
[ -d "$model" ] || die "no model folder at '$model'"
model="$(cd "$model" && pwd)"
for f in config.json tokenizer.json tokenizer_config.json; do
    [ -s "$model/$f" ] || die "$model/$f is missing: --model needs a Hugging Face folder (config.json, *.safetensors, tokenizer.json, tokenizer_config.json)"
done
ls "$model"/*.safetensors >/dev/null 2>&1 || die "no *.safetensors in $model"

# --- 4. lm-eval task YAMLs over the local data ----------------------------------------------------
lm_tasks="$("$vpy" -c 'import lm_eval, os; print(os.path.join(os.path.dirname(lm_eval.__file__), "tasks"))')"
yaml_dir="$out/tasks"
subject_data="$out/data"
mkdir -p "$yaml_dir" "$subject_data"
rm -f "$yaml_dir"/*.yaml
for needed in hellaswag/hellaswag.yaml arc/arc_easy.yaml gsm8k/gsm8k.yaml \
              mmlu/default/mmlu_abstract_algebra.yaml mmlu/default/mmlu_anatomy.yaml; do
    [ -f "$lm_tasks/$needed" ] || die "lm-eval in $venv has no $lm_tasks/$needed (is it 0.4.13?)"
done
# local_yaml NAME INCLUDE SPLIT=FILE...
local_yaml() {
    local name="$1" include="$2"; shift 2
    {
        printf 'include: %s\ntask: %s_local\ntag: []\ndataset_path: json\ndataset_name: null\n' "$include" "$name"
        printf 'dataset_kwargs:\n  data_files:\n'
        for kv in "$@"; do printf '    %s: %s\n' "${kv%%=*}" "${kv#*=}"; done
    } >"$yaml_dir/$name.yaml"
}
local_yaml hellaswag "$lm_tasks/hellaswag/hellaswag.yaml" \
    "train=$data/hellaswag/train.jsonl" "validation=$data/hellaswag/validation.jsonl"
local_yaml arc_easy "$lm_tasks/arc/arc_easy.yaml" \
    "train=$data/arc_easy/train.jsonl" "validation=$data/arc_easy/validation.jsonl" "test=$data/arc_easy/test.jsonl"
local_yaml gsm8k "$lm_tasks/gsm8k/gsm8k.yaml" "train=$data/gsm8k/train.jsonl" "test=$data/gsm8k/test.jsonl"
# Our mmlu/ folder holds every subject (the Hub's `all` config); lm-eval's subject tasks load one
# subject's config, so each subject gets its own files (the same rows, in file order).
for subject in abstract_algebra anatomy; do
    mkdir -p "$subject_data/mmlu_$subject"
    for split in test dev validation; do
        "$vpy" - "$data/mmlu/$split.jsonl" "$subject" "$subject_data/mmlu_$subject/$split.jsonl" <<'EOF'
import json, sys
src, subject, dst = sys.argv[1:]
with open(src, encoding="utf-8") as f, open(dst + ".tmp", "w", encoding="utf-8") as o:
    n = 0
    for i, line in enumerate(f, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"vs-lm-eval: error: {src} line {i} is not JSON: {e}")
        if row.get("subject") == subject:
            o.write(line if line.endswith("\n") else line + "\n")
            n += 1
if n == 0:
    sys.exit(f"vs-lm-eval: error: no rows with subject '{subject}' in {src}")
import os
os.replace(dst + ".tmp", dst)
EOF
    done
    local_yaml "mmlu_$subject" "$lm_tasks/mmlu/default/mmlu_$subject.yaml" \
        "test=$subject_data/mmlu_$subject/test.jsonl" "dev=$subject_data/mmlu_$subject/dev.jsonl" \
        "validation=$subject_data/mmlu_$subject/validation.jsonl"
done

# Offline, our own caches, and the same thread count for both tools.
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export HF_HOME="$out/hf-home" HF_DATASETS_CACHE="$out/hf-home/datasets"
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" RAYON_NUM_THREADS="$threads"
export TOKENIZERS_PARALLELISM=false PYTHONWARNINGS=ignore

if [ -n "$need_lm_eval" ]; then
    # A Hub user has the datasets cached already; build the same cache here, untimed.
    say "warming the datasets cache (not timed)"
    "$vpy" - "$yaml_dir" <<'EOF'
import glob, sys, yaml, datasets
datasets.disable_progress_bars()
for path in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    with open(path) as f:
        text = f.read()
    cfg = yaml.safe_load(text)
    datasets.load_dataset(path="json", name=None, **cfg["dataset_kwargs"])
    print("  " + cfg["task"])
EOF
fi

# --- 5. the runs -----------------------------------------------------------------------------------
runs="$out/runs"
mkdir -p "$runs"
measure="$out/measurements.tsv"
# A --tasks/--only run replaces only its own rows (every round of them), so the table can be built
# up task by task. A file from before --repeat (no round column) is kept as round 1.
header=$'task\ttool\tlimit\twall_s\tmax_rss_kb\texit\tdir\tround'
old_header=$'task\ttool\tlimit\twall_s\tmax_rss_kb\texit\tdir'
first_line=""
[ -s "$measure" ] && first_line="$(head -1 "$measure")"
if [ -n "$tasks_arg$only" ] && { [ "$first_line" = "$header" ] || [ "$first_line" = "$old_header" ]; }; then
    keep="$(tail -n +2 "$measure")"
    if [ "$first_line" = "$old_header" ] && [ -n "$keep" ]; then
        keep="$(printf '%s\n' "$keep" | awk '{ print $0 "\t1" }')"
    fi
    for t in "${tasks[@]}"; do
        for tool in ${need_lm_eval:+lm-eval} ${need_spark:+sparkbench}; do
            keep="$(printf '%s\n' "$keep" | awk -F'\t' -v t="${t%%|*}" -v o="$tool" '!($1 == t && $2 == o)')"
        done
    done
    { printf '%s\n' "$header"; [ -z "$keep" ] || printf '%s\n' "$keep"; } >"$measure"
else
    printf '%s\n' "$header" >"$measure"
fi
# timed TASK TOOL LIMIT ROUND DIR CMD...: run CMD under GNU time, log to DIR/log.txt, append a line.
timed() {
    local task="$1" tool="$2" limit="$3" round="$4" dir="$5"; shift 5
    rm -rf "$dir"; mkdir -p "$dir"
    printf '%s\n' "$*" >"$dir/command.txt"
    local rc=0
    "$gnu_time" -f '%e %M' -o "$dir/time.txt" "$@" >"$dir/log.txt" 2>&1 || rc=$?
    local wall rss
    read -r wall rss < <(grep -E '^[0-9.]+ [0-9]+$' "$dir/time.txt" | tail -1) || true
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$task" "$tool" "$limit" "${wall:-}" "${rss:-}" "$rc" "$dir" "$round" >>"$measure"
    local of=""
    [ "$repeat" = 1 ] || of="  (round $round of $repeat)"
    if [ "$rc" = 0 ]; then
        printf '  %-22s %-10s %8ss  %6s MiB%s\n' "$task" "$tool" "$wall" "$((${rss:-0} / 1024))" "$of"
    else
        printf '  %-22s %-10s FAILED (exit %s)%s; last lines of %s:\n' "$task" "$tool" "$rc" "$of" "$dir/log.txt"
        tail -n 15 "$dir/log.txt" | sed 's/^/      /'
    fi
}

say "machine"
printf '  cpu: %s\n' "$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
printf '  cores: %s online, threads per tool: %s\n' "$(nproc)" "$threads"
printf '  date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf '  load before: %s\n' "$(uptime | sed 's/.*load average/load average/')"
printf '  model: %s\n  data: %s\n' "$model" "$data"

# run_tool TOOL ROUND NAME LIMIT LM_EXTRA SB_EXTRA: one timed run of TOOL on task NAME, into
# runs/NAME/TOOL for round 1 (as before --repeat) and runs/NAME/TOOL-rROUND for later rounds.
run_tool() {
    local tool="$1" round="$2" name="$3" limit="$4" lm_extra="$5" sb_extra="$6"
    local dir="$runs/$name/$tool"
    [ "$round" = 1 ] || dir="$dir-r$round"
    case "$tool" in
        lm-eval)
            # shellcheck disable=SC2086 # the extra flags are words
            timed "$name" lm-eval "$limit" "$round" "$dir" \
                "$venv/bin/lm-eval" run --model hf --model_args "pretrained=$model,dtype=float32" \
                --tasks "${name}_local" --include_path "$yaml_dir" --device cpu --batch_size 8 \
                ${limit:+--limit "$limit"} $lm_extra --log_samples --output_path "$dir/out" ;;
        sparkbench)
            # shellcheck disable=SC2086
            timed "$name" sparkbench "$limit" "$round" "$dir" \
                "$sparkbench" run --model "$model" --tasks "$name" ${limit:+--limit "$limit"} --batch-size 8 \
                --dtype f32 --device cpu --data-dir "$data" --output "$dir/out" $sb_extra --yes --plain ;;
    esac
}

if [ "$repeat" = 1 ]; then
    say "running (one tool at a time)"
else
    say "running (one tool at a time, $repeat rounds per task, the order alternating)"
fi
for t in "${tasks[@]}"; do
    IFS='|' read -r name limit lm_extra sb_extra <<<"$t"
    # This invocation replaces every round of the tools it runs: later rounds of an earlier, longer
    # --repeat would otherwise stay on disk with no line in measurements.tsv.
    for tool in ${need_lm_eval:+lm-eval} ${need_spark:+sparkbench}; do
        rm -rf "$runs/$name/$tool"-r[0-9]*
    done
    for ((round = 1; round <= repeat; round++)); do
        # lm-eval first in odd rounds, sparkbench first in even ones, so that the machine's drift
        # (its speed moves by tens of percent from one quarter of an hour to the next) does not
        # always fall on the same tool.
        if [ $((round % 2)) = 1 ]; then order="lm-eval sparkbench"; else order="sparkbench lm-eval"; fi
        for tool in $order; do
            if { [ "$tool" = lm-eval ] && [ -n "$need_lm_eval" ]; } ||
                { [ "$tool" = sparkbench ] && [ -n "$need_spark" ]; }; then
                run_tool "$tool" "$round" "$name" "$limit" "$lm_extra" "$sb_extra"
            fi
        done
    done
done
printf '  load after: %s\n' "$(uptime | sed 's/.*load average/load average/')"

# --- 6. the table ----------------------------------------------------------------------------------
say "results"
"$vpy" bench/compare.py table "$measure"
