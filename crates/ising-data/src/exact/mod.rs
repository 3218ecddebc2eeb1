//! Exact results for the Ising model, the yardstick for Monte Carlo samples and for models
//! trained on them.
//!
//! Conventions throughout: spins `s_i = ±1`, Hamiltonian `H = −J Σ_⟨ij⟩ s_i s_j` with
//! `J = 1`, dimensionless coupling `K = J / k_B T`, periodic boundaries, and energies
//! quoted in units of `J` (so the Boltzmann weight of a configuration of energy `E` is
//! `e^{−K E}`).
//!
//! # Contents
//!
//! * **Infinite square lattice.** Onsager's energy and specific heat (Onsager, Phys. Rev.
//!   65, 117 (1944)) and Yang's spontaneous magnetisation (Yang, Phys. Rev. 85, 808
//!   (1952)), with complete elliptic integrals evaluated by the arithmetic–geometric mean.
//! * **Finite periodic `m × n` square lattice.** Kaufman's exact partition function
//!   (Kaufman, Phys. Rev. 76, 1232 (1949)) in the form of Ferdinand & Fisher (Phys. Rev.
//!   185, 832 (1969)), evaluated in log space together with its first
//!   two derivatives in `K`, so that the energy and specific heat are exact to rounding
//!   for lattices of any practical size, including at the critical coupling [`K_C`].
//! * **Brute-force enumeration** of small periodic lattices: exact density of states,
//!   energy distribution and thermodynamics, independent of any formula.
//! * **One-dimensional ring.** Transfer-matrix results with and without a field,
//!   correlations, and the decimation map `K' = ½ ln cosh 2K` used by the paper's 1D
//!   renormalisation-group example.
//!
//! Because the Ising distribution is known exactly, the entropy per spin
//! `s = ln Z / N + K u` ([`Thermo::entropy_per_spin`]) is the floor of any model's negative
//! log-likelihood per spin on exact samples; the gap is the model's KL divergence per spin.
//!
//! # Example
//!
//! ```
//! use ising_data::exact::{K_C, kaufman_thermo, onsager_energy_per_spin};
//!
//! // Far from criticality a 64×64 torus is already at the thermodynamic limit.
//! let t = kaufman_thermo(64, 64, 0.3);
//! assert!((t.energy_per_spin - onsager_energy_per_spin(0.3)).abs() < 1e-10);
//! // At the critical point the energy per spin of the infinite lattice is −√2.
//! assert!((onsager_energy_per_spin(K_C) + 2f64.sqrt()).abs() < 1e-12);
//! ```

mod enumeration;
mod kaufman;
mod onsager;
mod ring;
#[cfg(test)]
mod tests;
mod thermo;

pub use enumeration::{
    MAX_ENUMERATED_SPINS, boltzmann_energy_distribution, energy_histogram_square, enumerate_square,
    thermo_from_density_of_states,
};
pub use kaufman::{
    coupling_at_energy_2d, entropy_per_spin_2d, kaufman_energy_per_spin, kaufman_log_partition,
    kaufman_specific_heat_per_spin, kaufman_thermo,
};
pub use onsager::{
    elliptic_e, elliptic_k, onsager_energy_per_spin, onsager_specific_heat_per_spin,
    yang_magnetization,
};
pub use ring::{
    MAX_ENUMERATED_RING, decimated_coupling, decimation_prefactor, enumerate_ring,
    enumerate_ring_correlation, ring_correlation, ring_energy_per_spin, ring_log_partition,
    ring_log_partition_field,
};
pub use thermo::{K_C, Thermo};
