//! Padding-free batches: a padded `(b, t)` grid of tokens keeps only its real tokens for the
//! row-wise work (projections, MLP, norms), which is nearly all of a forward's arithmetic. Only
//! attention needs the grid (each row attends to its own keys), so queries, keys and values are
//! spread back onto it after their projections and the attention output is packed again.

use candle_core::{Device, Tensor};

/// The map between a padded grid of `full` slots and its `rows` real tokens.
pub(crate) struct Packing {
    /// Grid slot of each real token, in grid order.
    slots: Vec<u32>,
    /// The same, on the device.
    gather: Tensor,
    /// Real-token index of each grid slot; padding slots point at an extra zero row.
    scatter: Tensor,
    /// The same, on the host.
    row_of_slot: Vec<u32>,
    rows: usize,
}

impl Packing {
    /// From grid positions (`-1` = padding). `None` when there is no padding to drop (or no
    /// real token at all, which the caller runs unpacked).
    pub(crate) fn new(flat_pos: &[i64], device: &Device) -> candle_core::Result<Option<Self>> {
        let gather: Vec<u32> = flat_pos
            .iter()
            .enumerate()
            .filter(|(_, p)| **p >= 0)
            .map(|(i, _)| i as u32)
            .collect();
        let rows = gather.len();
        if rows == flat_pos.len() || rows == 0 {
            return Ok(None);
        }
        let mut scatter = vec![rows as u32; flat_pos.len()];
        for (k, &slot) in gather.iter().enumerate() {
            scatter[slot as usize] = k as u32;
        }
        Ok(Some(Self {
            gather: Tensor::new(gather.as_slice(), device)?,
            slots: gather,
            scatter: Tensor::new(scatter.as_slice(), device)?,
            row_of_slot: scatter,
            rows,
        }))
    }

    /// Real tokens kept.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Real-token index of each grid slot, `rows()` at padding.
    pub(crate) fn row_of_slot(&self) -> &[u32] {
        &self.row_of_slot
    }

    /// The entries of a grid-ordered list (such as the token ids) at real tokens.
    pub(crate) fn real<T: Copy>(&self, flat: &[T]) -> Vec<T> {
        self.slots.iter().map(|&i| flat[i as usize]).collect()
    }

    /// `(full, d)` grid rows → `(rows, d)` real rows.
    pub(crate) fn pack(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.index_select(&self.gather, 0)
    }

    /// `(rows, d)` real rows → `(full, d)` grid rows, zeros at padding.
    pub(crate) fn unpack(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let d = x.dim(1)?;
        let zero = Tensor::zeros((1, d), x.dtype(), x.device())?;
        Tensor::cat(&[x, &zero], 0)?.index_select(&self.scatter, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_then_unpack_keeps_real_rows_and_zeroes_padding() {
        let dev = Device::Cpu;
        let pos = [-1, 0, 1, 0, 1, -1];
        let p = Packing::new(&pos, &dev)
            .expect("new")
            .expect("some padding");
        assert_eq!(p.rows(), 4);
        assert_eq!(p.row_of_slot(), &[4, 0, 1, 2, 3, 4]);
        let x = Tensor::arange(0f32, 12.0, &dev)
            .expect("arange")
            .reshape((6, 2))
            .expect("reshape");
        let packed = p.pack(&x).expect("pack");
        assert_eq!(
            packed.to_vec2::<f32>().expect("vec"),
            vec![
                vec![2.0, 3.0],
                vec![4.0, 5.0],
                vec![6.0, 7.0],
                vec![8.0, 9.0]
            ]
        );
        let back = p
            .unpack(&packed)
            .expect("unpack")
            .to_vec2::<f32>()
            .expect("vec");
        assert_eq!(back[0], vec![0.0, 0.0]);
        assert_eq!(back[1], vec![2.0, 3.0]);
        assert_eq!(back[4], vec![8.0, 9.0]);
        assert_eq!(back[5], vec![0.0, 0.0]);
        assert!(Packing::new(&[0, 1, 2], &dev).expect("new").is_none());
        assert!(Packing::new(&[-1, -1], &dev).expect("new").is_none());
    }
}
