//! Ising configurations fed to Burn: an [`IsingDataset`] holds configurations and splits them
//! into training and held-out parts; [`IsingDataset::rows`] encodes a part as a
//! [`RowsDataset`], the Burn [`Dataset`] of visible-unit rows that training reads (and that
//! also holds the activities a trained layer passes to the next).
//!
//! ```
//! use burn::data::dataset::Dataset;
//! use ising_data::{IsingDataset, Lattice, SpinEncoding};
//!
//! let lattice = Lattice::Ring { n: 4 };
//! let ds = IsingDataset::new(lattice, vec![1, -1, 1, 1, -1, -1, 1, -1]).unwrap();
//! let rows = ds.rows(SpinEncoding::ZeroOne);
//! assert_eq!((rows.len(), rows.width()), (2, 4));
//! assert_eq!(rows.row(1), &[0.0, 0.0, 1.0, 0.0]);
//! ```

use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
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
            return Err(IsingDataError::Request(format!(
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
            return Err(ConfigError::invalid("valid_fraction", "in [0, 1)", valid_fraction).into());
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

    /// Number of configurations in this view.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether this view holds no configuration.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The configurations of this view, in its order, as rows of visible units in `encoding`.
    pub fn rows(&self, encoding: SpinEncoding) -> RowsDataset {
        let n = self.n_sites();
        let mut values = Vec::with_capacity(self.len() * n);
        for i in 0..self.len() {
            values.extend(self.spins_at(i).iter().map(|&s| encoding.encode(s)));
        }
        RowsDataset::new(values, n)
    }

    /// All configurations of this view as one `[len, N]` tensor in `encoding`.
    pub fn to_tensor(&self, encoding: SpinEncoding, device: &Device) -> Tensor<2> {
        self.rows(encoding).to_tensor(device)
    }
}

/// Rows of equal width stored contiguously (visible units of a layer, one row per sample),
/// served one row per item. Cheap to clone: the values are shared.
#[derive(Debug, Clone)]
pub struct RowsDataset {
    values: Arc<Vec<f32>>,
    width: usize,
}

impl RowsDataset {
    /// A dataset of `values.len() / width` rows, row-major.
    ///
    /// # Panics
    /// If `width` is 0 or does not divide `values.len()`.
    pub fn new(values: Vec<f32>, width: usize) -> Self {
        assert!(
            width > 0 && values.len().is_multiple_of(width),
            "ragged rows"
        );
        Self {
            values: Arc::new(values),
            width,
        }
    }

    /// Row width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Row `index`.
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.values[index * self.width..(index + 1) * self.width]
    }

    /// The rows `indices`, in that order, as one tensor.
    ///
    /// # Shapes
    /// `[indices.len(), width]`.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn gather(&self, indices: impl IntoIterator<Item = usize>, device: &Device) -> Tensor<2> {
        let mut flat = Vec::new();
        for i in indices {
            flat.extend_from_slice(self.row(i));
        }
        let n = flat.len() / self.width;
        Tensor::from_data(TensorData::new(flat, [n, self.width]), device)
    }

    /// All rows as one tensor.
    ///
    /// # Shapes
    /// `[len, width]`.
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.values.as_ref().clone(), [self.len(), self.width]),
            device,
        )
    }
}

impl Dataset<Vec<f32>> for RowsDataset {
    fn get(&self, index: usize) -> std::result::Result<Vec<f32>, DatasetError> {
        if index >= self.len() {
            return Err(DatasetError::new(IsingDataError::Request(format!(
                "row {index} is out of range for {} rows",
                self.len()
            ))));
        }
        Ok(self.row(index).to_vec())
    }

    fn len(&self) -> usize {
        self.values.len() / self.width
    }
}
