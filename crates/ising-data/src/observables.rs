//! Thermodynamic observables of a set of Ising configurations, with autocorrelation-aware
//! errors (bins within chains, jackknife across bins).
//!
//! Conventions (energies in units of J, per spin; e = E/N, m = M/N):
//! - specific heat per spin c = K² N (⟨e²⟩ − ⟨e⟩²);
//! - susceptibility per spin, two named forms: `susceptibility`, χ′ = K N (⟨m²⟩ − ⟨|m|⟩²),
//!   the finite-lattice estimator that stays finite in the ordered phase, and
//!   `susceptibility_zero_field`, χ = K N ⟨m²⟩, the standard form in zero field in the
//!   paramagnetic phase (where ⟨m⟩ = 0 by symmetry);
//! - second-moment correlation length ξ₂ = √(χ̃(0)/χ̃(k) − 1) / (2 sin(k/2)) with k = 2π/L the
//!   smallest nonzero wave number along an axis and χ̃(q) = ⟨|Σ_x s_x e^{i q x}|²⟩ / N the
//!   structure factor (averaged over both axes in 2D; Cooper, Freedman & Preston 1982);
//! - Binder cumulant U₄ = 1 − ⟨m⁴⟩ / (3 ⟨m²⟩²);
//! - G(r) = ⟨s_i s_{i+r}⟩ averaged over sites and, in 2D, over both lattice axes.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::lattice::{Lattice, magnetization_sum};
use crate::stats::{Estimate, bin_means, jackknife};

/// Observables measured on a set of configurations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observables {
    /// Number of configurations used.
    pub samples: usize,
    /// Energy per spin ⟨e⟩ (including the field term).
    pub energy_per_spin: Estimate,
    /// ⟨|m|⟩.
    pub abs_magnetization: Estimate,
    /// ⟨m²⟩.
    pub magnetization_sq: Estimate,
    /// Specific heat per spin.
    pub specific_heat: Estimate,
    /// Susceptibility per spin χ′ = K N (⟨m²⟩ − ⟨|m|⟩²) (see the module docs).
    pub susceptibility: Estimate,
    /// Susceptibility per spin χ = K N ⟨m²⟩, the zero-field paramagnetic form (absent in
    /// manifests written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub susceptibility_zero_field: Option<Estimate>,
    /// Second-moment correlation length ξ₂ in lattice spacings (see the module docs; absent
    /// in manifests written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_moment_length: Option<Estimate>,
    /// Binder cumulant.
    pub binder: Estimate,
    /// G(r) for r = 0, …, ⌊size/2⌋, when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlation: Vec<Estimate>,
}

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct MeasureOptions {
    /// Coupling K (enters c and χ).
    pub coupling: f64,
    /// Field h = H/kT of the Boltzmann weight exp(K Σ ss + h Σ s) (the energy, in units of
    /// J, has the field term (h/K) Σ s).
    pub field: f64,
    /// Whether to measure G(r) (costs O(N · size) per configuration).
    pub correlation: bool,
    /// Bins per chain for the jackknife.
    pub bins_per_chain: usize,
}

/// Number of primary per-sample quantities before G(r): e, e², |m|, m², m⁴, χ̃(k_min)/N.
const BASE_Q: usize = 6;

/// |Σ_x s_x e^{i k x}|² / N² of one configuration at the smallest nonzero wave number
/// k = 2π/L along each axis (averaged over the two axes in 2D): the structure factor at
/// k_min divided by N, to sit beside m² (the same at k = 0).
pub fn configuration_structure_factor(lattice: &Lattice, s: &[i8]) -> f64 {
    let size = lattice.size();
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..size)
        .map(|x| {
            let phase = 2.0 * std::f64::consts::PI * x as f64 / size as f64;
            (phase.cos(), phase.sin())
        })
        .unzip();
    let n = lattice.n_sites() as f64;
    match *lattice {
        Lattice::Ring { .. } => {
            let (re, im) = s.iter().enumerate().fold((0.0, 0.0), |(re, im), (x, &v)| {
                (re + f64::from(v) * cos[x], im + f64::from(v) * sin[x])
            });
            (re * re + im * im) / (n * n)
        }
        Lattice::Square { l } => {
            // Row sums give the transform along the column axis and the other way round.
            let mut rows = vec![0i64; l];
            let mut cols = vec![0i64; l];
            for (i, &v) in s.iter().enumerate() {
                rows[i / l] += i64::from(v);
                cols[i % l] += i64::from(v);
            }
            let power = |sums: &[i64]| {
                let (re, im) = sums
                    .iter()
                    .enumerate()
                    .fold((0.0, 0.0), |(re, im), (x, &v)| {
                        (re + v as f64 * cos[x], im + v as f64 * sin[x])
                    });
                re * re + im * im
            };
            0.5 * (power(&rows) + power(&cols)) / (n * n)
        }
    }
}

/// G(r) of one configuration for r = 0..=rmax, averaged over sites (and axes in 2D).
pub fn configuration_correlation(lattice: &Lattice, s: &[i8], out: &mut [f64]) {
    let rmax = out.len() - 1;
    match *lattice {
        Lattice::Ring { n } => {
            for (r, o) in out.iter_mut().enumerate().take(rmax + 1) {
                let sum: i64 = (0..n).map(|i| (s[i] * s[(i + r) % n]) as i64).sum();
                *o = sum as f64 / n as f64;
            }
        }
        Lattice::Square { l } => {
            for (r, o) in out.iter_mut().enumerate().take(rmax + 1) {
                let mut sum = 0i64;
                for row in 0..l {
                    let a = &s[row * l..(row + 1) * l];
                    let b = &s[((row + r) % l) * l..((row + r) % l + 1) * l];
                    for c in 0..l {
                        sum += (a[c] * (a[(c + r) % l] + b[c])) as i64;
                    }
                }
                *o = sum as f64 / (2 * l * l) as f64;
            }
        }
    }
}

/// Measures [`Observables`] on `chains`, each a flat array of configurations of `lattice`
/// stored one after another (as in a dataset file), in the order the chain produced them.
///
/// # Panics
/// If a chain's length is not a multiple of the number of sites.
pub fn measure(lattice: &Lattice, chains: &[&[i8]], opts: MeasureOptions) -> Observables {
    let n = lattice.n_sites();
    let rmax = lattice.size() / 2;
    let q = BASE_Q + if opts.correlation { rmax + 1 } else { 0 };
    let rows: Vec<Vec<f64>> = chains
        .iter()
        .map(|chain| {
            assert_eq!(chain.len() % n, 0, "chain length is not a multiple of N");
            chain
                .par_chunks(n)
                .flat_map_iter(|s| {
                    let e = lattice.energy_at(s, opts.coupling, opts.field) / n as f64;
                    let m = magnetization_sum(s) as f64 / n as f64;
                    let f = configuration_structure_factor(lattice, s);
                    let mut row = vec![e, e * e, m.abs(), m * m, m.powi(4), f];
                    if opts.correlation {
                        let mut g = vec![0.0; rmax + 1];
                        configuration_correlation(lattice, s, &mut g);
                        row.extend(g);
                    }
                    row
                })
                .collect()
        })
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let (means, weights) = bin_means(&refs, q, opts.bins_per_chain);
    let jk = |f: &dyn Fn(&[f64]) -> f64| jackknife(&means, &weights, q, f);
    let (nf, k) = (n as f64, opts.coupling);
    Observables {
        samples: chains.iter().map(|c| c.len() / n).sum(),
        energy_per_spin: jk(&|v| v[0]),
        abs_magnetization: jk(&|v| v[2]),
        magnetization_sq: jk(&|v| v[3]),
        specific_heat: jk(&|v| k * k * nf * (v[1] - v[0] * v[0])),
        susceptibility: jk(&|v| k * nf * (v[3] - v[2] * v[2])),
        susceptibility_zero_field: Some(jk(&|v| k * nf * v[3])),
        second_moment_length: Some(jk(&|v| {
            let size = lattice.size() as f64;
            // χ̃(0)/χ̃(k) = ⟨m²⟩ / (χ̃(k)/N); NaN when the ratio is below 1 (no correlation
            // length can be defined from this sample).
            (v[3] / v[5] - 1.0).sqrt() / (2.0 * (std::f64::consts::PI / size).sin())
        })),
        binder: jk(&|v| 1.0 - v[4] / (3.0 * v[3] * v[3])),
        correlation: if opts.correlation {
            (0..=rmax).map(|r| jk(&|v| v[BASE_Q + r])).collect()
        } else {
            Vec::new()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: &[f64], want: &[f64]) {
        assert!(
            got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{got:?} != {want:?}"
        );
    }

    #[test]
    fn correlation_of_simple_configurations() {
        // Ordered: G(r) = 1. Néel on even L: G(r) = (−1)^r.
        let lat = Lattice::Square { l: 4 };
        let mut g = vec![0.0; 3];
        configuration_correlation(&lat, &[1i8; 16], &mut g);
        assert_close(&g, &[1.0, 1.0, 1.0]);
        let neel: Vec<i8> = (0..16)
            .map(|i| if (i / 4 + i % 4) % 2 == 0 { 1 } else { -1 })
            .collect();
        configuration_correlation(&lat, &neel, &mut g);
        assert_close(&g, &[1.0, -1.0, 1.0]);
        // Stripes along rows: horizontal pairs agree, vertical pairs alternate; the axis
        // average of G(1) is (1 + (−1))/2 = 0 and of G(2) is 1.
        let stripes: Vec<i8> = (0..16)
            .map(|i| if (i / 4) % 2 == 0 { 1 } else { -1 })
            .collect();
        configuration_correlation(&lat, &stripes, &mut g);
        assert_close(&g, &[1.0, 0.0, 1.0]);
    }
}
