//! `cargo run --release -p sparkbench-candle --example kernels`: the decoding dot products
//! alone, the dispatched kernel (AVX-512 where the CPU has it) against the portable one, in
//! the same process on the same data: the attention scores of one new token (three query
//! heads of 64 against 1,770 cached keys) and a tied output head (8 rows of 576 against
//! 4,096 vocabulary rows). Best of five; single-threaded.

use std::time::Instant;

use sparkbench_candle::fastmath::{dots, dots_portable};

type Dots = fn(&[f32], usize, &[&[f32]], &mut [f32]);

/// Nanoseconds per dot product, best of five runs of `reps` calls.
fn time(f: Dots, lhs: &[f32], hd: usize, keys: &[&[f32]], reps: usize) -> f64 {
    let mut out = vec![0f32; lhs.len() / hd * keys.len()];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            f(lhs, hd, keys, &mut out);
            std::hint::black_box(&mut out);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e9 / (reps * out.len()) as f64
}

fn case(name: &str, hd: usize, rows: usize, n: usize, stride: usize, reps: usize) {
    let data: Vec<f32> = (0..n * stride)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let lhs: Vec<f32> = (0..rows * hd)
        .map(|i| ((i * 31) % 100) as f32 / 100.0)
        .collect();
    let keys: Vec<&[f32]> = (0..n).map(|j| &data[j * stride..j * stride + hd]).collect();
    let portable = time(dots_portable, &lhs, hd, &keys, reps);
    let dispatched = time(dots, &lhs, hd, &keys, reps);
    println!(
        "{name:<28} portable {portable:>7.2} ns/dot   dispatched {dispatched:>7.2} ns/dot   {:.2}x",
        portable / dispatched
    );
}

fn main() {
    // Keys of one key-value head in a (rows, kv heads, positions, 64) cache.
    case("attention, hd 64, 3 rows", 64, 3, 1770, 64, 400);
    // Rows of a (vocab, 576) embedding used as the head.
    case("head, 576 wide, 8 rows", 576, 8, 4096, 576, 20);
}
