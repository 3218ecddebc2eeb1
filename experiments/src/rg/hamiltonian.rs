//! The effective Hamiltonian of ±1 configurations on an m×m torus, −H/kT = Σ_α K_α S_α over
//! translation-invariant operators ([`super::operators`]), fitted by maximum pseudo-likelihood
//! (Besag 1975): the product over sites of p(s_i | the other spins) = e^{s_i φ_i} / 2 cosh φ_i
//! with φ_i = Σ_α K_α ∂S_α/∂s_i. Its logarithm is concave in K, so Newton's method finds the
//! one maximum; the partition function is never needed.
//!
//! Errors come from the sandwich estimator I⁻¹ J I⁻¹: I is the observed information (minus
//! the Hessian), J the spread of the score summed over blocks of consecutive configurations, so
//! that correlation within a configuration and between neighbouring configurations of a chain
//! is accounted for.

use std::collections::BTreeMap;

use anyhow::{Result, bail, ensure};
use ising_data::Estimate;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::mcrg::block_range;
use super::operators::{HAMILTONIAN, Operator, Torus};

/// Newton steps before the fit gives up (it converges in under ten from K = 0).
const MAX_ITERATIONS: usize = 50;
/// Operators one fit takes at most.
const MAX_OPERATORS: usize = 9;
/// Convergence: the largest change of a coupling in a Newton step.
const TOLERANCE: f64 = 1e-10;
/// A coupling this large means the pseudo-likelihood has no finite maximum (perfectly ordered
/// or perfectly separable data).
const DIVERGED: f64 = 50.0;

/// One fitted coupling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Coupling {
    /// The operator it multiplies.
    pub operator: Operator,
    /// Its value, with its standard error (sandwich estimator).
    pub value: Estimate,
}

/// A pseudo-likelihood fit of a translation-invariant Hamiltonian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HamiltonianFit {
    /// The couplings, in the order of the operators fitted.
    pub couplings: Vec<Coupling>,
    /// Configurations fitted.
    pub configurations: usize,
    /// Side m of the m×m torus.
    pub side: usize,
    /// Blocks of consecutive configurations of the sandwich estimator.
    pub error_blocks: usize,
    /// Newton steps taken.
    pub iterations: usize,
}

impl HamiltonianFit {
    /// The fitted coupling of `operator`, if it was fitted.
    pub fn coupling(&self, operator: Operator) -> Option<Estimate> {
        self.couplings
            .iter()
            .find(|c| c.operator == operator)
            .map(|c| c.value)
    }
}

/// The coarse spins' effective Hamiltonian: field h, nearest K₁, diagonal K₂, distance-2 K₃
/// and plaquette K₄ ([`HAMILTONIAN`]), fitted to `configs` ([`fit`]).
///
/// # Errors
/// As [`fit`].
pub fn effective_hamiltonian(
    configs: &[Vec<i8>],
    m: usize,
    error_blocks: usize,
) -> Result<HamiltonianFit> {
    fit(configs, m, &HAMILTONIAN, error_blocks)
}

/// The maximum pseudo-likelihood couplings of `operators` for `configs` (row-major m×m ±1
/// spins), with sandwich errors over `error_blocks` blocks of consecutive configurations.
///
/// # Errors
/// If there are fewer configurations than blocks or fewer than two blocks, if a configuration
/// has the wrong size, or if the pseudo-likelihood has no finite maximum (the configurations
/// are too ordered for the operators, e.g. all spins equal).
pub fn fit(
    configs: &[Vec<i8>],
    m: usize,
    operators: &[Operator],
    error_blocks: usize,
) -> Result<HamiltonianFit> {
    ensure!(
        error_blocks >= 2 && configs.len() >= error_blocks,
        "the effective Hamiltonian needs at least {error_blocks} configurations (and 2 blocks), got {}",
        configs.len()
    );
    ensure!(
        m >= 3,
        "the effective Hamiltonian needs a side of 3 or more, got {m}"
    );
    if let Some(c) = configs.iter().position(|c| c.len() != m * m) {
        bail!(
            "configuration {c} has {} spins, not {m}×{m}",
            configs[c].len()
        );
    }
    let data = Features::new(configs, m, operators, error_blocks);
    let (couplings, information, iterations) = maximise(&data)?;
    let errors = sandwich_errors(&data, &couplings, information)?;
    let undetermined = operators
        .iter()
        .zip(&errors)
        .find(|(_, e)| !e.is_finite() || **e > DIVERGED);
    if let Some((operator, e)) = undetermined {
        bail!(
            "the configurations do not determine the {} term (standard error \
             {e:.3e}): too few, or too ordered",
            operator.label()
        );
    }
    Ok(HamiltonianFit {
        couplings: operators
            .iter()
            .zip(couplings.iter().zip(&errors))
            .map(|(&operator, (&value, &std_error))| Coupling {
                operator,
                value: Estimate { value, std_error },
            })
            .collect(),
        configurations: configs.len(),
        side: m,
        error_blocks,
        iterations,
    })
}

/// A site's spin and its operators' local fields.
type Pattern = (i8, [i8; MAX_OPERATORS]);

/// The data as the pseudo-likelihood sees them: the distinct patterns of (spin, local fields)
/// over all sites of all configurations (a few hundred at most for small local fields), and how
/// often each occurs in each block of consecutive configurations.
struct Features {
    /// Operators fitted.
    p: usize,
    patterns: Vec<Pattern>,
    /// `counts[block][pattern]`.
    counts: Vec<Vec<f64>>,
}

impl Features {
    fn new(configs: &[Vec<i8>], m: usize, operators: &[Operator], blocks: usize) -> Self {
        let torus = Torus::new(m);
        let per_block: Vec<BTreeMap<Pattern, f64>> = (0..blocks)
            .into_par_iter()
            .map(|b| {
                let mut counts = BTreeMap::new();
                for config in &configs[block_range(b, blocks, configs.len())] {
                    let fields: Vec<Vec<i32>> = operators
                        .iter()
                        .map(|op| op.local_fields(&torus, config))
                        .collect();
                    for (i, &s) in config.iter().enumerate() {
                        let mut f = [0i8; MAX_OPERATORS];
                        for (a, field) in fields.iter().enumerate() {
                            // A local field counts products through one site: at most 12 here.
                            f[a] = i8::try_from(field[i]).expect("a local field fits a byte");
                        }
                        *counts.entry((s, f)).or_insert(0.0) += 1.0;
                    }
                }
                counts
            })
            .collect();
        let all: BTreeMap<Pattern, ()> = per_block
            .iter()
            .flat_map(|c| c.keys().map(|&k| (k, ())))
            .collect();
        let patterns: Vec<Pattern> = all.into_keys().collect();
        let counts = per_block
            .iter()
            .map(|c| {
                patterns
                    .iter()
                    .map(|k| c.get(k).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        Self {
            p: operators.len(),
            patterns,
            counts,
        }
    }

    /// Every pattern's count over all blocks.
    fn total_counts(&self) -> Vec<f64> {
        (0..self.patterns.len())
            .map(|j| self.counts.iter().map(|c| c[j]).sum())
            .collect()
    }

    /// Log pseudo-likelihood, score and information of patterns occurring `weights` times.
    fn moments(&self, k: &DVector<f64>, weights: &[f64]) -> (f64, DVector<f64>, DMatrix<f64>) {
        let (mut log_pl, mut score) = (0.0, DVector::zeros(self.p));
        let mut information = DMatrix::zeros(self.p, self.p);
        for (&(s, fields), &w) in self.patterns.iter().zip(weights) {
            if w == 0.0 {
                continue;
            }
            let f = fields.map(f64::from);
            let phi: f64 = f.iter().zip(k.iter()).map(|(f, k)| f * k).sum();
            let (s, t) = (f64::from(s), phi.tanh());
            log_pl += w * (s * phi - log_2cosh(phi));
            for a in 0..self.p {
                score[a] += w * (s - t) * f[a];
                for b in 0..=a {
                    information[(a, b)] += w * (1.0 - t * t) * f[a] * f[b];
                }
            }
        }
        information.fill_upper_triangle_with_lower_triangle();
        (log_pl, score, information)
    }
}

/// ln(2 cosh φ), without overflow.
fn log_2cosh(phi: f64) -> f64 {
    let a = phi.abs();
    a + (-2.0 * a).exp().ln_1p()
}

/// Newton's method from K = 0, halving a step that lowers the pseudo-likelihood. Returns the
/// couplings, the information matrix there and the steps taken.
fn maximise(data: &Features) -> Result<(DVector<f64>, DMatrix<f64>, usize)> {
    let all = data.total_counts();
    let mut k = DVector::zeros(data.p);
    let (mut log_pl, mut score, mut information) = data.moments(&k, &all);
    for iteration in 1..=MAX_ITERATIONS {
        let Some(step) = information.clone().cholesky().map(|c| c.solve(&score)) else {
            bail!(
                "the pseudo-likelihood is flat in some coupling: the configurations do not \
                 tell the operators apart (too few, or too ordered)"
            );
        };
        let mut scale = 1.0;
        let next = loop {
            let trial = &k + &step * scale;
            let moments = data.moments(&trial, &all);
            if moments.0 >= log_pl - 1e-12 * log_pl.abs() || scale < 1e-6 {
                break (trial, moments);
            }
            scale /= 2.0;
        };
        let change = (&next.0 - &k).amax();
        (k, (log_pl, score, information)) = next;
        if k.amax() > DIVERGED {
            bail!(
                "the pseudo-likelihood has no finite maximum (a coupling passed {DIVERGED}): the \
                 configurations are too ordered to fit"
            );
        }
        if change < TOLERANCE {
            return Ok((k, information, iteration));
        }
    }
    bail!("the pseudo-likelihood fit did not converge in {MAX_ITERATIONS} Newton steps")
}

/// Standard errors I⁻¹ J I⁻¹ (I the `information` at the maximum `k`) with
/// J = B/(B−1) Σ_b g_b g_bᵀ over the blocks b of configurations.
fn sandwich_errors(
    data: &Features,
    k: &DVector<f64>,
    information: DMatrix<f64>,
) -> Result<Vec<f64>> {
    let Some(inverse) = information.try_inverse() else {
        bail!("the pseudo-likelihood's information matrix is singular at its maximum");
    };
    let mut spread = DMatrix::zeros(data.p, data.p);
    for counts in &data.counts {
        let g = data.moments(k, counts).1;
        spread += &g * g.transpose();
    }
    let blocks = data.counts.len() as f64;
    spread *= blocks / (blocks - 1.0);
    let covariance = &inverse * spread * &inverse;
    Ok((0..data.p).map(|a| covariance[(a, a)].sqrt()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rg::coarse::ising_configurations;
    use ising_data::rng::Xoshiro256pp;

    /// Configurations of −H/kT = Σ K_α S_α by single-spin Metropolis on the m×m torus: a
    /// sampler of its own, independent of the fit, `spacing` sweeps apart after 500.
    fn metropolis(
        m: usize,
        couplings: &[(Operator, f64)],
        samples: usize,
        spacing: usize,
        seed: u64,
    ) -> Vec<Vec<i8>> {
        let mut rng = Xoshiro256pp::seed_from_u64(seed);
        let mut spins: Vec<i8> = (0..m * m)
            .map(|_| if rng.coin() { 1 } else { -1 })
            .collect();
        let mut sweep = |spins: &mut Vec<i8>| {
            for _ in 0..m * m {
                let i = rng.below(m * m);
                let phi: f64 = couplings
                    .iter()
                    .map(|&(op, k)| k * f64::from(op.direct_local_field(spins, m, i)))
                    .sum();
                // ln p(flipped) − ln p(now) = −2 s_i φ_i.
                if rng.next_f64() < (-2.0 * f64::from(spins[i]) * phi).exp() {
                    spins[i] = -spins[i];
                }
            }
        };
        for _ in 0..500 {
            sweep(&mut spins);
        }
        (0..samples)
            .map(|_| {
                for _ in 0..spacing {
                    sweep(&mut spins);
                }
                spins.clone()
            })
            .collect()
    }

    /// Every fitted coupling within 4σ of the truth (0 where not named), and the errors small
    /// enough that the check means something.
    fn assert_recovers(fit: &HamiltonianFit, truth: &[(Operator, f64)], max_error: f64) {
        for c in &fit.couplings {
            let expected = truth
                .iter()
                .find(|t| t.0 == c.operator)
                .map_or(0.0, |t| t.1);
            assert!(
                c.value.sigmas_from(expected) < 4.0 && c.value.std_error < max_error,
                "{:?}: fitted {:.4} ± {:.4}, true {expected}",
                c.operator,
                c.value.value,
                c.value.std_error
            );
        }
    }

    #[test]
    fn wolff_samples_of_the_ising_model_give_its_coupling_alone() {
        let m = 16;
        for (k, seed) in [(0.3, 1), (0.4406868, 2), (0.5, 3)] {
            let configs = ising_configurations(m, k, 2_000, seed).unwrap();
            let fit = effective_hamiltonian(&configs, m, 20).unwrap();
            assert_recovers(&fit, &[(Operator::Nearest, k)], 0.02);
        }
    }

    #[test]
    fn metropolis_samples_of_longer_range_hamiltonians_give_their_couplings() {
        let m = 12;
        let truths: [&[(Operator, f64)]; 2] = [
            &[
                (Operator::Field, 0.05),
                (Operator::Nearest, 0.25),
                (Operator::Diagonal, 0.1),
            ],
            &[
                (Operator::Nearest, 0.2),
                (Operator::Distance2, -0.05),
                (Operator::Plaquette, 0.15),
            ],
        ];
        for (seed, truth) in truths.into_iter().enumerate() {
            let configs = metropolis(m, truth, 2_000, 4, seed as u64 + 10);
            let fit = effective_hamiltonian(&configs, m, 20).unwrap();
            assert_recovers(&fit, truth, 0.03);
        }
    }

    #[test]
    fn ordered_configurations_are_refused() {
        let up = vec![vec![1i8; 16]; 10];
        let e = effective_hamiltonian(&up, 4, 5).unwrap_err().to_string();
        assert!(e.contains("too ordered") || e.contains("flat"), "{e}");
    }

    #[test]
    fn nearly_ordered_configurations_are_refused() {
        // Metropolis samples of the 5×5 torus deep in the ordered phase (K₁ = 0.8, 1.0): the
        // few flipped spins sit in aligned neighbourhoods, where every operator's local field
        // is at its extreme, so the data cannot tell the couplings apart. A fit is refused
        // (flat, diverging, or a coupling whose error is not finite or passes DIVERGED)
        // rather than reported with an error bar of 10⁵ or NaN (K₁ = 0.65, seed 3: a finite
        // maximum whose sandwich error is NaN).
        for (k, seed) in [(0.65, 3u64), (0.8, 1), (1.0, 2)] {
            let configs = metropolis(5, &[(Operator::Nearest, k)], 400, 2, seed);
            let flipped = configs
                .iter()
                .filter(|c| c.iter().any(|&s| s != c[0]))
                .count();
            assert!(flipped > 0, "K = {k}: no configuration with a flipped spin");
            match effective_hamiltonian(&configs, 5, 20) {
                Ok(fit) => panic!("K = {k}: fitted {:?}", fit.couplings),
                Err(e) => eprintln!("K = {k}, {flipped} configurations not aligned: {e}"),
            }
        }
    }

    #[test]
    fn log_2cosh_matches_its_definition_and_does_not_overflow() {
        for phi in [-3.0f64, -0.5, 0.0, 0.7, 4.0] {
            assert!((log_2cosh(phi) - (2.0 * phi.cosh()).ln()).abs() < 1e-12);
        }
        assert!((log_2cosh(1000.0) - 1000.0).abs() < 1e-12);
    }
}
