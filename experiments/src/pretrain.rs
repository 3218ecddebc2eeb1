//! Greedy layer-wise pretraining of a stack of RBMs on 2D Ising samples (Mehta & Schwab,
//! Sec. IV.2 and Appendix A), each layer one Burn `SupervisedTraining` run, and the measures of
//! the learned receptive fields (Appendix B).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::data::dataset::Dataset;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::{Learner, LearningResult, SupervisedTraining};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::observables::{MeasureOptions, measure};
use ising_data::store::{self, StoredDataset};
use ising_data::{Lattice, SpinEncoding};
use rbm::{Dbn, Propagation, Rbm, RbmConfig, TrainingConfig, Units};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    AtomicCheckpointer, KEEP_EPOCHS, last_complete_epoch_where, verify_checkpoint,
};
use crate::interrupt::StopSignal;
use crate::output::{Interrupted, read_json, write_file_atomic};
use crate::training::{EpochLoader, EpochLogger, EpochRecord, QuietRenderer, RowsDataset};

/// The data of a pretraining run.
#[derive(Config, Debug)]
pub struct DataConfig {
    /// Linear size L of the periodic lattice.
    #[config(default = 40)]
    pub size: usize,
    /// Coupling K.
    #[config(default = 0.408)]
    pub coupling: f64,
    /// Number of Monte Carlo samples.
    #[config(default = 40_000)]
    pub samples: usize,
    /// Monte Carlo seed.
    #[config(default = 7)]
    pub seed: u64,
    /// Fraction held out for validation.
    #[config(default = 0.1)]
    pub valid_fraction: f64,
}

/// A greedy layer-wise pretraining run (the Fig. 3 pipeline).
#[derive(Config, Debug)]
pub struct PretrainConfig {
    /// The data.
    pub data: DataConfig,
    /// Layer widths, visible first (L² first).
    pub layers: Vec<usize>,
    /// Unit type of every layer (Bernoulli, as in the code the paper descends from).
    #[config(default = "Units::Bernoulli")]
    pub units: Units,
    /// Standard deviation of the initial weights.
    #[config(default = 0.01)]
    pub init_std: f64,
    /// Start each layer's visible biases at the data's log-odds.
    #[config(default = true)]
    pub visible_bias_from_data: bool,
    /// How a trained layer's activities become the next layer's data.
    #[config(default = "Propagation::Mean")]
    pub propagation: Propagation,
    /// Training of every layer.
    pub training: TrainingConfig,
}

impl PretrainConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// Naming the offending field.
    pub fn validate(&self) -> Result<()> {
        self.training.validate()?;
        let d = &self.data;
        Lattice::new(2, d.size)?;
        if !(d.coupling.is_finite() && d.coupling >= 0.0) {
            bail!("data.coupling must be ≥ 0, got {}", d.coupling);
        }
        if !(0.0..0.9).contains(&d.valid_fraction) {
            bail!(
                "data.valid_fraction must be in [0, 0.9), got {}",
                d.valid_fraction
            );
        }
        if d.samples < 10 {
            bail!("data.samples must be at least 10, got {}", d.samples);
        }
        if self.layers.len() < 2 || self.layers.contains(&0) {
            bail!(
                "layers needs at least two non-zero widths, got {:?}",
                self.layers
            );
        }
        if self.layers[0] != d.size * d.size {
            bail!(
                "the first layer must have L² = {} units for L = {}, got {}",
                d.size * d.size,
                d.size,
                self.layers[0]
            );
        }
        if self.units == Units::Gaussian {
            bail!("units must be bernoulli or spin (layers are stacked, so each is visible once)");
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            bail!("init_std must be finite and ≥ 0");
        }
        let (n_train, n_valid) = self.split_sizes();
        if n_valid < MIN_VALID_ROWS {
            bail!(
                "data.valid_fraction = {} of data.samples = {} holds out {n_valid} rows; a run needs at least {MIN_VALID_ROWS} held-out rows (for the held-out metrics and the reconstructions of Fig. 3e): raise data.samples or data.valid_fraction",
                d.valid_fraction,
                d.samples
            );
        }
        if n_train < self.training.batch_size {
            bail!(
                "data.samples = {} leaves {n_train} training rows, fewer than training.batch_size = {}: there would be no full batch per epoch, and the layers would barely move from their initial weights; raise data.samples (--samples) or lower training.batch_size",
                d.samples,
                self.training.batch_size
            );
        }
        Ok(())
    }

    /// The numbers of training and held-out rows ([`ising_data::IsingDataset::split`]).
    pub fn split_sizes(&self) -> (usize, usize) {
        let d = &self.data;
        let n_valid = ((d.valid_fraction * d.samples as f64).round() as usize).min(d.samples);
        (d.samples - n_valid, n_valid)
    }

    /// Parses a configuration from JSON text, refusing keys it does not know (naming the
    /// nearest valid one). It is not [validated](PretrainConfig::validate) here, since
    /// callers apply overrides first.
    ///
    /// # Errors
    /// Naming the key or field at fault.
    pub fn from_json(text: &str) -> Result<Self> {
        let given: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
        let config: Self = match serde_json::from_value(given.clone()) {
            Ok(config) => config,
            Err(e) => {
                // A misspelt key shows up as a missing field: name the misspelling.
                let reference: serde_json::Value =
                    serde_json::from_str(include_str!("../configs/paper.json"))?;
                unknown_keys("", &given, &reference)?;
                return Err(e.into());
            }
        };
        let known = serde_json::to_value(&config)?;
        unknown_keys("", &given, &known)?;
        Ok(config)
    }

    /// Reads a configuration file ([`PretrainConfig::from_json`]).
    ///
    /// # Errors
    /// Naming the file and the fault.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("{}", path.display()))
    }
}

/// The fewest held-out rows a run accepts: the reconstructions of Fig. 3e show three.
pub const MIN_VALID_ROWS: usize = 3;

/// Refuses the first key of `given` that `known` (the same configuration serialised back)
/// lacks, naming the nearest key that exists at that place.
fn unknown_keys(path: &str, given: &serde_json::Value, known: &serde_json::Value) -> Result<()> {
    use serde_json::Value;
    match (given, known) {
        // Variants of a tagged enum (e.g. a schedule's kind) have different keys.
        (Value::Object(g), Value::Object(k))
            if g.get("kind")
                .is_some_and(|kind| Some(kind) != k.get("kind")) =>
        {
            Ok(())
        }
        (Value::Object(g), Value::Object(k)) => {
            for (key, value) in g {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match k.get(key) {
                    Some(sub) => unknown_keys(&here, value, sub)?,
                    None => {
                        let nearest = k
                            .keys()
                            .min_by_key(|candidate| edit_distance(key, candidate))
                            .map(|n| format!(" (did you mean '{n}'?)"))
                            .unwrap_or_default();
                        bail!("unknown key '{here}'{nearest}");
                    }
                }
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(k)) => {
            for (a, b) in g.iter().zip(k) {
                unknown_keys(path, a, b)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Levenshtein distance between two strings (in chars).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Where the samples came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DataSource {
    /// The dataset folder used or written.
    pub dir: PathBuf,
    /// Whether it was generated by this run.
    pub generated: bool,
    /// Seconds spent generating or loading.
    pub seconds: f64,
    /// The sampler that produced the data.
    pub algorithm: ising_data::Algorithm,
    /// The independent Monte Carlo chains.
    pub chains: usize,
    /// SHA-256 of the data's `spins.npy`.
    pub spins_sha256: String,
}

impl DataSource {
    /// Where `stored` came from: its folder, sampler, chain count and checksum.
    fn of(stored: &StoredDataset, generated: bool, seconds: f64) -> Self {
        Self {
            dir: stored.dir.clone(),
            generated,
            seconds,
            algorithm: stored.manifest.config.algorithm,
            chains: stored.manifest.config.chains,
            spins_sha256: stored.manifest.spins_sha256.clone(),
        }
    }
}

/// The error of a run stopped by a signal: what stopped, and how to continue.
fn interrupted(what: &str, run_dir: &Path) -> anyhow::Error {
    Interrupted(format!(
        "interrupted: {what}; continue the run with --resume, e.g. fig3 --out {} --resume",
        run_dir.display()
    ))
    .into()
}

/// The dataset folder name for a data configuration.
pub fn dataset_name(d: &DataConfig) -> String {
    format!(
        "ising2d-L{}-K{}-n{}-seed{}",
        d.size, d.coupling, d.samples, d.seed
    )
}

/// Loads the dataset of `data` from `datasets_dir` when a folder with a matching manifest
/// exists there (same lattice, coupling, sample count and seed, zero field), otherwise
/// generates it with the default Wolff settings and stores it there.
///
/// # Errors
/// If an existing folder of that name does not match or fails verification (it is left
/// untouched), or on I/O failure.
pub fn load_or_generate(
    data: &DataConfig,
    datasets_dir: &Path,
) -> Result<(StoredDataset, DataSource)> {
    let start = Instant::now();
    let dir = datasets_dir.join(dataset_name(data));
    let lattice = Lattice::Square { l: data.size };
    let config = GenerateConfig::new(lattice, data.coupling, data.samples, data.seed);
    if datasets_dir.exists() && !datasets_dir.is_dir() {
        bail!("--datasets {} is not a folder", datasets_dir.display());
    }
    if dir.exists() {
        let stored =
            store::load_dataset(&dir).with_context(|| format!("verifying {}", dir.display()))?;
        let differences = json_differences(
            "",
            &serde_json::to_value(&stored.manifest.config)?,
            &serde_json::to_value(&config)?,
        );
        if !differences.is_empty() {
            bail!(
                "{} exists but its manifest differs from the data this run generates in {} (the manifest's value first); move it away or change the config",
                dir.display(),
                differences.join(", ")
            );
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "data: {} ({} samples, verified)",
            dir.display(),
            stored.len()
        );
        let source = DataSource::of(&stored, false, seconds);
        return Ok((stored, source));
    }
    println!("data: generating {} ...", dir.display());
    let generated = generate(&config, &|_| {})?;
    for w in &generated.warnings {
        eprintln!("warning: {w}");
    }
    let measured = measure(
        &lattice,
        &generated.chains(),
        MeasureOptions {
            coupling: data.coupling,
            field: 0.0,
            correlation: false,
            bins_per_chain: 8,
        },
    );
    store::write_dataset(&dir, &generated, measured, false)?;
    let stored = store::load_dataset(&dir)?;
    let seconds = start.elapsed().as_secs_f64();
    println!("data: wrote {} in {seconds:.1} s", dir.display());
    let source = DataSource::of(&stored, true, seconds);
    Ok((stored, source))
}

/// What one trained layer reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerReport {
    /// 1-based layer index.
    pub layer: usize,
    /// Visible and hidden widths.
    pub shape: [usize; 2],
    /// Per-epoch metric means, train and valid.
    pub epochs: Vec<EpochRecord>,
    /// Free-energy gap mean F(valid) − mean F(train) after training.
    #[serde(with = "crate::output::float")]
    pub free_energy_gap: f64,
    /// Exact-site pseudo-log-likelihood per unit on the held-out data after training.
    #[serde(with = "crate::output::float")]
    pub valid_pseudo_log_likelihood_per_unit: f64,
    /// Wall time of the layer's training in the process that finished it, seconds.
    pub seconds: f64,
    /// The epoch a resumed run continued from (0 when the layer ran in one go).
    #[serde(default)]
    pub resumed_after_epoch: usize,
}

/// How [`train_stack`] runs.
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Stops training after the current step when raised; [`train_stack`] then returns
    /// [`Interrupted`] and the run can be resumed.
    pub stop: StopSignal,
    /// Continue an interrupted run in the same folder: finished layers are loaded, the
    /// interrupted one continues from its last complete checkpoint.
    pub resume: bool,
    /// Show Burn's terminal dashboard instead of one plain line per epoch.
    pub dashboard: bool,
}

/// The files of a layer's folder `run_dir/layer{l}`.
#[derive(Debug, Clone)]
pub struct LayerFiles {
    /// The layer's folder (Burn's training directory).
    pub dir: PathBuf,
    /// Burn's checkpoints, one set per epoch (the last [`KEEP_EPOCHS`] kept).
    pub checkpoints: PathBuf,
    /// The per-epoch metric means so far.
    pub epochs: PathBuf,
    /// The trained layer's model record, written when the layer is finished.
    pub model: PathBuf,
    /// The layer's [`LayerReport`], written last: its presence marks the layer finished.
    pub report: PathBuf,
}

impl LayerFiles {
    /// The files of layer `layer` (1-based) of the run in `run_dir`.
    pub fn new(run_dir: &Path, layer: usize) -> Self {
        let dir = run_dir.join(format!("layer{layer}"));
        Self {
            checkpoints: dir.join("checkpoint"),
            epochs: dir.join("epochs.json"),
            model: dir.join("model.bpk"),
            report: dir.join("layer.json"),
            dir,
        }
    }
}

/// The key of layer `layer`'s random streams under training seed `seed`; `stream` 0 is the
/// training data (order and Gibbs sampling), 1 the held-out data, 2 the initial weights, 3
/// and 4 the sampled propagation of the training and held-out data to the next layer, 5 the
/// initial persistent chains.
pub fn layer_key(seed: u64, layer: usize, stream: u64) -> u64 {
    rbm::noise::key(&[seed, layer as u64, stream])
}

/// Trains the stack greedily on `train`/`valid` (rows of the first layer's encoding) in
/// sub-folders `layer{l}` of `run_dir` ([`LayerFiles`]); returns the stack and a report per
/// layer.
///
/// Every random number is derived from (seed, layer, epoch, batch) on the host — the data
/// order and the Gibbs sampling through [`EpochLoader`], the initial weights through
/// [`RbmConfig::init_seeded`], the persistent chains through [`rbm::CdConfig::init_seeded`] —
/// so the device's own generator is never used, and the momentum, learning-rate schedule and persistent chains are in Burn's
/// checkpoints, so a resumed run ends with the same weights, bit for bit on a CPU backend,
/// as an uninterrupted one.
///
/// # Errors
/// If a layer's training fails, or (resuming) a finished layer cannot be loaded or the
/// newest checkpoint is corrupt or does not fit; nothing in the folder is removed then.
pub fn train_stack(
    config: &PretrainConfig,
    mut train: RowsDataset,
    mut valid: RowsDataset,
    device: &Device,
    run_dir: &Path,
    options: StackOptions,
) -> Result<(Dbn, Vec<LayerReport>)> {
    let mut layers = Vec::new();
    let mut reports = Vec::new();
    let tc = &config.training;
    for (l, pair) in config.layers.windows(2).enumerate() {
        let layer = l + 1;
        let start = Instant::now();
        let files = LayerFiles::new(run_dir, layer);
        let train_tensor = train.to_tensor(device);
        let mut rbm = RbmConfig::new(pair[0], pair[1])
            .with_visible_units(config.units)
            .with_hidden_units(config.units)
            .with_init_std(config.init_std)
            .init_seeded(device, layer_key(tc.seed, layer, 2));
        if config.visible_bias_from_data {
            rbm = rbm.with_visible_bias_from_data(train_tensor.clone());
        }
        let model = tc.cd.clone().init_seeded(rbm, layer_key(tc.seed, layer, 5));
        let label = format!("layer {layer} ({}→{})", pair[0], pair[1]);

        let (trained, report) = if options.resume && files.report.exists() {
            let report: LayerReport = read_json(&files.report)?;
            let bytes = std::fs::read(&files.model)
                .with_context(|| format!("reading {}", files.model.display()))?;
            let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| anyhow::anyhow!("{} is corrupt: {e}", files.model.display()))?;
            let loaded = model.try_load_record(record).map_err(|e| {
                anyhow::anyhow!(
                    "{} does not fit layer {layer}'s architecture: {e}",
                    files.model.display()
                )
            })?;
            println!(
                "{label}: finished earlier, loaded {}",
                files.model.display()
            );
            (loaded.valid().rbm, report)
        } else {
            let mut history = if options.resume {
                EpochLogger::read_records(&files.epochs)?
            } else {
                Vec::new()
            };
            // A process stopped between an epoch's checkpoint and its log line resumes from
            // the last epoch that has both.
            let logged = |e: usize| {
                ["train", "valid"]
                    .iter()
                    .all(|split| history.iter().any(|r| r.epoch == e && r.split == *split))
            };
            let resume_from = if options.resume {
                last_complete_epoch_where(&files.checkpoints, logged)
            } else {
                None
            };
            if let Some(epoch) = resume_from {
                if epoch > tc.epochs {
                    bail!(
                        "{} holds epoch {epoch} but the config asks for {} epochs",
                        files.checkpoints.display(),
                        tc.epochs
                    );
                }
                verify_checkpoint(&files.checkpoints, epoch, model.clone())?;
                history.retain(|r| r.epoch <= epoch);
                println!("{label}: resuming after epoch {epoch}");
            }
            let first_epoch = resume_from.unwrap_or(0) + 1;
            let batches_per_epoch = train.len().div_ceil(tc.batch_size);
            let scheduler = tc.lr_scheduler(batches_per_epoch * tc.epochs)?;
            let learner = Learner::new(model, tc.optimizer(), scheduler);
            let train_loader = EpochLoader::new(
                train.clone(),
                tc.batch_size,
                true,
                layer_key(tc.seed, layer, 0),
                first_epoch,
                device,
            );
            let valid_loader = EpochLoader::new(
                valid.clone(),
                tc.batch_size,
                false,
                layer_key(tc.seed, layer, 1),
                first_epoch,
                device,
            )
            .with_reference(train.clone());
            let logger = EpochLogger::new(label.clone())
                .quiet(options.dashboard)
                .with_file(files.epochs.clone(), history);
            let checkpointer = |name| AtomicCheckpointer::new(&files.checkpoints, name);
            let mut training = rbm::train::metric::register(SupervisedTraining::new(
                &files.dir,
                std::sync::Arc::new(train_loader),
                std::sync::Arc::new(valid_loader),
            ))
            .num_epochs(tc.epochs)
            .with_custom_checkpointers(
                checkpointer("model"),
                checkpointer("optim"),
                checkpointer("scheduler"),
            )
            .with_checkpointing_strategy(KeepLastNCheckpoints::new(KEEP_EPOCHS))
            .with_metric_logger(logger.clone())
            .with_application_logger(None);
            if !options.dashboard {
                training = training.renderer(Box::new(QuietRenderer));
            }
            if let Some(epoch) = resume_from {
                training = training.checkpoint(epoch);
            }
            let watcher = options
                .stop
                .watch(training.interrupter(), options.dashboard);
            if options.dashboard {
                crate::interrupt::enter_dashboard_terminal();
            }
            let LearningResult {
                model: trained_model,
                renderer,
                error,
                ..
            } = training.launch(learner);
            // Closing the dashboard restores the terminal; only then is printing visible.
            drop(renderer);
            drop(watcher);
            if options.dashboard {
                crate::interrupt::leave_dashboard_terminal();
            }
            if let Some(e) = error {
                bail!("training layer {layer} failed: {e}");
            }
            let records = logger.records();
            let done = records
                .iter()
                .filter(|r| r.split == "valid")
                .map(|r| r.epoch)
                .max();
            if options.stop.requested() && done != Some(tc.epochs) {
                return Err(interrupted(
                    &format!(
                        "layer {layer} stopped after epoch {} of {} (its checkpoints are in {})",
                        done.unwrap_or(0),
                        tc.epochs,
                        files.checkpoints.display()
                    ),
                    run_dir,
                ));
            }
            if done != Some(tc.epochs) {
                bail!(
                    "training of layer {layer} stopped after epoch {} of {}; continue it with --resume",
                    done.unwrap_or(0),
                    tc.epochs
                );
            }
            let bytes = trained_model
                .clone()
                .into_record()
                .into_bytes()
                .map_err(|e| anyhow::anyhow!("serialising layer {layer}: {e}"))?;
            write_file_atomic(&files.model, &bytes)?;
            let trained: Rbm = trained_model.rbm;
            let valid_tensor = valid.to_tensor(device);
            let gap = rbm::eval::likelihood::free_energy_gap(
                &trained,
                train_tensor.clone(),
                valid_tensor.clone(),
            );
            let pll = rbm::eval::likelihood::pseudo_log_likelihood(&trained, valid_tensor)?;
            let report = LayerReport {
                layer,
                shape: [pair[0], pair[1]],
                epochs: records,
                free_energy_gap: gap,
                valid_pseudo_log_likelihood_per_unit: pll,
                seconds: start.elapsed().as_secs_f64(),
                resumed_after_epoch: resume_from.unwrap_or(0),
            };
            write_file_atomic(&files.report, &serde_json::to_vec_pretty(&report)?)?;
            println!(
                "{label}: {:.1} s, free-energy gap {gap:+.4}, held-out pseudo-log-likelihood per unit {pll:.4}",
                report.seconds
            );
            (trained, report)
        };
        reports.push(report);
        if options.stop.requested() && layer + 1 < config.layers.len() {
            return Err(interrupted(
                &format!("stopped after layer {layer}"),
                run_dir,
            ));
        }
        // The next layer's data: built once from the trained layer.
        if layer + 1 < config.layers.len() {
            let up = |t: Tensor<2>, stream: u64| match config.propagation {
                Propagation::Mean => trained.hidden_mean(t),
                Propagation::Sample => {
                    let mut noise = rbm::Noise::new(layer_key(tc.seed, layer, stream));
                    trained
                        .hidden_units
                        .sample_with(trained.hidden_input(t), &mut noise)
                }
            };
            let width = pair[1];
            let valid_tensor = valid.to_tensor(device);
            train = RowsDataset::new(tensor_values(up(train_tensor, 3))?, width);
            valid = RowsDataset::new(tensor_values(up(valid_tensor, 4))?, width);
        }
        layers.push(trained);
    }
    Ok((Dbn::new(layers)?, reports))
}

/// A tensor's values as f32.
///
/// # Errors
/// If the tensor's data cannot be read back from the device as f32.
pub fn tensor_values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("reading a tensor back from the device: {e:?}"))
}

/// The rows of a stored dataset split into (train, valid) datasets in `encoding`.
///
/// # Errors
/// If the validation fraction is invalid.
pub fn split_rows(
    stored: StoredDataset,
    encoding: SpinEncoding,
    valid_fraction: f64,
    seed: u64,
) -> Result<(RowsDataset, RowsDataset)> {
    let ds = ising_data::IsingDataset::from_stored(stored);
    let (train, valid) = ds.split(valid_fraction, seed)?;
    let rows = |d: &ising_data::IsingDataset| -> RowsDataset {
        let n = d.n_sites();
        let mut out = Vec::with_capacity(d.len() * n);
        for i in 0..d.len() {
            out.extend(d.spins_at(i).iter().map(|&s| encoding.encode(s)));
        }
        RowsDataset::new(out, n)
    };
    Ok((rows(&train), rows(&valid)))
}

/// The visible encoding matching a unit type.
pub fn encoding_for(units: Units) -> SpinEncoding {
    match units {
        Units::Spin => SpinEncoding::PlusMinusOne,
        _ => SpinEncoding::ZeroOne,
    }
}

/// Size and locality of receptive fields on the periodic L×L lattice.
///
/// Tested in `tests/field_measures.rs` on fields with known answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldMeasures {
    /// Median over units of the number of sites where |r| ≥ ½ max|r| (the field's area at half
    /// maximum; robust to the weak background every field has).
    pub half_max_area: f64,
    /// √(half_max_area / π): the radius of a disc of that area, in lattice spacings.
    pub half_max_radius: f64,
    /// Mean over units of the radius of gyration of |r| around its centre (torus distances),
    /// in lattice spacings. A field spread uniformly over the 40×40 torus has ≈ 16.3.
    pub radius_of_gyration: f64,
    /// Mean over units of the fraction of Σ|r| inside the b×b block around the field's centre,
    /// b = L/√(n_units) (the Kadanoff block of the layer: 2, 4, 8 for 400, 100, 25 units).
    pub block_fraction: f64,
    /// The block side b used.
    pub block_side: usize,
    /// The block fraction a uniform field would have, b²/L².
    pub uniform_block_fraction: f64,
}

/// Measures the receptive fields `r` (`[L², units]`, column j the field of unit j).
///
/// # Panics
/// If `r.len()` is not `l * l * units`.
pub fn field_measures(r: &[f32], l: usize, units: usize) -> FieldMeasures {
    assert_eq!(r.len(), l * l * units, "fields of wrong size");
    let block = ((l as f64) / (units as f64).sqrt()).round().max(1.0) as usize;
    let torus = |a: f64, b: f64| {
        let d = (a - b).abs() % l as f64;
        d.min(l as f64 - d)
    };
    let (mut rg_sum, mut frac_sum) = (0.0, 0.0);
    let mut areas = Vec::with_capacity(units);
    for j in 0..units {
        let w: Vec<f64> = (0..l * l)
            .map(|i| (r[i * units + j] as f64).abs())
            .collect();
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            continue;
        }
        let peak = w.iter().cloned().fold(0.0, f64::max);
        areas.push(w.iter().filter(|&&x| x >= 0.5 * peak).count() as f64);
        // Circular mean per axis.
        let centre = |coord: &dyn Fn(usize) -> usize| {
            let (mut s, mut c) = (0.0, 0.0);
            for (i, wi) in w.iter().enumerate() {
                let th = 2.0 * std::f64::consts::PI * coord(i) as f64 / l as f64;
                s += wi * th.sin();
                c += wi * th.cos();
            }
            (s.atan2(c).rem_euclid(2.0 * std::f64::consts::PI)) * l as f64
                / (2.0 * std::f64::consts::PI)
        };
        let (cy, cx) = (centre(&|i| i / l), centre(&|i| i % l));
        // The b×b block of sites nearest the centre: rows (and columns) start, …, start+b−1.
        let start = |c: f64| {
            ((c - block as f64 / 2.0 + 0.5 + 1e-9).floor() as i64).rem_euclid(l as i64) as usize
        };
        let (y0, x0) = (start(cy), start(cx));
        let in_block = |coord: usize, first: usize| (coord + l - first) % l < block;
        let mut rg2 = 0.0;
        let mut inside = 0.0;
        for (i, wi) in w.iter().enumerate() {
            let (dy, dx) = (torus((i / l) as f64, cy), torus((i % l) as f64, cx));
            rg2 += wi * (dy * dy + dx * dx);
            if in_block(i / l, y0) && in_block(i % l, x0) {
                inside += wi;
            }
        }
        rg_sum += (rg2 / total).sqrt();
        frac_sum += inside / total;
    }
    areas.sort_by(f64::total_cmp);
    let half_max_area = match areas.len() {
        0 => 0.0,
        n if n % 2 == 1 => areas[n / 2],
        n => 0.5 * (areas[n / 2 - 1] + areas[n / 2]),
    };
    FieldMeasures {
        half_max_area,
        half_max_radius: (half_max_area / std::f64::consts::PI).sqrt(),
        radius_of_gyration: rg_sum / units as f64,
        block_fraction: frac_sum / units as f64,
        block_side: block,
        uniform_block_fraction: (block * block) as f64 / (l * l) as f64,
    }
}

/// A figure: file name and PNG bytes.
pub type Figure = (String, Vec<u8>);

/// The measures of one layer's receptive fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerFields {
    /// 1-based layer.
    pub layer: usize,
    /// Number of hidden units (fields).
    pub units: usize,
    /// The measures.
    #[serde(flatten)]
    pub measures: FieldMeasures,
}

/// Measures the receptive fields r(1), …, r(n) (each `[L², units]`) and draws Fig. 3b (top
/// layer), 3c (the layer below) and 3d (field size against layer). Returns the measures and
/// the figures as (file name, PNG bytes).
///
/// # Errors
/// If drawing fails.
pub fn receptive_field_figures(
    fields: &[Tensor<2>],
    l: usize,
) -> Result<(Vec<LayerFields>, Vec<Figure>)> {
    use crate::plot::{ColourScale, ImagePanel, Series, image_grid, line_chart};
    let mut reports = Vec::new();
    let mut figures = Vec::new();
    let depth = fields.len();
    for (i, r) in fields.iter().enumerate() {
        let units = r.dims()[1];
        let values = tensor_values(r.clone())?;
        let measures = field_measures(&values, l, units);
        reports.push(LayerFields {
            layer: i + 1,
            units,
            measures,
        });
        let (name, which, pixels) = if i + 1 == depth {
            ("fig3b_top_receptive_fields.png", "top", 120)
        } else if i + 2 == depth {
            ("fig3c_middle_receptive_fields.png", "middle", 80)
        } else {
            continue;
        };
        let panels: Vec<ImagePanel> = (0..units)
            .map(|j| ImagePanel {
                caption: String::new(),
                l,
                values: (0..l * l).map(|s| values[s * units + j]).collect(),
                scale: ColourScale::Diverging,
            })
            .collect();
        let cols = (units as f64).sqrt().ceil() as usize;
        let title = format!(
            "Receptive fields of the {units} {which}-layer units (red +, blue −, each scaled to its max |r|)"
        );
        figures.push((name.to_string(), image_grid(&title, &panels, cols, pixels)?));
    }
    let series = vec![
        Series::new(
            "half-maximum radius √(A½/π), median over units",
            reports
                .iter()
                .map(|f| (f.layer as f64, f.measures.half_max_radius))
                .collect(),
        ),
        Series::new(
            "Kadanoff block side b = L/√units",
            reports
                .iter()
                .map(|f| (f.layer as f64, f.measures.block_side as f64))
                .collect(),
        ),
    ];
    figures.push((
        "fig3d_receptive_field_size.png".into(),
        line_chart(
            "Receptive-field size against layer",
            "layer",
            "lattice spacings",
            &series,
            false,
        )?,
    ));
    Ok((reports, figures))
}

/// The paths at which two JSON values differ (e.g. `training.epochs (10 vs 20)`).
pub fn json_differences(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let sub = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match (x.get(k), y.get(k)) {
                        (Some(u), Some(v)) => json_differences(&sub, u, v),
                        _ => vec![sub],
                    }
                })
                .collect()
        }
        _ if a == b => Vec::new(),
        _ => vec![format!(
            "{} ({} vs {})",
            if path.is_empty() { "the config" } else { path },
            a,
            b
        )],
    }
}
