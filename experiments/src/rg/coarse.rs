//! Coarse spins and their couplings: majority-rule block spins at any block side, the nearest-
//! and next-nearest-neighbour correlations of coarse configurations, and the effective
//! coupling K_eff that matches the nearest-neighbour one on the exact periodic lattice.
//!
//! K_eff is defined by one matched correlation: the coupling at which the periodic m×m Ising
//! lattice (Kaufman's exact energy) has the measured G₁, since E/N = −2 G₁ on the square
//! lattice. It does not claim that the coarse distribution is an Ising distribution; G₂ (the
//! diagonal correlation) of the coarse spins beside the Ising lattice's G₂ at K_eff shows how
//! far from nearest-neighbour Ising it is.

use ising_data::config::Checked;
use ising_data::exact::coupling_at_energy_2d;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::rng::Xoshiro256pp;
use ising_data::{Estimate, Lattice};
use serde::{Deserialize, Serialize};

use crate::torus::site;

/// Majority-rule block spins of an L×L configuration with b×b blocks: each block becomes the
/// sign of its sum, ties (an even b², sum 0) broken by a fair coin from `rng`, blocks in
/// row-major order (one coin per tie, in that order). Returns the (L/b)² coarse configuration.
///
/// # Panics
/// If `spins.len() != l * l` or `b` does not divide `l`.
pub fn majority_blocks(spins: &[i8], l: usize, b: usize, rng: &mut Xoshiro256pp) -> Vec<i8> {
    assert_eq!(spins.len(), l * l, "configuration of wrong size");
    assert!(
        b > 0 && l.is_multiple_of(b),
        "the block side {b} must divide L = {l}"
    );
    let m = l / b;
    let mut out = Vec::with_capacity(m * m);
    for r in 0..m {
        for c in 0..m {
            let s: i32 = (0..b)
                .flat_map(|dr| (0..b).map(move |dc| (dr, dc)))
                .map(|(dr, dc)| spins[(b * r + dr) * l + b * c + dc] as i32)
                .sum();
            out.push(match s.signum() {
                1 => 1,
                -1 => -1,
                _ if rng.coin() => 1,
                _ => -1,
            });
        }
    }
    out
}

/// The Pearson correlation of `x` and `y`; NaN when either is constant.
///
/// # Panics
/// If the lengths differ.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len(), "series of different lengths");
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx == 0.0 || syy == 0.0 {
        f64::NAN
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// The mean of per-configuration values with the standard error from up to 20 consecutive
/// blocks (robust to correlations between neighbouring rows; the plain standard error when
/// there are fewer than 40 values).
pub fn blocked_mean(values: &[f64]) -> Estimate {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let blocks = if n >= 40 { 20 } else { n };
    if blocks < 2 {
        return Estimate {
            value: mean,
            std_error: f64::NAN,
        };
    }
    let size = n / blocks;
    let means: Vec<f64> = (0..blocks)
        .map(|k| values[k * size..(k + 1) * size].iter().sum::<f64>() / size as f64)
        .collect();
    let grand = means.iter().sum::<f64>() / blocks as f64;
    let var = means.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (blocks - 1) as f64;
    Estimate {
        value: mean,
        std_error: (var / blocks as f64).sqrt(),
    }
}

/// Correlations of coarse configurations on the periodic m×m lattice, each the mean over
/// configurations with its [`blocked_mean`] error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoarseCorrelations {
    /// ⟨s_i s_j⟩ over nearest-neighbour bonds (right and down from every site).
    pub g1: Estimate,
    /// ⟨s_i s_j⟩ over diagonal next-nearest neighbours (down-right and down-left).
    pub g2: Estimate,
    /// ⟨|m|⟩, m the mean spin of a configuration.
    pub abs_magnetization: Estimate,
    /// The connected nearest-neighbour correlation, Pearson-normalised: the mean over bonds
    /// of (⟨s_i s_j⟩ − ⟨s_i⟩⟨s_j⟩) / √((1 − ⟨s_i⟩²)(1 − ⟨s_j⟩²)) (⟨·⟩ over the
    /// configurations), the correlation of spins of any mean as it would be for spins of mean 0
    /// and variance 1, like the Ising lattice's. There ⟨s_i⟩ vanish by symmetry, so it equals
    /// G₁. Its error is G₁'s times the mean normalisation. Bonds with a frozen spin are left
    /// out.
    pub g1_connected: Estimate,
    /// The same for the diagonal G₂ (`None` in reports written before it existed).
    #[serde(default)]
    pub g2_connected: Option<Estimate>,
}

/// Per-bond sums of ⟨s_i s_j⟩ over configurations, for the connected correlations.
struct BondSums {
    /// For every site i, Σ over configurations of s_i s_j with j at each of the offsets.
    products: Vec<[f64; 4]>,
    site_mean: Vec<f64>,
}

/// The offsets (dx along a row, dy down the rows) of the bonds from a site: right and down
/// (G₁), down-right and down-left (G₂).
const BONDS: [(i32, i32); 4] = [(1, 0), (0, 1), (1, 1), (-1, 1)];

impl BondSums {
    fn neighbour(m: usize, i: usize, (dx, dy): (i32, i32)) -> usize {
        site(m, i % m, i / m, dx, dy)
    }

    /// The Pearson-normalised connected correlation over the bonds `offsets` (indices into
    /// [`BONDS`]), and the mean normalisation factor; `count` configurations.
    fn connected(&self, m: usize, offsets: &[usize], count: f64) -> (f64, f64) {
        let (mut sum, mut scale, mut bonds) = (0.0, 0.0, 0usize);
        for i in 0..m * m {
            for &o in offsets {
                let j = Self::neighbour(m, i, BONDS[o]);
                let (mi, mj) = (self.site_mean[i], self.site_mean[j]);
                let variance = ((1.0 - mi * mi) * (1.0 - mj * mj)).sqrt();
                if variance > 0.0 {
                    sum += (self.products[i][o] / count - mi * mj) / variance;
                    scale += 1.0 / variance;
                    bonds += 1;
                }
            }
        }
        if bonds == 0 {
            return (f64::NAN, f64::NAN);
        }
        (sum / bonds as f64, scale / bonds as f64)
    }
}

/// G₁, G₂ and ⟨|m|⟩ of `configs` (each m×m, row-major ±1).
///
/// # Panics
/// If a configuration is not m×m or there are none.
pub fn coarse_correlations(configs: &[Vec<i8>], m: usize) -> CoarseCorrelations {
    assert!(!configs.is_empty(), "no configurations");
    let (mut g1, mut g2, mut am) = (Vec::new(), Vec::new(), Vec::new());
    let n = (m * m) as f64;
    let mut sums = BondSums {
        products: vec![[0.0; 4]; m * m],
        site_mean: vec![0.0; m * m],
    };
    for s in configs {
        assert_eq!(s.len(), m * m, "configuration of wrong size");
        let (mut a, mut d, mut total) = (0i32, 0i32, 0i32);
        for i in 0..m * m {
            let x = i32::from(s[i]);
            let mut p = [0i32; 4];
            for (o, &offset) in BONDS.iter().enumerate() {
                p[o] = x * i32::from(s[BondSums::neighbour(m, i, offset)]);
                sums.products[i][o] += f64::from(p[o]);
            }
            a += p[0] + p[1];
            d += p[2] + p[3];
            total += x;
        }
        for (mean, &x) in sums.site_mean.iter_mut().zip(s) {
            *mean += f64::from(x) / configs.len() as f64;
        }
        g1.push(f64::from(a) / (2.0 * n));
        g2.push(f64::from(d) / (2.0 * n));
        am.push((f64::from(total) / n).abs());
    }
    let count = configs.len() as f64;
    let (g1, g2) = (blocked_mean(&g1), blocked_mean(&g2));
    let connected = |offsets: &[usize], plain: Estimate| {
        let (value, scale) = sums.connected(m, offsets, count);
        Estimate {
            value,
            std_error: plain.std_error * scale,
        }
    };
    CoarseCorrelations {
        g1,
        g2,
        abs_magnetization: blocked_mean(&am),
        g1_connected: connected(&[0, 1], g1),
        g2_connected: Some(connected(&[2, 3], g2)),
    }
}

/// The effective coupling matched to a nearest-neighbour correlation, with the couplings at
/// G₁ ± one standard error (a one-σ interval).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CouplingFit {
    /// K_eff: the coupling of the periodic m×m lattice whose exact E/N is −2 G₁; `None` when
    /// G₁ ≤ 0 (no ferromagnetic coupling has it) or G₁ is above what K = 10 gives (G₁ ≈ 1,
    /// perfect order: K_eff beyond any finite coupling worth quoting).
    pub k_eff: Option<f64>,
    /// K at G₁ − σ (`None` as above).
    pub k_low: Option<f64>,
    /// K at G₁ + σ.
    pub k_high: Option<f64>,
}

impl CouplingFit {
    /// Half the one-σ interval, where both ends exist.
    pub fn error(&self) -> Option<f64> {
        Some(0.5 * (self.k_high? - self.k_low?))
    }
}

/// K_eff of a measured G₁ on the periodic m×m lattice (see [`CouplingFit`]).
pub fn coupling_fit(m: usize, g1: Estimate) -> CouplingFit {
    let k = |g: f64| coupling_at_energy_2d(m, m, -2.0 * g);
    CouplingFit {
        k_eff: k(g1.value),
        k_low: k(g1.value - g1.std_error),
        k_high: k(g1.value + g1.std_error),
    }
}

/// The Ising lattice's own correlations at coupling `k` on the periodic m×m lattice,
/// measured on `samples` configurations of this crate's validated sampler (Wolff, the default
/// burn-in and spacing, 8 chains) with seed `seed`.
///
/// # Errors
/// If the generator refuses the configuration (e.g. `samples` too small for 8 chains).
pub fn ising_correlations(
    m: usize,
    k: f64,
    samples: usize,
    seed: u64,
) -> anyhow::Result<CoarseCorrelations> {
    Ok(coarse_correlations(
        &ising_configurations(m, k, samples, seed)?,
        m,
    ))
}

/// `samples` configurations of the Ising lattice at coupling `k` on the periodic m×m lattice,
/// from this crate's validated sampler (Wolff, the default burn-in and spacing, 8 chains, chain
/// after chain) with seed `seed`.
///
/// # Errors
/// If the generator refuses the configuration (e.g. `samples` too small for 8 chains).
pub fn ising_configurations(
    m: usize,
    k: f64,
    samples: usize,
    seed: u64,
) -> anyhow::Result<Vec<Vec<i8>>> {
    let spacing = GenerateConfig::new(Lattice::Square { l: m }, k, samples, seed).spacing_sweeps;
    ising_configurations_spaced(m, k, samples, spacing, seed)
}

/// As [`ising_configurations`], `spacing` sweep-equivalents apart.
///
/// # Errors
/// As [`ising_configurations`].
pub fn ising_configurations_spaced(
    m: usize,
    k: f64,
    samples: usize,
    spacing: usize,
    seed: u64,
) -> anyhow::Result<Vec<Vec<i8>>> {
    let lattice = Lattice::Square { l: m };
    let config = GenerateConfig {
        spacing_sweeps: spacing,
        ..GenerateConfig::new(lattice, k, samples, seed)
    };
    let generated = generate(&config.validated()?, &|_| {});
    Ok(generated.spins.chunks(m * m).map(<[i8]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ising_data::exact::{enumerate_square, kaufman_energy_per_spin};

    /// 4×4 blocks of random configurations against a count of each block's spins written out
    /// here: every untied block takes the sign of its sum, and the ties (8 up, 8 down; about a
    /// fifth of the blocks) go up half the time (within 4σ of ½ over some 3 000 ties).
    #[test]
    fn four_by_four_blocks_take_the_sign_and_break_ties_by_a_fair_coin() {
        let (l, b) = (16, 4);
        let mut rng = Xoshiro256pp::seed_from_u64(3);
        let mut coins = Xoshiro256pp::seed_from_u64(9);
        let (mut ties, mut up) = (0usize, 0usize);
        for _ in 0..1_000 {
            let spins: Vec<i8> = (0..l * l)
                .map(|_| if rng.coin() { 1 } else { -1 })
                .collect();
            let blocks = majority_blocks(&spins, l, b, &mut coins);
            for (k, &block) in blocks.iter().enumerate() {
                let (r0, c0) = (k / (l / b) * b, k % (l / b) * b);
                let mut sum = 0i32;
                for r in r0..r0 + b {
                    for c in c0..c0 + b {
                        sum += i32::from(spins[r * l + c]);
                    }
                }
                match sum.signum() {
                    0 => {
                        ties += 1;
                        up += usize::from(block == 1);
                    }
                    sign => assert_eq!(i32::from(block), sign, "block {k}: sum {sum}"),
                }
            }
        }
        let fraction = up as f64 / ties as f64;
        let sigma = (0.25 / ties as f64).sqrt();
        assert!(ties > 2_500, "{ties} ties");
        assert!(
            (fraction - 0.5).abs() < 4.0 * sigma,
            "{up} of {ties} ties up"
        );
    }

    /// A mixture: with probability ½ every spin up, otherwise independent fair spins. Then
    /// ⟨s⟩ = ½ and ⟨s_i s_j⟩ = ½ for every pair, so the Pearson correlation of any pair is
    /// (½ − ¼) / (1 − ¼) = ⅓, where the unnormalised covariance would say ¼.
    #[test]
    fn connected_correlations_are_pearson_normalised() {
        let m = 6;
        let mut rng = Xoshiro256pp::seed_from_u64(21);
        let configs: Vec<Vec<i8>> = (0..20_000)
            .map(|_| {
                let ordered = rng.coin();
                (0..m * m)
                    .map(|_| if ordered || rng.coin() { 1 } else { -1 })
                    .collect()
            })
            .collect();
        let c = coarse_correlations(&configs, m);
        for g in [c.g1_connected, c.g2_connected.unwrap()] {
            assert!((g.value - 1.0 / 3.0).abs() < 0.02, "{g}");
        }
        // The plain G₁ is ⟨s_i s_j⟩ = ½.
        assert!((c.g1.value - 0.5).abs() < 0.02, "{}", c.g1);
    }

    #[test]
    fn majority_blocks_take_the_sign_of_each_block() {
        // 6×6 with 3×3 blocks (odd: no ties): block (0, 0) has five up spins of nine.
        let mut spins = vec![-1i8; 36];
        for i in [0, 1, 2, 6, 7] {
            spins[i] = 1;
        }
        // Block (1, 1) all up.
        for r in 3..6 {
            for c in 3..6 {
                spins[r * 6 + c] = 1;
            }
        }
        let mut rng = Xoshiro256pp::seed_from_u64(1);
        assert_eq!(majority_blocks(&spins, 6, 3, &mut rng), vec![1, -1, -1, 1]);
    }

    #[test]
    fn correlations_of_ordered_and_checkerboard_configurations() {
        let up = vec![vec![1i8; 16]];
        let c = coarse_correlations(&up, 4);
        assert_eq!(
            (c.g1.value, c.g2.value, c.abs_magnetization.value),
            (1.0, 1.0, 1.0)
        );
        let board: Vec<i8> = (0..16)
            .map(|i| if (i / 4 + i % 4) % 2 == 0 { 1 } else { -1 })
            .collect();
        let c = coarse_correlations(&[board], 4);
        assert_eq!(
            (c.g1.value, c.g2.value, c.abs_magnetization.value),
            (-1.0, 1.0, 0.0)
        );
    }

    #[test]
    fn independent_biased_spins_have_no_connected_correlation() {
        // Independent spins, up with probability 0.9 (⟨s⟩ = 0.8): G₁ ≈ 0.64 from the bias
        // alone, the connected G₁ ≈ 0 (within 4σ of G₁'s error).
        let mut rng = Xoshiro256pp::seed_from_u64(8);
        let configs: Vec<Vec<i8>> = (0..4000)
            .map(|_| {
                (0..64)
                    .map(|_| if rng.next_f64() < 0.9 { 1 } else { -1 })
                    .collect()
            })
            .collect();
        let c = coarse_correlations(&configs, 8);
        assert!((c.g1.value - 0.64).abs() < 4.0 * c.g1.std_error, "{}", c.g1);
        assert!(
            c.g1_connected.value.abs() < 4.0 * c.g1.std_error,
            "{}",
            c.g1_connected
        );
    }

    #[test]
    fn the_coupling_fit_inverts_the_exact_energy() {
        for (m, k) in [(5, 0.3), (10, 0.44), (20, 0.5)] {
            let g1 = -kaufman_energy_per_spin(m, m, k) / 2.0;
            let fit = coupling_fit(
                m,
                Estimate {
                    value: g1,
                    std_error: 1e-3,
                },
            );
            assert!((fit.k_eff.unwrap() - k).abs() < 1e-9, "m = {m}, K = {k}");
            assert!(fit.k_low.unwrap() < k && k < fit.k_high.unwrap());
        }
        let none = coupling_fit(
            10,
            Estimate {
                value: -0.1,
                std_error: 0.01,
            },
        );
        assert_eq!((none.k_eff, none.error()), (None, None));
    }

    /// The Ising lattice's measured G₁ and G₂ against exact enumeration of the 4×4 torus
    /// (2¹⁶ states): E/N = −2 G₁ exactly, and G₂ summed over the Boltzmann weights. Within 4σ.
    #[test]
    fn ising_correlations_agree_with_enumeration_of_the_4x4_torus() {
        let (m, k) = (4, 0.4);
        let measured = ising_correlations(m, k, 16_000, 21).unwrap();
        let exact_g1 = -enumerate_square(m, m, k).energy_per_spin / 2.0;
        let (mut z, mut g2) = (0.0, 0.0);
        for state in 0u32..1 << 16 {
            let s: Vec<i8> = (0..16)
                .map(|i| if state >> i & 1 == 1 { 1 } else { -1 })
                .collect();
            let c = coarse_correlations(&[s], m);
            let w = (k * 2.0 * 16.0 * c.g1.value).exp();
            z += w;
            g2 += w * c.g2.value;
        }
        let exact_g2 = g2 / z;
        assert!(
            measured.g1.sigmas_from(exact_g1) < 4.0,
            "G1 {} vs {exact_g1}",
            measured.g1
        );
        assert!(
            measured.g2.sigmas_from(exact_g2) < 4.0,
            "G2 {} vs {exact_g2}",
            measured.g2
        );
        // A real test: the errors are small enough to tell G₁ from G₂.
        assert!(measured.g1.std_error < 0.01 && (exact_g1 - exact_g2).abs() > 0.05);
    }
}
