//! The stable 64-bit hash every scripted answer is derived from (FNV-1a, then a SplitMix64
//! finaliser), so answers are the same on every platform and in every process.

/// Hash the parts, separated so that `("ab", "c")` and `("a", "bc")` differ.
pub fn hash_parts(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.as_bytes().iter().copied().chain(std::iter::once(0xff)) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    mix(h)
}

/// SplitMix64's finaliser: spreads the bits of `x`.
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A float in [0, 1) from the top 53 bits of `h`.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_matter_and_hash_is_stable() {
        assert_ne!(hash_parts(&["ab", "c"]), hash_parts(&["a", "bc"]));
        assert_eq!(hash_parts(&["x", "y"]), hash_parts(&["x", "y"]));
        let u = unit(hash_parts(&["x"]));
        assert!((0.0..1.0).contains(&u));
    }
}
