//! The plain training loop of the small models (`isy`'s flow RBMs, `mapping`'s ring): CD
//! without Burn's Learner, checkpoints or held-out metrics, the batches in a keyed random order
//! per epoch ([`EpochLoader`]).

use anyhow::Result;
use burn::data::dataloader::DataLoader;
use burn::prelude::*;
use burn::train::TrainStep;
use ising_data::RowsDataset;
use ising_data::config::Valid;
use rbm::{CdModel, TrainingConfig, lr_scheduler};

use crate::training::EpochLoader;

/// Trains `model` on `rows` as `training` says (its optimiser, learning-rate schedule, batch
/// size and epochs), the batches drawn from the stream `batches` with the loader's epochs
/// counted from `first_epoch`. After every epoch, `after_epoch` is told its number (from 1),
/// the mean reconstruction error of its batches and the model; an error it returns ends the
/// training.
///
/// # Errors
/// A batch that cannot be served, or `after_epoch`'s.
pub fn train_plain(
    mut model: CdModel,
    rows: RowsDataset,
    training: &Valid<TrainingConfig>,
    batches: u64,
    first_epoch: usize,
    device: &Device,
    mut after_epoch: impl FnMut(usize, f64, &CdModel) -> Result<()>,
) -> Result<CdModel> {
    let loader = EpochLoader::new(
        rows,
        training.batch_size,
        true,
        batches,
        first_epoch,
        device,
    );
    let steps = loader.num_items().div_ceil(training.batch_size) * training.epochs;
    let mut scheduler = lr_scheduler(training, steps)?;
    let mut optimizer = training.optimizer();
    for epoch in 1..=training.epochs {
        let (mut sum, mut count) = (None::<Tensor<1>>, 0usize);
        for batch in loader.iter() {
            let batch = batch.map_err(|e| anyhow::anyhow!("serving a batch: {e}"))?;
            let out = TrainStep::step(&model, batch);
            let weighted = out.item.reconstruction_error * out.item.batch_size as f64;
            count += out.item.batch_size;
            sum = Some(match sum {
                Some(s) => s + weighted,
                None => weighted,
            });
            model = optimizer.step(scheduler.step(), model, out.grads);
        }
        let total = sum.map_or(f64::NAN, |s| s.into_scalar::<f64>());
        after_epoch(epoch, total / count as f64, &model)?;
    }
    Ok(model)
}
