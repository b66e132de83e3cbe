//! The machine's peak f32 multiply-add rate, for `sparkbench bench`: every benchmark thread runs
//! independent chains of fused multiply-adds in registers (no memory traffic), all at once, with
//! the widest vectors the CPU has (AVX-512, else AVX2 with FMA on x86-64; NEON on aarch64). It is
//! the ceiling that no matmul on this machine can pass, so the bench can show how far its plain
//! matmul and its prefill are from the hardware and not only from each other.
//!
//! Each chain is `a = a * m + c`; the kernels return the sum of their accumulators so that the
//! work cannot be optimised away, and a test checks that sum against a scalar `mul_add` loop.

use std::time::Instant;

/// Independent accumulators per thread, per kernel: enough to cover the multiply-add latency on
/// every port (4 cycles x 2 ports on current x86 cores, 4 x 4 on Arm's Neoverse V2 and X925),
/// and few enough to stay in registers with the two constants (16 ymm registers under AVX2).
const CHAINS_AVX512: usize = 16;
const CHAINS_AVX2: usize = 12;
const CHAINS_NEON: usize = 16;

/// The per-lane multiplier and addend: every chain tends to ADD / (1 - MUL) = 1,000 and stays
/// finite for any count, and on the way each step rounds differently fused than as a multiply
/// then an add (which the test relies on to tell them apart).
const MUL: f32 = 0.999_9;
const ADD: f32 = 0.1;

/// Iterations of the inner loop (one multiply-add per chain each) per timed pass and thread.
const ITERS: u64 = 20_000_000;

/// The vector kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// 16 lanes, x86-64 with AVX-512F.
    Avx512,
    /// 8 lanes, x86-64 with AVX2 and FMA.
    Avx2Fma,
    /// 4 lanes, aarch64.
    Neon,
}

impl Kernel {
    /// The widest kernel this CPU has, if any.
    pub fn detect() -> Option<Kernel> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Some(Kernel::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Some(Kernel::Avx2Fma);
            }
            None
        }
        #[cfg(target_arch = "aarch64")]
        {
            Some(Kernel::Neon)
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            None
        }
    }

    /// f32 lanes per vector.
    pub fn lanes(self) -> usize {
        match self {
            Kernel::Avx512 => 16,
            Kernel::Avx2Fma => 8,
            Kernel::Neon => 4,
        }
    }

    /// Independent vector accumulators per thread.
    pub fn chains(self) -> usize {
        match self {
            Kernel::Avx512 => CHAINS_AVX512,
            Kernel::Avx2Fma => CHAINS_AVX2,
            Kernel::Neon => CHAINS_NEON,
        }
    }

    /// The name shown in the bench output.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "AVX-512",
            Kernel::Avx2Fma => "AVX2+FMA",
            Kernel::Neon => "NEON",
        }
    }

    /// `iters` multiply-adds on each of the [`Kernel::chains`] vector accumulators, the accumulator of
    /// chain `i` starting at `start + i` in every lane; the sum of all lanes of all accumulators.
    /// `None` where this CPU lacks the kernel's instructions.
    pub fn run(self, iters: u64, start: f32) -> Option<f32> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
                // SAFETY: the CPU has AVX-512F (checked just above).
                Some(unsafe { x86::chains_512(iters, start) })
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2Fma
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma") =>
            {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                Some(unsafe { x86::chains_256(iters, start) })
            }
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => {
                // SAFETY: NEON is part of every aarch64 CPU.
                Some(unsafe { arm::chains_128(iters, start) })
            }
            _ => None,
        }
    }
}

/// The machine's measured peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakFma {
    /// The kernel that ran.
    pub kernel: Kernel,
    /// Threads that ran it at once.
    pub threads: usize,
    /// Multiply-adds x 2 over the slowest thread's time, best of the passes, in GFLOP/s.
    pub gflops: f64,
}

/// Measure the peak on `threads` threads at once, best of `passes`; `None` on a CPU without any
/// of the kernels (the bench then prints no peak).
pub fn measure(threads: usize, passes: usize) -> Option<PeakFma> {
    measure_iters(threads, passes, ITERS)
}

fn measure_iters(threads: usize, passes: usize, iters: u64) -> Option<PeakFma> {
    let kernel = Kernel::detect()?;
    let threads = threads.max(1);
    let flops = 2.0 * (iters as f64) * (kernel.chains() * kernel.lanes()) as f64 * threads as f64;
    let mut best = f64::INFINITY;
    for pass in 0..passes.max(1) {
        let start = Instant::now();
        let sums: Vec<Option<f32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || kernel.run(iters, (pass * threads + t) as f32)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        let secs = start.elapsed().as_secs_f64();
        if sums.iter().any(|s| !s.is_some_and(f32::is_finite)) {
            return None;
        }
        best = best.min(secs);
    }
    Some(PeakFma {
        kernel,
        threads,
        gflops: flops / best / 1e9,
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The x86-64 kernels.
    use super::{ADD, CHAINS_AVX2, CHAINS_AVX512, MUL};
    use std::arch::x86_64::{
        __m256, __m512, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_storeu_ps, _mm512_fmadd_ps,
        _mm512_set1_ps, _mm512_storeu_ps,
    };

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn chains_512(iters: u64, start: f32) -> f32 {
        let m = _mm512_set1_ps(MUL);
        let c = _mm512_set1_ps(ADD);
        let mut acc: [__m512; CHAINS_AVX512] =
            std::array::from_fn(|i| _mm512_set1_ps(start + i as f32));
        for _ in 0..iters {
            for a in &mut acc {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let mut total = 0.0f32;
        for a in acc {
            let mut lanes = [0.0f32; 16];
            // SAFETY: `lanes` holds the 16 values stored.
            unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), a) };
            total += lanes.iter().fold(0.0f32, |s, &x| s + x);
        }
        total
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn chains_256(iters: u64, start: f32) -> f32 {
        let m = _mm256_set1_ps(MUL);
        let c = _mm256_set1_ps(ADD);
        let mut acc: [__m256; CHAINS_AVX2] =
            std::array::from_fn(|i| _mm256_set1_ps(start + i as f32));
        for _ in 0..iters {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let mut total = 0.0f32;
        for a in acc {
            let mut lanes = [0.0f32; 8];
            // SAFETY: `lanes` holds the 8 values stored.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), a) };
            total += lanes.iter().fold(0.0f32, |s, &x| s + x);
        }
        total
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    //! The aarch64 kernel.
    use super::{ADD, CHAINS_NEON, MUL};
    use std::arch::aarch64::{float32x4_t, vdupq_n_f32, vfmaq_f32, vst1q_f32};

    #[target_feature(enable = "neon")]
    pub(super) unsafe fn chains_128(iters: u64, start: f32) -> f32 {
        let m = vdupq_n_f32(MUL);
        let c = vdupq_n_f32(ADD);
        let mut acc: [float32x4_t; CHAINS_NEON] =
            std::array::from_fn(|i| vdupq_n_f32(start + i as f32));
        for _ in 0..iters {
            for a in &mut acc {
                // vfmaq_f32(addend, x, y) = addend + x * y, fused.
                *a = vfmaq_f32(c, *a, m);
            }
        }
        let mut total = 0.0f32;
        for a in acc {
            let mut lanes = [0.0f32; 4];
            // SAFETY: `lanes` holds the 4 values stored.
            unsafe { vst1q_f32(lanes.as_mut_ptr(), a) };
            total += lanes.iter().fold(0.0f32, |s, &x| s + x);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sum `kernel.run(iters, start)` must return, lane by lane with scalar fused multiply-adds.
    fn reference_sum(kernel: Kernel, iters: u64, start: f32) -> f32 {
        let mut total = 0.0f32;
        for chain in 0..kernel.chains() {
            let mut a = start + chain as f32;
            for _ in 0..iters {
                a = a.mul_add(MUL, ADD);
            }
            // Every lane of a chain holds the same value; the kernels add lanes then chains in this
            // order too.
            let mut lane_sum = 0.0f32;
            for _ in 0..kernel.lanes() {
                lane_sum += a;
            }
            total += lane_sum;
        }
        total
    }

    #[test]
    fn every_kernel_this_cpu_has_computes_the_scalar_chains() {
        let mut ran = 0;
        for kernel in [Kernel::Avx512, Kernel::Avx2Fma, Kernel::Neon] {
            match kernel.run(1_000, 3.0) {
                Some(sum) => {
                    let want = reference_sum(kernel, 1_000, 3.0);
                    assert_eq!(sum.to_bits(), want.to_bits(), "{kernel:?}: {sum} vs {want}");
                    ran += 1;
                }
                None => println!("{kernel:?}: skipped, this CPU lacks its instructions"),
            }
        }
        if Kernel::detect().is_some() {
            assert!(ran > 0, "the detected kernel must run");
        }
    }

    #[test]
    fn the_measurement_counts_every_thread() {
        let Some(kernel) = Kernel::detect() else {
            println!("skipped: no multiply-add kernel for this CPU");
            return;
        };
        let peak = measure_iters(2, 2, 10_000).expect("a detected kernel measures");
        assert_eq!(peak.kernel, kernel);
        assert_eq!(peak.threads, 2);
        assert!(peak.gflops.is_finite() && peak.gflops > 0.0, "{peak:?}");
    }
}
