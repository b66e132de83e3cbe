//! Attention on the CPU in f32, one query tile at a time, so that only the keys a tile can see
//! are ever multiplied: with causal masking that is about half of a full `(t, s)` score matrix,
//! padding keys outside a row's range cost nothing, and no `(b, heads, t, s)` tensor is ever
//! allocated (that tensor took gigabytes on long few-shot prompts).
//!
//! For every (row, key-value head, tile of queries) it computes
//! `softmax(mask(softcap(q kᵀ · scale))) v` over the tile's visible key range: with two `gemm`
//! calls for the query rows of all heads sharing those keys, or, while decoding (a query or
//! two), with plain dot products that read each key once. The softmax is the one of
//! [`crate::fused::AttnSoftmax`] (keys a query does not see get probability 0) with the
//! vectorized `exp` of [`crate::fastmath`], in two passes over a query's scores (the largest,
//! then `exp` and the sum); the division by the sum comes after the product with the values,
//! on `head_dim` outputs instead of on every key. A query that sees nothing (padding) gets
//! zeros.
//! The output is written as `(b, t, heads × head_dim)`, the layout the output projection reads.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape};
use rayon::prelude::*;

use crate::fused::Visibility;

/// Queries per tile; a tile multiplies `TILE × n_rep` query rows (all heads of one key-value
/// head) against the keys its last query sees, so it wastes at most `TILE / 2` keys per query
/// of causal skipping and packs the keys once for all those rows.
const TILE: usize = 192;

/// Tiles of at most this many queries (decoding) use dot products instead of a matmul, whose
/// packing of the keys would cost more than the arithmetic.
const SMALL_TILE: usize = 2;

/// For every query `(row, i)`, the keys it sees lie in `lo..hi`; `dense` says it sees all of
/// them (no padding key or window edge inside), so the softmax needs no per-key test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRanges {
    /// First visible key per query, row-major `b × t` (`hi == lo` when none).
    pub lo: Vec<u32>,
    /// One past the last visible key per query.
    pub hi: Vec<u32>,
    /// Every key in `lo..hi` is visible, except those of `gap`.
    pub dense: Vec<bool>,
    /// Keys `gap.0..gap.1` inside `lo..hi` that a dense query does not see (the row's other
    /// branches, between a branch and its trunk); `(0, 0)` for none.
    pub gap: Vec<(u32, u32)>,
}

impl KeyRanges {
    /// Compute from positions for one sliding window.
    pub fn new(vis: &Visibility, window: Option<usize>) -> Self {
        let (b, t, s) = (vis.b, vis.t, vis.s);
        let per: Vec<(u32, u32, bool, (u32, u32))> = (0..b * t)
            .into_par_iter()
            .map(|q| {
                let (r, i) = (q / t, q % t);
                // Keys of this call past the query's own index are never visible.
                let end = (s - t + i + 1).min(s);
                let Some(lo) = (0..end).find(|&j| vis.sees(r, i, j, window)) else {
                    return (0, 0, true, (0, 0));
                };
                let hi = (lo..end)
                    .rev()
                    .find(|&j| vis.sees(r, i, j, window))
                    .map_or(lo, |j| j + 1);
                let sees = |j: usize| vis.sees(r, i, j, window);
                let Some(g0) = (lo..hi).find(|&j| !sees(j)) else {
                    return (lo as u32, hi as u32, true, (0, 0));
                };
                // One run of unseen keys with all the others seen: still dense around it.
                let g1 = (g0..hi).find(|&j| sees(j)).unwrap_or(hi);
                if (g1..hi).all(sees) {
                    (lo as u32, hi as u32, true, (g0 as u32, g1 as u32))
                } else {
                    (lo as u32, hi as u32, false, (0, 0))
                }
            })
            .collect();
        Self {
            lo: per.iter().map(|p| p.0).collect(),
            hi: per.iter().map(|p| p.1).collect(),
            dense: per.iter().map(|p| p.2).collect(),
            gap: per.iter().map(|p| p.3).collect(),
        }
    }
}

/// The op: `q (b, heads, t, hd)` contiguous, `k`/`v (b, kv_heads, s, hd)` with unit stride on
/// the last dim (a view of a larger cache is fine); output `(b, t, heads·hd)`.
pub struct TiledAttention<'a> {
    /// Who sees whom.
    pub vis: &'a Visibility,
    /// This layer's sliding window.
    pub window: Option<usize>,
    /// Precomputed ranges for `window`.
    pub ranges: &'a KeyRanges,
    /// Score multiplier.
    pub scale: f64,
    /// Gemma-2 attention soft-cap.
    pub softcap: Option<f64>,
}

/// A raw output pointer shared by tasks that write disjoint parts of it.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: every task writes only its own (row, query, head) slots, see `cpu_fwd`.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// The pointer (a method, so closures capture the whole `Sync` wrapper, not the field).
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// A strided `(b, heads, s, hd)` f32 operand.
struct Strided<'a> {
    data: &'a [f32],
    start: usize,
    stride: [usize; 3],
}

impl<'a> Strided<'a> {
    fn new(
        name: &str,
        s: &'a CpuStorage,
        l: &Layout,
        dims: [usize; 4],
    ) -> candle_core::Result<Self> {
        let CpuStorage::F32(data) = s else {
            candle_core::bail!("tiled-attention: {name} must be f32");
        };
        if l.dims() != dims {
            candle_core::bail!(
                "tiled-attention: {name} has shape {:?}, expected {dims:?}",
                l.dims()
            );
        }
        let st = l.stride();
        if dims[3] > 1 && st[3] != 1 {
            candle_core::bail!("tiled-attention: {name} needs a unit stride on its last dim");
        }
        // The furthest element must lie inside the storage.
        let last = l.start_offset()
            + (0..3)
                .map(|d| dims[d].saturating_sub(1) * st[d])
                .sum::<usize>()
            + dims[3];
        if last > data.len() {
            candle_core::bail!("tiled-attention: {name} layout runs past its storage");
        }
        Ok(Self {
            data,
            start: l.start_offset(),
            stride: [st[0], st[1], st[2]],
        })
    }

    /// The `hd` values at `[r, h, j, ..]`.
    fn row(&self, r: usize, h: usize, j: usize, hd: usize) -> &[f32] {
        let off = self.offset(r, h, j);
        &self.data[off..off + hd]
    }

    /// Pointer to `[r, h, j, 0]`.
    fn at(&self, r: usize, h: usize, j: usize) -> *const f32 {
        self.data[self.offset(r, h, j)..].as_ptr()
    }

    /// Index of `[r, h, j, 0]` in the storage.
    fn offset(&self, r: usize, h: usize, j: usize) -> usize {
        self.start + r * self.stride[0] + h * self.stride[1] + j * self.stride[2]
    }
}

impl TiledAttention<'_> {
    /// Keys query `qi` (row-major `b × t` index) sees lie in the returned range.
    fn range(&self, qi: usize) -> (usize, usize) {
        (self.ranges.lo[qi] as usize, self.ranges.hi[qi] as usize)
    }

    /// In place over the tile's keys `lo..lo + row.len()`: the unnormalized probabilities
    /// `exp(score·scale - max)` of query `i` of row `r` (0 for keys it does not see; all 0 for
    /// a padding query). Returns their sum, by which the caller divides the query's output
    /// after the product with the values (as flash attention does: one division per output
    /// value instead of one per key).
    fn exp_row(&self, row: &mut [f32], r: usize, i: usize, lo: usize, scale: f32) -> f32 {
        let qi = r * self.vis.t + i;
        let (a, z) = self.range(qi);
        if z <= a {
            row.fill(0.0);
            return 0.0;
        }
        // Only the query's own range is scored; the rest of the tile's range is 0.
        row[..a - lo].fill(0.0);
        row[z - lo..].fill(0.0);
        let seen = &mut row[a - lo..z - lo];
        let dense = self.ranges.dense[qi] && self.softcap.is_none() && scale > 0.0;
        let (g0, g1) = self.ranges.gap[qi];
        let (g0, g1) = (g0 as usize, g1 as usize);
        if dense && g1 > g0 {
            // A branch's query: its trunk's keys, then its own; the keys between get 0.
            let (left, rest) = seen.split_at_mut(g0 - a);
            let (mid, right) = rest.split_at_mut(g1 - g0);
            mid.fill(0.0);
            let max = crate::fastmath::max(left).max(crate::fastmath::max(right)) * scale;
            return crate::fastmath::scaled_exp_sum(left, scale, max)
                + crate::fastmath::scaled_exp_sum(right, scale, max);
        }
        if dense {
            let max = crate::fastmath::max(seen) * scale;
            return crate::fastmath::scaled_exp_sum(seen, scale, max);
        }
        let max = self.mask_row(seen, r, i, a, scale);
        // Keys the query does not see are -inf here, and exp_sub_sum makes them exactly 0.
        crate::fastmath::exp_sub_sum(seen, max)
    }

    /// Scale (and soft-cap) the scores of query `i` of row `r` for keys `a..`, `-inf` where it
    /// does not see the key; returns the largest.
    fn mask_row(&self, seen: &mut [f32], r: usize, i: usize, a: usize, scale: f32) -> f32 {
        let mut max = f32::NEG_INFINITY;
        for (jj, x) in seen.iter_mut().enumerate() {
            if self.vis.sees(r, i, a + jj, self.window) {
                let mut e = *x * scale;
                if let Some(c) = self.softcap {
                    e = (e * (1.0 / c) as f32).tanh() * c as f32;
                }
                *x = e;
                max = max.max(e);
            } else {
                *x = f32::NEG_INFINITY;
            }
        }
        max
    }
}

impl CustomOp3 for TiledAttention<'_> {
    fn name(&self) -> &'static str {
        "tiled-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, t, s) = (self.vis.b, self.vis.t, self.vis.s);
        let &[_, nh, _, hd] = ql.dims() else {
            candle_core::bail!("tiled-attention: q must be 4-d, got {:?}", ql.dims());
        };
        let &[_, nkv, _, _] = kl.dims() else {
            candle_core::bail!("tiled-attention: k must be 4-d, got {:?}", kl.dims());
        };
        if nkv == 0 || nh % nkv != 0 {
            candle_core::bail!("tiled-attention: {nh} heads over {nkv} kv heads");
        }
        if self.ranges.lo.len() != b * t {
            candle_core::bail!("tiled-attention: key ranges for another batch shape");
        }
        let q = Strided::new("q", qs, ql, [b, nh, t, hd])?;
        if !ql.is_contiguous() {
            candle_core::bail!("tiled-attention: q must be contiguous");
        }
        let k = Strided::new("k", ks, kl, [b, nkv, s, hd])?;
        let v = Strided::new("v", vs, vl, [b, nkv, s, hd])?;
        let n_rep = nh / nkv;
        let tiles = t.div_ceil(TILE);
        let mut out = vec![0f32; b * t * nh * hd];
        let out_ptr = OutPtr(out.as_mut_ptr());
        let scale = self.scale as f32;
        (0..b * nkv * tiles).into_par_iter().for_each(|task| {
            let (r, rest) = (task / (nkv * tiles), task % (nkv * tiles));
            let (g, tile) = (rest / tiles, rest % tiles);
            let i0 = tile * TILE;
            let i1 = (i0 + TILE).min(t);
            // Rows of the tile, query-major: row (i - i0)·n_rep + hr is query i of head
            // g·n_rep + hr; all heads of a query see the same keys.
            let rows = (i1 - i0) * n_rep;
            let (mut lo, mut hi) = (s, 0usize);
            for i in i0..i1 {
                let (a, z) = self.range(r * t + i);
                if z > a {
                    lo = lo.min(a);
                    hi = hi.max(z);
                }
            }
            if hi <= lo {
                return; // every query of the tile is padding: zeros, already there
            }
            let n = hi - lo;
            let mut lhs = Vec::with_capacity(rows * hd);
            for i in i0..i1 {
                for hr in 0..n_rep {
                    lhs.extend_from_slice(q.row(r, g * n_rep + hr, i, hd));
                }
            }
            let decoding = i1 - i0 <= SMALL_TILE;
            let mut scores = if decoding {
                let keys: Vec<&[f32]> = (lo..hi).map(|j| k.row(r, g, j, hd)).collect();
                let mut scores = vec![0f32; rows * n];
                crate::fastmath::dots(&lhs, hd, &keys, &mut scores);
                scores
            } else {
                // SAFETY: `lhs` is rows × hd; k rows lo..hi of (r, g) are `stride[2]` apart
                // with unit stride inside, all within the storage (checked in
                // `Strided::new`).
                unsafe {
                    crate::cpu_matmul::matmul_new(
                        (rows, n, hd),
                        (lhs.as_ptr(), hd, 1),
                        (k.at(r, g, lo), 1, k.stride[2]),
                    )
                }
            };
            let sums: Vec<f32> = scores
                .chunks_mut(n)
                .enumerate()
                .map(|(row, sc)| self.exp_row(sc, r, i0 + row / n_rep, lo, scale))
                .collect();
            let tile_out = if decoding {
                let vals: Vec<&[f32]> = (lo..hi).map(|j| v.row(r, g, j, hd)).collect();
                let mut tile_out = vec![0f32; rows * hd];
                crate::fastmath::weighted_sum(&scores, &vals, hd, &mut tile_out);
                tile_out
            } else {
                // SAFETY: `scores` is rows × n; v rows lo..hi of (r, g) as for k above.
                unsafe {
                    crate::cpu_matmul::matmul_new(
                        (rows, hd, n),
                        (scores.as_ptr(), n, 1),
                        (v.at(r, g, lo), v.stride[2], 1),
                    )
                }
            };
            for (row, (src, &sum)) in tile_out.chunks(hd).zip(&sums).enumerate() {
                if sum == 0.0 {
                    continue; // a padding query: zeros, already there
                }
                let (i, h) = (i0 + row / n_rep, g * n_rep + row % n_rep);
                let off = ((r * t + i) * nh + h) * hd;
                // SAFETY: (r, i, h) belongs to this task alone (h's group is g, i in its
                // tile); off + hd <= b·t·nh·hd, inside `out`, which nothing else borrows
                // while the tasks run.
                let dst = unsafe { std::slice::from_raw_parts_mut(out_ptr.get().add(off), hd) };
                for (d, &x) in dst.iter_mut().zip(src) {
                    *d = x / sum;
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((b, t, nh * hd))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use candle_core::{Device, Tensor};

    use super::*;
    use crate::fused::AttnSoftmax;

    /// The reference: full scores, the fused softmax, then probs × v, in candle ops.
    fn reference(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        vis: &Visibility,
        window: Option<usize>,
        softcap: Option<f64>,
    ) -> Vec<f32> {
        let (b, nh, t, hd) = q.dims4().expect("dims");
        let nkv = k.dim(1).expect("dim");
        let s = k.dim(2).expect("dim");
        let n_rep = nh / nkv;
        let k = k.contiguous().expect("c");
        let v = v.contiguous().expect("c");
        let raw = q
            .reshape((b, nkv, n_rep * t, hd))
            .expect("r")
            .matmul(&k.t().expect("t"))
            .expect("mm");
        let probs = raw
            .apply_op1_no_bwd(&AttnSoftmax {
                vis,
                window,
                scale: 0.125,
                softcap,
                heads: nh,
            })
            .expect("sm");
        probs
            .reshape((b, nkv, n_rep * t, s))
            .expect("r")
            .matmul(&v)
            .expect("mm")
            .reshape((b, nh, t, hd))
            .expect("r")
            .transpose(1, 2)
            .expect("t")
            .flatten_all()
            .expect("f")
            .to_vec1()
            .expect("v")
    }

    fn check(
        b: usize,
        nh: usize,
        nkv: usize,
        t: usize,
        s: usize,
        q_pos: Vec<i64>,
        k_pos: Vec<i64>,
    ) {
        check_branches(b, nh, nkv, (t, s), q_pos, k_pos, None);
    }

    fn check_branches(
        b: usize,
        nh: usize,
        nkv: usize,
        (t, s): (usize, usize),
        q_pos: Vec<i64>,
        k_pos: Vec<i64>,
        k_branch: Option<Vec<u32>>,
    ) {
        let dev = Device::Cpu;
        let hd = 16;
        let vis = Visibility {
            q_pos: Arc::new(q_pos),
            k_pos: Arc::new(k_pos),
            b,
            t,
            s,
            k_branch: k_branch.map(Arc::new),
        };
        let q = Tensor::randn(0f32, 1.0, (b, nh, t, hd), &dev).expect("q");
        // K and V as views of a larger cache, as the decoder passes them.
        let kc = Tensor::randn(0f32, 1.0, (b, nkv, s + 5, hd), &dev).expect("k");
        let vc = Tensor::randn(0f32, 1.0, (b, nkv, s + 5, hd), &dev).expect("v");
        let k = kc.narrow(2, 0, s).expect("n");
        let v = vc.narrow(2, 0, s).expect("n");
        for (window, cap) in [(None, None), (Some(3), None), (None, Some(4.0))] {
            let ranges = KeyRanges::new(&vis, window);
            let got: Vec<f32> = q
                .apply_op3_no_bwd(
                    &k,
                    &v,
                    &TiledAttention {
                        vis: &vis,
                        window,
                        ranges: &ranges,
                        scale: 0.125,
                        softcap: cap,
                    },
                )
                .expect("op")
                .flatten_all()
                .expect("f")
                .to_vec1()
                .expect("v");
            let want = reference(&q, &k, &v, &vis, window, cap);
            assert_eq!(got.len(), want.len());
            for (i, (a, w)) in got.iter().zip(&want).enumerate() {
                assert!((a - w).abs() < 1e-5, "{window:?} {cap:?} [{i}]: {a} vs {w}");
            }
        }
    }

    #[test]
    fn causal_prefill_with_left_padding_matches_the_full_matrix() {
        // Two rows of 200 queries (three tiles), row 1 left-padded by 9.
        let t = 200;
        let mut q_pos: Vec<i64> = (0..t as i64).collect();
        q_pos.extend((0..t as i64).map(|i| if i < 9 { -1 } else { i - 9 }));
        let k_pos = q_pos.clone();
        check(2, 6, 2, t, t, q_pos, k_pos);
    }

    #[test]
    fn branches_after_a_trunk_match_the_full_matrix() {
        // Row 0: 2 cached trunk keys, 3 new trunk tokens (positions 2-4), branch 1 (positions
        // 5-8), branch 2 (positions 5-7), one padding slot. Row 1: a trunk of 2 new tokens and
        // one branch, the rest padding.
        let t = 11;
        let mut q_pos: Vec<i64> = vec![2, 3, 4, 5, 6, 7, 8, 5, 6, 7, -1];
        q_pos.extend([0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1]);
        let mut k_pos: Vec<i64> = vec![0, 1];
        k_pos.extend(&q_pos[..t]);
        k_pos.extend([-1, -1]);
        k_pos.extend(&q_pos[t..]);
        let mut branch: Vec<u32> = vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 0];
        branch.extend([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
        let vis_like = Visibility {
            q_pos: Arc::new(q_pos.clone()),
            k_pos: Arc::new(k_pos.clone()),
            b: 2,
            t,
            s: t + 2,
            k_branch: Some(Arc::new(branch.clone())),
        };
        // Branch 2's first query sees the trunk and itself only, as a dense range with a gap.
        assert!(vis_like.sees(0, 7, 4, None) && !vis_like.sees(0, 7, 6, None));
        let ranges = KeyRanges::new(&vis_like, None);
        assert_eq!((ranges.lo[7], ranges.hi[7], ranges.dense[7]), (0, 10, true));
        assert_eq!(ranges.gap[7], (5, 9));
        check_branches(2, 6, 2, (t, t + 2), q_pos, k_pos, Some(branch));
    }

    #[test]
    fn cached_prefix_with_interior_padding_and_decode_match() {
        // Keys: a prefix of 4 (row 1: 2 tokens + 2 padding), then 3 new tokens.
        let q_pos = vec![4, 5, 6, 2, 3, -1];
        let k_pos = vec![0, 1, 2, 3, 4, 5, 6, 0, 1, -1, -1, 2, 3, -1];
        check(2, 4, 4, 3, 7, q_pos, k_pos);
        // One decode step over 9 cached keys.
        check(3, 4, 1, 1, 9, vec![8, 8, 5], {
            let mut k: Vec<i64> = (0..9).collect();
            k.extend(0..9);
            k.extend([-1, -1, -1, 0, 1, 2, 3, 4, 5]);
            k
        });
    }
}
