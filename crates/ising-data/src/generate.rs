//! Generation of Ising datasets: configuration, equilibration, independent parallel chains,
//! autocorrelation analysis.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{Checked, ConfigError, Valid};
use crate::error::Result;
use crate::exact_values::ExactValues;
use crate::lattice::{Lattice, magnetization_sum};
use crate::rng::Xoshiro256pp;
use crate::sampler::{Algorithm, ExactRing, Metropolis, Sampler, Wolff, random_configuration};
use crate::stats::integrated_autocorrelation_time;

/// The smallest burn-in accepted, in sweep-equivalents.
pub const MIN_BURN_IN: usize = 1000;

/// A sample spacing below this many τ_int (of either the energy or |m|) triggers a warning.
pub const SPACING_WARN_TAUS: f64 = 5.0;

/// Everything that determines a generated dataset. Two runs with the same configuration give
/// the same samples, bit for bit, whatever the number of threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateConfig {
    /// The lattice.
    pub lattice: Lattice,
    /// Dimensionless coupling K = J/kT (≥ 0).
    pub coupling: f64,
    /// Dimensionless field h = H/kT (Metropolis and the exact ring sampler only).
    #[serde(default)]
    pub field: f64,
    /// Number of configurations to produce.
    pub samples: usize,
    /// Master seed; chain c uses the stream derived from (seed, c).
    pub seed: u64,
    /// The sampler.
    pub algorithm: Algorithm,
    /// Sweep-equivalents discarded at the start of every chain (≥ [`MIN_BURN_IN`]).
    pub burn_in_sweeps: usize,
    /// Sweep-equivalents between stored configurations.
    pub spacing_sweeps: usize,
    /// Number of independent chains (samples are split evenly, chain 0 first).
    pub chains: usize,
    /// How the burn-in counts sweep-equivalents (see [`BurnInUnit`]). Missing in manifests
    /// written before the unit existed, which read as [`BurnInUnit::UncalibratedClusters`].
    #[serde(default = "BurnInUnit::legacy")]
    pub burn_in_unit: BurnInUnit,
}

/// How a chain's burn-in counts its sweep-equivalents. The two differ for the Wolff sampler
/// only, whose sweep-equivalent (a number of clusters) is calibrated during the burn-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BurnInUnit {
    /// Every burn-in sweep-equivalent flips at least N spins ([`Sampler::burn_in_sweep`]),
    /// so the burn-in is at least `burn_in_sweeps` sweep-equivalents. The default.
    SweepEquivalents,
    /// The counting of datasets written before the unit existed: until the calibration
    /// halfway through the burn-in, a Wolff "sweep" was one cluster, so the first half of
    /// the burn-in was far shorter than documented (the paper dataset's 1 000 sweeps were
    /// ≈ 750 sweep-equivalents). Kept so that old datasets can be regenerated bit for bit.
    UncalibratedClusters,
}

impl BurnInUnit {
    /// The unit of a manifest that does not name one.
    pub fn legacy() -> Self {
        Self::UncalibratedClusters
    }
}

impl GenerateConfig {
    /// The exact finite-lattice values of this ensemble, if known
    /// ([`ExactValues::for_ensemble`]).
    pub fn exact_values(&self) -> Option<ExactValues> {
        ExactValues::for_ensemble(&self.lattice, self.coupling, self.field)
    }

    /// A configuration with this crate's defaults: the lattice's default sampler, a burn-in of
    /// [`MIN_BURN_IN`] sweeps, a spacing of 10 sweeps and 8 chains.
    pub fn new(lattice: Lattice, coupling: f64, samples: usize, seed: u64) -> Self {
        Self {
            lattice,
            coupling,
            field: 0.0,
            samples,
            seed,
            algorithm: Algorithm::default_for(&lattice),
            burn_in_sweeps: MIN_BURN_IN,
            spacing_sweeps: 10,
            chains: 8,
            burn_in_unit: BurnInUnit::SweepEquivalents,
        }
    }

    /// The configuration with its burn-in unit made canonical: the unit matters for the Wolff
    /// sampler only, so for the others it is [`BurnInUnit::SweepEquivalents`] (an old
    /// manifest of such a dataset then equals a new configuration of the same data).
    pub fn canonical(mut self) -> Self {
        if self.algorithm != Algorithm::Wolff {
            self.burn_in_unit = BurnInUnit::SweepEquivalents;
        }
        self
    }

    /// Checks the configuration ([`Checked::check`]).
    ///
    /// # Errors
    /// [`crate::IsingDataError::Config`] naming the offending field.
    pub fn validate(&self) -> Result<()> {
        Ok(self.check()?)
    }

    /// Number of samples chain `c` produces.
    pub fn samples_of_chain(&self, c: usize) -> usize {
        self.samples / self.chains + usize::from(c < self.samples % self.chains)
    }

    /// Total sweep-equivalents of the whole run (for progress reporting).
    pub fn total_sweeps(&self) -> u64 {
        (self.chains * self.burn_in_sweeps + self.samples * self.spacing_sweeps) as u64
    }

    fn sampler(&self, rng: &mut Xoshiro256pp) -> Box<dyn Sampler> {
        let n = self.lattice.n_sites();
        match self.algorithm {
            Algorithm::Wolff => Box::new(Wolff::new(
                &self.lattice,
                self.coupling,
                random_configuration(n, rng),
            )),
            Algorithm::Metropolis => Box::new(Metropolis::new(
                &self.lattice,
                self.coupling,
                self.field,
                random_configuration(n, rng),
            )),
            Algorithm::ExactRing => Box::new(ExactRing::new(n, self.coupling, self.field)),
        }
    }
}

/// The output of one chain.
#[derive(Debug, Clone)]
pub struct ChainOutput {
    /// Stored configurations, one after another.
    pub spins: Vec<i8>,
    /// Energy per spin after every sweep-equivalent after burn-in.
    pub energy_series: Vec<f64>,
    /// |m| after every sweep-equivalent after burn-in.
    pub abs_m_series: Vec<f64>,
}

/// Runs chain `c` of `config`. `progress` is called with the number of sweep-equivalents
/// just completed (in batches).
///
/// # Panics
/// If the configuration is invalid (call [`GenerateConfig::validate`] first).
pub fn run_chain(
    config: &GenerateConfig,
    c: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> ChainOutput {
    let n = config.lattice.n_sites();
    let mut rng = Xoshiro256pp::stream(config.seed, c as u64);
    let mut sampler = config.sampler(&mut rng);
    const REPORT: usize = 100;
    for sweep in 0..config.burn_in_sweeps {
        if sweep == config.burn_in_sweeps / 2 {
            sampler.calibrate();
        }
        match config.burn_in_unit {
            BurnInUnit::SweepEquivalents => sampler.burn_in_sweep(&mut rng),
            BurnInUnit::UncalibratedClusters => sampler.sweep(&mut rng),
        }
        if (sweep + 1) % REPORT == 0 {
            progress(REPORT as u64);
        }
    }
    progress((config.burn_in_sweeps % REPORT) as u64);
    sampler.calibrate();
    let count = config.samples_of_chain(c);
    let mut out = ChainOutput {
        spins: Vec::with_capacity(count * n),
        energy_series: Vec::with_capacity(count * config.spacing_sweeps),
        abs_m_series: Vec::with_capacity(count * config.spacing_sweeps),
    };
    let mut pending = 0u64;
    for _ in 0..count {
        for _ in 0..config.spacing_sweeps {
            sampler.sweep(&mut rng);
            let s = sampler.spins();
            out.energy_series
                .push(config.lattice.energy_at(s, config.coupling, config.field) / n as f64);
            out.abs_m_series
                .push((magnetization_sum(s) as f64 / n as f64).abs());
        }
        out.spins.extend_from_slice(sampler.spins());
        pending += config.spacing_sweeps as u64;
        if pending >= REPORT as u64 {
            progress(pending);
            pending = 0;
        }
    }
    progress(pending);
    out
}

/// Integrated autocorrelation times of the energy and of |m|.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TauPair {
    /// τ_int of the energy.
    pub energy: f64,
    /// τ_int of |m|.
    pub abs_magnetization: f64,
}

impl TauPair {
    /// The larger of the two.
    pub fn max(&self) -> f64 {
        self.energy.max(self.abs_magnetization)
    }
}

/// Autocorrelation analysis of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Autocorrelation {
    /// τ_int in sweep-equivalents, measured on the every-sweep series after burn-in.
    pub sweeps: TauPair,
    /// τ_int in units of the sample spacing, measured on the stored samples (½ means
    /// uncorrelated).
    pub samples: TauPair,
    /// Sokal's window constant used.
    pub window_c: f64,
}

/// A generated set of configurations with its autocorrelation analysis.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The configuration that produced it.
    pub config: GenerateConfig,
    /// All configurations, chain 0 first, shape `[samples, …lattice.shape()]`.
    pub spins: Vec<i8>,
    /// Autocorrelation times.
    pub tau: Autocorrelation,
    /// Human-readable warnings (e.g. spacing below 5 τ_int).
    pub warnings: Vec<String>,
}

impl Generated {
    /// The stored configurations split by chain, in chain order.
    pub fn chains(&self) -> Vec<&[i8]> {
        chain_slices(&self.config, &self.spins)
    }
}

/// Splits a flat array of all samples into per-chain slices according to `config`.
///
/// # Panics
/// If `spins` does not hold `config.samples` configurations.
pub fn chain_slices<'a>(config: &GenerateConfig, spins: &'a [i8]) -> Vec<&'a [i8]> {
    let n = config.lattice.n_sites();
    assert_eq!(
        spins.len(),
        config.samples * n,
        "sample array of wrong size"
    );
    let mut rest = spins;
    (0..config.chains)
        .map(|c| {
            let (head, tail) = rest.split_at(config.samples_of_chain(c) * n);
            rest = tail;
            head
        })
        .collect()
}

/// Generates a dataset: runs `config.chains` independent chains in parallel (on the current
/// rayon pool) and measures autocorrelation times.
pub fn generate(config: &Valid<GenerateConfig>, progress: &(dyn Fn(u64) + Sync)) -> Generated {
    let outputs: Vec<ChainOutput> = (0..config.chains)
        .into_par_iter()
        .map(|c| run_chain(config, c, progress))
        .collect();
    let n = config.lattice.n_sites();
    let tau_of = |f: &dyn Fn(&ChainOutput) -> &[f64]| {
        let refs: Vec<&[f64]> = outputs.iter().map(f).collect();
        integrated_autocorrelation_time(&refs)
    };
    let sweeps = TauPair {
        energy: tau_of(&|o| &o.energy_series),
        abs_magnetization: tau_of(&|o| &o.abs_m_series),
    };
    let stride = config.spacing_sweeps;
    let thinned = |series: &[f64]| -> Vec<f64> {
        series
            .iter()
            .skip(stride - 1)
            .step_by(stride)
            .copied()
            .collect()
    };
    let te: Vec<Vec<f64>> = outputs.iter().map(|o| thinned(&o.energy_series)).collect();
    let tm: Vec<Vec<f64>> = outputs.iter().map(|o| thinned(&o.abs_m_series)).collect();
    let samples = TauPair {
        energy: integrated_autocorrelation_time(
            &te.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
        ),
        abs_magnetization: integrated_autocorrelation_time(
            &tm.iter().map(|v| v.as_slice()).collect::<Vec<_>>(),
        ),
    };
    let mut warnings = Vec::new();
    let tau_max = sweeps.max();
    if (config.spacing_sweeps as f64) < SPACING_WARN_TAUS * tau_max {
        warnings.push(format!(
            "sample spacing of {} sweeps is below {SPACING_WARN_TAUS} τ_int = {:.1} sweeps \
             (τ_int(E) = {:.2}, τ_int(|m|) = {:.2}): samples are correlated; increase --spacing",
            config.spacing_sweeps,
            SPACING_WARN_TAUS * tau_max,
            sweeps.energy,
            sweeps.abs_magnetization
        ));
    }
    let per_chain_sweeps = config.samples / config.chains * config.spacing_sweeps;
    if tau_max * 2.0 * crate::stats::SOKAL_WINDOW_C * 10.0 > per_chain_sweeps as f64 {
        warnings.push(format!(
            "chains of {per_chain_sweeps} sweeps are too short to measure τ_int ≈ {tau_max:.1} \
             reliably; produce more samples or use fewer chains"
        ));
    }
    let mut spins = Vec::with_capacity(config.samples * n);
    for o in &outputs {
        spins.extend_from_slice(&o.spins);
    }
    Generated {
        config: GenerateConfig::clone(config),
        spins,
        tau: Autocorrelation {
            sweeps,
            samples,
            window_c: crate::stats::SOKAL_WINDOW_C,
        },
        warnings,
    }
}

/// Whether the exact values that a dataset of `config` at coupling `k` records are finite.
fn exact_values_finite(config: &GenerateConfig, k: f64) -> bool {
    let mut at = config.clone();
    at.coupling = k;
    at.exact_values().is_none_or(|e| e.is_finite())
}

impl Checked for GenerateConfig {
    /// The lattice, the coupling and field (finite, a field only with a coupling, exact values
    /// that double precision holds), the counts, and a sampler that supports the model.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        self.lattice.check().map_err(|e| e.within("lattice"))?;
        if !self.coupling.is_finite() || self.coupling < 0.0 {
            return Err(ConfigError::invalid(
                "coupling",
                "a finite number ≥ 0 (ferromagnet)",
                self.coupling,
            ));
        }
        if !self.field.is_finite() {
            return Err(ConfigError::invalid("field", "finite", self.field));
        }
        if self.field != 0.0 && self.coupling == 0.0 {
            return Err(ConfigError::inconsistent(
                &["field", "coupling"],
                format!(
                    "a field (here {}) needs a coupling > 0: energies are in units of J = K kT",
                    self.field
                ),
            ));
        }
        self.check_counts()?;
        self.check_exact_values()?;
        match (self.algorithm, self.lattice) {
            (Algorithm::Wolff, _) if self.field != 0.0 => Err(ConfigError::inconsistent(
                &["algorithm", "field"],
                "the Wolff sampler supports zero field only; use metropolis",
            )),
            (Algorithm::ExactRing, Lattice::Square { .. }) => Err(ConfigError::inconsistent(
                &["algorithm", "lattice"],
                "the exact sampler exists for the 1D ring only",
            )),
            _ => Ok(()),
        }
    }
}

impl GenerateConfig {
    /// The samples (in memory), chains, burn-in and spacing.
    fn check_counts(&self) -> std::result::Result<(), ConfigError> {
        if self.samples == 0 {
            return Err(ConfigError::invalid("samples", "at least 1", 0));
        }
        let sites = self.lattice.n_sites() as u128;
        crate::memory::check_fits(
            &format!(
                "samples = {} of {sites} spins (one byte each)",
                self.samples
            ),
            (self.samples as u128).checked_mul(sites),
        )?;
        if self.chains == 0 || self.chains > self.samples {
            return Err(ConfigError::invalid(
                "chains",
                format!("between 1 and the number of samples ({})", self.samples),
                self.chains,
            ));
        }
        if self.burn_in_sweeps < MIN_BURN_IN {
            return Err(ConfigError::invalid(
                "burn_in_sweeps",
                format!("at least {MIN_BURN_IN} sweeps"),
                self.burn_in_sweeps,
            ));
        }
        if self.spacing_sweeps == 0 {
            return Err(ConfigError::invalid(
                "spacing_sweeps",
                "at least 1 sweep",
                0,
            ));
        }
        Ok(())
    }

    /// Refuses a coupling whose exact values overflow in double precision, naming the largest
    /// one that works.
    fn check_exact_values(&self) -> std::result::Result<(), ConfigError> {
        if exact_values_finite(self, self.coupling) {
            return Ok(());
        }
        // Bisect for the largest coupling whose exact values are finite.
        let (mut lo, mut hi) = (0.0, self.coupling);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if exact_values_finite(self, mid) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Err(ConfigError::inconsistent(
            &["coupling", "lattice"],
            format!(
                "coupling {} is too large: the exact values of the {} overflow in double precision there, so the dataset could not record them; couplings up to about {:.2} work",
                self.coupling,
                self.lattice,
                (lo * 100.0f64).floor() / 100.0
            ),
        ))
    }
}
