//! Training the flow's RBM on the data of every temperature.

use anyhow::Result;
use burn::data::dataloader::DataLoader;
use burn::prelude::*;
use burn::train::TrainStep;
use ising_data::RowsDataset;
use rbm::{CdConfig, Rbm, RbmConfig, TrainingConfig, Units};

use super::options::IsyOptions;
use crate::streams::Stream;
use crate::training::EpochLoader;

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
    training.validate()?;
    let rbm = RbmConfig::new(rows.width(), options.hidden)
        .with_visible_units(Units::Bernoulli)
        .with_hidden_units(Units::Bernoulli)
        .with_init_std(options.init_std)
        .init_seeded(device, Stream::IsyInit.key(stream));
    let mut model = training.cd.init_seeded(rbm, Stream::IsyChains.key(stream));
    let mut optimizer = training.optimizer();
    let loader = EpochLoader::new(
        rows,
        options.batch_size,
        true,
        Stream::IsyBatches.key(stream),
        0,
        device,
    );
    let mut errors = Vec::with_capacity(options.epochs);
    for epoch in 1..=options.epochs {
        let (mut sum, mut count) = (None::<Tensor<1>>, 0usize);
        for batch in loader.iter() {
            let batch = batch.map_err(|e| anyhow::anyhow!("serving a batch: {e:?}"))?;
            let out = TrainStep::step(&model, batch);
            let weighted = out.item.reconstruction_error * out.item.batch_size as f64;
            count += out.item.batch_size;
            sum = Some(match sum {
                Some(s) => s + weighted,
                None => weighted,
            });
            model = optimizer.step(options.learning_rate, model, out.grads);
        }
        let total = sum.map_or(f64::NAN, |s| s.into_scalar::<f64>());
        let error = total / count as f64;
        errors.push(error);
        progress(epoch, error);
    }
    Ok((model.valid().rbm, errors))
}
