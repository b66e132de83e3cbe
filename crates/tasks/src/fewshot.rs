//! lm-eval's few-shot selection: CPython's `random.Random(seed)` (MT19937 seeded with
//! `init_by_array`, `getrandbits`, `_randbelow`, `sample`) and the two samplers, `default`
//! (random; draws k+1 and drops the eval doc when the few-shot and test splits coincide) and
//! `first_n`.

use rand_mt::Mt;

use crate::TaskError;
use crate::data::Doc;

/// CPython's `random.Random`, as far as `sample` needs it.
pub struct PyRandom {
    mt: Mt,
}

impl PyRandom {
    /// `random.Random(seed)` for a non-negative int seed: `init_by_array` with the 32-bit
    /// little-endian words of the seed (at least one word).
    pub fn new(seed: u64) -> Self {
        let lo = (seed & 0xffff_ffff) as u32;
        let hi = (seed >> 32) as u32;
        let key: Vec<u32> = if hi == 0 { vec![lo] } else { vec![lo, hi] };
        Self {
            mt: Mt::new_with_key(key),
        }
    }

    /// `getrandbits(k)` for 1 <= k <= 32.
    pub fn getrandbits(&mut self, k: u32) -> u32 {
        self.mt.next_u32() >> (32 - k)
    }

    /// `_randbelow(n)` for n >= 1: rejection sampling on `n.bit_length()` bits.
    pub fn randbelow(&mut self, n: usize) -> usize {
        let bits = usize::BITS - n.leading_zeros();
        let bits = bits.clamp(1, 32);
        loop {
            let r = self.getrandbits(bits) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// `sample(range(n), k)`: the indices CPython's `sample` picks, in draw order.
    pub fn sample(&mut self, n: usize, k: usize) -> Result<Vec<usize>, TaskError> {
        if k > n {
            return Err(TaskError::Other(format!(
                "cannot draw {k} few-shot examples from a pool of {n} documents; lower --num-fewshot"
            )));
        }
        let mut setsize = 21usize;
        if k > 5 {
            let exp = ((3 * k) as f64).ln() / 4f64.ln();
            setsize += 4usize.pow(exp.ceil() as u32);
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.randbelow(n - i);
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.randbelow(n);
                while selected.contains(&j) {
                    j = self.randbelow(n);
                }
                selected.insert(j);
                result.push(j);
            }
        }
        Ok(result)
    }
}

/// Which sampler a task's `fewshot_config` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampler {
    /// `default`: random, seeded per task.
    Random,
    /// `first_n`: the first k of the pool.
    FirstN,
}

/// Pick `k` few-shot examples for `doc` from `pool` (indices into the pool, in prompt order).
/// `same_split` is lm-eval's `fewshot_split == test_split` (including `None == None`).
pub fn select(
    sampler: Sampler,
    rng: &mut PyRandom,
    pool: &[Doc],
    doc: &Doc,
    k: usize,
    same_split: bool,
) -> Result<Vec<usize>, TaskError> {
    if k == 0 {
        return Ok(Vec::new());
    }
    match sampler {
        Sampler::Random => {
            let draw = if same_split { k + 1 } else { k };
            let drawn = rng.sample(pool.len(), draw)?;
            // lm-eval hands the sampler the eval doc only when the splits coincide.
            Ok(drawn
                .into_iter()
                .filter(|&i| !same_split || pool[i] != *doc)
                .take(k)
                .collect())
        }
        Sampler::FirstN => {
            let picked: Vec<usize> = (0..pool.len())
                .filter(|&i| !same_split || pool[i] != *doc)
                .take(k)
                .collect();
            if picked.len() < k {
                return Err(TaskError::Other(format!(
                    "first_n sampler: {k} few-shot examples requested but the pool has only {}; lower --num-fewshot",
                    picked.len()
                )));
            }
            Ok(picked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrandbits_matches_cpython() {
        let mut r = PyRandom::new(1234);
        let got: Vec<u32> = (0..3).map(|_| r.getrandbits(32)).collect();
        assert_eq!(got, vec![4150886329, 3342196574, 1892932127]);
    }

    fn draws(n: usize, k: usize, docs: usize) -> Vec<Vec<usize>> {
        let mut r = PyRandom::new(1234);
        (0..docs).map(|_| r.sample(n, k).expect("sample")).collect()
    }

    #[test]
    fn gsm8k_vectors() {
        assert_eq!(
            draws(7473, 5, 3),
            vec![
                vec![6374, 3610, 957, 61, 742],
                vec![7462, 6610, 4769, 286, 5501],
                vec![5677, 687, 806, 6279, 2905]
            ]
        );
    }

    #[test]
    fn arc_challenge_and_hellaswag_vectors() {
        assert_eq!(
            draws(1119, 25, 1)[0],
            vec![
                902, 239, 15, 185, 71, 171, 201, 726, 484, 35, 63, 32, 708, 991, 949, 304, 186,
                374, 234, 29, 1030, 996, 511, 132, 1108
            ]
        );
        let hs = &draws(39905, 11, 1)[0];
        assert_eq!(
            &hs[..10],
            &[
                28883, 7657, 490, 5940, 38156, 2288, 5500, 6450, 23241, 15519
            ]
        );
    }

    #[test]
    fn small_pool_vectors_from_lm_eval() {
        assert_eq!(draws(20, 2, 3), vec![vec![14, 3], vec![0, 2], vec![18, 1]]);
        assert_eq!(
            draws(10, 3, 3),
            vec![vec![7, 1, 0], vec![1, 0, 9], vec![1, 5, 3]]
        );
    }

    fn doc(i: usize) -> Doc {
        let mut d = Doc::new();
        d.insert("i".into(), serde_json::json!(i));
        d
    }

    #[test]
    fn same_split_draws_k_plus_one_and_drops_the_eval_doc() {
        let pool: Vec<Doc> = (0..10).map(doc).collect();
        // Random(1234).sample(range(10), 3) gives [7, 1, 0] first: eval doc 1 is dropped.
        let mut rng = PyRandom::new(1234);
        let picked = select(Sampler::Random, &mut rng, &pool, &doc(1), 2, true).expect("select");
        assert_eq!(picked, vec![7, 0]);
        // Without coinciding splits exactly k are drawn and nothing is dropped.
        let mut rng = PyRandom::new(1234);
        let picked = select(Sampler::Random, &mut rng, &pool, &doc(7), 2, false).expect("select");
        assert_eq!(picked, vec![7, 1]);
        let picked = select(Sampler::FirstN, &mut rng, &pool, &doc(0), 3, true).expect("first_n");
        assert_eq!(picked, vec![1, 2, 3]);
        assert!(select(Sampler::FirstN, &mut rng, &pool, &doc(0), 11, false).is_err());
        assert!(
            select(Sampler::Random, &mut rng, &pool, &doc(0), 0, true)
                .expect("k=0")
                .is_empty()
        );
    }

    #[test]
    fn oversized_draw_is_an_error() {
        assert!(PyRandom::new(1).sample(3, 4).is_err());
    }
}
