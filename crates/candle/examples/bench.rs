//! `cargo run --release -p sparkbench-candle --example bench [MODEL_DIR]`: the native backend's
//! speed on the SmolLM2-135M shape (random weights) or on a model folder.

fn main() {
    let opts = sparkbench_candle::bench::BenchOptions {
        model_dir: std::env::args_os().nth(1).map(std::path::PathBuf::from),
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
