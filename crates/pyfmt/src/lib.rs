//! Python's formatting, byte for byte, where lm-eval's output depends on it: `repr(float)`
//! (samples files stringify log-likelihoods with `str(float)`), `json.dumps` (results files,
//! samples lines and `doc_hash` are written with it; chat templates' `tojson` calls it), and
//! lm-eval's `hash_string` (hex sha256).

pub mod json;

use sha2::{Digest, Sha256};

pub use json::{DumpOptions, dumps};

/// Python's `repr(float)` / `str(float)`: the shortest round-trip digits, fixed notation for
/// decimal exponents in [-4, 16), scientific (`1e-05`, `1.5e+16`) otherwise.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // `{:e}` gives the shortest round-trip digits as d.ddde<exp>.
    let sci = format!("{x:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (sci.as_str(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= 0 {
            let int_len = exp + 1;
            if n <= int_len {
                format!("{digits}{}.0", "0".repeat((int_len - n) as usize))
            } else {
                format!(
                    "{}.{}",
                    &digits[..int_len as usize],
                    &digits[int_len as usize..]
                )
            }
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let frac = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{frac}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

/// A float as Python's `json` writes it: `repr`, with `NaN`, `Infinity` and `-Infinity` bare.
pub fn json_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    float_repr(x)
}

/// lm-eval's `hash_string`: hex sha256 of the UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `json.dumps(value, ensure_ascii=False)`.
pub fn dumps_compact(value: &serde_json::Value) -> String {
    dumps(value, &DumpOptions::default())
}

/// `json.dumps(value, indent=2, ensure_ascii=False)`.
pub fn dumps_indent2(value: &serde_json::Value) -> String {
    dumps(
        value,
        &DumpOptions {
            indent: Some(2),
            ..DumpOptions::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(float_repr(-1.234), "-1.234");
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(-2.5e-7), "-2.5e-07");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1234567890123456.0), "1234567890123456.0");
        assert_eq!(float_repr(123456.5), "123456.5");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
        assert_eq!(json_float(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(json_float(f64::NAN), "NaN");
    }

    #[test]
    fn hash_string_is_hex_sha256() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
