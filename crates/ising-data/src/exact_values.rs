//! The exact values a dataset's manifest records for its ensemble, where they are known.

use serde::{Deserialize, Serialize};

use crate::exact;
use crate::lattice::Lattice;

/// Exact values for the generated ensemble, where known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactValues {
    /// Where they come from.
    pub source: String,
    /// ln Z of the finite lattice.
    pub log_partition: f64,
    /// Energy per spin of the finite lattice.
    pub energy_per_spin: Option<f64>,
    /// Specific heat per spin of the finite lattice.
    pub specific_heat: Option<f64>,
    /// Entropy per spin s = ln Z / N + K u: the floor of any model's NLL per spin.
    pub entropy_per_spin: Option<f64>,
}

impl ExactValues {
    /// Whether every value present is finite (JSON cannot hold the others).
    pub fn is_finite(&self) -> bool {
        self.log_partition.is_finite()
            && [
                self.energy_per_spin,
                self.specific_heat,
                self.entropy_per_spin,
            ]
            .iter()
            .all(|v| v.is_none_or(f64::is_finite))
    }

    /// The exact finite-lattice values for the ensemble of `lattice` at coupling `k` and
    /// field `h`, if this crate knows them (2D at zero field by Kaufman's solution; the 1D
    /// ring by transfer matrices).
    pub fn for_ensemble(lattice: &Lattice, k: f64, h: f64) -> Option<Self> {
        match *lattice {
            Lattice::Square { l } if h == 0.0 && k > 0.0 => {
                let t = exact::kaufman_thermo(l, l, k);
                Some(Self {
                    source: "Kaufman (1949) finite periodic lattice, Ferdinand & Fisher form"
                        .into(),
                    log_partition: t.log_partition,
                    energy_per_spin: Some(t.energy_per_spin),
                    specific_heat: Some(t.specific_heat_per_spin),
                    entropy_per_spin: Some(t.entropy_per_spin),
                })
            }
            Lattice::Ring { n } if h == 0.0 => {
                let ln_z = exact::ring_log_partition(n, k);
                let u = exact::ring_energy_per_spin(n, k);
                Some(Self {
                    source: "1D periodic ring, transfer matrix".into(),
                    log_partition: ln_z,
                    energy_per_spin: Some(u),
                    specific_heat: None,
                    entropy_per_spin: Some(ln_z / n as f64 + k * u),
                })
            }
            Lattice::Ring { n } => Some(Self {
                source: "1D periodic ring in a field, transfer matrix".into(),
                log_partition: exact::ring_log_partition_field(n, k, h),
                energy_per_spin: None,
                specific_heat: None,
                entropy_per_spin: None,
            }),
            Lattice::Square { .. } => None,
        }
    }
}
