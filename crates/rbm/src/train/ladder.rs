//! The negative phase of PT-PCD: the persistent chains' replicas on a ladder of inverse
//! temperatures ([`super::PtConfig`]), advanced once per training step after the step's own
//! Gibbs steps have moved the β = 1 replicas (see [`crate::train`]).

use burn::prelude::*;

use super::config::PtConfig;
use crate::error::Result;
use crate::eval::tempering::{
    SwapCounts, beta_column, beta_rows, sample_tempered_from, swap_pairs,
};
use crate::kernel::{self, Level, OwnedParams};
use crate::noise::Noise;
use crate::rbm::Rbm;
use crate::tensor::to_vec;

/// A ladder of R inverse temperatures with C chains each: the states are `[R · C, n_v]`, row
/// k·C + c chain c at β_k, the last C rows at β = 1.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ladder {
    betas: Vec<f64>,
    chains: usize,
}

/// Every random number of one [`Ladder::update`], drawn in this order: the hidden layer of
/// every replica, one uniform per swap attempt of the even pairs then of the odd pairs, the
/// visible layer of the replicas below β = 1.
#[derive(Debug, Clone)]
pub(super) struct LadderNoise {
    hidden: Vec<f32>,
    even: Vec<f32>,
    odd: Vec<f32>,
    visible: Vec<f32>,
}

impl Ladder {
    /// The ladder of `config` with `chains` chains per inverse temperature.
    pub fn new(config: &PtConfig, chains: usize) -> Self {
        Self {
            betas: config.betas(),
            chains,
        }
    }

    /// Rows of the ladder's states, R · C.
    pub fn rows(&self) -> usize {
        self.betas.len() * self.chains
    }

    /// The β = 1 replicas of `states`, `[C, n_v]`.
    pub fn model_rows(&self, states: Tensor<2>) -> Tensor<2> {
        states.narrow(0, self.rows() - self.chains, self.chains)
    }

    /// `states` with the β = 1 replicas replaced by `model_rows`.
    pub fn with_model_rows(&self, states: Tensor<2>, model_rows: Tensor<2>) -> Tensor<2> {
        let below = states.narrow(0, 0, self.rows() - self.chains);
        Tensor::cat(vec![below, model_rows], 0)
    }

    /// The numbers of one update of `rbm`'s ladder, from `noise`.
    pub fn draw(&self, rbm: &Rbm, noise: &mut Noise) -> LadderNoise {
        let (r, c) = (self.betas.len(), self.chains);
        LadderNoise {
            hidden: noise.draw(rbm.hidden_units.draw(), r * c * rbm.n_hidden()),
            even: noise.uniforms(swap_pairs(r, 0).len() * c),
            odd: noise.uniforms(swap_pairs(r, 1).len() * c),
            visible: noise.draw(rbm.visible_units.draw(), (r - 1) * c * rbm.n_visible()),
        }
    }

    /// One update of the replicas' visible `states` under `rbm` (plain parameters):
    /// 1. every replica draws h ~ p_β(h | v) at its β;
    /// 2. swaps by the joint energy E(v, h) of the pairs (β_k, β_{k+1}), first the even k,
    ///    then the odd k (each pass leaves the product of the tempered joints invariant);
    /// 3. the replicas below β = 1 draw v ~ p_β(v | h); the β = 1 replicas keep their v (the
    ///    next step's Gibbs steps move them), their h forgotten.
    ///
    /// On the fused kernel at `level` if given (the same numbers in the same order, so the
    /// two agree up to f32 rounding), on tensor operations otherwise. Returns the new states
    /// and this update's swap counts per pair.
    ///
    /// # Errors
    /// If the device cannot hand the states, parameters or energies back.
    pub fn update(
        &self,
        level: Option<Level>,
        rbm: &Rbm,
        states: Tensor<2>,
        noise: LadderNoise,
    ) -> Result<(Tensor<2>, SwapCounts)> {
        match level {
            Some(level) => self.update_on_kernel(level, rbm, states, &noise),
            None => self.update_on_tensors(rbm, states, noise),
        }
    }

    /// Step 2 of [`Ladder::update`]: the swaps by `energy`, as the order of the rows' states.
    fn swap(&self, energy: &mut [f64], (even, odd): (&[f32], &[f32])) -> (Vec<i64>, SwapCounts) {
        let (r, c) = (self.betas.len(), self.chains);
        let mut order: Vec<i64> = (0..(r * c) as i64).collect();
        let mut counts = SwapCounts::new(r);
        for (parity, uniforms) in [(0, even), (1, odd)] {
            counts.pass(&self.betas, (c, parity), energy, &mut order, uniforms, true);
        }
        (order, counts)
    }

    /// [`Ladder::update`] on tensor operations.
    fn update_on_tensors(
        &self,
        rbm: &Rbm,
        states: Tensor<2>,
        noise: LadderNoise,
    ) -> Result<(Tensor<2>, SwapCounts)> {
        let (r, c) = (self.betas.len(), self.chains);
        let device = states.device();
        let beta = beta_column(&self.betas, c, &device);
        let vw = states.clone().matmul(rbm.weights.val());
        let x = vw.clone() + rbm.hidden_bias.val().unsqueeze_dim(0);
        let h = sample_tempered_from(rbm.hidden_units, x, &beta, noise.hidden);
        let mut energy: Vec<f64> = to_vec(rbm.energy_with_product(states.clone(), h.clone(), vw))?;
        let (order, counts) = self.swap(&mut energy, (&noise.even, &noise.odd));
        let idx = Tensor::<1, Int>::from_data(TensorData::new(order, [r * c]), &device);
        let (states, h) = (states.select(0, idx.clone()), h.select(0, idx));
        let below = (r - 1) * c;
        let x_v = rbm.visible_input(h.narrow(0, 0, below));
        let beta_below = beta.narrow(0, 0, below);
        let v = sample_tempered_from(rbm.visible_units, x_v, &beta_below, noise.visible);
        let top = states.narrow(0, below, c);
        Ok((Tensor::cat(vec![v, top], 0), counts))
    }

    /// [`Ladder::update`] on the fused kernel ([`kernel::ladder_hidden`],
    /// [`kernel::ladder_visible`]).
    fn update_on_kernel(
        &self,
        level: Level,
        rbm: &Rbm,
        states: Tensor<2>,
        noise: &LadderNoise,
    ) -> Result<(Tensor<2>, SwapCounts)> {
        let (r, c, nv) = (self.betas.len(), self.chains, rbm.n_visible());
        let params = OwnedParams::read(rbm)?;
        let view = params.view();
        let v: Vec<f32> = to_vec(states)?;
        let beta = beta_rows(&self.betas, c);
        let (hidden, mut energy) = kernel::ladder_hidden(level, &view, &v, &beta, &noise.hidden);
        let (order, counts) = self.swap(&mut energy, (&noise.even, &noise.odd));
        let below = (r - 1) * c;
        let mut next = kernel::ladder_visible(
            level,
            &view,
            &hidden,
            &order,
            (&beta[..below], &noise.visible),
        );
        for &row in &order[below..] {
            let row = row as usize;
            next.extend_from_slice(&v[row * nv..(row + 1) * nv]);
        }
        let next = Tensor::from_data(TensorData::new(next, [r * c, nv]), &params.device);
        Ok((next, counts))
    }
}
