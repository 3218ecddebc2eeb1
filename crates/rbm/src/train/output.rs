//! What a CD step reports: [`CdOutput`], the per-batch statistics.

use burn::prelude::*;
use burn::tensor::ExecutionError;
use burn::train::ItemLazy;
use burn::train::metric::{Adaptor, LossInput};

/// Per-batch training statistics.
#[derive(Debug, Clone)]
pub struct CdOutput {
    /// Mean squared reconstruction error per unit, ‖v⁰ − E[v | h⁰]‖²/n_v with h⁰ ~ p(h|v⁰),
    /// averaged over the batch, `[1]`.
    pub reconstruction_error: Tensor<1>,
    /// Mean free energy of the data F(v⁰), `[1]`.
    pub free_energy_data: Tensor<1>,
    /// Mean free energy of the negative samples F(v^k), `[1]`.
    pub free_energy_negative: Tensor<1>,
    /// Stochastic pseudo-log-likelihood per unit: the mean over the batch of
    /// ln p(v_i | v_{−i}) at one uniformly drawn site i per row, an unbiased estimate of the
    /// exact per-unit PLL of [`crate::eval::likelihood::pseudo_log_likelihood`], `[1]`.
    pub pseudo_log_likelihood: Tensor<1>,
    /// Mean F(batch) − mean F(reference rows) when the batch carries reference rows, NaN
    /// otherwise, `[1]`.
    pub free_energy_gap: Tensor<1>,
    /// The batch mean of E[h|v⁰] per hidden unit, `[n_h]`.
    pub hidden_mean: Tensor<1>,
    /// PT-PCD: the fraction of accepted swaps of each neighbouring pair (β_k, β_{k+1}) of the
    /// ladder in this step; empty without tempering.
    pub swap_acceptance: Vec<f64>,
    /// Batch size.
    pub batch_size: usize,
}

impl ItemLazy for CdOutput {
    fn sync(self) -> std::result::Result<Self, ExecutionError> {
        self.reconstruction_error.device().flush()?;
        Ok(Self {
            reconstruction_error: self.reconstruction_error.without_autodiff(),
            free_energy_data: self.free_energy_data.without_autodiff(),
            free_energy_negative: self.free_energy_negative.without_autodiff(),
            pseudo_log_likelihood: self.pseudo_log_likelihood.without_autodiff(),
            free_energy_gap: self.free_energy_gap.without_autodiff(),
            hidden_mean: self.hidden_mean.without_autodiff(),
            swap_acceptance: self.swap_acceptance,
            batch_size: self.batch_size,
        })
    }
}

/// The reconstruction error is the "loss" Burn's default checkpointing strategy watches.
impl Adaptor<LossInput> for CdOutput {
    fn adapt(&self) -> LossInput {
        LossInput::new(self.reconstruction_error.clone())
    }
}
