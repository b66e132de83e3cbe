//! `sparkbench bench`: prefill tokens/s, decode tokens/s and loglikelihood requests/s of the
//! native decoder on the SmolLM2-135M shape (random weights made in-process, or a model folder),
//! in f32 and in Q8_0 (quantized at load), plus the prefill's GFLOP/s next to plain matmuls of the
//! same shapes in the same process, and both next to the machine's peak multiply-add rate
//! ([`crate::peak_fma`]). Best of a few repeats; numbers, never assertions.

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Tensor};
use sparkbench_protocol::ModelSource;

use crate::config::{DecoderConfig, parse_config};
use crate::decoder::Decoder;
use crate::error::LoadError;
use crate::generate::{GenJob, Processors, generate};
use crate::linear::Lin;
use crate::load::{LoadOptions, load_candle};
use crate::peak_fma::{self, PeakFma};
use crate::weights::WeightSource;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// A Hugging Face model folder; `None` = random SmolLM2-135M-shaped weights.
    pub model_dir: Option<PathBuf>,
    /// Prompt length for the prefill measurement.
    pub prompt_tokens: usize,
    /// New tokens for the decode measurement.
    pub decode_tokens: usize,
    /// Rows in the decode and scoring batches.
    pub batch_size: usize,
    /// Loglikelihood requests to score.
    pub loglikelihood_requests: usize,
    /// Repeats (best is reported).
    pub repeats: usize,
    /// Compute types: `f32`, `q8_0`.
    pub dtypes: Vec<String>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            model_dir: None,
            prompt_tokens: 256,
            decode_tokens: 32,
            batch_size: 8,
            loglikelihood_requests: 32,
            repeats: 2,
            dtypes: vec!["f32".into(), "q8_0".into()],
        }
    }
}

/// One dtype's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// `f32` or `q8_0`.
    pub dtype: String,
    /// Prefill tokens/s (batch 1).
    pub prefill_tokens_per_s: f64,
    /// Prefill GFLOP/s (matmul FLOPs of the pass / time).
    pub prefill_gflops: f64,
    /// Prefill GFLOP/s with the fused kernels off (candle's plain ops, mask tensor).
    pub prefill_gflops_unfused: f64,
    /// The same matmul shapes alone, GFLOP/s.
    pub plain_matmul_gflops: f64,
    /// Decode tokens/s at batch 1.
    pub decode_tokens_per_s: f64,
    /// Decode tokens/s summed over a batch of `batch_size` rows.
    pub batch_decode_tokens_per_s: f64,
    /// Loglikelihood requests/s.
    pub loglikelihood_per_s: f64,
}

/// The benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// What ran.
    pub model: String,
    /// Options used.
    pub options: BenchOptions,
    /// Threads candle used.
    pub threads: usize,
    /// One row per dtype.
    pub rows: Vec<BenchRow>,
    /// The machine's peak f32 multiply-add rate on `threads` threads (best of a measurement
    /// before and one after the rows); `None` on a CPU without a kernel for it.
    pub peak: Option<PeakFma>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "model: {} | prompt {} tok, decode {} tok, batch {}, {} loglikelihood requests, best of {}, {} threads",
            self.model,
            o.prompt_tokens,
            o.decode_tokens,
            o.batch_size,
            o.loglikelihood_requests,
            o.repeats,
            self.threads
        )?;
        writeln!(
            f,
            "{:<6} {:>14} {:>12} {:>14} {:>14} {:>13} {:>15} {:>12}",
            "dtype",
            "prefill tok/s",
            "prefill GF/s",
            "(unfused GF/s)",
            "plain mm GF/s",
            "decode tok/s",
            "decode xB tok/s",
            "loglik req/s"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<6} {:>14.1} {:>12.1} {:>14.1} {:>14.1} {:>13.1} {:>15.1} {:>12.2}",
                r.dtype,
                r.prefill_tokens_per_s,
                r.prefill_gflops,
                r.prefill_gflops_unfused,
                r.plain_matmul_gflops,
                r.decode_tokens_per_s,
                r.batch_decode_tokens_per_s,
                r.loglikelihood_per_s
            )?;
        }
        match &self.peak {
            Some(p) => {
                write!(
                    f,
                    "peak f32 multiply-adds: {:.1} GF/s ({}, {} threads at once)",
                    p.gflops,
                    p.kernel.name(),
                    p.threads
                )?;
                // Only f32 matmuls are bounded by the f32 multiply-add rate.
                for r in self.rows.iter().filter(|r| r.dtype == "f32") {
                    write!(
                        f,
                        "; f32 prefill at {:.0}% of it, plain mm at {:.0}%",
                        100.0 * r.prefill_gflops / p.gflops,
                        100.0 * r.plain_matmul_gflops / p.gflops
                    )?;
                }
                writeln!(f)?;
            }
            None => writeln!(
                f,
                "peak f32 multiply-adds: not measured (no kernel for this CPU)"
            )?,
        }
        Ok(())
    }
}

/// SmolLM2-135M's config.json shape.
pub fn smollm2_135m_config() -> serde_json::Value {
    serde_json::json!({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
        "num_key_value_heads": 3, "vocab_size": 49152, "rms_norm_eps": 1e-5, "rope_theta": 100000.0,
        "max_position_embeddings": 8192, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2
    })
}

/// Random weights (N(0, 0.02²), norms 1) for a config, optionally quantized.
struct RandomWeights {
    quantize: Option<GgmlDType>,
    device: Device,
    params: u64,
}

impl RandomWeights {
    fn randn(&self, shape: &[usize]) -> Result<Tensor, LoadError> {
        Ok(Tensor::randn(0f32, 0.02, shape, &self.device)?)
    }
    fn lin(&self, w: Tensor, out: usize) -> Result<Lin, LoadError> {
        match self.quantize.filter(|q| {
            w.dims()
                .last()
                .is_some_and(|d| d.is_multiple_of(q.block_size()))
        }) {
            Some(q) => Ok(Lin::Quant {
                q: QMatMul::from_qtensor(QTensor::quantize(&w, q)?)?,
                bias: None,
                out,
            }),
            None => Ok(Lin::Dense {
                inner: candle_nn::Linear::new(w, None),
            }),
        }
    }
}

impl WeightSource for RandomWeights {
    fn has(&self, _name: &str) -> bool {
        false
    }
    fn linear(&self, _name: &str, out: usize, inp: usize) -> Result<Lin, LoadError> {
        self.lin(self.randn(&[out, inp])?, out)
    }
    fn norm(&self, _name: &str, dim: usize, _plus_one: bool) -> Result<Tensor, LoadError> {
        Ok(Tensor::ones(dim, DType::F32, &self.device)?)
    }
    fn embedding(&self, _name: &str, vocab: usize, hidden: usize) -> Result<Tensor, LoadError> {
        self.randn(&[vocab, hidden])
    }
    fn head(&self, embed: &Tensor, vocab: usize, _hidden: usize) -> Result<Lin, LoadError> {
        self.lin(embed.clone(), vocab)
    }
    fn dtype(&self) -> DType {
        DType::F32
    }
    fn device(&self) -> &Device {
        &self.device
    }
    fn num_parameters(&self) -> u64 {
        self.params
    }
}

fn random_decoder(cfg: &DecoderConfig, quantize: Option<GgmlDType>) -> Result<Decoder, LoadError> {
    Decoder::load(
        cfg.clone(),
        &RandomWeights {
            quantize,
            device: Device::Cpu,
            params: 0,
        },
    )
}

fn quantize_of(dtype: &str) -> Result<Option<GgmlDType>, LoadError> {
    match dtype {
        "f32" => Ok(None),
        "q8_0" => Ok(Some(GgmlDType::Q8_0)),
        other => Err(LoadError::Option(format!(
            "bench dtype `{other}` is not f32 or q8_0"
        ))),
    }
}

fn best<T>(repeats: usize, mut f: impl FnMut() -> Result<T, LoadError>) -> Result<f64, LoadError> {
    let mut best = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn run_err(e: crate::decoder::RunError) -> LoadError {
    LoadError::Option(format!("benchmark run failed: {e}"))
}

/// Matmul FLOPs of one batch-1 prefill of `t` tokens (projections, attention, head on one row).
fn prefill_flops(cfg: &DecoderConfig, t: usize) -> f64 {
    let (h, i, nh, nkv, d) = (
        cfg.hidden_size,
        cfg.intermediate_size,
        cfg.num_heads,
        cfg.num_kv_heads,
        cfg.head_dim,
    );
    let t = t as f64;
    let proj = 2.0 * t * (h * (nh * d + 2 * nkv * d) + nh * d * h + 3 * h * i) as f64;
    let attn = 4.0 * t * t * (nh * d) as f64;
    (cfg.num_layers() as f64) * (proj + attn) + 2.0 * (h * cfg.vocab_size) as f64
}

/// The projection matmuls of one prefill, done alone with plain candle matmuls (the yardstick
/// for the prefill's GFLOP/s).
struct PlainMatmuls {
    ws: Vec<(Lin, Tensor)>,
    layers: usize,
    flops: f64,
}

impl PlainMatmuls {
    fn new(cfg: &DecoderConfig, t: usize, quantize: Option<GgmlDType>) -> Result<Self, LoadError> {
        let (h, i, nh, nkv, d) = (
            cfg.hidden_size,
            cfg.intermediate_size,
            cfg.num_heads,
            cfg.num_kv_heads,
            cfg.head_dim,
        );
        let shapes = [
            (nh * d, h),
            (nkv * d, h),
            (nkv * d, h),
            (h, nh * d),
            (i, h),
            (i, h),
            (h, i),
        ];
        let mut ws = Vec::new();
        for &(o, inp) in &shapes {
            let w = Tensor::randn(0f32, 0.02, (o, inp), &Device::Cpu)?;
            let lin = RandomWeights {
                quantize,
                device: Device::Cpu,
                params: 0,
            }
            .lin(w, o)?
            .into_cpu_layout()?;
            let x = Tensor::randn(0f32, 1.0, (1, t, inp), &Device::Cpu)?;
            ws.push((lin, x));
        }
        let flops = shapes
            .iter()
            .map(|&(o, inp)| 2.0 * (t * o * inp) as f64)
            .sum::<f64>()
            * cfg.num_layers() as f64;
        Ok(Self {
            ws,
            layers: cfg.num_layers(),
            flops,
        })
    }

    fn run_once(&self) -> Result<(), LoadError> {
        for _ in 0..self.layers {
            for (lin, x) in &self.ws {
                lin.forward(x)?;
            }
        }
        Ok(())
    }
}

fn timed(f: impl FnOnce() -> Result<(), LoadError>) -> Result<f64, LoadError> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64())
}

/// Run the benchmark.
pub fn run(opts: &BenchOptions) -> Result<BenchReport, LoadError> {
    let (model_name, cfg) = match &opts.model_dir {
        Some(dir) => {
            let root = crate::config::read_config_file(dir)?;
            (
                dir.display().to_string(),
                parse_config(&root, &dir.join("config.json"))?,
            )
        }
        None => (
            "random SmolLM2-135M shape".to_string(),
            parse_config(&smollm2_135m_config(), &PathBuf::from("smollm2-135m"))?,
        ),
    };
    let threads = candle_core::utils::get_num_threads();
    let peak_before = peak_fma::measure(threads, 3);
    let mut rows = Vec::new();
    for dtype in &opts.dtypes {
        let quantize = quantize_of(dtype)?;
        let dec = match &opts.model_dir {
            Some(dir) => {
                let lo = LoadOptions {
                    dtype: Some(dtype.clone()),
                    device: Some("cpu".into()),
                    batch_size: opts.batch_size,
                    max_length: None,
                };
                let m = load_candle(&ModelSource::Hf { path: dir.clone() }, &lo, &|_| {})?;
                m.into_decoder()
            }
            None => random_decoder(&cfg, quantize)?,
        };
        let vocab = cfg.vocab_size as u32;
        let tok = |i: usize| ((i as u64 * 2_654_435_761) % u64::from(vocab)) as u32;
        let t = opts.prompt_tokens.max(1);
        let prompt: Vec<u32> = (0..t).map(tok).collect();
        let plain = PlainMatmuls::new(&cfg, t, quantize)?;
        let mut dec = dec;
        let mut prefill_once = |fused: bool| -> Result<(), LoadError> {
            dec.set_fused_kernels(fused);
            let mut cache = dec.new_cache(1);
            let pos: Vec<i64> = (0..t as i64).collect();
            let hid = dec
                .forward(
                    std::slice::from_ref(&prompt),
                    &[pos],
                    &mut cache,
                    &mut || Ok(()),
                )
                .map_err(run_err)?;
            dec.logits(&hid.narrow(1, t - 1, 1)?.squeeze(1)?)?;
            Ok(())
        };
        // Prefill and the plain matmuls alternate, so both see the same machine load.
        let (mut prefill, mut unfused, mut plain_secs) =
            (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        for _ in 0..opts.repeats.max(1) {
            prefill = prefill.min(timed(|| prefill_once(true))?);
            unfused = unfused.min(timed(|| prefill_once(false))?);
            plain_secs = plain_secs.min(timed(|| plain.run_once())?);
        }
        dec.set_fused_kernels(true);
        let short: Vec<u32> = prompt.iter().take(16).copied().collect();
        let n = opts.decode_tokens.max(1);
        let gen_time = |rows: usize| -> Result<f64, LoadError> {
            let jobs: Vec<GenJob> = (0..rows)
                .map(|r| GenJob {
                    prompt: short.iter().map(|&x| (x + r as u32) % vocab).collect(),
                    max_new: n,
                })
                .collect();
            let pre_jobs: Vec<GenJob> = jobs
                .iter()
                .map(|j| GenJob {
                    prompt: j.prompt.clone(),
                    max_new: 1,
                })
                .collect();
            let run = |js: &[GenJob]| {
                generate(
                    &dec,
                    js,
                    &[],
                    &Processors::default(),
                    rows,
                    &mut |_, _| Ok(false),
                    &mut |_| Ok(()),
                )
                .map_err(run_err)
            };
            let full = best(opts.repeats, || run(&jobs))?;
            let prefill_only = best(opts.repeats, || run(&pre_jobs))?;
            Ok((full - prefill_only).max(1e-9))
        };
        let decode1 = gen_time(1)?;
        let decode_b = gen_time(opts.batch_size.max(1))?;
        let reqs: Vec<(Vec<u32>, Vec<u32>)> = (0..opts.loglikelihood_requests.max(1))
            .map(|r| {
                let ctx: Vec<u32> = (0..96 + (r * 7) % 64).map(|i| tok(i + r * 131)).collect();
                let cont: Vec<u32> = (0..1 + r % 4).map(|i| tok(i + r * 17 + 5)).collect();
                (ctx, cont)
            })
            .collect();
        let ll = best(opts.repeats, || {
            crate::scoring::score(&dec, &reqs, 2048, opts.batch_size, &mut |_| Ok(()))
                .map_err(|e| LoadError::Option(format!("benchmark scoring failed: {e}")))
        })?;
        rows.push(BenchRow {
            dtype: dtype.clone(),
            prefill_tokens_per_s: t as f64 / prefill,
            prefill_gflops: prefill_flops(&cfg, t) / prefill / 1e9,
            prefill_gflops_unfused: prefill_flops(&cfg, t) / unfused / 1e9,
            plain_matmul_gflops: plain.flops / plain_secs / 1e9,
            decode_tokens_per_s: (n - 1).max(1) as f64 / decode1,
            batch_decode_tokens_per_s: ((n - 1).max(1) * opts.batch_size.max(1)) as f64 / decode_b,
            loglikelihood_per_s: reqs.len() as f64 / ll,
        });
    }
    // Before and after the rows, so that a slow stretch of the machine in one of them does not
    // set the ceiling.
    let peak = match (peak_before, peak_fma::measure(threads, 3)) {
        (Some(a), Some(b)) => Some(if a.gflops >= b.gflops { a } else { b }),
        (a, b) => a.or(b),
    };
    Ok(BenchReport {
        model: model_name,
        options: opts.clone(),
        threads,
        rows,
        peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peak_fma::Kernel;

    fn row(dtype: &str, prefill: f64, plain: f64) -> BenchRow {
        BenchRow {
            dtype: dtype.into(),
            prefill_tokens_per_s: 1.0,
            prefill_gflops: prefill,
            prefill_gflops_unfused: 1.0,
            plain_matmul_gflops: plain,
            decode_tokens_per_s: 1.0,
            batch_decode_tokens_per_s: 1.0,
            loglikelihood_per_s: 1.0,
        }
    }

    #[test]
    fn the_peak_line_puts_the_f32_rates_against_the_peak() {
        let mut report = BenchReport {
            model: "m".into(),
            options: BenchOptions::default(),
            threads: 2,
            rows: vec![row("f32", 100.0, 150.0), row("q8_0", 30.0, 40.0)],
            peak: Some(PeakFma {
                kernel: Kernel::Avx512,
                threads: 2,
                gflops: 200.0,
            }),
        };
        let text = report.to_string();
        let last = text.lines().last().expect("a last line");
        assert_eq!(
            last,
            "peak f32 multiply-adds: 200.0 GF/s (AVX-512, 2 threads at once); \
             f32 prefill at 50% of it, plain mm at 75%",
            "{text}"
        );
        report.peak = None;
        let text = report.to_string();
        assert_eq!(
            text.lines().last(),
            Some("peak f32 multiply-adds: not measured (no kernel for this CPU)"),
            "{text}"
        );
    }
}
