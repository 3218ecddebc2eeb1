//! The mean hidden activation.

use burn::prelude::*;

use super::Statistic;
use crate::train::CdOutput;

/// The mean over the batch and the hidden units of E[h|v⁰]: near 0 or 1 when the hidden
/// layer saturates, a sparsity measure for Bernoulli units.
pub struct HiddenActivation;

impl Statistic for HiddenActivation {
    const NAME: &'static str = "Mean hidden activation";
    const ID: &'static str = "mean_hidden_activation";

    fn of(output: &CdOutput) -> Tensor<1> {
        output.hidden_mean.clone().mean()
    }
}
