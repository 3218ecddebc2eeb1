//! Monte Carlo renormalisation group (Swendsen, Phys. Rev. Lett. 42, 859 (1979)): the
//! linearised RG map of a coarse-graining, measured on configurations, and its eigenvalues.
//!
//! A map takes configurations at level n (couplings K_β of operators S_β) to level n + 1
//! (couplings K'_α of the same operators S'_α on the coarse lattice). Differentiating
//! ⟨S'_γ⟩ with respect to K_β through K' gives A = B T with
//!
//! - A_γβ = ⟨S'_γ S_β⟩ − ⟨S'_γ⟩⟨S_β⟩ (coarse with fine),
//! - B_γα = ⟨S'_γ S'_α⟩ − ⟨S'_γ⟩⟨S'_α⟩ (coarse with coarse),
//! - T_αβ = ∂K'_α/∂K_β,
//!
//! so T = B⁻¹A. Near the fixed point its eigenvalues are λ = b^y for a map of scale factor b:
//! the leading one among even operators gives the thermal exponent y_t, among odd operators
//! the magnetic y_h (2D Ising: exactly 1 and 15/8). Even and odd operators do not mix by
//! symmetry, so each set has its own T. Errors are jackknife over blocks of consecutive
//! configurations.

use anyhow::{Result, bail, ensure};
use ising_data::Estimate;
use ising_data::rng::Xoshiro256pp;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::coarse::majority_blocks;
use super::operators::{EVEN, ODD, Operator, Torus};

/// Sums over the configurations of one block: operator values at level n (fine) and n + 1
/// (coarse), and the products of coarse with fine and coarse with coarse.
#[derive(Debug, Clone)]
struct Sums {
    count: f64,
    fine: DVector<f64>,
    coarse: DVector<f64>,
    coarse_fine: DMatrix<f64>,
    coarse_coarse: DMatrix<f64>,
}

impl Sums {
    fn zeros(p: usize) -> Self {
        Self {
            count: 0.0,
            fine: DVector::zeros(p),
            coarse: DVector::zeros(p),
            coarse_fine: DMatrix::zeros(p, p),
            coarse_coarse: DMatrix::zeros(p, p),
        }
    }

    /// Adds one configuration's operator values at level n (`fine`) and at n + 1 (`coarse`).
    fn record(&mut self, fine: &[f64], coarse: &[f64]) {
        let (fine, coarse) = (
            DVector::from_column_slice(fine),
            DVector::from_column_slice(coarse),
        );
        self.count += 1.0;
        self.coarse_fine += &coarse * fine.transpose();
        self.coarse_coarse += &coarse * coarse.transpose();
        self.fine += fine;
        self.coarse += coarse;
    }

    fn add(&mut self, other: &Self, sign: f64) {
        self.count += sign * other.count;
        self.fine += &other.fine * sign;
        self.coarse += &other.coarse * sign;
        self.coarse_fine += &other.coarse_fine * sign;
        self.coarse_coarse += &other.coarse_coarse * sign;
    }

    /// The leading eigenvalue of T = B⁻¹A over the operators `subset` (indices).
    fn leading_eigenvalue(&self, subset: &[usize]) -> Result<f64> {
        let n = self.count;
        let mean = |v: &DVector<f64>, i: usize| v[i] / n;
        let connected = |products: &DMatrix<f64>, other: &DVector<f64>| {
            DMatrix::from_fn(subset.len(), subset.len(), |g, b| {
                let (g, b) = (subset[g], subset[b]);
                products[(g, b)] / n - mean(&self.coarse, g) * mean(other, b)
            })
        };
        let a = connected(&self.coarse_fine, &self.fine);
        let b = connected(&self.coarse_coarse, &self.coarse);
        let Some(t) = b.lu().solve(&a) else {
            bail!("the coarse operators' correlation matrix is singular (too few configurations)");
        };
        let leading = t
            .complex_eigenvalues()
            .iter()
            .map(|z| z.re)
            .fold(f64::NEG_INFINITY, f64::max);
        Ok(leading)
    }
}

/// One blocking step's statistics, accumulated configuration by configuration.
#[derive(Debug, Clone)]
pub struct RgStep {
    blocks: Vec<Sums>,
}

impl RgStep {
    /// An empty step for `operators` operators and `blocks` jackknife blocks.
    pub fn new(operators: usize, blocks: usize) -> Self {
        Self {
            blocks: vec![Sums::zeros(operators); blocks],
        }
    }

    /// Adds one configuration: its operator values at level n (`fine`) and those of its image
    /// at level n + 1 (`coarse`), to jackknife block `block`.
    ///
    /// # Panics
    /// If the lengths differ from the step's operator count or `block` is out of range.
    pub fn add(&mut self, block: usize, fine: &[f64], coarse: &[f64]) {
        self.blocks[block].record(fine, coarse);
    }

    /// The leading eigenvalue λ of T over the operators `subset` (indices into the values
    /// added) and the exponent y = ln λ / ln b, each with its jackknife error.
    ///
    /// # Errors
    /// If a block is empty, or T cannot be formed (a singular B) or has no positive leading
    /// eigenvalue, on all configurations or on a jackknife subset.
    pub fn exponent(&self, subset: &[usize], b: f64) -> Result<(Estimate, Estimate)> {
        ensure!(
            self.blocks.len() >= 2 && self.blocks.iter().all(|s| s.count > 0.0),
            "the jackknife needs two or more blocks, each with configurations"
        );
        let mut total = Sums::zeros(self.blocks[0].fine.len());
        for block in &self.blocks {
            total.add(block, 1.0);
        }
        let y = |lambda: f64| -> Result<f64> {
            ensure!(
                lambda > 0.0,
                "T has no positive leading eigenvalue ({lambda})"
            );
            Ok(lambda.ln() / b.ln())
        };
        let lambda = total.leading_eigenvalue(subset)?;
        let mut leave_out = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let mut rest = total.clone();
            rest.add(block, -1.0);
            let l = rest.leading_eigenvalue(subset)?;
            leave_out.push((l, y(l)?));
        }
        let lambdas: Vec<f64> = leave_out.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = leave_out.iter().map(|p| p.1).collect();
        Ok((
            Estimate {
                value: lambda,
                std_error: jackknife_error(&lambdas),
            },
            Estimate {
                value: y(lambda)?,
                std_error: jackknife_error(&ys),
            },
        ))
    }
}

/// The configurations of block `block` of `blocks` consecutive blocks of `n`.
pub(crate) fn block_range(block: usize, blocks: usize, n: usize) -> std::ops::Range<usize> {
    block * n / blocks..(block + 1) * n / blocks
}

/// The jackknife standard error of leave-one-block-out values.
fn jackknife_error(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    ((n - 1.0) / n * values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()).sqrt()
}

/// One row of the convergence table: a blocking level and a number of operators.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct McrgRow {
    /// The step from level − 1 to level (1: the data to its first blocking).
    pub level: usize,
    /// Side of the lattice before the step.
    pub from_side: usize,
    /// Side after it.
    pub to_side: usize,
    /// Operators used: the first this many of the even (thermal) or odd (magnetic) list.
    pub operators: usize,
    /// The leading eigenvalue of T.
    pub eigenvalue: Estimate,
    /// y = ln λ / ln b.
    pub exponent: Estimate,
}

/// The standard MCRG convergence table of one coarse-graining map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McrgTable {
    /// Scale factor b of one step.
    pub scale_factor: f64,
    /// Configurations at level 0.
    pub configurations: usize,
    /// Jackknife blocks of consecutive configurations.
    pub error_blocks: usize,
    /// The even operators, in the order the rows add them.
    pub even_operators: Vec<Operator>,
    /// The odd operators, in the order the rows add them.
    pub odd_operators: Vec<Operator>,
    /// y_t rows (exact 1 for the 2D Ising model).
    pub thermal: Vec<McrgRow>,
    /// y_h rows (exact 15/8).
    pub magnetic: Vec<McrgRow>,
}

/// Every operator's value on one configuration of `torus`: the even ones, then the odd ones.
fn operator_values(torus: &Torus, spins: &[i8]) -> Vec<f64> {
    EVEN.iter()
        .chain(ODD.iter())
        .map(|op| op.sum(torus, spins))
        .collect()
}

/// The MCRG table of b×b majority-rule blocking (ties by a coin from a stream seeded with
/// `seed`) applied `levels` times to `configs` (row-major L×L ±1 spins).
///
/// # Errors
/// If L is not divisible by b^levels with a final side of 3 or more, if there are fewer
/// configurations than `error_blocks`, or as [`RgStep::exponent`].
pub fn majority_rule_mcrg(
    configs: &[Vec<i8>],
    l: usize,
    b: usize,
    levels: usize,
    error_blocks: usize,
    seed: u64,
) -> Result<McrgTable> {
    let last = l / b.pow(levels as u32);
    ensure!(
        b >= 2 && l.is_multiple_of(b.pow(levels as u32)) && last >= 3,
        "{levels} majority-rule steps of {b}×{b} blocks need a side L divisible by {} with L/{} ≥ 3; got L = {l}",
        b.pow(levels as u32),
        b.pow(levels as u32)
    );
    ensure!(
        configs.len() >= error_blocks && error_blocks >= 2,
        "MCRG needs at least {error_blocks} configurations (and 2 blocks), got {}",
        configs.len()
    );
    // Each jackknife block on its own thread, its ties broken by its own stream: the same
    // table whatever the number of threads.
    let per_block: Vec<Vec<Sums>> = (0..error_blocks)
        .into_par_iter()
        .map(|block| {
            let mut rng = Xoshiro256pp::stream(seed, block as u64);
            let range = block_range(block, error_blocks, configs.len());
            block_sums(&configs[range], l, b, levels, &mut rng)
        })
        .collect();
    let steps: Vec<(RgStep, usize, usize)> = (0..levels)
        .map(|n| {
            let blocks = per_block.iter().map(|sums| sums[n].clone()).collect();
            let side = l / b.pow(n as u32);
            (RgStep { blocks }, side, side / b)
        })
        .collect();
    table(&steps, 1, configs.len(), error_blocks)
}

/// One block's sums at every level of repeated b×b majority-rule blocking.
fn block_sums(
    configs: &[Vec<i8>],
    l: usize,
    b: usize,
    levels: usize,
    rng: &mut Xoshiro256pp,
) -> Vec<Sums> {
    let mut steps = vec![Sums::zeros(EVEN.len() + ODD.len()); levels];
    let tori: Vec<Torus> = (0..=levels)
        .map(|n| Torus::new(l / b.pow(n as u32)))
        .collect();
    for config in configs {
        let (mut side, mut spins) = (l, config.clone());
        let mut values = operator_values(&tori[0], &spins);
        for (n, step) in steps.iter_mut().enumerate() {
            spins = majority_blocks(&spins, side, b, rng);
            side /= b;
            let coarse = operator_values(&tori[n + 1], &spins);
            step.record(&values, &coarse);
            values = coarse;
        }
    }
    steps
}

/// The convergence table of accumulated steps, each with the lattice sides before and after
/// it, the first at level `first_level`; the scale factor is the first step's.
fn table(
    steps: &[(RgStep, usize, usize)],
    first_level: usize,
    configurations: usize,
    error_blocks: usize,
) -> Result<McrgTable> {
    let (mut thermal, mut magnetic) = (Vec::new(), Vec::new());
    for (n, (step, from, to)) in steps.iter().enumerate() {
        let level = first_level + n;
        thermal.extend(rows(step, level, (*from, *to), 0, EVEN.len())?);
        magnetic.extend(rows(step, level, (*from, *to), EVEN.len(), ODD.len())?);
    }
    let (_, from, to) = steps[0];
    Ok(McrgTable {
        scale_factor: from as f64 / to as f64,
        configurations,
        error_blocks,
        even_operators: EVEN.to_vec(),
        odd_operators: ODD.to_vec(),
        thermal,
        magnetic,
    })
}

/// The rows of one step for the operators `first..first + count` (1, 2, … of them).
fn rows(
    step: &RgStep,
    level: usize,
    (from_side, to_side): (usize, usize),
    first: usize,
    count: usize,
) -> Result<Vec<McrgRow>> {
    let b = from_side as f64 / to_side as f64;
    (1..=count)
        .map(|operators| {
            let subset: Vec<usize> = (first..first + operators).collect();
            let (eigenvalue, exponent) = step.exponent(&subset, b)?;
            Ok(McrgRow {
                level,
                from_side,
                to_side,
                operators,
                eigenvalue,
                exponent,
            })
        })
        .collect()
}

/// The one-level MCRG table of a map given as pairs of configurations: `fine[r]` (m×m) and
/// its image `coarse[r]` (m'×m'), consecutive rows in `error_blocks` jackknife blocks. The
/// scale factor is m/m'; `level` labels the rows.
///
/// # Errors
/// If the counts differ, there are fewer rows than two a block, a lattice is smaller than
/// 3×3 or not coarser, or as [`RgStep::exponent`].
pub fn map_table(
    (fine, m): (&[Vec<i8>], usize),
    (coarse, m_coarse): (&[Vec<i8>], usize),
    level: usize,
    error_blocks: usize,
) -> Result<McrgTable> {
    ensure!(
        fine.len() == coarse.len(),
        "MCRG needs one coarse configuration per fine one ({} and {})",
        fine.len(),
        coarse.len()
    );
    ensure!(
        m_coarse >= 3 && m > m_coarse,
        "MCRG needs a coarse lattice of 3×3 or more, coarser than the fine one (got {m}×{m} → {m_coarse}×{m_coarse})"
    );
    ensure!(
        error_blocks >= 2 && fine.len() >= 2 * error_blocks,
        "MCRG needs two configurations a jackknife block ({error_blocks} blocks), got {}",
        fine.len()
    );
    let (torus, coarse_torus) = (Torus::new(m), Torus::new(m_coarse));
    let blocks: Vec<Sums> = (0..error_blocks)
        .into_par_iter()
        .map(|block| {
            let mut sums = Sums::zeros(EVEN.len() + ODD.len());
            for r in block_range(block, error_blocks, fine.len()) {
                sums.record(
                    &operator_values(&torus, &fine[r]),
                    &operator_values(&coarse_torus, &coarse[r]),
                );
            }
            sums
        })
        .collect();
    let step = (RgStep { blocks }, m, m_coarse);
    table(&[step], level, fine.len(), error_blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ising_data::sampler::{ExactRing, Sampler};

    /// Decimation of the 1D chain (keep every other spin) is exact in the nearest-neighbour
    /// coupling: tanh K' = tanh² K, so T = dK'/dK = 2 tanh K / (1 + tanh² K). MCRG with that
    /// one operator must find it.
    #[test]
    fn decimating_the_ring_gives_the_exact_derivative() {
        let (n, k) = (64, 0.8);
        let mut ring = ExactRing::new(n, k, 0.0);
        let mut rng = Xoshiro256pp::seed_from_u64(4);
        let bonds = |s: &[i8]| -> f64 {
            (0..s.len())
                .map(|i| f64::from(s[i] * s[(i + 1) % s.len()]))
                .sum()
        };
        let (samples, blocks) = (40_000, 20);
        let mut step = RgStep::new(1, blocks);
        for c in 0..samples {
            ring.draw(&mut rng);
            let fine = ring.spins();
            let coarse: Vec<i8> = fine.iter().step_by(2).copied().collect();
            step.add(c * blocks / samples, &[bonds(fine)], &[bonds(&coarse)]);
        }
        let t = k.tanh();
        let exact = 2.0 * t / (1.0 + t * t);
        let (lambda, _) = step.exponent(&[0], 2.0).unwrap();
        assert!(
            lambda.sigmas_from(exact) < 4.0 && lambda.std_error < 0.02,
            "T = {:.4} ± {:.4}, exact {exact:.4}",
            lambda.value,
            lambda.std_error
        );
    }

    #[test]
    fn the_jackknife_error_of_identical_values_is_zero() {
        assert_eq!(jackknife_error(&[0.3; 5]), 0.0);
        // Leave-one-out means of 1, 2, 3, 4: the error is the standard error of the mean.
        let values = [3.0, 8.0 / 3.0, 7.0 / 3.0, 2.0];
        let sem = (5.0f64 / 3.0 / 4.0).sqrt();
        assert!((jackknife_error(&values) - sem).abs() < 1e-12);
    }

    /// A map given as configuration pairs ([`map_table`]) is the same computation as
    /// [`majority_rule_mcrg`]'s level 1 when the pairs are its blockings (same coins).
    #[test]
    fn a_map_of_pairs_matches_the_blocking_it_was_given() {
        let (l, blocks, seed) = (16, 4, 7);
        let configs = crate::rg::coarse::ising_configurations(l, 0.44, 400, 5).unwrap();
        let table = majority_rule_mcrg(&configs, l, 2, 1, blocks, seed).unwrap();
        let mut coarse = Vec::new();
        for b in 0..blocks {
            let mut rng = Xoshiro256pp::stream(seed, b as u64);
            for c in &configs[b * 100..(b + 1) * 100] {
                coarse.push(majority_blocks(c, l, 2, &mut rng));
            }
        }
        let pairs = map_table((&configs, l), (&coarse, l / 2), 1, blocks).unwrap();
        assert_eq!(pairs.thermal, table.thermal);
        assert_eq!(pairs.magnetic, table.magnetic);
    }

    #[test]
    fn a_lattice_that_cannot_be_blocked_so_often_is_refused() {
        let configs = vec![vec![1i8; 16 * 16]; 4];
        let e = majority_rule_mcrg(&configs, 16, 2, 3, 2, 1).unwrap_err();
        assert!(e.to_string().contains("divisible by 8"), "{e}");
    }
}
