//! Reading a set of configurations out: mean energy, |m| and the temperature whose exact
//! mean energy is theirs ([`temperature_fit`]).

use ising_data::exact::{coupling_at_energy_2d, kaufman_energy_per_spin, kaufman_thermo};
use ising_data::lattice::magnetization_sum;
use ising_data::{Estimate, Lattice};
use serde::{Deserialize, Serialize};

use super::options::MAX_FIT_COUPLING;

/// A set of configurations measured: energy, magnetisation and the temperature read from
/// the energy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Readout {
    /// Configurations measured.
    pub configurations: usize,
    /// Mean energy per spin E/N = −Σ_⟨ij⟩ s_i s_j / N, with its standard error.
    pub energy_per_spin: Estimate,
    /// Standard deviation of E/N over the configurations.
    pub energy_std: f64,
    /// The same standard deviation in the canonical ensemble of the L×L torus at T_fit,
    /// T √(c/N) (exact): the spread a set of equilibrium samples at one temperature has.
    /// Much larger measured spreads mean a mixture of temperatures. `null` without a finite,
    /// nonzero T_fit.
    pub canonical_energy_std: Option<f64>,
    /// Mean |m|, m = Σ s_i / N.
    pub abs_magnetization: Estimate,
    /// Mean m.
    pub magnetization: Estimate,
    /// The fitted coupling and temperature ([`temperature_fit`]).
    #[serde(flatten)]
    pub fit: TemperatureFit,
}

/// The temperature of a set of configurations read from their mean energy per spin u
/// ([`temperature_fit`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemperatureFit {
    /// K_fit, the coupling at which the exact mean energy per spin of the L×L torus is u;
    /// `null` when there is none in (0, [`MAX_FIT_COUPLING`]]: u ≥ 0 (as hot as T = ∞ or
    /// hotter) or u below the energy at K = 10 (colder than that: K_fit = ∞).
    pub coupling_fit: Option<Estimate>,
    /// T_fit = 1/K_fit; exactly 0 (error 0) when u is below the energy at K = 10, which for
    /// L = 10 means every configuration is fully aligned; `null` when u ≥ 0 (T_fit = ∞).
    pub temperature_fit: Option<Estimate>,
}

/// The temperature whose exact mean energy per spin on the periodic L×L lattice equals
/// `energy` (Kaufman's finite-lattice energy, [`coupling_at_energy_2d`]), with the error
/// propagated linearly from the energy's: σ_T = σ_u / c(T_fit), c the exact specific heat per
/// spin, and σ_K = K_fit² σ_T. See [`TemperatureFit`] for the cases without a finite fit.
///
/// # Panics
/// If `l < 2`.
pub fn temperature_fit(l: usize, energy: Estimate) -> TemperatureFit {
    let none = TemperatureFit {
        coupling_fit: None,
        temperature_fit: None,
    };
    let u = energy.value;
    if !u.is_finite() || u >= 0.0 {
        return none;
    }
    match coupling_at_energy_2d(l, l, u) {
        Some(k) => {
            let c = kaufman_thermo(l, l, k).specific_heat_per_spin;
            let error_t = energy.std_error / c;
            TemperatureFit {
                coupling_fit: Some(Estimate {
                    value: k,
                    std_error: k * k * error_t,
                }),
                temperature_fit: Some(Estimate {
                    value: 1.0 / k,
                    std_error: error_t,
                }),
            }
        }
        None if u < kaufman_energy_per_spin(l, l, MAX_FIT_COUPLING) => TemperatureFit {
            coupling_fit: None,
            temperature_fit: Some(Estimate {
                value: 0.0,
                std_error: 0.0,
            }),
        },
        // Between the energy at K = 10⁻⁹ and 0: hot beyond resolution.
        None => none,
    }
}

/// Mean and standard error (σ/√n, the values independent) of `values`.
pub(super) fn mean_and_error(values: &[f64]) -> (Estimate, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (
        Estimate {
            value: mean,
            std_error: (var / n).sqrt(),
        },
        var.sqrt(),
    )
}

/// Measures the ±1 configurations `spins` (rows of L² spins, row-major) of the periodic L×L
/// lattice, taken as independent.
///
/// # Panics
/// If `spins` is empty or not a whole number of L² rows, or `l < 2`.
pub fn read_out(l: usize, spins: &[i8]) -> Readout {
    let lattice = Lattice::Square { l };
    let n = lattice.n_sites();
    assert!(
        !spins.is_empty() && spins.len().is_multiple_of(n),
        "configurations of the wrong size"
    );
    let rows = spins.chunks_exact(n);
    let energies: Vec<f64> = rows
        .clone()
        .map(|s| -(lattice.bond_sum(s) as f64) / n as f64)
        .collect();
    let m: Vec<f64> = rows
        .map(|s| magnetization_sum(s) as f64 / n as f64)
        .collect();
    let abs_m: Vec<f64> = m.iter().map(|x| x.abs()).collect();
    let (energy_per_spin, energy_std) = mean_and_error(&energies);
    let fit = temperature_fit(l, energy_per_spin);
    let canonical_energy_std = fit.coupling_fit.map(|k| {
        let c = kaufman_thermo(l, l, k.value).specific_heat_per_spin;
        (c / n as f64).sqrt() / k.value
    });
    Readout {
        configurations: energies.len(),
        energy_per_spin,
        energy_std,
        canonical_energy_std,
        abs_magnetization: mean_and_error(&abs_m).0,
        magnetization: mean_and_error(&m).0,
        fit,
    }
}

/// ±1 spins from {0, 1} visible values (up where v > ½).
pub fn spins_from_bernoulli(v: &[f32]) -> Vec<i8> {
    v.iter().map(|&x| if x > 0.5 { 1 } else { -1 }).collect()
}

/// `rows` rows of the two ground states in the {0, 1} encoding: the first ⌈rows/2⌉ all up
/// (1), the rest all down (0).
pub fn ground_state_rows(rows: usize, n: usize) -> Vec<f32> {
    let up = rows.div_ceil(2);
    (0..rows)
        .flat_map(|r| std::iter::repeat_n(if r < up { 1.0 } else { 0.0 }, n))
        .collect()
}
