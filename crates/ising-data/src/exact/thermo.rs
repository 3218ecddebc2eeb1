//! The critical coupling and the thermodynamic quantities every exact result returns.

/// Critical coupling of the square-lattice Ising model, `K_c = ½ ln(1 + √2)`, the
/// solution of `sinh 2K_c = 1` (Kramers & Wannier 1941; Onsager 1944).
///
/// The literal is the correctly rounded value of 0.44068679350977151261630466…
pub const K_C: f64 = 0.440_686_793_509_771_5;

/// Thermodynamic quantities of a finite lattice at one coupling.
///
/// All quantities are per spin except the log partition function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thermo {
    /// `ln Z`.
    pub log_partition: f64,
    /// Mean energy per spin, `u = ⟨E⟩ / N = −(∂ ln Z / ∂K) / N` (units of `J`).
    pub energy_per_spin: f64,
    /// Specific heat per spin, `c = K² var(E) / N = K² (∂² ln Z / ∂K²) / N` (units of `k_B`).
    pub specific_heat_per_spin: f64,
    /// Entropy per spin, `s = ln Z / N + K u` (units of `k_B`, natural logarithm).
    pub entropy_per_spin: f64,
}

impl Thermo {
    /// Assembles the per-spin quantities from `ln Z` and its first two `K`-derivatives.
    pub(super) fn from_log_partition_derivatives(
        n_spins: f64,
        k: f64,
        log_z: f64,
        d1: f64,
        d2: f64,
    ) -> Self {
        let energy_per_spin = -d1 / n_spins;
        Thermo {
            log_partition: log_z,
            energy_per_spin,
            specific_heat_per_spin: k * k * d2 / n_spins,
            entropy_per_spin: log_z / n_spins + k * energy_per_spin,
        }
    }
}
