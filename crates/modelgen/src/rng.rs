//! A small deterministic random source: SplitMix64 seeded per tensor from the model seed and
//! the tensor's name (so tensors can be generated in parallel, in any order, with the same
//! bytes), exact Box-Muller normals, and a cheap approximate normal for bulk weights.

/// SplitMix64 (Steele, Lea and Flood): fast, well mixed, fully determined by its seed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
    spare: Option<f64>,
}

impl SplitMix64 {
    /// A generator starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    /// A generator for the stream `name` of the model seed `seed`.
    pub fn for_stream(seed: u64, name: &str) -> Self {
        // FNV-1a over the name, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut mix = Self::new(seed ^ h.rotate_left(17));
        Self::new(mix.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in (0, 1].
    fn uniform_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// A standard normal number (Box-Muller, two per pair of uniforms).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.uniform_open0();
        let u2 = self.uniform_open0();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }
}

impl SplitMix64 {
    /// An approximately standard normal number from one 64-bit draw: the Irwin-Hall sum of four
    /// 16-bit uniforms, centred and scaled to unit variance (bounded at ±3.46). Several times
    /// cheaper than [`SplitMix64::normal`]; used for the hundreds of millions of weights of the
    /// larger shapes.
    pub fn fast_normal(&mut self) -> f32 {
        const SCALE: f32 = 1.732_050_8 / 65_536.0; // √3 / 2^16: unit variance for 4 × U(0, 65536)
        let x = self.next_u64();
        let sum = (x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) + (x >> 48);
        (sum as f32 - 131_070.0) * SCALE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut g = SplitMix64::for_stream(7, "x");
                move |_| g.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut g = SplitMix64::for_stream(7, "x");
                move |_| g.next_u64()
            })
            .collect();
        let c = SplitMix64::for_stream(7, "y").next_u64();
        let d = SplitMix64::for_stream(8, "x").next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        assert_ne!(a[0], d);
    }

    #[test]
    fn fast_normals_have_unit_variance() {
        let mut g = SplitMix64::new(2);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| f64::from(g.fast_normal())).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        assert!(xs.iter().all(|x| x.abs() < 3.5));
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut g = SplitMix64::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| g.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }
}
