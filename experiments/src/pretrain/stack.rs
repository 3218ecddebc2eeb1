//! Greedy layer-wise training of the stack: each layer one Burn `SupervisedTraining` run with
//! its own folder of checkpoints, epoch history, model record and report, resumable after an
//! interruption.

use rbm::tensor::to_vec;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::data::dataset::Dataset;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::{Learner, LearningResult, SupervisedTraining};
use ising_data::RowsDataset;
use rbm::{Dbn, Propagation, Rbm, RbmConfig};
use serde::{Deserialize, Serialize};

use super::config::PretrainConfig;
use crate::checkpoint::{
    AtomicCheckpointer, KEEP_EPOCHS, ModelCheckpointer, RecordHook, last_complete_epoch_up_to,
    verify_checkpoint,
};
use crate::interrupt::StopSignal;
use crate::output::{Interrupted, read_json, write_file_atomic};
use crate::pace::Pace;
use crate::progress;
use crate::streams::Stream;
use crate::training::{EpochLoader, EpochLogger, EpochRecord, EpochSplit, QuietRenderer};
use ising_data::config::Valid;

/// The error of a run stopped by a signal: what stopped, and how to continue.
fn interrupted(what: &str, run_dir: &Path) -> anyhow::Error {
    Interrupted(format!(
        "interrupted: {what}; continue the run with --resume, e.g. fig3 --out {} --resume",
        run_dir.display()
    ))
    .into()
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
    /// Exact pseudo-log-likelihood per unit on the held-out data after training; NaN (`null`)
    /// for a layer whose data are probabilities, where it is not defined.
    #[serde(with = "crate::output::float")]
    pub valid_pseudo_log_likelihood_per_unit: f64,
    /// Wall time of the layer's training in the process that finished it, seconds.
    pub seconds: f64,
    /// The epoch a resumed run continued from (0 when the layer ran in one go).
    #[serde(default)]
    pub resumed_after_epoch: usize,
    /// The first layer's KL per spin checked during training (`fig3 --kl-every N`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kl_during_training: Vec<KlCheck>,
}

/// One check of the first layer's KL per spin during training: the end-of-run check
/// ([`super::first_layer::first_layer_quality`]) on the model of an epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KlCheck {
    /// The epoch whose model was checked.
    pub epoch: usize,
    /// KL per spin with the forward-AIS ln Z (biased low).
    pub kl_per_spin_forward: rbm::eval::likelihood::Estimate,
    /// KL per spin with the reverse-AIS ln Z.
    pub kl_per_spin_reverse: rbm::eval::likelihood::Estimate,
    /// Wall time of the check, seconds (it runs beside the next epoch's training).
    pub seconds: f64,
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
    /// Check the first layer's KL per spin every this many epochs during its training.
    pub kl_every: Option<usize>,
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
    /// The KL checks during training so far (layer 1 with `--kl-every`).
    pub kl_checks: PathBuf,
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
            kl_checks: dir.join("kl_during_training.json"),
            epochs: dir.join("epochs.json"),
            model: dir.join("model.bpk"),
            report: dir.join("layer.json"),
            dir,
        }
    }
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
    config: &Valid<PretrainConfig>,
    mut train: RowsDataset,
    mut valid: RowsDataset,
    device: &Device,
    run_dir: &Path,
    options: StackOptions,
) -> Result<(Dbn, Vec<LayerReport>)> {
    let mut layers = Vec::new();
    let mut reports = Vec::new();
    for (l, pair) in config.layers.windows(2).enumerate() {
        let layer = LayerRun {
            config,
            layer: l + 1,
            shape: [pair[0], pair[1]],
            files: LayerFiles::new(run_dir, l + 1),
            label: format!("layer {} ({}→{})", l + 1, pair[0], pair[1]),
            device,
            run_dir,
            options: &options,
            start: Instant::now(),
        };
        let train_tensor = train.to_tensor(device);
        let model = layer.build(train_tensor.clone())?;
        let (trained, report) = if options.resume && layer.files.report.exists() {
            layer.load_finished(model)?
        } else {
            layer.train(model, &train, &valid, train_tensor.clone())?
        };
        reports.push(report);
        let last = l + 2 == config.layers.len();
        if options.stop.requested() && !last {
            return Err(interrupted(
                &format!("stopped after layer {}", l + 1),
                run_dir,
            ));
        }
        if !last {
            (train, valid) = layer.propagate(&trained, train_tensor, &valid)?;
        }
        layers.push(trained);
    }
    Ok((Dbn::new(layers)?, reports))
}

/// One layer of [`train_stack`]: its place in the stack and what it needs to be trained.
struct LayerRun<'a> {
    config: &'a Valid<PretrainConfig>,
    /// 1-based.
    layer: usize,
    shape: [usize; 2],
    files: LayerFiles,
    label: String,
    device: &'a Device,
    run_dir: &'a Path,
    options: &'a StackOptions,
    start: Instant,
}

impl LayerRun<'_> {
    /// The untrained model: initial weights from [`Stream::InitialWeights`], the visible bias
    /// from the training rows when asked, persistent chains from [`Stream::PersistentChains`].
    fn build(&self, train_tensor: Tensor<2>) -> Result<rbm::CdModel> {
        let (config, tc) = (self.config, &self.config.training);
        let mut rbm = RbmConfig::new(self.shape[0], self.shape[1])
            .with_visible_units(config.units)
            .with_hidden_units(config.units)
            .with_init_std(config.init_std)
            .init_seeded(
                self.device,
                Stream::InitialWeights { layer: self.layer }.key(tc.seed),
            )?;
        if config.visible_bias_from_data {
            rbm = rbm.with_visible_bias_from_data(train_tensor);
        }
        Ok(tc.cd.init_seeded(
            rbm,
            Stream::PersistentChains { layer: self.layer }.key(tc.seed),
        )?)
    }

    /// Whether the layer's data are binary: the first layer's, and those of layers fed
    /// sampled hidden units; the pseudo-likelihood is defined for those only (see
    /// `rbm::train::metric::register`).
    fn binary_data(&self) -> bool {
        self.layer == 1 || self.config.propagation == Propagation::Sample
    }

    /// A layer a resumed run finished earlier: its report and model record.
    fn load_finished(&self, model: rbm::CdModel) -> Result<(Rbm, LayerReport)> {
        let files = &self.files;
        let report: LayerReport = read_json(&files.report)?;
        let bytes = std::fs::read(&files.model)
            .with_context(|| format!("reading {}", files.model.display()))?;
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| anyhow::anyhow!("{} is corrupt: {e}", files.model.display()))?;
        let loaded = model.try_load_record(record).map_err(|e| {
            anyhow::anyhow!(
                "{} does not fit layer {}'s architecture: {e}",
                files.model.display(),
                self.layer
            )
        })?;
        progress::info(format!(
            "{}: finished earlier, loaded {}",
            self.label,
            files.model.display()
        ));
        Ok((loaded.valid().rbm, report))
    }

    /// Where a resumed layer continues: after the newest epoch with both a complete
    /// checkpoint and its record (Burn saves an epoch's checkpoint on the training thread and
    /// hands its metrics to the logger on another, so a kill can leave one without the
    /// other), checked against `model`; and the records kept up to it.
    fn resume_point(&self, model: &rbm::CdModel) -> Result<(Option<usize>, Vec<EpochRecord>)> {
        let files = &self.files;
        let (resume_from, mut history) = if self.options.resume {
            let recorded = EpochLogger::read_records(&files.epochs)?;
            let last_recorded = recorded
                .iter()
                .filter(|r| r.split == EpochSplit::Valid)
                .map(|r| r.epoch)
                .max()
                .unwrap_or(0);
            (
                last_complete_epoch_up_to(&files.checkpoints, last_recorded),
                recorded,
            )
        } else {
            (None, Vec::new())
        };
        if let Some(epoch) = resume_from {
            let epochs = self.config.training.epochs;
            if epoch > epochs {
                bail!(
                    "{} holds epoch {epoch} but the config asks for {epochs} epochs",
                    files.checkpoints.display()
                );
            }
            verify_checkpoint(&files.checkpoints, epoch, model.clone())?;
            progress::info(format!("{}: resuming after epoch {epoch}", self.label));
        }
        history.retain(|r| r.epoch <= resume_from.unwrap_or(0));
        Ok((resume_from, history))
    }

    /// Trains the layer from `model` (or its newest checkpoint) on `train`, with held-out
    /// statistics on `valid`, and finishes it ([`LayerRun::finish`]).
    fn train(
        &self,
        model: rbm::CdModel,
        train: &RowsDataset,
        valid: &RowsDataset,
        train_tensor: Tensor<2>,
    ) -> Result<(Rbm, LayerReport)> {
        let (resume_from, history) = self.resume_point(&model)?;
        let first_epoch = resume_from.unwrap_or(0) + 1;
        let logger = EpochLogger::new(self.label.clone())
            .with_pace(Pace::new(self.config.training.epochs, first_epoch))
            .quiet(self.options.dashboard)
            .with_stop(self.options.stop.clone())
            .with_file(self.files.epochs.clone(), history);
        // The KL checks of layer 1: those of the epochs before a resume are kept.
        let kl_checks: Arc<Mutex<Vec<KlCheck>>> = Arc::new(Mutex::new(Vec::new()));
        let hook = self.kl_checks_hook(&model, valid, resume_from, &kl_checks)?;
        let trained_model = self.launch(model, train, valid, resume_from, &logger, hook)?;
        self.finish(
            trained_model,
            &logger,
            resume_from,
            &kl_checks,
            valid,
            train_tensor,
        )
    }

    /// The hook of layer 1's KL checks (`--kl-every`), with the checks of the epochs before
    /// a resume put back in `checks`; none for other layers.
    fn kl_checks_hook(
        &self,
        template: &rbm::CdModel,
        valid: &RowsDataset,
        resume_from: Option<usize>,
        checks: &Arc<Mutex<Vec<KlCheck>>>,
    ) -> Result<Option<(usize, RecordHook)>> {
        let (1, Some(every)) = (self.layer, self.options.kl_every) else {
            return Ok(None);
        };
        let files = &self.files;
        if resume_from.is_some() && files.kl_checks.is_file() {
            let mut earlier: Vec<KlCheck> = read_json(&files.kl_checks)?;
            earlier.retain(|c| c.epoch <= resume_from.unwrap_or(0));
            *checks.lock().expect("not poisoned") = earlier;
        }
        Ok(Some((
            every,
            kl_hook(
                template.clone(),
                valid.clone(),
                self.config,
                self.device.clone(),
                files.kl_checks.clone(),
                checks.clone(),
            ),
        )))
    }

    /// Burn's supervised training of the layer: loaders keyed by epoch
    /// ([`Stream::TrainingRows`], [`Stream::HeldOutRows`]), the atomic checkpointers, the epoch logger, the stop watcher and, on a terminal, the
    /// dashboard. Returns the trained model once every epoch ran.
    fn launch(
        &self,
        model: rbm::CdModel,
        train: &RowsDataset,
        valid: &RowsDataset,
        resume_from: Option<usize>,
        logger: &EpochLogger,
        hook: Option<(usize, RecordHook)>,
    ) -> Result<rbm::CdModel> {
        let (tc, files, options) = (&self.config.training, &self.files, self.options);
        let first_epoch = resume_from.unwrap_or(0) + 1;
        let batches_per_epoch = train.len().div_ceil(tc.batch_size);
        let scheduler = rbm::lr_scheduler(&self.config.part(), batches_per_epoch * tc.epochs)?;
        let learner = Learner::new(model, tc.optimizer(), scheduler);
        let layer = self.layer;
        let train_loader = EpochLoader::new(
            train.clone(),
            tc.batch_size,
            true,
            Stream::TrainingRows { layer }.key(tc.seed),
            first_epoch,
            self.device,
        );
        let valid_loader = EpochLoader::new(
            valid.clone(),
            tc.batch_size,
            false,
            Stream::HeldOutRows { layer }.key(tc.seed),
            first_epoch,
            self.device,
        )
        .with_reference(train.clone())
        .with_window(self.config.held_out_rows_per_epoch);
        let checkpointer = |name| AtomicCheckpointer::new(&files.checkpoints, name);
        let mut training = rbm::train::metric::register(
            SupervisedTraining::new(
                &files.dir,
                std::sync::Arc::new(train_loader),
                std::sync::Arc::new(valid_loader),
            ),
            self.binary_data(),
            tc.cd.tempering.as_ref().map_or(0, |pt| pt.replicas - 1),
        )
        .num_epochs(tc.epochs)
        .with_custom_checkpointers(
            ModelCheckpointer::new(&files.checkpoints, hook)?,
            checkpointer("optim")?,
            checkpointer("scheduler")?,
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
            bail!("training layer {} failed: {e}", self.layer);
        }
        self.check_complete(logger)?;
        Ok(trained_model)
    }

    /// Refuses a training that ended before its last epoch: interrupted (the epochs after the
    /// last checkpoint dropped from the record), or stopped for another reason.
    fn check_complete(&self, logger: &EpochLogger) -> Result<()> {
        let (tc, files, layer) = (&self.config.training, &self.files, self.layer);
        if self.options.stop.requested() {
            // The epochs after the last checkpoint were cut short: not kept.
            let saved = last_complete_epoch_up_to(&files.checkpoints, tc.epochs).unwrap_or(0);
            logger.keep_up_to(saved)?;
        }
        let done = logger
            .records()
            .iter()
            .filter(|r| r.split == EpochSplit::Valid)
            .map(|r| r.epoch)
            .max();
        if self.options.stop.requested() && done != Some(tc.epochs) {
            return Err(interrupted(
                &format!(
                    "layer {layer} stopped after epoch {} of {} (its checkpoints are in {})",
                    done.unwrap_or(0),
                    tc.epochs,
                    files.checkpoints.display()
                ),
                self.run_dir,
            ));
        }
        if done != Some(tc.epochs) {
            bail!(
                "training of layer {layer} stopped after epoch {} of {}; continue it with --resume",
                done.unwrap_or(0),
                tc.epochs
            );
        }
        Ok(())
    }

    /// A trained layer: its model record and report written (the report last, marking the
    /// layer finished), with the free-energy gap and the held-out pseudo-likelihood.
    fn finish(
        &self,
        trained_model: rbm::CdModel,
        logger: &EpochLogger,
        resume_from: Option<usize>,
        kl_checks: &Mutex<Vec<KlCheck>>,
        valid: &RowsDataset,
        train_tensor: Tensor<2>,
    ) -> Result<(Rbm, LayerReport)> {
        let bytes = trained_model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("serialising layer {}: {e}", self.layer))?;
        write_file_atomic(&self.files.model, &bytes)?;
        let trained: Rbm = trained_model.rbm;
        let valid_tensor = valid.to_tensor(self.device);
        let gap =
            rbm::eval::likelihood::free_energy_gap(&trained, train_tensor, valid_tensor.clone());
        let binary_data = self.binary_data();
        let pll = match binary_data {
            true => rbm::eval::likelihood::pseudo_log_likelihood(&trained, valid_tensor)?,
            false => f64::NAN,
        };
        let report = LayerReport {
            layer: self.layer,
            shape: self.shape,
            epochs: logger.records(),
            free_energy_gap: gap,
            valid_pseudo_log_likelihood_per_unit: pll,
            seconds: self.start.elapsed().as_secs_f64(),
            resumed_after_epoch: resume_from.unwrap_or(0),
            kl_during_training: std::mem::take(&mut *kl_checks.lock().expect("not poisoned")),
        };
        write_file_atomic(&self.files.report, &serde_json::to_vec_pretty(&report)?)?;
        let pll_line = match binary_data {
            true => format!("held-out pseudo-log-likelihood per unit {pll:.4}"),
            false => "no pseudo-likelihood (the data are probabilities)".into(),
        };
        progress::info(format!(
            "{}: trained in {}; free-energy gap of the trained layer {gap:+.4} (held-out − training, all rows), {pll_line}",
            self.label,
            crate::pace::duration(report.seconds)
        ));
        Ok((trained, report))
    }

    /// The next layer's data, built once from the trained layer: hidden means, or samples
    /// from [`Stream::PropagatedTraining`] and [`Stream::PropagatedHeldOut`].
    fn propagate(
        &self,
        trained: &Rbm,
        train_tensor: Tensor<2>,
        valid: &RowsDataset,
    ) -> Result<(RowsDataset, RowsDataset)> {
        let seed = self.config.training.seed;
        let up = |t: Tensor<2>, stream: Stream| match self.config.propagation {
            Propagation::Mean => trained.hidden_mean(t),
            Propagation::Sample => {
                let mut noise = rbm::Noise::new(stream.key(seed));
                trained
                    .hidden_units
                    .sample_with(trained.hidden_input(t), &mut noise)
            }
        };
        let width = self.shape[1];
        let valid_tensor = valid.to_tensor(self.device);
        Ok((
            RowsDataset::new(
                to_vec::<f32, _>(up(
                    train_tensor,
                    Stream::PropagatedTraining { layer: self.layer },
                ))?,
                width,
            ),
            RowsDataset::new(
                to_vec::<f32, _>(up(
                    valid_tensor,
                    Stream::PropagatedHeldOut { layer: self.layer },
                ))?,
                width,
            ),
        ))
    }
}

/// The hook that checks the first layer's KL per spin on a checkpointed model record: loads
/// it into `template`, runs the end-of-run check on the held-out rows `valid` (its own random
/// stream per epoch), prints one line, and records the check in `checks` and in the file
/// `path` (rewritten atomically). A failing check is reported as a warning and training goes on.
fn kl_hook(
    template: rbm::CdModel,
    valid: RowsDataset,
    config: &PretrainConfig,
    device: Device,
    path: PathBuf,
    checks: Arc<Mutex<Vec<KlCheck>>>,
) -> RecordHook {
    let (size, coupling, seed) = (config.data.size, config.data.coupling, config.training.seed);
    // Behind a mutex: the checkpointer must be Sync, a module need not be.
    let template = Mutex::new(template);
    Box::new(move |epoch, record| {
        let check = || -> Result<KlCheck> {
            let model = template
                .lock()
                .expect("not poisoned")
                .clone()
                .try_load_record(record)
                .map_err(|e| anyhow::anyhow!("loading the record of epoch {epoch}: {e}"))?
                // Without autodiff: the check's thousands of AIS steps must not be recorded
                // for a backward pass.
                .valid();
            let q = super::first_layer::first_layer_quality(
                &model.rbm,
                &valid,
                size,
                coupling,
                Stream::EpochCheck { epoch }.key(seed),
                &device,
            )?;
            Ok(KlCheck {
                epoch,
                kl_per_spin_forward: q.kl_per_spin_forward,
                kl_per_spin_reverse: q.kl_per_spin_reverse,
                seconds: q.seconds,
            })
        };
        match check() {
            Ok(c) => {
                progress::info(format!(
                    "layer 1 epoch {epoch}: KL per spin {:.4} ± {:.4} (forward) to {:.4} ± {:.4} (reverse), checked in {:.1} s",
                    c.kl_per_spin_forward.value,
                    c.kl_per_spin_forward.std_error,
                    c.kl_per_spin_reverse.value,
                    c.kl_per_spin_reverse.std_error,
                    c.seconds
                ));
                let mut all = checks.lock().expect("not poisoned");
                all.push(c);
                if let Err(e) = serde_json::to_vec_pretty(&*all)
                    .map_err(anyhow::Error::from)
                    .and_then(|bytes| write_file_atomic(&path, &bytes))
                {
                    progress::warn(format!("writing {}: {e:#}", path.display()));
                }
            }
            Err(e) => progress::warn(format!("the KL check of epoch {epoch} failed: {e:#}")),
        }
    })
}
