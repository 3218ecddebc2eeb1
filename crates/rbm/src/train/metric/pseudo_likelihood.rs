//! The stochastic pseudo-log-likelihood per unit.

use burn::prelude::*;

use super::Statistic;
use crate::train::CdOutput;

/// Stochastic pseudo-log-likelihood per unit ([`CdOutput::pseudo_log_likelihood`]).
pub struct PseudoLogLikelihood;

impl Statistic for PseudoLogLikelihood {
    const NAME: &'static str = "Pseudo-log-likelihood per unit";
    const ID: &'static str = "pseudo_log_likelihood_per_unit";
    const HIGHER_IS_BETTER: bool = true;

    fn of(output: &CdOutput) -> Tensor<1> {
        output.pseudo_log_likelihood.clone()
    }
}
