//! Ising configurations served as a Burn [`Dataset`] and batched into tensors.

use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{IsingDataError, Result};
use crate::lattice::Lattice;
use crate::rng::Xoshiro256pp;
use crate::store::StoredDataset;

/// How spins are encoded as visible units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpinEncoding {
    /// Bernoulli units: s = +1 ↦ 1, s = −1 ↦ 0, i.e. v = (1 + s)/2.
    #[default]
    ZeroOne,
    /// Ising units: v = s ∈ {−1, +1}.
    PlusMinusOne,
}

impl SpinEncoding {
    /// The unit value of spin `s`.
    #[inline]
    pub fn encode(self, s: i8) -> f32 {
        match self {
            SpinEncoding::ZeroOne => f32::from(u8::from(s > 0)),
            SpinEncoding::PlusMinusOne => f32::from(s),
        }
    }
}

/// One configuration: N spins ±1 in row-major order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsingItem {
    /// The spins.
    pub spins: Vec<i8>,
}

/// A view of some configurations of a set, in a chosen order. Cheap to clone and split:
/// the spins are shared.
#[derive(Debug, Clone)]
pub struct IsingDataset {
    spins: Arc<Vec<i8>>,
    lattice: Lattice,
    indices: Vec<usize>,
}

impl IsingDataset {
    /// All configurations of a flat array, in order.
    ///
    /// # Errors
    /// If the array's length is not a multiple of the number of sites.
    pub fn new(lattice: Lattice, spins: Vec<i8>) -> Result<Self> {
        let n = lattice.n_sites();
        if !spins.len().is_multiple_of(n) {
            return Err(IsingDataError::Config(format!(
                "{} spins are not a whole number of configurations of {n} sites",
                spins.len()
            )));
        }
        let count = spins.len() / n;
        Ok(Self {
            spins: Arc::new(spins),
            lattice,
            indices: (0..count).collect(),
        })
    }

    /// All configurations of a stored dataset.
    pub fn from_stored(stored: StoredDataset) -> Self {
        let lattice = stored.lattice();
        let count = stored.len();
        Self {
            spins: Arc::new(stored.spins),
            lattice,
            indices: (0..count).collect(),
        }
    }

    /// The lattice.
    pub fn lattice(&self) -> Lattice {
        self.lattice
    }

    /// Number of visible units per item.
    pub fn n_sites(&self) -> usize {
        self.lattice.n_sites()
    }

    /// The configuration at position `index` of this view.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn spins_at(&self, index: usize) -> &[i8] {
        let n = self.n_sites();
        let i = self.indices[index];
        &self.spins[i * n..(i + 1) * n]
    }

    /// A seeded random split into (train, validation), with `round(valid_fraction · len)`
    /// configurations in the validation part. The split depends only on `(len, fraction,
    /// seed)`.
    ///
    /// # Errors
    /// If `valid_fraction` is not in [0, 1).
    pub fn split(&self, valid_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&valid_fraction) {
            return Err(IsingDataError::Config(format!(
                "validation fraction must be in [0, 1), got {valid_fraction}"
            )));
        }
        let mut order = self.indices.clone();
        let mut rng = Xoshiro256pp::stream(seed, 0x5EED_5B17);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let n_valid = (valid_fraction * order.len() as f64).round() as usize;
        let train = order.split_off(n_valid);
        let part = |indices| Self {
            spins: Arc::clone(&self.spins),
            lattice: self.lattice,
            indices,
        };
        Ok((part(train), part(order)))
    }

    /// All items of this view as one `[len, N]` tensor in `encoding`.
    pub fn to_tensor(&self, encoding: SpinEncoding, device: &Device) -> Tensor<2> {
        let items: Vec<&[i8]> = (0..self.len()).map(|i| self.spins_at(i)).collect();
        encode_batch(&items, self.n_sites(), encoding, device)
    }
}

impl Dataset<IsingItem> for IsingDataset {
    fn get(&self, index: usize) -> std::result::Result<IsingItem, DatasetError> {
        Ok(IsingItem {
            spins: self.spins_at(index).to_vec(),
        })
    }

    fn len(&self) -> usize {
        self.indices.len()
    }
}

fn encode_batch(items: &[&[i8]], n: usize, encoding: SpinEncoding, device: &Device) -> Tensor<2> {
    let mut values = Vec::with_capacity(items.len() * n);
    for s in items {
        assert_eq!(s.len(), n, "configuration of wrong size in batch");
        values.extend(s.iter().map(|&x| encoding.encode(x)));
    }
    Tensor::from_data(TensorData::new(values, [items.len(), n]), device)
}

/// Batches [`IsingItem`]s into `[batch, N]` float tensors in the model's encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct IsingBatcher {
    /// The encoding of the visible units.
    pub encoding: SpinEncoding,
}

impl IsingBatcher {
    /// A batcher with this encoding.
    pub fn new(encoding: SpinEncoding) -> Self {
        Self { encoding }
    }
}

impl Batcher<IsingItem, Tensor<2>> for IsingBatcher {
    /// # Shapes
    /// `[items.len(), N]`.
    ///
    /// # Panics
    /// If the items do not all have the same number of spins.
    fn batch(&self, items: Vec<IsingItem>, device: &Device) -> Tensor<2> {
        let n = items.first().map_or(0, |i| i.spins.len());
        let refs: Vec<&[i8]> = items.iter().map(|i| i.spins.as_slice()).collect();
        encode_batch(&refs, n, self.encoding, device)
    }
}
