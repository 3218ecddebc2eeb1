//! Plumbing between Burn's `SupervisedTraining` and our runs: a data loader that serves
//! [`RowsDataset`]s in batches resumable at any epoch, a metric logger that keeps per-epoch means and prints one plain line per epoch,
//! and a renderer that stays quiet between epochs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;
use burn::train::logger::{EvaluationProgressLogger, MetricLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};
use ising_data::RowsDataset;
use rbm::{CdBatch, Noise};
use serde::{Deserialize, Serialize};

use crate::output::{read_json, write_file_atomic};
use crate::pace::Pace;
use crate::progress;
use crate::streams::Stream;

/// Serves a [`RowsDataset`] as [`CdBatch`]es whose order and random-number keys are functions
/// of (stream key, epoch, batch index) only.
///
/// Burn's `DataLoader` shuffles with a generator that restarts whenever a loader is built, so
/// a resumed run would replay the first epoch's order. This loader instead counts epochs
/// itself: each `iter()` is one epoch, starting from `first_epoch`, and epoch e's permutation
/// (Fisher–Yates) and the key of batch b are [`Stream::EpochOrder`] and [`Stream::Batch`] under
/// the loader's key. Resuming at epoch e therefore replays exactly the batches of an
/// uninterrupted run.
///
/// Held-out loaders can pair batch b with reference rows b·B..(b+1)·B (cyclically) of the
/// training set, for the free-energy gap.
#[derive(Clone)]
pub struct EpochLoader {
    rows: RowsDataset,
    range: std::ops::Range<usize>,
    batch_size: usize,
    shuffle: bool,
    key: u64,
    next_epoch: Arc<AtomicUsize>,
    device: Device,
    reference: Option<RowsDataset>,
    window: Option<usize>,
}

impl EpochLoader {
    /// A loader over all of `rows` in batches of `batch_size`, whose first `iter()` is epoch
    /// `first_epoch`.
    ///
    /// # Panics
    /// If `batch_size` is 0.
    pub fn new(
        rows: RowsDataset,
        batch_size: usize,
        shuffle: bool,
        key: u64,
        first_epoch: usize,
        device: &Device,
    ) -> Self {
        assert!(batch_size > 0, "batch size 0");
        Self {
            range: 0..rows.len(),
            rows,
            batch_size,
            shuffle,
            key,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
            device: device.clone(),
            reference: None,
            window: None,
        }
    }

    /// Pairs every batch with as many rows of `reference` (cyclically).
    pub fn with_reference(mut self, reference: RowsDataset) -> Self {
        self.reference = Some(reference);
        self
    }

    /// Serves `rows` rows per epoch (all of them if there are fewer): epoch e (1-based) the
    /// rows from position (e − 1)·`rows` of the order on, cyclically, so that the window moves
    /// through all of them; `None` serves all every epoch.
    ///
    /// # Panics
    /// If `rows` is `Some(0)`.
    pub fn with_window(mut self, rows: Option<usize>) -> Self {
        assert_ne!(rows, Some(0), "a window of 0 rows");
        self.window = rows;
        self
    }

    /// The rows served per epoch.
    fn rows_per_epoch(&self) -> usize {
        let n = self.range.len();
        self.window.map_or(n, |w| w.min(n))
    }

    /// The position in the epoch's order of its first served row (0 without a window).
    fn window_start(&self, epoch: usize) -> usize {
        match self.window {
            Some(w) if w < self.range.len() => (epoch.saturating_sub(1) * w) % self.range.len(),
            _ => 0,
        }
    }

    /// The rows of `epoch`, in the order served.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let all = self.full_order(epoch);
        let start = self.window_start(epoch);
        (0..self.rows_per_epoch())
            .map(|i| all[(start + i) % all.len()])
            .collect()
    }

    /// Every row in the order of `epoch` (shuffled, or as stored).
    fn full_order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = self.range.clone().collect();
        if self.shuffle {
            let mut noise = Noise::new(Stream::EpochOrder { epoch }.key(self.key));
            for i in (1..order.len()).rev() {
                order.swap(i, noise.below(i + 1));
            }
        }
        order
    }
}

struct EpochIterator<'a> {
    loader: &'a EpochLoader,
    epoch: usize,
    order: Vec<usize>,
    batch: usize,
}

impl Iterator for EpochIterator<'_> {
    type Item = Result<CdBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let l = self.loader;
        let start = self.batch * l.batch_size;
        if start >= self.order.len() {
            return None;
        }
        let end = (start + l.batch_size).min(self.order.len());
        let visible = l
            .rows
            .gather(self.order[start..end].iter().copied(), &l.device);
        let key = Stream::Batch {
            epoch: self.epoch,
            batch: self.batch,
        }
        .key(l.key);
        let mut batch = CdBatch::new(visible, key);
        if let Some(reference) = &l.reference
            && !reference.is_empty()
        {
            let n = reference.len();
            // The reference rows follow the window's position in the full order.
            let offset = l.window_start(self.epoch);
            batch = batch.with_reference(
                reference.gather((start..end).map(|i| (offset + i) % n), &l.device),
            );
        }
        self.batch += 1;
        Some(Ok(batch))
    }
}

impl DataLoaderIterator<CdBatch> for EpochIterator<'_> {
    fn progress(&self) -> Progress {
        Progress::new(
            (self.batch * self.loader.batch_size).min(self.order.len()),
            self.order.len(),
            None,
        )
    }
}

impl DataLoader<CdBatch> for EpochLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<CdBatch> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        Box::new(EpochIterator {
            loader: self,
            epoch,
            order: self.order(epoch),
            batch: 0,
        })
    }

    fn num_items(&self) -> usize {
        self.rows_per_epoch()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<CdBatch>> {
        let mut moved = self.clone();
        moved.device = device.clone();
        Arc::new(moved)
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<CdBatch>> {
        let mut sliced = self.clone();
        let first = self.range.start;
        sliced.range = (first + start).min(self.range.end)..(first + end).min(self.range.end);
        sliced.next_epoch = Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst)));
        Arc::new(sliced)
    }
}

/// The part of an epoch a record summarises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpochSplit {
    /// The training batches.
    Train,
    /// The held-out batches.
    Valid,
}

impl EpochSplit {
    /// The split of Burn's `split`, if it is one of ours (a test split is not).
    fn of(split: &Split) -> Option<Self> {
        match split {
            Split::Train => Some(Self::Train),
            Split::Valid => Some(Self::Valid),
            Split::Test(_) => None,
        }
    }

    /// Its name in files and lines: "train" or "valid".
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Valid => "valid",
        }
    }
}

/// The mean of every metric over one epoch of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Which batches.
    pub split: EpochSplit,
    /// Metric identifier ([`rbm::train::metric::Statistic::ID`], e.g. `reconstruction_error`)
    /// → mean over the epoch's batches (weighted by batch size); NaN (a diverged metric) is
    /// kept as `null`. Records written with the display names as keys are read with those
    /// names turned into identifiers.
    #[serde(
        serialize_with = "crate::output::float_map::serialize",
        deserialize_with = "metric_values"
    )]
    pub values: BTreeMap<String, f64>,
}

/// Reads a record's values, display names of the statistics turned into their identifiers.
fn metric_values<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, f64>, D::Error> {
    let values = crate::output::float_map::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .map(|(k, v)| (rbm::train::metric::id_of(&k).map_or(k, str::to_string), v))
        .collect())
}

#[derive(Default)]
struct LoggerState {
    names: HashMap<MetricId, String>,
    entries: HashMap<(String, usize, Split), Vec<NumericEntry>>,
    records: Vec<EpochRecord>,
    /// The training split's means of the latest epoch, for its line with the held-out ones.
    train_of_epoch: Option<(usize, BTreeMap<String, f64>)>,
}

/// A [`MetricLogger`] that keeps every numeric entry in memory (Burn's checkpointing reads
/// them back), computes per-epoch means, prints one line per epoch and split (unless quiet),
/// and keeps the per-epoch means in a JSON file (rewritten atomically after each epoch) so
/// that a resumed run has the whole history.
#[derive(Clone)]
pub struct EpochLogger {
    label: String,
    quiet: bool,
    file: Option<PathBuf>,
    stop: Option<crate::interrupt::StopSignal>,
    pace: Option<Pace>,
    state: Arc<Mutex<LoggerState>>,
}

impl EpochLogger {
    /// A logger whose lines start with `label` (e.g. "layer 1").
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            quiet: false,
            file: None,
            stop: None,
            pace: None,
            state: Arc::new(Mutex::new(LoggerState::default())),
        }
    }

    /// Marks the lines printed once `stop` is raised: Burn's learner then ends the current
    /// split early and does not checkpoint the epoch, so the summary may cover part of it.
    pub fn with_stop(mut self, stop: crate::interrupt::StopSignal) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Reports only the epochs `pace` picks, one short line each with the time left,
    /// instead of every split of every epoch.
    pub fn with_pace(mut self, pace: Pace) -> Self {
        self.pace = Some(pace);
        self
    }

    /// Prints nothing (when Burn's terminal dashboard shows the metrics).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Keeps the records in `path`, starting from `records` (those of the epochs a resumed
    /// run keeps).
    pub fn with_file(self, path: PathBuf, records: Vec<EpochRecord>) -> Self {
        if let Ok(mut state) = self.state.lock() {
            state.records = records;
        }
        Self {
            file: Some(path),
            ..self
        }
    }

    /// Reads the records kept in `path` (none if it does not exist).
    ///
    /// # Errors
    /// If the file exists but cannot be read or parsed.
    pub fn read_records(path: &Path) -> anyhow::Result<Vec<EpochRecord>> {
        if !path.exists() {
            return Ok(Vec::new());
        }
        read_json(path)
    }

    /// Drops the records of the epochs after `epoch` (those an interruption cut short, which
    /// were not checkpointed), in memory and in the file.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn keep_up_to(&self, epoch: usize) -> anyhow::Result<()> {
        let Ok(mut state) = self.state.lock() else {
            return Ok(());
        };
        state.records.retain(|r| r.epoch <= epoch);
        match &self.file {
            Some(path) => write_file_atomic(path, &serde_json::to_vec_pretty(&state.records)?),
            None => Ok(()),
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
        let Some(split) = EpochSplit::of(&summary.split) else {
            return;
        };
        // After a stop the learner ends the split early and does not checkpoint the epoch:
        // its line is marked, and its record is dropped by `keep_up_to`.
        let stopping = match self.stop.as_ref().is_some_and(|s| s.requested()) {
            true => " (interrupted: partial, kept only if checkpointed)",
            false => "",
        };
        let values: BTreeMap<String, f64> = values
            .into_iter()
            .map(|(name, v)| {
                (
                    rbm::train::metric::id_of(&name).map_or(name, str::to_string),
                    v,
                )
            })
            .collect();
        if !self.quiet {
            self.report(&mut state, summary.epoch_number, split, &values, stopping);
        }
        state.records.push(EpochRecord {
            epoch: summary.epoch_number,
            split,
            values,
        });
        if let Some(path) = &self.file {
            let written = serde_json::to_vec_pretty(&state.records)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| write_file_atomic(path, &bytes));
            if let Err(e) = written {
                progress::warn(format!("could not record the epoch history: {e:#}"));
            }
        }
    }
}

impl EpochLogger {
    /// Reports epoch `epoch`'s `values` of `split`: with a [`Pace`], one short line per
    /// reported epoch once both splits are in (or when stopping); without, every split.
    fn report(
        &self,
        state: &mut LoggerState,
        epoch: usize,
        split: EpochSplit,
        values: &BTreeMap<String, f64>,
        stopping: &str,
    ) {
        let Some(pace) = &self.pace else {
            let line: Vec<String> = values.iter().map(|(k, v)| format!("{k} {v:.5}")).collect();
            progress::info(format!(
                "{} epoch {epoch:>4} {:<5}{stopping} {}",
                self.label,
                split.name(),
                line.join(", ")
            ));
            return;
        };
        // The training split's line waits for the held-out one, unless a stop cuts it short.
        let stopped = !stopping.is_empty();
        let (train, valid) = match split {
            EpochSplit::Train => {
                state.train_of_epoch = Some((epoch, values.clone()));
                if !stopped {
                    return;
                }
                (values.clone(), BTreeMap::new())
            }
            EpochSplit::Valid => match &state.train_of_epoch {
                _ if !(pace.reports(epoch) || stopped) => return,
                Some((e, train)) if *e == epoch => (train.clone(), values.clone()),
                _ => (BTreeMap::new(), values.clone()),
            },
        };
        progress::info(format!(
            "{} {}{stopping}: {}",
            self.label,
            pace.progress(epoch),
            crate::pace::epoch_summary(&train, &valid)
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of every batch of one epoch, and of their reference rows.
    fn epoch_rows(loader: &EpochLoader) -> (Vec<f32>, Vec<f32>) {
        let (mut rows, mut reference) = (Vec::new(), Vec::new());
        for batch in loader.iter() {
            let batch = batch.unwrap();
            rows.extend(rbm::tensor::to_vec::<f32, 2>(batch.visible).unwrap());
            reference.extend(rbm::tensor::to_vec::<f32, 2>(batch.reference.unwrap()).unwrap());
        }
        (rows, reference)
    }

    #[test]
    fn a_held_out_window_moves_through_every_row_and_its_reference_rows_follow() {
        // 10 held-out rows (row i holds the value i), windows of 4 in batches of 3: epochs
        // 1, 2, 3 serve rows 0–3, 4–7, 8, 9, 0, 1; the reference rows (of a 7-row set) are
        // those at the same positions, cyclically.
        let device = Device::flex();
        let valid = RowsDataset::new((0..10).map(|i| i as f32).collect(), 1);
        let reference = RowsDataset::new((0..7).map(|i| 100.0 + i as f32).collect(), 1);
        let loader = EpochLoader::new(valid.clone(), 3, false, 5, 1, &device)
            .with_reference(reference.clone())
            .with_window(Some(4));
        assert_eq!(loader.num_items(), 4);
        let mut seen = Vec::new();
        for (epoch, expected) in [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]]
            .iter()
            .enumerate()
        {
            let (rows, reference) = epoch_rows(&loader);
            let expected: Vec<f32> = expected.iter().map(|&i| i as f32).collect();
            assert_eq!(rows, expected, "epoch {}", epoch + 1);
            let offset = 4 * epoch;
            let expected_reference: Vec<f32> =
                (0..4).map(|i| 100.0 + ((offset + i) % 7) as f32).collect();
            assert_eq!(reference, expected_reference, "epoch {}", epoch + 1);
            seen.extend(rows);
        }
        for i in 0..10 {
            assert!(seen.contains(&(i as f32)), "row {i} never served");
        }
        // Without a window, or with one as large as the set: every row every epoch.
        for window in [None, Some(10), Some(25)] {
            let all = EpochLoader::new(valid.clone(), 3, false, 5, 1, &device)
                .with_reference(reference.clone())
                .with_window(window);
            assert_eq!(all.num_items(), 10);
            for _ in 0..2 {
                let (rows, _) = epoch_rows(&all);
                assert_eq!(rows, (0..10).map(|i| i as f32).collect::<Vec<_>>());
            }
        }
        // A resumed loader (first epoch 3) serves epoch 3's window.
        let resumed = EpochLoader::new(valid, 3, false, 5, 3, &device).with_window(Some(4));
        assert_eq!(resumed.order(3), vec![8, 9, 0, 1]);
    }
}
