//! A step of CD on a [`CdModel`] and Burn's step traits, which choose between the two
//! implementations: the fused CPU kernel ([`super::fused`]) where it applies, the tensor
//! reference ([`super::reference`]) everywhere else. Both consume one [`StepNoise`] drawn here.

use burn::prelude::*;
use burn::train::{InferenceStep, TrainOutput, TrainStep};

use super::config::Restart;
use super::model::{CdBatch, CdGradient, CdModel, plain};
use super::output::CdOutput;
use super::{fused, reference};
use crate::noise::{Noise, StepNoise, StepShape};

impl CdModel {
    /// The chains the step starts its negative phase from (PCD: the persistent chains, read
    /// once, for PT-PCD the β = 1 replicas; random restarts: fresh uniform states; CD: none,
    /// the batch) and every random number of a step on `v0`, drawn from `noise` in that order,
    /// in the numbers the step's shape asks for.
    fn step_inputs(&self, v0: &Tensor<2>, noise: &mut Noise) -> (Option<Tensor<2>>, StepNoise) {
        let chains = if self.cd.persistent {
            let states = self.chains.value_sync().without_autodiff();
            Some(match self.ladder() {
                Some(ladder) => ladder.model_rows(states),
                None => states,
            })
        } else if let Some(Restart::Random) = self.cd.restart {
            let units = self.rbm.visible_units;
            let device = v0.device().without_autodiff();
            let zeros = Tensor::<2>::zeros([self.cd.chains, self.rbm.n_visible()], &device);
            Some(units.sample_with(zeros, noise))
        } else {
            None
        };
        let shape = StepShape {
            n_visible: self.rbm.n_visible(),
            n_hidden: self.rbm.n_hidden(),
            batch: v0.dims()[0],
            chains: chains.as_ref().map(|c| c.dims()[0]),
            k: self.cd.k,
            visible: self.rbm.visible_units.draw(),
            hidden: self.rbm.hidden_units.draw(),
        };
        (chains, StepNoise::draw(noise, &shape))
    }

    /// The CD-k (or PCD) gradient estimate for the batch `v0` (see [`crate::train`]), with
    /// the batch statistics, drawing every random number from `noise`.
    ///
    /// # Panics
    /// If the device cannot hand the model's tensors to the fused kernel.
    pub fn cd_gradient(&self, v0: Tensor<2>, noise: &mut Noise) -> (CdGradient, CdOutput) {
        let (chains, step_noise) = self.step_inputs(&v0, noise);
        if let Some(level) = self.kernel_level() {
            return fused::cd_gradient(level, self, v0, chains, step_noise)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let v0 = v0.without_autodiff();
        reference::cd_step(&plain(&self.rbm), v0, chains, self.cd.k, step_noise)
    }

    /// The statistics of a batch without a training step (held-out data): those of
    /// [`CdModel::cd_gradient`], plus the free-energy gap against the batch's reference rows.
    /// The persistent chains are read, not advanced.
    ///
    /// # Panics
    /// As [`CdModel::cd_gradient`].
    pub fn evaluate(&self, batch: CdBatch) -> CdOutput {
        let mut noise = Noise::new(batch.seed);
        let level = self.kernel_level();
        let mut out = if let Some(level) = level {
            let (chains, step_noise) = self.step_inputs(&batch.visible, &mut noise);
            fused::statistics(level, self, batch.visible, chains, step_noise)
                .unwrap_or_else(|e| panic!("{e}"))
        } else {
            self.cd_gradient(batch.visible, &mut noise).1
        };
        if let Some(reference) = batch.reference {
            let f_ref = match level {
                Some(level) => fused::mean_free_energy(level, self, reference)
                    .unwrap_or_else(|e| panic!("{e}")),
                None => plain(&self.rbm)
                    .free_energy(reference.without_autodiff())
                    .mean(),
            };
            out.free_energy_gap = out.free_energy_data.clone() - f_ref;
        }
        out
    }
}

impl CdModel {
    /// After a PCD training step: the persistent chains take the step's `negative` samples;
    /// under PT-PCD those become the β = 1 replicas and the ladder is updated once, its
    /// numbers drawn from `noise` after the step's, its swap acceptance added to `item`.
    ///
    /// # Errors
    /// If the device cannot hand the ladder's energies back.
    fn advance_chains(
        &self,
        negative: Tensor<2>,
        noise: &mut Noise,
        item: &mut CdOutput,
    ) -> crate::Result<()> {
        let next = match self.ladder() {
            None => negative,
            Some(ladder) => {
                let rbm = plain(&self.rbm);
                let states = self.chains.value_sync().without_autodiff();
                let states = ladder.with_model_rows(states, negative);
                let ladder_noise = ladder.draw(&rbm, noise);
                let (next, counts) =
                    ladder.update(self.kernel_level(), &rbm, states, ladder_noise)?;
                item.swap_acceptance = counts.acceptance();
                next
            }
        };
        self.chains.update(next);
        // Fold the update in now, so that a checkpoint written after this step records the
        // chains it leaves (the running state otherwise lags one update).
        let _ = self.chains.value_sync();
        Ok(())
    }
}

impl TrainStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> TrainOutput<CdOutput> {
        let mut noise = Noise::new(batch.seed);
        let (mut out, negative) = match self.kernel_level() {
            Some(level) => {
                let (chains, step_noise) = self.step_inputs(&batch.visible, &mut noise);
                fused::train_step(level, self, batch.visible, chains, step_noise)
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            None => {
                let (g, item) = self.cd_gradient(batch.visible, &mut noise);
                let grads = self.optimiser_gradients(&g);
                (
                    TrainOutput { grads, item },
                    self.cd.persistent.then_some(g.negative),
                )
            }
        };
        if let Some(negative) = negative {
            self.advance_chains(negative, &mut noise, &mut out.item)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        out
    }
}

impl InferenceStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> CdOutput {
        self.evaluate(batch)
    }
}
