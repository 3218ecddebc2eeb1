//! The reconstruction error.

use burn::prelude::*;

use super::Statistic;
use crate::train::CdOutput;

/// Mean squared reconstruction error per unit ([`CdOutput::reconstruction_error`]).
pub struct ReconstructionError;

impl Statistic for ReconstructionError {
    const NAME: &'static str = "Reconstruction error";
    const ID: &'static str = "reconstruction_error";

    fn of(output: &CdOutput) -> Tensor<1> {
        output.reconstruction_error.clone()
    }
}
