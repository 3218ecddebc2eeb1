//! Reading a finished Fig. 3 run back: its configuration and trained stack ([`load_run`]), and
//! the dataset it was trained on, found from the run folder ([`load_run_dataset`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use ising_data::{StoredDataset, npy};
use rbm::{Dbn, Rbm};

use super::paths::{RunPaths, WeightFile};
use super::record::{Metrics, RunHistory, check_not_diverged};
use crate::pretrain::{DataSource, PretrainConfig, dataset_name};
use ising_data::config::{Checked, Valid};

/// A finished run: its config and its stack, read from `config.json` and `weights/*.npy`.
///
/// # Errors
/// A folder that is not a finished fig3 run, or weights that do not fit the config.
pub fn load_run(dir: &Path, device: &Device) -> Result<(Valid<PretrainConfig>, Dbn)> {
    let paths = RunPaths::new(dir);
    let config_path = paths.config();
    if !config_path.is_file() {
        bail!(
            "{} is not a fig3 run folder (no {})",
            dir.display(),
            RunPaths::CONFIG
        );
    }
    let config = PretrainConfig::read(&config_path)?
        .validated()
        .with_context(|| config_path.display().to_string())?;
    if paths.metrics().is_file() {
        check_not_diverged(&Metrics::read(&paths.metrics())?, &paths.metrics())?;
    }
    check_extra_layers(&paths, &config)?;
    let mut layers = Vec::new();
    for (l, pair) in config.layers.windows(2).enumerate() {
        let [nv, nh] = [pair[0], pair[1]];
        let layer = l + 1;
        let read = |file: WeightFile, shape: &[usize]| read_weights(&paths, layer, file, shape);
        let (w, a, b) = (
            read(WeightFile::Weights, &[nv, nh])?,
            read(WeightFile::VisibleBias, &[nv])?,
            read(WeightFile::HiddenBias, &[nh])?,
        );
        layers.push(Rbm::from_parameters(
            Tensor::from_data(TensorData::new(w, [nv, nh]), device),
            Tensor::from_data(TensorData::new(a, [nv]), device),
            Tensor::from_data(TensorData::new(b, [nh]), device),
            config.units,
            config.units,
        ));
    }
    Ok((config, Dbn::new(layers)?))
}

/// The values of layer `layer`'s parameter file `file`, checked to have `shape` and to be
/// finite.
fn read_weights(
    paths: &RunPaths,
    layer: usize,
    file: WeightFile,
    shape: &[usize],
) -> Result<Vec<f32>> {
    let path = &paths.weights(layer, file);
    if !path.is_file() {
        bail!(
            "{} is missing: {} is not a finished fig3 run (the weights are written at its end)",
            path.display(),
            paths.dir().display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (got, data) = npy::decode_f32(path, &bytes)?;
    if got != shape {
        bail!(
            "{} has shape {got:?} but config.json's layers need {shape:?}",
            path.display()
        );
    }
    check_finite(path, shape, &data)?;
    Ok(data)
}

/// Refuses a weight or bias file `path` of `shape` holding a NaN or an infinity, naming the
/// first one's index.
fn check_finite(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    if let Some(i) = data.iter().position(|x| !x.is_finite()) {
        let at = match shape {
            [_, cols] => format!("row {}, column {}", i / cols, i % cols),
            _ => format!("index {i}"),
        };
        bail!(
            "{} holds {} at {at} (the first non-finite value): the run's training diverged or the file is damaged, so it is not analysed",
            path.display(),
            data[i]
        );
    }
    Ok(())
}

/// Refuses weights beyond the layers `config.json` lists (a config edited or copied from
/// another run), naming the first extra file.
fn check_extra_layers(paths: &RunPaths, config: &PretrainConfig) -> Result<()> {
    let path = paths.weights(config.layers.len(), WeightFile::Weights);
    if path.exists() {
        bail!(
            "{} exists, but config.json's layers {:?} stop before it: the config does not describe these weights",
            path.display(),
            config.layers
        );
    }
    Ok(())
}

/// The stored dataset the run in `dir` was trained on, checked against the run's record of
/// its data (`run.json`): a dataset of the same name made with other settings is refused,
/// naming the field.
///
/// The dataset is looked for in the folder `datasets` when given (`--datasets`); else where
/// the run recorded it, relative to the run folder (so from any working directory), then at
/// its recorded path (absolute, or relative to where an older run was started), then in
/// `./datasets`.
///
/// # Errors
/// If no candidate folder exists (naming those tried), the dataset is invalid, or it is not
/// the run's data.
pub fn load_run_dataset(
    dir: &Path,
    config: &PretrainConfig,
    datasets: Option<&Path>,
) -> Result<StoredDataset> {
    let paths = RunPaths::new(dir);
    let recorded = match paths.record().is_file() {
        true => Some(RunHistory::read(&paths.record())?.first.data),
        false => None,
    };
    let name = dataset_name(&config.data);
    let data_dir = locate_dataset(dir, &name, recorded.as_ref(), datasets)?;
    let stored = ising_data::store::load_dataset(&data_dir).with_context(|| {
        format!(
            "the run's dataset {} (give its folder with --datasets)",
            data_dir.display()
        )
    })?;
    if let Some(recorded) = recorded {
        check_same_data(&stored, &recorded, &data_dir, &paths)?;
    }
    Ok(stored)
}

/// The folder of the run's dataset `name` (see [`load_run_dataset`]).
fn locate_dataset(
    dir: &Path,
    name: &str,
    recorded: Option<&DataSource>,
    datasets: Option<&Path>,
) -> Result<PathBuf> {
    if let Some(datasets) = datasets {
        return Ok(datasets.join(name));
    }
    let mut candidates = Vec::new();
    if let Some(data) = recorded {
        if let Some(from_run) = &data.dir_from_run {
            candidates.push(dir.join(from_run));
        }
        candidates.push(data.dir.clone());
    }
    candidates.push(Path::new("datasets").join(name));
    candidates.dedup();
    match candidates.iter().find(|c| c.is_dir()) {
        Some(found) => Ok(found.clone()),
        None => bail!(
            "the run's dataset {name} is in none of {}; give the folder that holds it with --datasets",
            candidates
                .iter()
                .map(|c| format!("'{}'", c.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Refuses `stored` unless its sampler, chain count and checksum are those `recorded`.
fn check_same_data(
    stored: &StoredDataset,
    recorded: &DataSource,
    data_dir: &Path,
    paths: &RunPaths,
) -> Result<()> {
    let m = &stored.manifest;
    let fields = [
        (
            "algorithm",
            format!("{:?}", m.config.algorithm),
            format!("{:?}", recorded.algorithm),
        ),
        (
            "chains",
            m.config.chains.to_string(),
            recorded.chains.to_string(),
        ),
        (
            "spins_sha256",
            m.spins_sha256.clone(),
            recorded.spins_sha256.clone(),
        ),
    ];
    for (field, found, expected) in fields {
        if found != expected {
            bail!(
                "{} is not the data {} was trained on: {field} is {found} there but {expected} in {}; give the run's data with --datasets",
                data_dir.display(),
                paths.dir().display(),
                paths.record().display()
            );
        }
    }
    Ok(())
}
