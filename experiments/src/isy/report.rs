//! What `isy_flow` reports (`isy.json`, [`IsyReport`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::flow::ModelFlows;
use super::options::IsyOptions;
use super::readout::Readout;

/// The Monte Carlo data of one temperature, read the way the flow is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataReadout {
    /// The temperature T = 1/K of the samples.
    pub temperature: f64,
    /// Kaufman's exact energy per spin of the L×L torus there.
    pub exact_energy_per_spin: f64,
    /// τ_int of the energy and of |m| in sweep-equivalents, measured on the chains.
    pub tau_int_sweeps: [f64; 2],
    /// The samples measured.
    #[serde(flatten)]
    pub readout: Readout,
}

/// Everything `isy_flow` reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsyReport {
    /// The settings.
    pub options: IsyOptions,
    /// T_c = 2/ln(1+√2).
    pub critical_temperature: f64,
    /// How T ≈ 0 enters the training rows.
    pub ground_state: String,
    /// The data per temperature.
    pub data: Vec<DataReadout>,
    /// The model trained on every temperature, then the control.
    pub models: Vec<ModelFlows>,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
    /// The Burn version.
    pub burn_version: String,
}
