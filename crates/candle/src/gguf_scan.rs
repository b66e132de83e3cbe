//! A small reader of the GGUF header (metadata skipped, tensor infos kept) used before candle
//! parses the file, so that a tensor type candle cannot handle (i-quants, TQ, MXFP4, ...) is
//! reported with the tensor's name and the type's name instead of a bare type number.

use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::LoadError;

/// One tensor's name and GGML type id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedTensor {
    /// Tensor name.
    pub name: String,
    /// GGML type id.
    pub type_id: u32,
}

/// GGML's name for a type id.
pub fn ggml_type_name(id: u32) -> String {
    let n = match id {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        6 => "Q5_0",
        7 => "Q5_1",
        8 => "Q8_0",
        9 => "Q8_1",
        10 => "Q2_K",
        11 => "Q3_K",
        12 => "Q4_K",
        13 => "Q5_K",
        14 => "Q6_K",
        15 => "Q8_K",
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        20 => "IQ4_NL",
        21 => "IQ3_S",
        22 => "IQ2_S",
        23 => "IQ4_XS",
        24 => "I8",
        25 => "I16",
        26 => "I32",
        27 => "I64",
        28 => "F64",
        29 => "IQ1_M",
        30 => "BF16",
        34 => "TQ1_0",
        35 => "TQ2_0",
        39 => "MXFP4",
        _ => return format!("type {id}"),
    };
    n.to_string()
}

/// Whether candle 0.11.1 can load the type.
pub fn candle_supports(id: u32) -> bool {
    matches!(id, 0 | 1 | 2 | 3 | 6..=15 | 30)
}

struct R<T: Read> {
    r: T,
    v1: bool,
}

impl<T: Read> R<T> {
    fn u32(&mut self) -> std::io::Result<u32> {
        let mut b = [0u8; 4];
        self.r.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self) -> std::io::Result<u64> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn len(&mut self) -> std::io::Result<u64> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let copied = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())?;
        if copied != n {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "file ends inside the header",
            ));
        }
        Ok(())
    }
    fn string(&mut self) -> std::io::Result<String> {
        let n = self.len()?;
        if n > 1 << 30 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "string too long",
            ));
        }
        let mut b = vec![0u8; n as usize];
        self.r.read_exact(&mut b)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }
    fn skip_value(&mut self, ty: u32, depth: usize) -> std::io::Result<()> {
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("unknown metadata value type {ty}"),
            )
        };
        match ty {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => {
                let n = self.len()?;
                self.skip(n)
            }
            9 if depth < 8 => {
                let inner = self.u32()?;
                let n = self.len()?;
                for _ in 0..n {
                    self.skip_value(inner, depth + 1)?;
                }
                Ok(())
            }
            _ => Err(bad()),
        }
    }
}

/// Read the tensor table of the GGUF file at `path`.
pub fn scan(path: &Path) -> Result<Vec<ScannedTensor>, LoadError> {
    let file = std::fs::File::open(path)
        .map_err(|e| LoadError::file(path, format!("cannot open: {e}")))?;
    let io = |e: std::io::Error| LoadError::file(path, format!("not a readable GGUF file: {e}"));
    let mut r = R {
        r: BufReader::new(file),
        v1: false,
    };
    let magic = r.u32().map_err(io)?;
    if magic != 0x4655_4747 {
        return Err(LoadError::file(path, "not a GGUF file (bad magic)"));
    }
    let version = r.u32().map_err(io)?;
    r.v1 = version == 1;
    let n_tensors = r.len().map_err(io)?;
    let n_kv = r.len().map_err(io)?;
    for _ in 0..n_kv {
        r.string().map_err(io)?;
        let ty = r.u32().map_err(io)?;
        r.skip_value(ty, 0).map_err(io)?;
    }
    let mut out = Vec::new();
    for _ in 0..n_tensors {
        let name = r.string().map_err(io)?;
        let nd = r.u32().map_err(io)?;
        for _ in 0..nd {
            r.len().map_err(io)?;
        }
        let type_id = r.u32().map_err(io)?;
        r.u64().map_err(io)?;
        out.push(ScannedTensor { name, type_id });
    }
    Ok(out)
}

/// Fail with the first tensor candle cannot load, naming it and its type.
pub fn check_types(path: &Path) -> Result<(), LoadError> {
    for t in scan(path)? {
        if !candle_supports(t.type_id) {
            return Err(LoadError::Unsupported(format!(
                "{}: tensor `{}` has GGML type {}, which candle cannot load (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K); re-quantize the model, e.g. to Q8_0 or Q4_K_M",
                path.display(),
                t.name,
                ggml_type_name(t.type_id)
            )));
        }
    }
    Ok(())
}
