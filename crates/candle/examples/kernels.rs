//! `cargo run --release -p sparkbench-candle --example kernels`: the decoding kernels alone,
//! the dispatched kernel (AVX-512 where the CPU has it) against the portable one, in the same
//! process on the same data:
//! - dot products (single-threaded): the attention scores of one new token (three query heads
//!   of 64 against 1,770 cached keys) and a tied output head (8 rows of 576 against 4,096
//!   vocabulary rows);
//! - the few-row matmuls of a decode step (on the thread pool): 8 and 2 rows through 30
//!   layers' worth of SmolLM2-135M's projection weights, 424 MB, more than any cache holds;
//! - the attention of a decode step (on the thread pool): scores then weighted values for 8
//!   rows × 3 key-value heads × 30 layers, three queries each against 1,770 cached positions
//!   (a 652 MB cache), the softmax left out.
//!
//! Best of five.

use std::time::Instant;

use rayon::prelude::*;
use sparkbench_candle::cpu_matmul::{FewRows, few_rows};
use sparkbench_candle::fastmath::{dots, dots_portable, weighted_sum, weighted_sum_portable};

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

/// Milliseconds for one pass of `rows` input rows through every weight, best of five.
fn pass(weights: &[(usize, usize, Vec<f32>)], rows: usize, kernel: FewRows) -> f64 {
    let x: Vec<f32> = (0..rows * 1536)
        .map(|i| ((i * 13) % 100) as f32 / 100.0)
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for (k, n, w) in weights {
            std::hint::black_box(few_rows(&x[..rows * k], w, (rows, *k, *n), kernel));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e3
}

fn decode_matmuls() {
    // Per layer: q/k/v joined (576 -> 960), gate/up joined (576 -> 3072), o, down.
    let shapes = [(576, 960), (576, 3072), (576, 576), (1536, 576)];
    let weights: Vec<(usize, usize, Vec<f32>)> = (0..30)
        .flat_map(|_| shapes)
        .map(|(k, n)| {
            let w = (0..k * n)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            (k, n, w)
        })
        .collect();
    let bytes: usize = weights.iter().map(|(_, _, w)| w.len() * 4).sum();
    for rows in [8, 2] {
        let portable = pass(&weights, rows, FewRows::Portable);
        let dispatched = pass(&weights, rows, FewRows::Dispatched);
        println!(
            "decode matmuls, {rows} rows       portable {portable:>6.1} ms ({:>4.1} GB/s)   dispatched {dispatched:>6.1} ms ({:>4.1} GB/s)   {:.2}x",
            bytes as f64 / portable / 1e6,
            bytes as f64 / dispatched / 1e6,
            portable / dispatched
        );
    }
}

/// Milliseconds for the scores and weighted values of every (row, head, layer) group, with
/// the dispatched kernels or the portable ones, best of five.
fn attention_step(keys: &[f32], vals: &[f32], n: usize, portable: bool) -> f64 {
    let hd = 64;
    let groups = keys.len() / (n * hd);
    let q: Vec<f32> = (0..3 * hd)
        .map(|i| ((i * 31) % 100) as f32 / 100.0)
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        (0..groups).into_par_iter().for_each(|g| {
            let base = g * n * hd;
            let ks: Vec<&[f32]> = (0..n).map(|j| &keys[base + j * hd..][..hd]).collect();
            let vs: Vec<&[f32]> = (0..n).map(|j| &vals[base + j * hd..][..hd]).collect();
            let mut p = vec![0f32; 3 * n];
            let mut out = vec![0f32; 3 * hd];
            if portable {
                dots_portable(&q, hd, &ks, &mut p);
                weighted_sum_portable(&p, &vs, hd, &mut out);
            } else {
                dots(&q, hd, &ks, &mut p);
                weighted_sum(&p, &vs, hd, &mut out);
            }
            std::hint::black_box(&out);
        });
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e3
}

fn decode_attention() {
    let (n, groups) = (1770, 8 * 3 * 30);
    let cache = |seed: usize| -> Vec<f32> {
        (0..groups * n * 64)
            .map(|i| (((i + seed) * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    };
    let (keys, vals) = (cache(0), cache(1));
    let bytes = (keys.len() + vals.len()) * 4;
    let portable = attention_step(&keys, &vals, n, true);
    let dispatched = attention_step(&keys, &vals, n, false);
    println!(
        "decode attention, 8 rows     portable {portable:>6.1} ms ({:>4.1} GB/s)   dispatched {dispatched:>6.1} ms ({:>4.1} GB/s)   {:.2}x",
        bytes as f64 / portable / 1e6,
        bytes as f64 / dispatched / 1e6,
        portable / dispatched
    );
}

fn main() {
    // Keys of one key-value head in a (rows, kv heads, positions, 64) cache.
    case("attention, hd 64, 3 rows", 64, 3, 1770, 64, 400);
    // Rows of a (vocab, 576) embedding used as the head.
    case("head, 576 wide, 8 rows", 576, 8, 4096, 576, 20);
    decode_matmuls();
    decode_attention();
}
