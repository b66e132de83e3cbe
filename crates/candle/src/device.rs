//! Choosing the device and compute dtype from the load options: CPU in f32 by default (bf16/f16
//! weights are widened at load), CUDA in bf16 when the `cuda` feature is on and a device opens,
//! falling back to CPU with a log line when it does not; `dtype` overrides, including `q8_0`
//! (quantize projections at load); and how many compute threads to run.

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};

use crate::error::LoadError;

/// The resolved compute setting.
#[derive(Debug, Clone)]
pub struct Compute {
    /// Device.
    pub device: Device,
    /// Device in words (`cpu`, `cuda:0`).
    pub device_name: String,
    /// Dtype of activations and dense weights.
    pub dtype: DType,
    /// Quantize projections at load to this type.
    pub quantize: Option<GgmlDType>,
    /// Dtype in words for `ModelInfo`.
    pub dtype_name: String,
}

fn open_cuda(ordinal: usize, log: &dyn Fn(&str)) -> Option<Device> {
    match Device::new_cuda(ordinal) {
        Ok(d) => Some(d),
        Err(e) => {
            log(&format!(
                "CUDA device {ordinal} could not be opened ({e}); falling back to CPU"
            ));
            None
        }
    }
}

/// Resolve `device` (`cpu`, `cuda`, `cuda:N`, `auto`/none) and `dtype` (`auto`/none, `f32`,
/// `bf16`, `f16`, `q8_0`).
pub fn resolve(
    device: Option<&str>,
    dtype: Option<&str>,
    log: &dyn Fn(&str),
) -> Result<Compute, LoadError> {
    let dev = match device.map(str::trim).unwrap_or("auto") {
        "cpu" => Device::Cpu,
        "auto" | "" => {
            if cfg!(feature = "cuda") {
                open_cuda(0, log).unwrap_or(Device::Cpu)
            } else {
                Device::Cpu
            }
        }
        "cuda" | "gpu" => open_cuda(0, log).unwrap_or(Device::Cpu),
        other => match other
            .strip_prefix("cuda:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => open_cuda(n, log).unwrap_or(Device::Cpu),
            None => {
                return Err(LoadError::Option(format!(
                    "device `{other}` is not one of cpu, cuda, cuda:N, auto"
                )));
            }
        },
    };
    let device_name = match &dev {
        Device::Cpu => "cpu".to_string(),
        Device::Cuda(_) => match device {
            Some(d) if d.starts_with("cuda:") => d.to_string(),
            _ => "cuda:0".to_string(),
        },
        Device::Metal(_) => "metal".to_string(),
    };
    let on_cpu = matches!(dev, Device::Cpu);
    let (dtype, quantize, name) = match dtype.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("auto") | Some("") => {
            if on_cpu {
                (DType::F32, None, "f32")
            } else {
                (DType::BF16, None, "bf16")
            }
        }
        Some("f32" | "float32" | "float") => (DType::F32, None, "f32"),
        Some("bf16" | "bfloat16") => (DType::BF16, None, "bf16"),
        Some("f16" | "float16" | "half") => (DType::F16, None, "f16"),
        Some("q8_0") => (DType::F32, Some(GgmlDType::Q8_0), "q8_0"),
        Some("q4_k") => (DType::F32, Some(GgmlDType::Q4K), "q4_k"),
        Some(other) => {
            return Err(LoadError::Option(format!(
                "dtype `{other}` is not one of auto, f32, bf16, f16, q8_0, q4_k"
            )));
        }
    };
    if on_cpu && dtype == DType::BF16 {
        log(
            "bf16 on CPU is slow in candle 0.11 (weights are widened on every matmul); consider f32 or q8_0",
        );
    }
    Ok(Compute {
        device: dev,
        device_name,
        dtype,
        quantize,
        dtype_name: name.to_string(),
    })
}

/// Let glibc keep freed memory for reuse instead of handing it back to the kernel: every batch
/// allocates and frees the same tens of megabytes (activations, key/value buffers), and with
/// glibc's defaults each of those is a fresh `mmap` whose pages fault in and are zeroed again:
/// about half of a scoring run's system time. Buffers up to 32 MB (glibc's largest allowed
/// threshold) come from the heap, and the heap's top is returned only past 1 GB free. One
/// arena serves every thread, so what one pool thread frees another reuses (a model call runs
/// on a pool thread, its kernels on all of them; an arena per thread held about 25 MB more at
/// peak). Peak memory does not grow: the same sizes are reused. Other C libraries: nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (it takes the allocator's own lock); a
    // value it refuses leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Run `f` on a thread of rayon's pool (the caller waits). A model call is thousands of
/// parallel kernels, many of them small while decoding: started from outside the pool, each one
/// hands its work to a pool thread and puts the caller to sleep until it is done (two context
/// switches per kernel); from inside, a small kernel runs in place and a large one is shared
/// with the other threads by work stealing.
pub fn in_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// The environment variable that sets the compute threads (rayon's, which candle's matmul reads
/// too).
pub const THREADS_ENV: &str = "RAYON_NUM_THREADS";

/// Compute threads for a worker: `RAYON_NUM_THREADS` when set, else the physical cores. f32
/// matmul saturates a core's vector units with one thread, so SMT siblings only add contention.
pub fn compute_threads() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(num_cpus::get_physical)
        .max(1)
}
