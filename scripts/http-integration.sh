#!/usr/bin/env bash
# Integration test of the OpenAI-compatible backend against a real server installed from PyPI:
# llama-cpp-python's server on the GGUF fixture. Generation tasks run end to end; a
# loglikelihood task must be refused before the run starts (that server echoes no prompt
# log-probs), never scored at chance.
#
# Builds llama-cpp-python from its sdist on first use (several minutes on 2 cores); the venv lives
# under target/ so `cargo clean` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="${SPARKBENCH_SHARED:-$(cd .. && pwd)/shared}"
gguf="$shared/fixtures/models/tiny-llama.f32.gguf"
tok="$shared/fixtures/models/tiny-llama"
data="${SPARKBENCH_TEST_DATA:-$shared/data}"
venv="$root/target/http-venv"
port="${PORT:-8765}"

[ -f "$gguf" ] || { echo "missing $gguf (the shared fixtures)"; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$venv/bin/pip" install -q "llama-cpp-python[server]==0.3.36"
fi
if [ -z "${SPARKBENCH_BIN:-}" ]; then cargo build --release -q -p sparkbench; fi

"$venv/bin/python" -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port "$port" --n_ctx 512 \
  --logits_all true >"$root/target/http-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null || { echo "server did not start"; cat "$root/target/http-server.log"; exit 1; }

out=$(mktemp -d)
bin="${SPARKBENCH_BIN:-$root/target/release/sparkbench}"
echo "== generation tasks through the server"
"$bin" run --backend openai --endpoint "http://127.0.0.1:$port/v1" --served-model tiny \
  --tokenizer "$tok" --tasks gsm8k,ifeval --limit 3 --gen-kwargs max_gen_toks=16 \
  --data-dir "$data" --output "$out/gen" --yes --plain
ls "$out"/gen/results_*.json "$out"/gen/samples_gsm8k_*.jsonl "$out"/gen/samples_ifeval_*.jsonl
echo "== a loglikelihood task: the server's echoed prompt log-probs against the native backend on the same GGUF"
# llama-cpp-python's server (unlike llama.cpp's llama-server) echoes prompt log-probs with
# --logits_all; the probe decides. If it scores, the per-document loglikelihoods must match the
# native run; if it refuses, the refusal must name the reason.
if "$bin" run --backend openai --endpoint "http://127.0.0.1:$port/v1" --served-model tiny \
  --tokenizer "$tok" --tasks arc_easy --limit 10 --data-dir "$data" --output "$out/ll" --yes --plain >"$out/ll.err" 2>&1; then
  "$bin" run --model "$gguf" --tokenizer "$tok" --tasks arc_easy --limit 10 --data-dir "$data" \
    --output "$out/native" --yes --plain >/dev/null
  python3 - "$out/ll" "$out/native" <<'PY'
import glob, json, sys
def lls(d):
    f = glob.glob(d + "/samples_arc_easy_*.jsonl")[0]
    return {json.loads(l)["doc_id"]: [float(r[0][0]) for r in json.loads(l)["resps"]] for l in open(f)}
a, b = lls(sys.argv[1]), lls(sys.argv[2])
worst = max(abs(x - y) for k in a for x, y in zip(a[k], b[k]))
same = sum(max(range(len(a[k])), key=a[k].__getitem__) == max(range(len(b[k])), key=b[k].__getitem__) for k in a)
print(f"max |delta loglikelihood| {worst:.2e}, same decisions {same}/{len(a)}")
sys.exit(0 if worst < 1e-2 and same == len(a) else 1)
PY
else
  grep -qi "loglikelihood" "$out/ll.err" || { echo "FAIL: refused without a clear reason:"; cat "$out/ll.err"; exit 1; }
  echo "refused with a reason: $(head -c 300 "$out/ll.err")"
fi
echo "http integration: 2 passed, 0 failed"
