//! The check of the MCRG method before it judges a learned map: 2×2 majority rule (ties by a
//! seeded coin) on Wolff configurations of the L×L Ising model at K_c, blocked repeatedly, must
//! give the exact exponents y_t = 1 and y_h = 15/8 at the levels and operator counts fixed in
//! advance ([`CHECKED_LEVELS`], [`MIN_EVEN`], [`MIN_ODD`]) within [`Y_T_TOLERANCE`] and
//! [`Y_H_TOLERANCE`].

use std::time::Instant;

use anyhow::Result;
use ising_data::config::{Checked, ConfigError, Valid};
use ising_data::exact::K_C;
use serde::{Deserialize, Serialize};

use super::coarse::ising_configurations_spaced;
use super::mcrg::{McrgRow, McrgTable, majority_rule_mcrg};

/// The exact thermal exponent of the 2D Ising model.
pub const Y_T: f64 = 1.0;
/// The exact magnetic exponent of the 2D Ising model.
pub const Y_H: f64 = 15.0 / 8.0;
/// |y_t − 1| allowed at the checked levels.
pub const Y_T_TOLERANCE: f64 = 0.02;
/// |y_h − 15/8| allowed at the checked levels.
pub const Y_H_TOLERANCE: f64 = 0.01;
/// The levels judged (1 is the data's first blocking, known to come out low).
pub const CHECKED_LEVELS: [usize; 2] = [2, 3];
/// Rows judged: at least this many even operators…
pub const MIN_EVEN: usize = 2;
/// …and this many odd ones.
pub const MIN_ODD: usize = 1;

/// What the check runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodCheckOptions {
    /// Side L of the lattice (divisible by 2^levels, with L/2^levels ≥ 4).
    pub size: usize,
    /// Configurations (Wolff, 8 chains).
    pub samples: usize,
    /// Sweep-equivalents between stored configurations.
    pub spacing_sweeps: usize,
    /// Blocking steps (the table's levels 1 … levels).
    pub levels: usize,
    /// Jackknife blocks of consecutive configurations.
    pub error_blocks: usize,
    /// Seed of the data and of the tie-breaking coins.
    pub seed: u64,
}

impl Default for MethodCheckOptions {
    fn default() -> Self {
        Self {
            size: 64,
            samples: 40_000,
            spacing_sweeps: 2,
            levels: 3,
            error_blocks: 20,
            seed: 1,
        }
    }
}

impl Checked for MethodCheckOptions {
    /// The lattice blocks `levels` times to a side of 4 or more, and the counts are positive.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if !(1..=8).contains(&self.levels) {
            return Err(ConfigError::invalid("levels", "from 1 to 8", self.levels));
        }
        let factor = 1usize << self.levels;
        if !(self.size.is_multiple_of(factor) && self.size / factor >= 4) {
            return Err(ConfigError::inconsistent(
                &["size", "levels"],
                format!(
                    "size {} cannot be blocked 2×2 {} times (levels): it must be divisible by \
                     {factor} and leave a side of 4 or more",
                    self.size, self.levels
                ),
            ));
        }
        if self.spacing_sweeps == 0 {
            return Err(ConfigError::invalid("spacing_sweeps", "≥ 1", 0));
        }
        if self.error_blocks < 2 {
            return Err(ConfigError::invalid(
                "error_blocks",
                "≥ 2",
                self.error_blocks,
            ));
        }
        if self.samples < 8 * self.error_blocks {
            return Err(ConfigError::inconsistent(
                &["samples", "error_blocks"],
                format!(
                    "{} samples are too few for {} jackknife blocks over 8 chains",
                    self.samples, self.error_blocks
                ),
            ));
        }
        Ok(())
    }
}

/// One judged row: its exponent against the exact one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    /// The row.
    pub row: McrgRow,
    /// The exact exponent.
    pub exact: f64,
    /// The tolerance.
    pub tolerance: f64,
    /// |y − exact| ≤ tolerance.
    pub within: bool,
}

/// The check's result: the whole table and the judged rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodCheckReport {
    /// What it ran on.
    pub options: MethodCheckOptions,
    /// The coupling of the data, K_c = ln(1 + √2)/2.
    pub coupling: f64,
    /// The convergence table.
    pub table: McrgTable,
    /// The rows the check judges, thermal then magnetic.
    pub judged: Vec<Judged>,
    /// Whether every judged row is within its tolerance.
    pub passed: bool,
    /// Seconds generating the configurations.
    pub generation_seconds: f64,
    /// Seconds blocking and measuring.
    pub mcrg_seconds: f64,
}

/// Generates the data, runs MCRG on it and judges the rows fixed in advance; `log` hears each
/// stage.
///
/// # Errors
/// As [`majority_rule_mcrg`], or if the generator refuses the data's configuration.
pub fn run(options: &Valid<MethodCheckOptions>, log: &dyn Fn(&str)) -> Result<MethodCheckReport> {
    let coupling = K_C;
    let o = &**options;
    log(&format!(
        "{} Wolff configurations of the {}×{} lattice at K_c = {coupling:.6}, {} sweep-equivalents apart",
        o.samples, o.size, o.size, o.spacing_sweeps
    ));
    let clock = Instant::now();
    let configs =
        ising_configurations_spaced(o.size, coupling, o.samples, o.spacing_sweeps, o.seed)?;
    let generation_seconds = clock.elapsed().as_secs_f64();
    log(&format!(
        "generated in {generation_seconds:.1} s; blocking {} times and measuring",
        o.levels
    ));
    let clock = Instant::now();
    let table = majority_rule_mcrg(&configs, o.size, 2, o.levels, o.error_blocks, o.seed)?;
    let mcrg_seconds = clock.elapsed().as_secs_f64();
    let judged = judge(&table);
    Ok(MethodCheckReport {
        options: o.clone(),
        coupling,
        passed: judged.iter().all(|j| j.within),
        judged,
        table,
        generation_seconds,
        mcrg_seconds,
    })
}

/// The rows fixed in advance, each against its exact exponent.
pub fn judge(table: &McrgTable) -> Vec<Judged> {
    let pick = |rows: &[McrgRow], min: usize, exact: f64, tolerance: f64| {
        rows.iter()
            .filter(|r| CHECKED_LEVELS.contains(&r.level) && r.operators >= min)
            .map(|&row| Judged {
                row,
                exact,
                tolerance,
                within: (row.exponent.value - exact).abs() <= tolerance,
            })
            .collect::<Vec<_>>()
    };
    let mut judged = pick(&table.thermal, MIN_EVEN, Y_T, Y_T_TOLERANCE);
    judged.extend(pick(&table.magnetic, MIN_ODD, Y_H, Y_H_TOLERANCE));
    judged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check scaled down to a test: 32×32, 8 000 configurations, levels 32 → 16 → 8 → 4.
    /// Level 2 (16 → 8) with two or more even operators gives y_t within 0.04 of 1 (about 4σ of
    /// its jackknife error) and y_h within 0.01 of 15/8 with one or more odd ones.
    #[test]
    fn majority_rule_at_k_c_has_the_exact_exponents() {
        let options = MethodCheckOptions {
            size: 32,
            samples: 8_000,
            ..MethodCheckOptions::default()
        };
        let report = run(&options.validated().unwrap(), &|_| {}).unwrap();
        let level2 = |rows: &[McrgRow], min: usize| -> Vec<McrgRow> {
            rows.iter()
                .filter(|r| r.level == 2 && r.operators >= min)
                .copied()
                .collect()
        };
        for r in level2(&report.table.thermal, 2) {
            assert!((r.exponent.value - Y_T).abs() < 0.04, "{r:?}");
            assert!(r.exponent.std_error < 0.02, "{r:?}");
        }
        for r in level2(&report.table.magnetic, 1) {
            assert!((r.exponent.value - Y_H).abs() < 0.01, "{r:?}");
        }
        // One nearest-neighbour operator alone is known to come out low at level 1.
        let first = report.table.thermal[0];
        assert_eq!((first.level, first.operators), (1, 1));
        assert!(first.exponent.value < 0.95, "{first:?}");
    }

    /// Away from the critical point the blocked couplings run away from the fixed point: at
    /// K = 0.3 (disordered) MCRG's leading even eigenvalue is not 2^{y_t} with y_t = 1.
    #[test]
    fn off_critical_data_do_not_give_the_critical_exponent() {
        let configs = ising_configurations_spaced(32, 0.3, 8_000, 2, 3).unwrap();
        let table = majority_rule_mcrg(&configs, 32, 2, 3, 20, 3).unwrap();
        let r = table
            .thermal
            .iter()
            .find(|r| r.level == 2 && r.operators == 2)
            .unwrap();
        assert!((r.exponent.value - Y_T).abs() > 0.1, "{r:?}");
    }

    #[test]
    fn a_lattice_too_small_for_its_levels_is_refused_naming_both() {
        let options = MethodCheckOptions {
            size: 24,
            ..MethodCheckOptions::default()
        };
        let e = options.validated().unwrap_err().to_string();
        assert!(e.contains("size 24") && e.contains("levels"), "{e}");
    }
}
