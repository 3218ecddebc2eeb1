//! Contrastive divergence (CD-k) and persistent contrastive divergence (PCD) as a Burn
//! [`TrainStep`], usable by Burn's `Learner` and by a plain loop.
//!
//! # The update and its conventions
//! For a batch of B visible vectors v⁰, the negative sample v^k is k steps of block Gibbs
//! sampling started at v⁰ (CD-k) or at the persistent chains (PCD, Tieleman 2008), and
//!
//! ∂ℓ/∂W ≈ ⟨v E[h|v]ᵀ⟩_{v⁰} − ⟨v E[h|v]ᵀ⟩_{v^k},
//! ∂ℓ/∂a ≈ ⟨v⟩_{v⁰} − ⟨v⟩_{v^k}, ∂ℓ/∂b ≈ ⟨E[h|v]⟩_{v⁰} − ⟨E[h|v]⟩_{v^k},
//!
//! the CD estimate of the gradient of the mean log-likelihood ℓ, each phase averaged over its
//! own samples (the batch, and the batch or the persistent chains). The chain alternates
//! sampled hidden and sampled visible states; the statistics use the conditional means
//! E[h|v] (Rao–Blackwellised). The penalties enter as terms of the objective
//! ℓ − λ₁ Σ|W_ij| − ½ λ₂ Σ W_ij² (weights only, not biases), so the gradient handed to the
//! optimiser is G = −∂ℓ/∂W + λ₁ sign(W) + λ₂ W, and one SGD step with learning rate ε changes
//! W by −ε G: the penalty strength is **scaled by the learning rate**, as in Hinton &
//! Salakhutdinov's `rbm.m` (`epsilonw * (… − weightcost * vishid)`). The paper's "L1 2×10⁻⁴"
//! is `l1 = 2e-4` in this convention. Momentum is Burn's SGD momentum with dampening 0:
//! velocity ← μ velocity + G, W ← W − ε velocity.
//!
//! The step computes the gradient in closed form (no autodiff graph) and registers it for the
//! model's parameters; it equals the gradient of the free-energy surrogate
//! mean F(v⁰) − mean F(v^k) (tested).

use std::sync::Arc;

use burn::lr_scheduler::exponential::ExponentialLrSchedulerConfig;
use burn::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::module::{Module, RunningState};
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig, momentum::MomentumConfig};
use burn::prelude::*;
use burn::tensor::{ExecutionError, TensorReadError};
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, LossInput, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric,
    NumericAttributes, NumericEntry, SerializedEntry,
};
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};
use serde::{Deserialize, Serialize};

use crate::cpu_kernel::{self, GradientForm, HostRbm, HostStep, StepRequest};
use crate::noise::Noise;
use crate::rbm::Rbm;
use crate::units::Units;

/// Contrastive-divergence settings.
#[derive(Config, Debug)]
pub struct CdConfig {
    /// Gibbs steps per update (the k of CD-k).
    #[config(default = 1)]
    pub k: usize,
    /// Persistent chains (PCD) instead of chains restarted at the data (CD).
    #[config(default = false)]
    pub persistent: bool,
    /// Number of persistent chains (fantasy particles) for PCD.
    #[config(default = 100)]
    pub chains: usize,
    /// L1 strength λ₁ on the weights (see the module docs for the convention).
    #[config(default = 0.0)]
    pub l1: f64,
    /// L2 strength λ₂ on the weights.
    #[config(default = 0.0)]
    pub l2: f64,
}

impl CdConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// For k = 0, no persistent chains, or negative or non-finite penalties.
    pub fn validate(&self) -> crate::Result<()> {
        let bad = |m: String| Err(crate::RbmError::Config(m));
        if self.k == 0 {
            return bad("CD needs k ≥ 1 Gibbs steps".into());
        }
        if self.persistent && self.chains == 0 {
            return bad("PCD needs at least one persistent chain".into());
        }
        for (name, x) in [("l1", self.l1), ("l2", self.l2)] {
            if !(x.is_finite() && x >= 0.0) {
                return bad(format!("{name} must be finite and ≥ 0, got {x}"));
            }
        }
        Ok(())
    }

    /// A trainable model: `rbm` moved to the autodiff version of its device (the optimiser
    /// needs it), with persistent chains (when `persistent` is set) initialised by sampling
    /// the RBM's visible layer from zero hidden input with the keyed stream 0; see
    /// [`CdConfig::init_seeded`].
    ///
    /// # Panics
    /// If the settings are invalid.
    pub fn init(&self, rbm: Rbm) -> CdModel {
        self.init_seeded(rbm, 0)
    }

    /// [`CdConfig::init`] with the persistent chains' initial states drawn from the
    /// [`Noise`] stream `seed` (never from the device's generator, so that a training run is
    /// a function of its seeds).
    ///
    /// # Panics
    /// If the settings are invalid.
    pub fn init_seeded(&self, rbm: Rbm, seed: u64) -> CdModel {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let device = rbm.weights.val().device();
        let rbm = rbm.train();
        let chains = if self.persistent { self.chains } else { 1 };
        let zeros = Tensor::<2>::zeros([chains, rbm.n_hidden()], &device.without_autodiff());
        let base = plain(&rbm);
        let start = base
            .visible_units
            .sample_with(base.visible_input(zeros), &mut Noise::new(seed));
        CdModel {
            rbm,
            chains: RunningState::new(start),
            cd: self.clone(),
            cpu_kernel: true,
        }
    }
}

/// SGD with momentum μ and dampening 0 (Burn's default dampening is 0.1; Hinton's update
/// has none).
pub fn sgd_with_momentum(momentum: f64) -> ModuleOptimizer {
    let momentum = (momentum > 0.0).then_some(MomentumConfig {
        momentum,
        dampening: 0.0,
        nesterov: false,
    });
    SgdConfig::new().with_momentum(momentum).init()
}

/// An RBM with its CD settings and persistent chains: the model Burn's `Learner` trains.
#[derive(Module, Debug)]
pub struct CdModel {
    /// The RBM.
    pub rbm: Rbm,
    /// The persistent chains' visible states `[chains, n_v]` (saved with checkpoints; unused
    /// for plain CD).
    pub chains: RunningState<Tensor<2>>,
    /// The CD settings.
    #[module(skip)]
    pub cd: CdConfig,
    /// Run the step on the fused CPU kernel ([`crate::cpu_kernel`]) when it applies: a CPU
    /// device (flex), Bernoulli visible and hidden units, and a CPU with AVX-512
    /// (`true` from [`CdConfig::init`]). It computes the update of the tensor implementation
    /// from the same random numbers, up to float rounding; `false` forces the tensor
    /// implementation.
    #[module(skip)]
    pub cpu_kernel: bool,
}

/// The RBM with plain (non-autodiff) parameter tensors, for computing without a graph.
fn plain(rbm: &Rbm) -> Rbm {
    Rbm::from_parameters(
        rbm.weights.val().without_autodiff(),
        rbm.visible_bias.val().without_autodiff(),
        rbm.hidden_bias.val().without_autodiff(),
        rbm.visible_units,
        rbm.hidden_units,
    )
}

/// The CD estimate of the gradient of the mean log-likelihood (ascent direction), before
/// penalties.
#[derive(Debug, Clone)]
pub struct CdGradient {
    /// ∂ℓ/∂W, `[n_v, n_h]`.
    pub weights: Tensor<2>,
    /// ∂ℓ/∂a, `[n_v]`.
    pub visible_bias: Tensor<1>,
    /// ∂ℓ/∂b, `[n_h]`.
    pub hidden_bias: Tensor<1>,
    /// The negative samples v^k, `[chains or batch, n_v]`.
    pub negative: Tensor<2>,
}

/// A mini-batch for a CD step: the data, the key of the step's random numbers, and (for
/// held-out batches) training rows to compare free energies with.
#[derive(Debug, Clone)]
pub struct CdBatch {
    /// The visible vectors v⁰, `[batch, n_v]`.
    pub visible: Tensor<2>,
    /// Key of the step's [`Noise`] stream: the step is a deterministic function of the model,
    /// the data and this key.
    pub seed: u64,
    /// Training rows (any number) whose mean free energy is subtracted from the batch's to
    /// give the free-energy gap; `None` for training batches.
    pub reference: Option<Tensor<2>>,
}

impl CdBatch {
    /// A batch without reference rows.
    pub fn new(visible: Tensor<2>, seed: u64) -> Self {
        Self {
            visible,
            seed,
            reference: None,
        }
    }

    /// Adds reference (training) rows for the free-energy gap.
    pub fn with_reference(mut self, reference: Tensor<2>) -> Self {
        self.reference = Some(reference);
        self
    }
}

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
    /// exact per-unit PLL of [`crate::likelihood::pseudo_log_likelihood`], `[1]`.
    pub pseudo_log_likelihood: Tensor<1>,
    /// Mean F(batch) − mean F(reference rows) when the batch carries reference rows, NaN
    /// otherwise, `[1]`.
    pub free_energy_gap: Tensor<1>,
    /// Batch size.
    pub batch_size: usize,
}

impl CdModel {
    /// The CD-k (or PCD) gradient estimate for the batch `v0` (see the module docs), with the
    /// batch statistics, drawing every random number from `noise`. It uses the fewest matrix
    /// products: x⁰ = v⁰W + b serves E[h|v⁰], the first hidden sample, F(v⁰) and the
    /// pseudo-likelihood; x^k serves E[h|v^k] and F(v^k).
    ///
    /// The reconstruction error is that of Hinton's code: the mean squared difference per unit
    /// between v⁰ and E[v | h⁰], h⁰ ~ p(h|v⁰) — the first half-step of the CD chain.
    pub fn cd_gradient(&self, v0: Tensor<2>, noise: &mut Noise) -> (CdGradient, CdOutput) {
        if self.uses_cpu_kernel() {
            let form = GradientForm {
                descent: false,
                l1: 0.0,
                l2: 0.0,
            };
            let (host, device) = self.host_step(v0, noise, Some(form));
            let [nv, nh] = self.rbm.weights.dims();
            let item = host_output(&host, &device);
            let negative = negative_tensor(&host, nv, &device);
            let weights = host.weights.expect("requested");
            let gradient = CdGradient {
                weights: Tensor::from_data(TensorData::new(weights, [nv, nh]), &device),
                visible_bias: vector(host.visible_bias, &device),
                hidden_bias: vector(host.hidden_bias, &device),
                negative,
            };
            return (gradient, item);
        }
        let rbm = plain(&self.rbm);
        let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
        let v0 = v0.without_autodiff();
        let batch_size = v0.dims()[0];
        let x0 = rbm.hidden_input(v0.clone());
        let ph0 = hu.mean(x0.clone());
        let h0 = hu.sample_with(x0.clone(), noise);
        let visible_input0 = rbm.visible_input(h0);
        let reconstruction_error = (vu.mean(visible_input0.clone()) - v0.clone())
            .square()
            .mean();
        let (mut v, mut x, first) = if self.cd.persistent {
            let chains = self.chains.value_sync().without_autodiff();
            let x = rbm.hidden_input(chains.clone());
            (chains, x, 0)
        } else {
            // CD: the chain's first visible input is the reconstruction's.
            let v = vu.sample_with(visible_input0, noise);
            let x = rbm.hidden_input(v.clone());
            (v, x, 1)
        };
        for _ in first..self.cd.k {
            let h = hu.sample_with(x, noise);
            v = vu.sample_with(rbm.visible_input(h), noise);
            x = rbm.hidden_input(v.clone());
        }
        let phk = hu.mean(x.clone());
        let (b0, bk) = (batch_size as f64, v.dims()[0] as f64);
        let weights = v0.clone().transpose().matmul(ph0.clone()) / b0
            - v.clone().transpose().matmul(phk.clone()) / bk;
        let visible_bias = (v0.clone().mean_dim(0) - v.clone().mean_dim(0)).squeeze_dim(0);
        let hidden_bias = (ph0.mean_dim(0) - phk.mean_dim(0)).squeeze_dim(0);
        let log_partition0 = hu.log_partition_tensor(x0.clone()).sum_dim(1);
        let free_energy = |v: Tensor<2>, log_partition: Tensor<2>| {
            let a = (v * rbm.visible_bias.val().unsqueeze_dim(0)).sum_dim(1);
            (a + log_partition).neg().mean()
        };
        let pseudo_log_likelihood = crate::likelihood::stochastic_pll_tensor(
            &rbm,
            v0.clone(),
            x0,
            log_partition0.clone(),
            noise,
        );
        let free_energy_data = free_energy(v0, log_partition0);
        let free_energy_gap = Tensor::<1>::full([1], f64::NAN, &free_energy_data.device());
        let stats = CdOutput {
            reconstruction_error,
            free_energy_negative: free_energy(v.clone(), hu.log_partition_tensor(x).sum_dim(1)),
            free_energy_data,
            pseudo_log_likelihood,
            free_energy_gap,
            batch_size,
        };
        let gradient = CdGradient {
            weights,
            visible_bias,
            hidden_bias,
            negative: v,
        };
        (gradient, stats)
    }

    /// The statistics of a batch without a training step (held-out data): those of
    /// [`CdModel::cd_gradient`], plus the free-energy gap against the batch's reference rows.
    pub fn evaluate(&self, batch: CdBatch) -> CdOutput {
        let mut noise = Noise::new(batch.seed);
        let mut out = if self.uses_cpu_kernel() {
            let (host, device) = self.host_step(batch.visible, &mut noise, None);
            host_output(&host, &device)
        } else {
            self.cd_gradient(batch.visible, &mut noise).1
        };
        if let Some(reference) = batch.reference {
            let rbm = plain(&self.rbm);
            let f_ref = rbm.free_energy(reference.without_autodiff()).mean();
            out.free_energy_gap = out.free_energy_data.clone() - f_ref;
        }
        out
    }

    /// The gradients handed to the optimiser (descent direction, penalties included; see the
    /// module docs).
    pub fn optimiser_gradients(&self, g: &CdGradient) -> GradientsParams {
        let w = self.rbm.weights.val().without_autodiff();
        let mut gw = g.weights.clone().neg();
        if self.cd.l1 > 0.0 {
            gw = gw + w.clone().sign() * self.cd.l1;
        }
        if self.cd.l2 > 0.0 {
            gw = gw + w * self.cd.l2;
        }
        let mut grads = GradientsParams::new();
        grads.register(self.rbm.weights.id, gw);
        grads.register(self.rbm.visible_bias.id, g.visible_bias.clone().neg());
        grads.register(self.rbm.hidden_bias.id, g.hidden_bias.clone().neg());
        grads
    }
}

impl CdModel {
    /// The model with the fused CPU kernel allowed or not (see [`CdModel::cpu_kernel`]).
    pub fn with_cpu_kernel(mut self, allowed: bool) -> Self {
        self.cpu_kernel = allowed;
        self
    }

    /// Whether this model's steps run on the fused CPU kernel (see [`CdModel::cpu_kernel`]).
    pub fn uses_cpu_kernel(&self) -> bool {
        self.cpu_kernel && kernel_applies(&self.rbm)
    }

    /// The step on the fused CPU kernel, with the device its results belong on.
    fn host_step(
        &self,
        v0: Tensor<2>,
        noise: &mut Noise,
        gradient: Option<GradientForm>,
    ) -> (HostStep, Device) {
        let data = host_rbm_data(&self.rbm);
        let host = data.view();
        let v0 = HostF32::read(v0.without_autodiff());
        let chains = self.cd.persistent.then(|| {
            let chains = self.chains.value_sync().without_autodiff();
            let rows = chains.dims()[0];
            (host_vec(chains), rows)
        });
        let request = StepRequest {
            k: self.cd.k,
            chains: chains.as_ref().map(|(c, rows)| (c.as_slice(), *rows)),
            gradient,
        };
        (
            cpu_kernel::cd_step(&host, v0.as_slice(), &request, noise),
            data.device,
        )
    }

    /// [`TrainStep::step`] on the fused CPU kernel: the descent direction with the
    /// penalties comes out of the kernel, so no further pass over the weights is needed.
    fn host_train_step(&self, v0: Tensor<2>, noise: &mut Noise) -> TrainOutput<CdOutput> {
        let form = GradientForm {
            descent: true,
            l1: self.cd.l1 as f32,
            l2: self.cd.l2 as f32,
        };
        let (host, device) = self.host_step(v0, noise, Some(form));
        let [nv, nh] = self.rbm.weights.dims();
        if self.cd.persistent {
            self.chains.update(negative_tensor(&host, nv, &device));
            let _ = self.chains.value_sync();
        }
        let item = host_output(&host, &device);
        let weights = host.weights.expect("requested");
        let mut grads = GradientsParams::new();
        grads.register(
            self.rbm.weights.id,
            Tensor::<2>::from_data(TensorData::new(weights, [nv, nh]), &device),
        );
        grads.register(self.rbm.visible_bias.id, vector(host.visible_bias, &device));
        grads.register(self.rbm.hidden_bias.id, vector(host.hidden_bias, &device));
        TrainOutput { grads, item }
    }
}

/// Whether the fused CPU kernel can compute for `rbm`: Bernoulli units on both layers, the
/// flex device, a CPU with AVX-512.
pub(crate) fn kernel_applies(rbm: &Rbm) -> bool {
    let device = rbm.weights.val().without_autodiff().device();
    rbm.visible_units == Units::Bernoulli
        && rbm.hidden_units == Units::Bernoulli
        && is_flex(&device)
        && cpu_kernel::available()
}

/// An RBM's parameters read out of its tensors, for the kernel.
pub(crate) struct HostRbmData {
    weights: HostF32,
    visible_bias: Vec<f32>,
    hidden_bias: Vec<f32>,
    /// The (non-autodiff) device the parameters live on.
    pub(crate) device: Device,
}

impl HostRbmData {
    /// The kernel's view of the parameters.
    pub(crate) fn view(&self) -> HostRbm<'_> {
        HostRbm::new(
            self.weights.as_slice(),
            self.visible_bias.clone(),
            self.hidden_bias.clone(),
        )
    }
}

/// Reads the parameters; the weights in place on flex (see [`HostF32`]).
pub(crate) fn host_rbm_data(rbm: &Rbm) -> HostRbmData {
    let rbm = plain(rbm);
    HostRbmData {
        weights: HostF32::read(rbm.weights.val()),
        visible_bias: host_vec(rbm.visible_bias.val()),
        hidden_bias: host_vec(rbm.hidden_bias.val()),
        device: rbm.weights.val().device(),
    }
}

/// A tensor's f32 elements, row-major: the flex tensor's own buffer, shared without a copy,
/// when the tensor is a contiguous f32 tensor on flex; a copy otherwise (`into_data` would
/// copy the weights twice per step).
pub(crate) enum HostF32 {
    /// A flex tensor and the range of its buffer that holds the elements.
    Shared(burn_flex::FlexTensor, std::ops::Range<usize>),
    /// A copy.
    Owned(Vec<f32>),
}

impl HostF32 {
    /// The elements of `t` (a non-autodiff tensor).
    pub(crate) fn read<const D: usize>(t: Tensor<D>) -> Self {
        if is_flex(&t.device()) {
            match t.try_into_primitive::<burn_flex::Flex>() {
                Ok(flex) => {
                    if flex.dtype() == burn::tensor::DType::F32
                        && let Some((start, end)) = flex.layout().contiguous_offsets()
                    {
                        return Self::Shared(flex, start..end);
                    }
                    Self::Owned(host_vec(Tensor::<D>::from_primitive::<burn_flex::Flex>(
                        flex,
                    )))
                }
                Err(e) => unreachable!("a tensor on the flex device is a flex tensor: {e:?}"),
            }
        } else {
            Self::Owned(host_vec(t))
        }
    }

    /// The elements.
    pub(crate) fn as_slice(&self) -> &[f32] {
        match self {
            Self::Shared(flex, range) => &flex.storage::<f32>()[range.clone()],
            Self::Owned(v) => v,
        }
    }
}

/// Whether `device` is flex, the CPU backend the kernel is measured on. (On ndarray, reading a
/// tensor's data goes element by element and costs more than the kernel saves: 4 200
/// against 7 100 samples/s for the tensor operations.)
fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

/// A tensor's elements as f32, row-major.
pub(crate) fn host_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

fn vector(x: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = x.len();
    Tensor::from_data(TensorData::new(x, [n]), device)
}

fn scalar(x: f64, device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(vec![x as f32], [1]), device)
}

fn negative_tensor(host: &HostStep, nv: usize, device: &Device) -> Tensor<2> {
    let (v, rows) = &host.negative;
    Tensor::from_data(TensorData::new(v.clone(), [*rows, nv]), device)
}

fn host_output(host: &HostStep, device: &Device) -> CdOutput {
    CdOutput {
        reconstruction_error: scalar(host.reconstruction_error, device),
        free_energy_data: scalar(host.free_energy_data, device),
        free_energy_negative: scalar(host.free_energy_negative, device),
        pseudo_log_likelihood: scalar(host.pseudo_log_likelihood, device),
        free_energy_gap: scalar(f64::NAN, device),
        batch_size: host.batch,
    }
}

impl TrainStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> TrainOutput<CdOutput> {
        let mut noise = Noise::new(batch.seed);
        if self.uses_cpu_kernel() {
            return self.host_train_step(batch.visible, &mut noise);
        }
        let (g, item) = self.cd_gradient(batch.visible, &mut noise);
        if self.cd.persistent {
            self.chains.update(g.negative.clone());
            // Fold the update in now, so that a checkpoint written after this step records
            // the chains it leaves (the running state otherwise lags one update).
            let _ = self.chains.value_sync();
        }
        TrainOutput {
            grads: self.optimiser_gradients(&g),
            item,
        }
    }
}

impl InferenceStep for CdModel {
    type Input = CdBatch;
    type Output = CdOutput;

    fn step(&self, batch: CdBatch) -> CdOutput {
        // Held-out statistics; the persistent chains are not advanced (`cd_gradient` only
        // reads them).
        self.evaluate(batch)
    }
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

/// Which per-batch statistic a [`CdMetric`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CdStatistic {
    /// Reconstruction error per unit.
    ReconstructionError,
    /// Mean free energy of the data.
    FreeEnergyData,
    /// Mean free energy of the negative samples.
    FreeEnergyNegative,
    /// Stochastic pseudo-log-likelihood per unit.
    PseudoLogLikelihood,
    /// Free-energy gap mean F(held-out) − mean F(training rows) (held-out batches only).
    FreeEnergyGap,
}

impl CdStatistic {
    fn index(self) -> usize {
        match self {
            CdStatistic::ReconstructionError => 0,
            CdStatistic::FreeEnergyData => 1,
            CdStatistic::FreeEnergyNegative => 2,
            CdStatistic::PseudoLogLikelihood => 3,
            CdStatistic::FreeEnergyGap => 4,
        }
    }
}

/// A statistic of a batch, as handed to a [`CdMetric`].
#[derive(Debug, Clone)]
pub struct CdStatisticInput {
    value: Tensor<1>,
    batch_size: usize,
}

/// A numeric Burn metric for one of the [`CdOutput`] statistics (batch-size weighted).
#[derive(Clone)]
pub struct CdMetric {
    statistic: CdStatistic,
    name: MetricName,
    state: NumericMetricState,
}

impl CdMetric {
    /// A metric reporting `statistic`.
    pub fn new(statistic: CdStatistic) -> Self {
        let name = match statistic {
            CdStatistic::ReconstructionError => "Reconstruction error",
            CdStatistic::FreeEnergyData => "Free energy (data)",
            CdStatistic::FreeEnergyNegative => "Free energy (negative)",
            CdStatistic::PseudoLogLikelihood => "Pseudo-log-likelihood per unit",
            CdStatistic::FreeEnergyGap => "Free-energy gap",
        };
        Self {
            statistic,
            name: Arc::new(name.into()),
            state: NumericMetricState::new(),
        }
    }
}

impl Adaptor<CdStatisticInput> for CdOutput {
    fn adapt(&self) -> CdStatisticInput {
        // All three statistics travel; the metric picks its own (see `Metric::update`).
        CdStatisticInput {
            value: Tensor::cat(
                vec![
                    self.reconstruction_error.clone(),
                    self.free_energy_data.clone(),
                    self.free_energy_negative.clone(),
                    self.pseudo_log_likelihood.clone(),
                    self.free_energy_gap.clone(),
                ],
                0,
            ),
            batch_size: self.batch_size,
        }
    }
}

impl Metric for CdMetric {
    type Input = CdStatisticInput;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: self.statistic == CdStatistic::PseudoLogLikelihood,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &CdStatisticInput,
        _metadata: &MetricMetadata,
    ) -> std::result::Result<SerializedEntry, TensorReadError> {
        let values = item.value.clone().into_data().convert::<f64>();
        let values = values.try_to_vec::<f64>().unwrap_or_default();
        let value = values
            .get(self.statistic.index())
            .copied()
            .unwrap_or(f64::NAN);
        self.state.update(value, item.batch_size);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(4)))
    }

    fn compute(&mut self) -> std::result::Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(4)))
    }

    fn clear(&mut self) {
        self.state.reset()
    }
}

impl Numeric for CdMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

/// How the learning rate changes over the optimiser steps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same learning rate throughout.
    #[default]
    Constant,
    /// Linear decay from the initial rate to `final_lr` over the run's steps.
    Linear {
        /// The rate at the last step.
        final_lr: f64,
    },
    /// ε_t = ε₀ γ^t per optimiser step.
    Exponential {
        /// The factor per step, in (0, 1].
        gamma: f64,
    },
}

/// Everything that defines the training of one RBM: CD settings, optimiser, schedule, batch
/// size, epochs and seed.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    /// Contrastive-divergence settings (k, PCD, penalties).
    pub cd: CdConfig,
    /// Initial learning rate ε (the rate that multiplies the gradient and the penalties).
    #[config(default = 0.1)]
    pub learning_rate: f64,
    /// Learning-rate schedule.
    #[config(default = "LrSchedule::Constant")]
    pub schedule: LrSchedule,
    /// Momentum μ (dampening 0).
    #[config(default = 0.5)]
    pub momentum: f64,
    /// Mini-batch size.
    #[config(default = 100)]
    pub batch_size: usize,
    /// Passes over the training data.
    #[config(default = 1)]
    pub epochs: usize,
    /// Seed of the run's random streams (initial weights, data order, Gibbs sampling), all
    /// drawn on the host; the device's own generator is not seeded by it.
    #[config(default = 0)]
    pub seed: u64,
}

impl TrainingConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`crate::RbmError::Config`] naming the offending field.
    pub fn validate(&self) -> crate::Result<()> {
        self.cd.validate()?;
        let bad = |m: String| Err(crate::RbmError::Config(m));
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(format!(
                "learning_rate must be in (0, 1], got {}",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad(format!("momentum must be in [0, 1), got {}", self.momentum));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1, got 0".into());
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1, got 0".into());
        }
        match self.schedule {
            LrSchedule::Linear { final_lr } if !(final_lr > 0.0 && final_lr <= 1.0) => {
                bad(format!("final_lr must be in (0, 1], got {final_lr}"))
            }
            LrSchedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => {
                bad(format!("gamma must be in (0, 1], got {gamma}"))
            }
            _ => Ok(()),
        }
    }

    /// The optimiser: SGD with momentum and no dampening ([`sgd_with_momentum`]).
    pub fn optimizer(&self) -> ModuleOptimizer {
        sgd_with_momentum(self.momentum)
    }

    /// The learning-rate scheduler for a run of `steps` optimiser steps.
    ///
    /// # Errors
    /// If the schedule's parameters are invalid.
    pub fn lr_scheduler(&self, steps: usize) -> crate::Result<ModuleLrScheduler> {
        self.validate()?;
        let scheduler = match self.schedule {
            LrSchedule::Constant => Ok(ModuleLrScheduler::from(self.learning_rate)),
            LrSchedule::Linear { final_lr } => {
                LinearLrSchedulerConfig::new(self.learning_rate, final_lr, steps.max(1)).init()
            }
            LrSchedule::Exponential { gamma } => {
                ExponentialLrSchedulerConfig::new(self.learning_rate, gamma).init()
            }
        };
        scheduler.map_err(crate::RbmError::Config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel reads flex tensors in place, and copies views that are not contiguous:
    /// either way it sees the elements `into_data` gives, row-major.
    #[test]
    fn host_f32_reads_the_elements_in_place_or_copied() {
        let device = Device::flex();
        let t = Tensor::<2>::from_data(
            TensorData::new((0..12).map(|x| x as f32).collect::<Vec<_>>(), [3, 4]),
            &device,
        );
        let shared = HostF32::read(t.clone());
        assert!(matches!(shared, HostF32::Shared(..)));
        assert_eq!(shared.as_slice(), host_vec(t.clone()).as_slice());
        // A transposed view and a row slice with an offset are read as copies in their
        // logical order.
        let tt = t.clone().transpose();
        let read = HostF32::read(tt.clone());
        assert_eq!(read.as_slice(), host_vec(tt).as_slice());
        let rows = t.slice([1..3, 0..4]);
        let read = HostF32::read(rows.clone());
        assert_eq!(read.as_slice(), &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        assert_eq!(read.as_slice(), host_vec(rows).as_slice());
    }
}
