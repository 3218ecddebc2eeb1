//! Training the flow's RBM on the data of every temperature.

use anyhow::Result;
use burn::prelude::*;
use ising_data::RowsDataset;
use ising_data::config::Checked;
use rbm::{CdConfig, Rbm, RbmConfig, TrainingConfig, Units};

use super::options::IsyOptions;
use crate::plain::train_plain;
use crate::streams::Stream;

/// Trains an RBM with `n` visible and `options.hidden` hidden Bernoulli units on `rows` by
/// CD-1 and SGD (the options' learning rate, momentum and batch size), every random number
/// from the stream `stream`; `progress` is told each finished epoch and its mean
/// reconstruction error. Returns the RBM and the error of every epoch.
///
/// # Errors
/// If the training settings are invalid.
pub fn train_rbm(
    rows: RowsDataset,
    options: &IsyOptions,
    stream: u64,
    device: &Device,
    progress: &dyn Fn(usize, f64),
) -> Result<(Rbm, Vec<f64>)> {
    let training = TrainingConfig::new(CdConfig::new().with_k(1))
        .with_learning_rate(options.learning_rate)
        .with_momentum(options.momentum)
        .with_batch_size(options.batch_size)
        .with_epochs(options.epochs)
        .with_seed(stream);
    let training = training.validated()?;
    let rbm = RbmConfig::new(rows.width(), options.hidden)
        .with_visible_units(Units::Bernoulli)
        .with_hidden_units(Units::Bernoulli)
        .with_init_std(options.init_std)
        .init_seeded(device, Stream::IsyInit.key(stream))?;
    let model = training
        .cd
        .init_seeded(rbm, Stream::IsyChains.key(stream))?;
    let mut errors = Vec::with_capacity(options.epochs);
    let model = train_plain(
        model,
        rows,
        &training,
        Stream::IsyBatches.key(stream),
        0,
        device,
        |epoch, error, _| {
            errors.push(error);
            progress(epoch, error);
            Ok(())
        },
    )?;
    Ok((model.valid().rbm, errors))
}
