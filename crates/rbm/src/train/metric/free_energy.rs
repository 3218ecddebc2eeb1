//! Free energies of the data and of the negative samples, and Hinton's free-energy gap.

use burn::prelude::*;

use super::Statistic;
use crate::train::CdOutput;

/// Mean free energy of the data ([`CdOutput::free_energy_data`]).
pub struct FreeEnergyData;

impl Statistic for FreeEnergyData {
    const NAME: &'static str = "Free energy (data)";
    const ID: &'static str = "free_energy_data";

    fn of(output: &CdOutput) -> Tensor<1> {
        output.free_energy_data.clone()
    }
}

/// Mean free energy of the negative samples ([`CdOutput::free_energy_negative`]).
pub struct FreeEnergyNegative;

impl Statistic for FreeEnergyNegative {
    const NAME: &'static str = "Free energy (negative)";
    const ID: &'static str = "free_energy_negative";

    fn of(output: &CdOutput) -> Tensor<1> {
        output.free_energy_negative.clone()
    }
}

/// Mean F(held-out) − mean F(training rows) ([`CdOutput::free_energy_gap`]; held-out batches
/// only).
pub struct FreeEnergyGap;

impl Statistic for FreeEnergyGap {
    const NAME: &'static str = "Free-energy gap";
    const ID: &'static str = "free_energy_gap";

    fn of(output: &CdOutput) -> Tensor<1> {
        output.free_energy_gap.clone()
    }
}
