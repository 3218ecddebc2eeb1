//! How good the first layer is in absolute terms: its ln Z by forward and reverse AIS, the
//! held-out negative log-likelihood per spin, and the KL divergence per spin from the exact
//! Ising distribution of the data's lattice (Kaufman's entropy).
//!
//! Forward AIS bounds ln Z from below in expectation, so the NLL and KL computed with it are
//! biased low. Reverse AIS bounds it from above only when its runs start from samples of the
//! model; here they start from held-out data, which are samples of the model only as far as
//! the model fits them (a KL of 0 would make them exact). So the reverse value is an
//! approximation, not a bound, and the two are a bracket only for a model that fits well; the
//! spread between them, and between ladders, shows how far to trust the numbers.

use std::time::Instant;

use anyhow::Result;
use burn::prelude::*;
use ising_data::RowsDataset;
use rbm::Rbm;
use rbm::eval::ais::{AisConfig, AisEstimate, ais_log_partition, ais_reverse_log_partition};
use rbm::eval::likelihood::{Estimate, mean_free_energy, nll_per_unit};
use serde::{Deserialize, Serialize};

/// The AIS ladder of the end-of-run check: 1 000 inverse temperatures (Salakhutdinov &
/// Murray's 14 500 in the same proportions, shortened), cheap enough to run after every
/// training; a wider bracket than the full ladder's is the price.
pub const LADDER: [(f64, usize); 3] = [(0.5, 100), (0.9, 300), (1.0, 600)];

/// AIS runs in each direction.
pub const RUNS: usize = 50;

/// The first layer's likelihood and KL per spin (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirstLayerQuality {
    /// The AIS ladder, as `(end, steps)` segments from β = 0.
    pub ladder: Vec<(f64, usize)>,
    /// Runs in each direction (the reverse runs start at the first held-out rows).
    pub runs: usize,
    /// Forward AIS from the base-rate model of the held-out data: ln Z from below in
    /// expectation.
    pub log_partition_forward: AisEstimate,
    /// Reverse AIS from held-out rows: ln Z from above in expectation only to the extent that
    /// the held-out rows are samples of the model (see the module docs).
    pub log_partition_reverse: AisEstimate,
    /// Held-out negative log-likelihood per spin with the forward ln Z (biased low).
    pub nll_per_spin_forward: Estimate,
    /// The same with the reverse ln Z.
    pub nll_per_spin_reverse: Estimate,
    /// The exact entropy per spin of the data's lattice and coupling (Kaufman).
    pub entropy_per_spin: f64,
    /// KL(P_Ising ‖ p_model) per spin with the forward ln Z (biased low).
    pub kl_per_spin_forward: Estimate,
    /// The same with the reverse ln Z.
    pub kl_per_spin_reverse: Estimate,
    /// Wall time of the estimate, seconds.
    pub seconds: f64,
    /// Why the estimates above are not results, when they are not: the forward ln Z (from
    /// below in expectation) above the reverse one (from above) by more than
    /// [`BRACKET_SIGMAS`] of their combined error, or errors that are not finite; the AIS
    /// ladder did not reach the model's distribution, and the error bars mean nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconsistent: Option<String>,
}

/// How many combined standard errors the forward ln Z may lie above the reverse one before
/// the two are called inconsistent.
pub const BRACKET_SIGMAS: f64 = 4.0;

/// Why the forward and reverse ln Z of one model contradict each other, if they do.
pub fn bracket_inconsistency(forward: &AisEstimate, reverse: &AisEstimate) -> Option<String> {
    let sigma = forward.std_error.hypot(reverse.std_error);
    let excess = forward.log_partition - reverse.log_partition;
    let values = forward.log_partition.is_finite() && reverse.log_partition.is_finite();
    if !(values && sigma.is_finite()) {
        return Some(format!(
            "the ln Z estimates are not finite numbers with finite errors ({} ± {} forward, {} ± {} reverse)",
            forward.log_partition, forward.std_error, reverse.log_partition, reverse.std_error
        ));
    }
    (excess > BRACKET_SIGMAS * sigma).then(|| {
        format!(
            "the forward ln Z {:.2} ± {:.2} (from below) lies above the reverse {:.2} ± {:.2} (from above) by {:.0} standard errors: AIS did not reach this model's distribution, so ln Z, the NLL and the KL are not results and their error bars mean nothing",
            forward.log_partition,
            forward.std_error,
            reverse.log_partition,
            reverse.std_error,
            excess / sigma.max(f64::MIN_POSITIVE)
        )
    })
}

/// The quality of `rbm`, the first layer of a stack trained on samples of the periodic
/// `size`×`size` Ising lattice at `coupling`, judged on the held-out rows `valid` (encoded for
/// the RBM's visible units), with every random number from the stream `seed`. AIS starts
/// from the base-rate model of the held-out rows' frequencies.
///
/// # Errors
/// If the device cannot hand results back, or `valid` has fewer than two rows.
pub fn first_layer_quality(
    rbm: &Rbm,
    valid: &RowsDataset,
    size: usize,
    coupling: f64,
    seed: u64,
    device: &Device,
) -> Result<FirstLayerQuality> {
    let start = Instant::now();
    let config = AisConfig {
        runs: RUNS,
        segments: LADDER.to_vec(),
        seed,
        cpu_path: None,
    };
    let held_out = valid.to_tensor(device);
    // The base-rate model: the log-odds of the held-out rows' frequencies.
    let base = rbm
        .clone()
        .with_visible_bias_from_data(held_out.clone())
        .visible_bias
        .val();
    let forward = ais_log_partition(rbm, Some(base.clone()), &config)?;
    let rows = held_out.dims()[0];
    let first = held_out
        .clone()
        .slice([0..RUNS.min(rows), 0..rbm.n_visible()]);
    let reverse = ais_reverse_log_partition(rbm, Some(base), &config, first)?;
    let entropy = exact_entropy_per_spin(size, coupling);
    let z = |e: &AisEstimate| Estimate {
        value: e.log_partition,
        std_error: e.std_error,
    };
    // One pass over the held-out rows serves both directions.
    let f = mean_free_energy(rbm, held_out)?;
    let nll_forward = nll_per_unit(f, z(&forward), rbm.n_visible());
    let nll_reverse = nll_per_unit(f, z(&reverse), rbm.n_visible());
    let kl = |nll: Estimate| Estimate {
        value: nll.value - entropy,
        std_error: nll.std_error,
    };
    Ok(FirstLayerQuality {
        ladder: config.segments.clone(),
        runs: RUNS,
        nll_per_spin_forward: nll_forward,
        nll_per_spin_reverse: nll_reverse,
        entropy_per_spin: entropy,
        kl_per_spin_forward: kl(nll_forward),
        kl_per_spin_reverse: kl(nll_reverse),
        inconsistent: bracket_inconsistency(&forward, &reverse),
        log_partition_forward: forward,
        log_partition_reverse: reverse,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The exact entropy per spin of the periodic `size`×`size` Ising lattice at `coupling`
/// (Kaufman); ln 2 at K = 0, where Kaufman's formula does not apply and every configuration
/// is equally likely.
pub fn exact_entropy_per_spin(size: usize, coupling: f64) -> f64 {
    match coupling > 0.0 {
        true => ising_data::exact::entropy_per_spin_2d(size, size, coupling),
        false => std::f64::consts::LN_2,
    }
}
