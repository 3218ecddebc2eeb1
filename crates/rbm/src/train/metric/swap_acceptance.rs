//! The swap acceptance of one neighbouring pair of the PT-PCD ladder, as a Burn metric.

use std::sync::Arc;

use burn::tensor::TensorReadError;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use crate::train::CdOutput;

/// The swap acceptance of every pair of a step, as handed to [`SwapAcceptance`].
pub struct SwapInput {
    acceptance: Vec<f64>,
}

impl Adaptor<SwapInput> for CdOutput {
    fn adapt(&self) -> SwapInput {
        SwapInput {
            acceptance: self.swap_acceptance.clone(),
        }
    }
}

/// The fraction of accepted swaps between the ladder's β_k and β_{k+1}, averaged over an
/// epoch's steps, reported as `swap_acceptance_k` (k = 0 the lowest pair). A step without
/// tempering reports NaN.
#[derive(Clone)]
pub struct SwapAcceptance {
    pair: usize,
    name: MetricName,
    state: NumericMetricState,
}

impl SwapAcceptance {
    /// The metric of pair `pair`, with an empty state.
    pub fn new(pair: usize) -> Self {
        Self {
            pair,
            name: Arc::new(Self::id(pair)),
            state: NumericMetricState::new(),
        }
    }

    /// Its name and identifier in files: `swap_acceptance_{pair}`.
    pub fn id(pair: usize) -> String {
        format!("swap_acceptance_{pair}")
    }
}

impl Metric for SwapAcceptance {
    type Input = SwapInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: true,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &SwapInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value = item.acceptance.get(self.pair).copied().unwrap_or(f64::NAN);
        self.state.update(value, 1);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(3)))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(3)))
    }

    fn clear(&mut self) {
        self.state.reset()
    }
}

impl Numeric for SwapAcceptance {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}
