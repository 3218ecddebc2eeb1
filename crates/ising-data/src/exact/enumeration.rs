//! Brute-force enumeration of small periodic lattices: exact density of states, energy
//! distribution and thermodynamics, independent of any formula.

use super::thermo::Thermo;

/// Largest number of spins [`enumerate_square`] and [`energy_histogram_square`] accept.
pub const MAX_ENUMERATED_SPINS: usize = 30;

/// Exact density of states of the periodic `m × n` square lattice by enumeration of all
/// `2^{mn}` configurations: the energies `E = −Σ_⟨ij⟩ s_i s_j` that occur, in increasing
/// order, each with the number of configurations that have it.
///
/// Site `(i, j)` is bonded to `(i+1 mod m, j)` and `(i, j+1 mod n)`, so the lattice always
/// has `2mn` bonds; for `m = 2` (or `n = 2`) two of them join the same pair of spins, as
/// in Kaufman's formula. Configurations are visited in Gray-code order with spin 0 held
/// fixed (the global spin flip doubles the counts), so each step costs one local-field
/// evaluation; a 5×5 lattice takes a few tens of milliseconds in release builds.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `m n > 30` ([`MAX_ENUMERATED_SPINS`]).
pub fn energy_histogram_square(m: usize, n: usize) -> Vec<(i64, u64)> {
    assert!(
        m >= 2 && n >= 2,
        "the periodic lattice must be at least 2×2, got {m}×{n}"
    );
    let n_spins = m * n;
    assert!(
        n_spins <= MAX_ENUMERATED_SPINS,
        "enumeration is limited to {MAX_ENUMERATED_SPINS} spins, got {m}×{n}"
    );
    // Neighbour list with multiplicity: up, down, left, right.
    let site = |i: usize, j: usize| (i % m) * n + (j % n);
    let neighbours: Vec<[usize; 4]> = (0..n_spins)
        .map(|s| {
            let (i, j) = (s / n, s % n);
            [
                site(i + m - 1, j),
                site(i + 1, j),
                site(i, j + n - 1),
                site(i, j + 1),
            ]
        })
        .collect();
    let n_bonds = 2 * n_spins as i64;
    let mut spins = vec![1_i64; n_spins];
    let mut energy = -n_bonds; // all spins up
    let mut counts = vec![0_u64; (2 * n_bonds + 1) as usize];
    counts[0] += 1;
    // Gray code over spins 1..N: step t flips spin 1 + trailing_zeros(t).
    for step in 1_u64..(1_u64 << (n_spins - 1)) {
        let s = 1 + step.trailing_zeros() as usize;
        let nb = &neighbours[s];
        let field = spins[nb[0]] + spins[nb[1]] + spins[nb[2]] + spins[nb[3]];
        energy += 2 * spins[s] * field;
        spins[s] = -spins[s];
        counts[(energy + n_bonds) as usize] += 1;
    }
    counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(idx, &c)| (idx as i64 - n_bonds, 2 * c))
        .collect()
}

/// `ln Σ_i e^{x_i}` with the largest term factored out.
pub(super) fn log_sum_exp(xs: &[f64]) -> f64 {
    let top = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + xs.iter().map(|x| (x - top).exp()).sum::<f64>().ln()
}

/// Exact Boltzmann distribution of the energy of the periodic `m × n` square lattice at
/// coupling `k`, from the enumerated density of states ([`energy_histogram_square`]):
/// `P(E) = g(E) e^{−K E} / Z`, in increasing order of `E`.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, `m n > 30`, or `k` is not finite.
pub fn boltzmann_energy_distribution(m: usize, n: usize, k: f64) -> Vec<(i64, f64)> {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    let histogram = energy_histogram_square(m, n);
    let log_weights: Vec<f64> = histogram
        .iter()
        .map(|&(e, g)| (g as f64).ln() - k * e as f64)
        .collect();
    let log_z = log_sum_exp(&log_weights);
    histogram
        .iter()
        .zip(&log_weights)
        .map(|(&(e, _), lw)| (e, (lw - log_z).exp()))
        .collect()
}

/// Exact thermodynamics of the periodic `m × n` square lattice by brute-force enumeration
/// of all `2^{mn}` configurations (see [`energy_histogram_square`] for the bond
/// convention): `ln Z` by log-sum-exp over the density of states, `u = ⟨E⟩/N`,
/// `c = K² var(E)/N` and `s = ln Z/N + K u`.
///
/// Independent of [`kaufman_thermo`](crate::exact::kaufman_thermo), which it is used to check. To
/// evaluate many
/// couplings, enumerate once with [`energy_histogram_square`] and call
/// [`thermo_from_density_of_states`] for each.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, `m n > 30`, or `k` is not finite.
pub fn enumerate_square(m: usize, n: usize, k: f64) -> Thermo {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    thermo_from_density_of_states(&energy_histogram_square(m, n), m * n, k)
}

/// Thermodynamics of `n_spins` spins at coupling `k` from an exact density of states
/// `g(E)` (pairs `(E, g(E))`, as returned by [`energy_histogram_square`]):
/// `ln Z = ln Σ_E g(E) e^{−K E}` by log-sum-exp, `u = ⟨E⟩/N`, `c = K² var(E)/N` (the
/// variance summed about the mean, without cancellation) and `s = ln Z/N + K u`.
///
/// # Panics
///
/// If `histogram` is empty, `n_spins == 0`, or `k` is not finite.
pub fn thermo_from_density_of_states(histogram: &[(i64, u64)], n_spins: usize, k: f64) -> Thermo {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    assert!(
        !histogram.is_empty() && n_spins > 0,
        "need a non-empty density of states and at least one spin"
    );
    let log_weights: Vec<f64> = histogram
        .iter()
        .map(|&(e, g)| (g as f64).ln() - k * e as f64)
        .collect();
    let log_z = log_sum_exp(&log_weights);
    let probs: Vec<f64> = log_weights.iter().map(|lw| (lw - log_z).exp()).collect();
    let mean: f64 = histogram
        .iter()
        .zip(&probs)
        .map(|(&(e, _), p)| p * e as f64)
        .sum();
    let var: f64 = histogram
        .iter()
        .zip(&probs)
        .map(|(&(e, _), p)| p * (e as f64 - mean).powi(2))
        .sum();
    let n_spins = n_spins as f64;
    let energy_per_spin = mean / n_spins;
    Thermo {
        log_partition: log_z,
        energy_per_spin,
        specific_heat_per_spin: k * k * var / n_spins,
        entropy_per_spin: log_z / n_spins + k * energy_per_spin,
    }
}
