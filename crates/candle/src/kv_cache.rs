//! The decoder's key/value cache: per layer, buffers `(rows, kv_heads, capacity, head_dim)` that
//! new tokens are written into in place, with the position (and branch) of every cached key per
//! row. Rows can be dropped, a finished row's slot can take a new prompt's keys, and key slots no
//! row sees any more can be dropped from the front (continuous batching, `generate.rs`).

use candle_core::Tensor;

/// Per-layer keys/values plus the position of every cached key per row (`-1` = padding).
/// Keys and values live in buffers `(rows, kv_heads, capacity, head_dim)` that new tokens are
/// written into in place, so a decode step copies one token's keys, not the whole cache.
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    /// The position of every cached key per row (`-1` = padding).
    pub(crate) key_pos: Vec<Vec<i64>>,
    /// The branch of every cached key (see [`crate::fused::Visibility::k_branch`]; 0 = trunk).
    pub(crate) key_branch: Vec<Vec<u32>>,
    reserve: usize,
}

impl KvCache {
    /// An empty cache for `rows` rows.
    pub fn new(num_layers: usize, rows: usize) -> Self {
        Self {
            layers: vec![None; num_layers],
            key_pos: vec![Vec::new(); rows],
            key_branch: vec![Vec::new(); rows],
            reserve: 0,
        }
    }

    /// Plan room for `keys` key slots per row (the prompt plus the tokens to generate), so the
    /// buffers are allocated once.
    pub fn reserve(&mut self, keys: usize) {
        self.reserve = self.reserve.max(keys);
    }

    /// Number of cached key slots per row.
    pub fn len(&self) -> usize {
        self.key_pos.first().map_or(0, Vec::len)
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keep only the given rows (in that order; a row may be repeated).
    pub fn select_rows(&mut self, rows: &[usize]) -> candle_core::Result<()> {
        self.key_branch = rows.iter().map(|&r| self.key_branch[r].clone()).collect();
        let Some(first) = self.layers.iter().flatten().next() else {
            self.key_pos = rows.iter().map(|&r| self.key_pos[r].clone()).collect();
            return Ok(());
        };
        let idx = Tensor::from_vec(
            rows.iter().map(|&r| r as u32).collect::<Vec<_>>(),
            rows.len(),
            first.0.device(),
        )?;
        for kv in self.layers.iter_mut().flatten() {
            *kv = (kv.0.index_select(&idx, 0)?, kv.1.index_select(&idx, 0)?);
        }
        self.key_pos = rows.iter().map(|&r| self.key_pos[r].clone()).collect();
        Ok(())
    }

    /// Put row `src_row` of `src` into row `slot` of this cache: its last `len` key slots go to
    /// this cache's last `len` slots, and the slots before them become padding (the row's
    /// previous keys stay in the buffers, unseen). This cache must have at least `len` slots
    /// (its rows run past every prompt that joins them: prompts join longest first).
    pub fn place_row(
        &mut self,
        slot: usize,
        src: &KvCache,
        src_row: usize,
        len: usize,
    ) -> candle_core::Result<()> {
        let (s, src_s) = (self.len(), src.len());
        if slot >= self.key_pos.len() || src_row >= src.key_pos.len() || len > src_s || len > s {
            candle_core::bail!(
                "kv cache: cannot place {len} slots of row {src_row} (of {src_s}) into row {slot} (of {s})"
            );
        }
        for (dst, from) in self.layers.iter().zip(&src.layers) {
            let (Some((kb, vb)), Some((sk, sv))) = (dst, from) else {
                candle_core::bail!("kv cache: placing a row into a cache with an empty layer");
            };
            let part = |t: &Tensor| {
                t.narrow(0, src_row, 1)?
                    .narrow(2, src_s - len, len)?
                    .contiguous()
            };
            kb.narrow(0, slot, 1)?.slice_set(&part(sk)?, 2, s - len)?;
            vb.narrow(0, slot, 1)?.slice_set(&part(sv)?, 2, s - len)?;
        }
        let mut pos = vec![-1; s - len];
        pos.extend_from_slice(&src.key_pos[src_row][src_s - len..]);
        self.key_pos[slot] = pos;
        self.key_branch[slot] = vec![0; s];
        Ok(())
    }

    /// Leading key slots that no row sees (padding in every row).
    pub fn dead_columns(&self) -> usize {
        self.key_pos
            .iter()
            .map(|row| row.iter().take_while(|&&p| p < 0).count())
            .min()
            .unwrap_or(0)
    }

    /// Drop the first `n` key slots of every row (keys no row sees, see [`Self::dead_columns`]),
    /// moving the rest to the front of new buffers sized for them plus the planned room.
    pub fn drop_front(&mut self, n: usize) -> candle_core::Result<()> {
        let s = self.len();
        if n > self.dead_columns() {
            candle_core::bail!("kv cache: dropping {n} slots that some row still sees");
        }
        let keep = s - n;
        for kv in self.layers.iter_mut().flatten() {
            let want = (kv.0.dim(2)? - n).max(keep);
            *kv = (moved(&kv.0, want, n, keep)?, moved(&kv.1, want, n, keep)?);
        }
        for row in self.key_pos.iter_mut() {
            row.drain(..n);
        }
        for row in self.key_branch.iter_mut() {
            row.drain(..n);
        }
        Ok(())
    }

    /// The buffers of layer `li`, grown (contents kept) to hold at least `s` slots per row.
    pub(crate) fn buffers(
        &mut self,
        li: usize,
        (b, nkv, hd): (usize, usize, usize),
        s: usize,
        old: usize,
        like: &Tensor,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let cap = self.layers[li]
            .as_ref()
            .map_or(0, |(kb, _)| kb.dim(2).unwrap_or(0));
        if cap < s {
            let want = self.reserve.max(s).max(if cap > 0 { 2 * cap } else { 0 });
            let (kb, vb) = match &self.layers[li] {
                Some((kb, vb)) => (moved(kb, want, 0, old)?, moved(vb, want, 0, old)?),
                None => {
                    let empty = || Tensor::zeros((b, nkv, want, hd), like.dtype(), like.device());
                    (empty()?, empty()?)
                }
            };
            self.layers[li] = Some((kb, vb));
        }
        match &self.layers[li] {
            Some((kb, vb)) => Ok((kb.clone(), vb.clone())),
            None => candle_core::bail!("kv cache layer {li} missing"),
        }
    }

    /// Write `k`/`v` `(rows, kv_heads, t, hd)` of layer `li` after the `s - t` cached slots
    /// and return views of all `s` slots.
    pub(crate) fn append(
        &mut self,
        li: usize,
        k: &Tensor,
        v: &Tensor,
        s: usize,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let (b, nkv, t, hd) = k.dims4()?;
        let old = s - t;
        let (kb, vb) = self.buffers(li, (b, nkv, hd), s, old, k)?;
        kb.slice_set(&k.contiguous()?, 2, old)?;
        vb.slice_set(&v.contiguous()?, 2, old)?;
        Ok((kb.narrow(2, 0, s)?, vb.narrow(2, 0, s)?))
    }
}

/// A zeroed buffer shaped like `buf` with `cap` key slots, holding `buf`'s slots
/// `from..from + len` at its front (growing the cache, or dropping its dead front).
fn moved(buf: &Tensor, cap: usize, from: usize, len: usize) -> candle_core::Result<Tensor> {
    let (b, nkv, _, hd) = buf.dims4()?;
    let new = Tensor::zeros((b, nkv, cap, hd), buf.dtype(), buf.device())?;
    if len > 0 {
        new.slice_set(&buf.narrow(2, from, len)?.contiguous()?, 2, 0)?;
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;

    /// A one-layer cache whose keys are `(rows, 1, slots, 1)` values `base + row·100 + slot`.
    fn cache(pos: Vec<Vec<i64>>, base: f32) -> KvCache {
        let (rows, s) = (pos.len(), pos[0].len());
        let mut c = KvCache::new(1, rows);
        c.key_branch = vec![vec![0; s]; rows];
        c.key_pos = pos;
        let vals: Vec<f32> = (0..rows * s)
            .map(|i| base + (i / s * 100 + i % s) as f32)
            .collect();
        let k = Tensor::from_vec(vals, (rows, 1, s, 1), &Device::Cpu).expect("k");
        let v = (&k * 10.0).expect("v");
        c.append(0, &k, &v, s).expect("append");
        c
    }

    fn keys(c: &KvCache, row: usize) -> Vec<f32> {
        let (k, _) = c.layers[0].as_ref().expect("layer");
        k.narrow(0, row, 1)
            .and_then(|k| k.narrow(2, 0, c.len()))
            .and_then(|k| k.flatten_all())
            .and_then(|k| k.to_vec1())
            .expect("keys")
    }

    #[test]
    fn a_placed_row_ends_with_its_keys_and_dead_slots_are_dropped() {
        let mut c = cache(vec![vec![-1, -1, -1, 0, 1, 2], vec![0, 1, 2, 3, 4, 5]], 0.0);
        let src = cache(vec![vec![-1, -1, 0, 1]], 1000.0);
        c.place_row(1, &src, 0, 2).expect("place");
        assert_eq!(c.key_pos[1], vec![-1, -1, -1, -1, 0, 1]);
        // The row's old keys stay in the buffer, unseen; its last two slots are the source's.
        assert_eq!(keys(&c, 1), vec![100., 101., 102., 103., 1002., 1003.]);
        assert_eq!(c.dead_columns(), 3);
        c.drop_front(3).expect("drop");
        assert_eq!(c.len(), 3);
        assert_eq!(c.key_pos, vec![vec![0, 1, 2], vec![-1, 0, 1]]);
        assert_eq!(keys(&c, 0), vec![3., 4., 5.]);
        assert_eq!(keys(&c, 1), vec![103., 1002., 1003.]);
        let (_, v) = c.layers[0].as_ref().expect("layer");
        let v1: Vec<f32> = v
            .narrow(0, 1, 1)
            .and_then(|v| v.narrow(2, 1, 2))
            .and_then(|v| v.flatten_all())
            .and_then(|v| v.to_vec1())
            .expect("values");
        assert_eq!(v1, vec![10020., 10030.]);
    }

    #[test]
    fn bad_placements_and_drops_are_refused() {
        let mut c = cache(vec![vec![-1, 0, 1], vec![0, 1, 2]], 0.0);
        let src = cache(vec![vec![0, 1, 2, 3]], 1000.0);
        let err = c
            .place_row(0, &src, 0, 4)
            .expect_err("longer than the cache");
        assert!(err.to_string().contains("cannot place 4 slots"), "{err}");
        assert!(c.place_row(2, &src, 0, 1).is_err(), "no row 2");
        assert!(c.place_row(0, &src, 1, 1).is_err(), "no source row 1");
        let err = c.drop_front(1).expect_err("row 1 sees slot 0");
        assert!(err.to_string().contains("still sees"), "{err}");
        assert_eq!(c.len(), 3);
    }
}
