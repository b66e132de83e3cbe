//! `cargo run --release -p sparkbench-candle --example prefill`: the f32 prefill figure alone
//! (random SmolLM2-135M shape), for profiling the prefill path without the decode and scoring runs.

fn main() {
    let opts = sparkbench_candle::bench::BenchOptions {
        model_dir: None,
        decode_tokens: 2,
        batch_size: 1,
        loglikelihood_requests: 1,
        repeats: 5,
        dtypes: vec!["f32".into()],
        ..Default::default()
    };
    match sparkbench_candle::bench::run(&opts) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}
