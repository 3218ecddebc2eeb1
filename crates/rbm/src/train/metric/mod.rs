//! The per-batch statistics of a CD step as Burn metrics: one metric type per statistic,
//! [`StatisticMetric<S>`], with its own input type [`StatisticInput<S>`] (Burn's
//! `LossMetric`/`LossInput` pattern), batch-size weighted over an epoch.
//!
//! Adding a statistic of what a step reports ([`CdOutput`](crate::train::CdOutput)) is one file
//! here, a type that
//! implements [`Statistic`] (see `hidden_activation.rs`), and one line in [`register`] (with
//! its `mod`); Burn's `Learner` then reports it per batch, per epoch and in the logs.

use burn::train::SupervisedTraining;

use super::CdModel;

mod free_energy;
mod hidden_activation;
mod pseudo_likelihood;
mod reconstruction;
mod statistic;
mod swap_acceptance;

pub use free_energy::{FreeEnergyData, FreeEnergyGap, FreeEnergyNegative};
pub use hidden_activation::HiddenActivation;
pub use pseudo_likelihood::PseudoLogLikelihood;
pub use reconstruction::ReconstructionError;
pub use statistic::{Statistic, StatisticInput, StatisticMetric};
pub use swap_acceptance::{SwapAcceptance, SwapInput};

/// Registers the statistics a training run reports: on training and held-out batches the
/// reconstruction error, the data's free energy and the mean hidden activation, and, when
/// the layer's data are binary (`binary_data`), the stochastic pseudo-log-likelihood; on
/// held-out batches also the free-energy gap; on training batches the swap acceptance of
/// each of the `ladder_pairs` neighbouring pairs of a PT-PCD ladder (0 without tempering).
///
/// The pseudo-likelihood compares a row with the row whose value v_i is flipped to its other
/// value. For data that are probabilities (a layer trained on the hidden means of the one
/// below) the flipped row is not the other state of anything: at v_i = ½ the term is −ln 2 for
/// every model. So it is reported for binary data only.
pub fn register(
    training: SupervisedTraining<CdModel>,
    binary_data: bool,
    ladder_pairs: usize,
) -> SupervisedTraining<CdModel> {
    let training = (0..ladder_pairs).fold(training, |t, k| {
        t.metric_train_numeric(SwapAcceptance::new(k))
    });
    let training = training
        .metrics((
            StatisticMetric::<ReconstructionError>::new(),
            StatisticMetric::<FreeEnergyData>::new(),
            StatisticMetric::<HiddenActivation>::new(),
        ))
        .metric_valid_numeric(StatisticMetric::<FreeEnergyGap>::new());
    match binary_data {
        true => training.metrics((StatisticMetric::<PseudoLogLikelihood>::new(),)),
        false => training,
    }
}

/// The (name, identifier) of every statistic [`register`] may report.
pub const STATISTICS: [(&str, &str); 6] = [
    (ReconstructionError::NAME, ReconstructionError::ID),
    (FreeEnergyData::NAME, FreeEnergyData::ID),
    (FreeEnergyNegative::NAME, FreeEnergyNegative::ID),
    (FreeEnergyGap::NAME, FreeEnergyGap::ID),
    (HiddenActivation::NAME, HiddenActivation::ID),
    (PseudoLogLikelihood::NAME, PseudoLogLikelihood::ID),
];

/// The identifier of the statistic reported as `name` ([`Statistic::NAME`]), if it is one.
pub fn id_of(name: &str) -> Option<&'static str> {
    STATISTICS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, id)| *id)
}
