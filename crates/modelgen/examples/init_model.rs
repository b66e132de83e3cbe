//! Writes one random-weight model folder and prints how long it took:
//! `cargo run --release -p sparkbench-modelgen --example init_model -- smollm2-135m /tmp/smol 0`.

use std::path::PathBuf;
use std::time::Instant;

use sparkbench_modelgen::{Shape, init_model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: init_model SHAPE OUT_DIR [SEED]";
    let shape: Shape = args.next().ok_or(usage)?.parse()?;
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(0);
    let start = Instant::now();
    let summary = init_model(shape, &out, seed)?;
    println!(
        "{} -> {}: {} parameters, tokenizer {} tokens, {:.2}s",
        summary.shape,
        summary.dir.display(),
        summary.num_parameters,
        summary.tokenizer_vocab_size,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
