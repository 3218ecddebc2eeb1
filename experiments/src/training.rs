//! Plumbing between Burn's `SupervisedTraining` and our runs: a dataset of float rows with its
//! batcher, a metric logger that keeps per-epoch means and prints one plain line per epoch,
//! and a renderer that stays quiet between epochs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;
use burn::train::logger::{EvaluationProgressLogger, MetricLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use serde::{Deserialize, Serialize};

/// Rows of equal width stored contiguously, served one row per item.
#[derive(Debug, Clone)]
pub struct RowsDataset {
    data: Arc<Vec<f32>>,
    width: usize,
}

impl RowsDataset {
    /// A dataset of `data.len() / width` rows.
    ///
    /// # Panics
    /// If `width` is 0 or does not divide `data.len()`.
    pub fn new(data: Vec<f32>, width: usize) -> Self {
        assert!(width > 0 && data.len().is_multiple_of(width), "ragged rows");
        Self {
            data: Arc::new(data),
            width,
        }
    }

    /// Row width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// All rows as one `[rows, width]` tensor.
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(self.data.as_ref().clone(), [self.len(), self.width]),
            device,
        )
    }
}

impl Dataset<Vec<f32>> for RowsDataset {
    fn get(&self, index: usize) -> Result<Vec<f32>, DatasetError> {
        Ok(self.data[index * self.width..(index + 1) * self.width].to_vec())
    }

    fn len(&self) -> usize {
        self.data.len() / self.width
    }
}

/// Stacks rows into a `[batch, width]` tensor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowsBatcher;

impl Batcher<Vec<f32>, Tensor<2>> for RowsBatcher {
    fn batch(&self, items: Vec<Vec<f32>>, device: &Device) -> Tensor<2> {
        let width = items.first().map_or(0, |r| r.len());
        let rows = items.len();
        let flat: Vec<f32> = items.into_iter().flatten().collect();
        Tensor::from_data(TensorData::new(flat, [rows, width]), device)
    }
}

/// The mean of every metric over one epoch of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// "train" or "valid".
    pub split: String,
    /// Metric name → mean over the epoch's batches (weighted by batch size).
    pub values: BTreeMap<String, f64>,
}

#[derive(Default)]
struct LoggerState {
    names: HashMap<MetricId, String>,
    entries: HashMap<(String, usize, Split), Vec<NumericEntry>>,
    records: Vec<EpochRecord>,
}

/// A [`MetricLogger`] that keeps every numeric entry in memory (Burn's checkpointing reads
/// them back), computes per-epoch means, and prints one line per epoch and split.
#[derive(Clone)]
pub struct EpochLogger {
    label: String,
    state: Arc<Mutex<LoggerState>>,
}

impl EpochLogger {
    /// A logger whose lines start with `label` (e.g. "layer 1").
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            state: Arc::new(Mutex::new(LoggerState::default())),
        }
    }

    /// The per-epoch means recorded so far.
    pub fn records(&self) -> Vec<EpochRecord> {
        self.state
            .lock()
            .map(|s| s.records.clone())
            .unwrap_or_default()
    }
}

fn split_name(split: &Split) -> String {
    match split {
        Split::Train => "train".into(),
        Split::Valid => "valid".into(),
        Split::Test(tag) => format!(
            "test{}",
            tag.as_ref().map_or(String::new(), |t| format!("-{t}"))
        ),
    }
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        for numeric in update.entries_numeric {
            let Some(entry) = numeric.numeric_entry else {
                continue;
            };
            let name = state
                .names
                .get(&numeric.entry.metric_id)
                .cloned()
                .unwrap_or_else(|| format!("{:?}", numeric.entry.metric_id));
            state
                .entries
                .entry((name, epoch, split.clone()))
                .or_default()
                .push(entry);
        }
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        let state = self.state.lock().map_err(|e| e.to_string())?;
        Ok(state
            .entries
            .get(&(name.to_string(), epoch, split.clone()))
            .cloned()
            .unwrap_or_default())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        if let Ok(mut state) = self.state.lock() {
            state
                .names
                .insert(definition.metric_id.clone(), definition.name.to_string());
        }
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let mut values = BTreeMap::new();
        for ((name, epoch, split), entries) in &state.entries {
            if *epoch != summary.epoch_number || *split != summary.split {
                continue;
            }
            // The epoch's authoritative value when Burn logged one, else the mean of the
            // per-batch entries (weighted by their counts).
            if let Some(last) = entries.iter().rev().find_map(|e| match e {
                NumericEntry::Final(v) => Some(*v),
                _ => None,
            }) {
                values.insert(name.clone(), last);
                continue;
            }
            let (mut sum, mut count) = (0.0, 0.0);
            for e in entries {
                match e {
                    NumericEntry::Value(v) => {
                        sum += v;
                        count += 1.0;
                    }
                    NumericEntry::Aggregated {
                        aggregated_value,
                        count: n,
                    } => {
                        sum += aggregated_value * *n as f64;
                        count += *n as f64;
                    }
                    NumericEntry::Final(_) => {}
                }
            }
            if count > 0.0 {
                values.insert(name.clone(), sum / count);
            }
        }
        let split = split_name(&summary.split);
        println!(
            "{} epoch {:>4} {split:<5} {}",
            self.label,
            summary.epoch_number,
            values
                .iter()
                .map(|(k, v)| format!("{k}: {v:.5}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        state.records.push(EpochRecord {
            epoch: summary.epoch_number,
            split,
            values,
        });
    }
}

/// A renderer that prints nothing per batch (the [`EpochLogger`] prints per epoch).
#[derive(Debug, Default)]
pub struct QuietRenderer;

impl MetricsRendererTraining for QuietRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for QuietRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for QuietRenderer {
    fn start(&mut self, _total: usize, _start: usize, _items: Option<usize>, _label: Option<&str>) {
    }
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _n: usize) {}
    fn update_split(&mut self, _done: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for QuietRenderer {
    fn start_global_progress(&mut self, _total: usize) {}
    fn start_test(&mut self, _name: &str, _total: usize) {}
    fn update_test_progress(&mut self, _done: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for QuietRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
