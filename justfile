# sparkbench tasks. `just --list` shows them.

# Open the wizard.
run *ARGS:
    cargo run --release -- {{ARGS}}

# The whole test suite, as CI runs it.
test:
    cargo test --workspace

# Clippy and the library crates' tests built for aarch64 (the DGX Spark's CPU), run under qemu.
test-aarch64:
    bash scripts/test-aarch64.sh

# Format check and clippy, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI does.
ci:
    bash .ci/run

# Engine throughput on this machine (prefill, decode, loglikelihood; f32 and q8_0).
bench:
    cargo run --release -- bench

# Make the offline demo model under outputs/demo-tiny.
demo:
    cargo run --release -- demo

# The tmux end-to-end test of the wizard and dashboard (also part of `just test`).
e2e:
    cargo test -p sparkbench --test e2e_tmux -- --nocapture

# Side by side with lm-eval + transformers + torch on this machine (installs them under target/).
bench-vs-lm-eval:
    bash bench/vs-lm-eval.sh

# Integration test against a real OpenAI-compatible server (llama-cpp-python from PyPI).
http-integration:
    bash scripts/http-integration.sh

# With CUDA.
run-cuda *ARGS:
    cargo run --release --features cuda -- {{ARGS}}
