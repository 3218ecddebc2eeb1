//! One statistic of a CD step as a Burn metric: [`StatisticMetric<S>`] with its own input
//! type [`StatisticInput<S>`], batch-size weighted over an epoch.

use std::marker::PhantomData;
use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use crate::train::CdOutput;

/// A per-batch statistic of a CD step.
pub trait Statistic: Send + Sync + 'static {
    /// The name under which it is reported (Burn's dashboard, the epoch lines).
    const NAME: &'static str;
    /// Its identifier in files (snake_case): the key of its per-epoch mean.
    const ID: &'static str;
    /// Whether larger values mean a better model.
    const HIGHER_IS_BETTER: bool = false;
    /// Its value for one batch, `[1]`.
    fn of(output: &CdOutput) -> Tensor<1>;
}

/// The value of statistic `S` for one batch, as handed to its metric.
pub struct StatisticInput<S> {
    value: Tensor<1>,
    batch_size: usize,
    statistic: PhantomData<S>,
}

impl<S: Statistic> Adaptor<StatisticInput<S>> for CdOutput {
    fn adapt(&self) -> StatisticInput<S> {
        StatisticInput {
            value: S::of(self),
            batch_size: self.batch_size,
            statistic: PhantomData,
        }
    }
}

/// The Burn metric of statistic `S`: its batch-size weighted mean.
pub struct StatisticMetric<S> {
    name: MetricName,
    state: NumericMetricState,
    statistic: PhantomData<S>,
}

impl<S: Statistic> StatisticMetric<S> {
    /// The metric, with an empty state.
    pub fn new() -> Self {
        Self {
            name: Arc::new(S::NAME.into()),
            state: NumericMetricState::new(),
            statistic: PhantomData,
        }
    }
}

impl<S: Statistic> Default for StatisticMetric<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Clone for StatisticMetric<S> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            state: self.state.clone(),
            statistic: PhantomData,
        }
    }
}

impl<S: Statistic> Metric for StatisticMetric<S> {
    type Input = StatisticInput<S>;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: S::HIGHER_IS_BETTER,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &StatisticInput<S>,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value = item.value.clone().try_into_scalar::<f64>()?;
        self.state.update(value, item.batch_size);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(4)))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(4)))
    }

    fn clear(&mut self) {
        self.state.reset()
    }
}

impl<S: Statistic> Numeric for StatisticMetric<S> {
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
