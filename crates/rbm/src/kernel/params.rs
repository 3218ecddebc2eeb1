//! What the kernel reads and returns: the RBM's parameters as it reads them
//! ([`KernelParams`]), what a step is asked for ([`StepRequest`], [`GradientForm`]) and what
//! it returns ([`HostStep`]).

use std::borrow::Cow;

use super::matmul::WIDTH_MULTIPLE;

/// The lanes of the elementwise sums ([`super::math::sum_lanes`]): a fixed number, the same on
/// every level, so that sums do not depend on it.
pub(super) const LANES: usize = 16;

/// `n` rounded up to a multiple of [`super::matmul::WIDTH_MULTIPLE`].
pub(super) fn pad16(n: usize) -> usize {
    n.div_ceil(WIDTH_MULTIPLE) * WIDTH_MULTIPLE
}

/// The parameters of a Bernoulli–Bernoulli RBM as the kernel reads them, the hidden
/// dimension padded with zeros to a multiple of 16.
pub(crate) struct KernelParams<'a> {
    pub(super) nv: usize,
    pub(super) nh: usize,
    /// Padded hidden width.
    pub(super) nhp: usize,
    /// W, `[nv, nhp]`.
    pub(super) w: Cow<'a, [f32]>,
    /// a, `[nv]`.
    pub(super) a: Vec<f32>,
    /// b, `[nhp]`.
    pub(super) b: Vec<f32>,
}

impl<'a> KernelParams<'a> {
    /// From row-major W `[nv, nh]` (borrowed when no padding is needed) and the biases.
    ///
    /// # Panics
    /// If the lengths do not match.
    pub(crate) fn new(w: &'a [f32], a: Vec<f32>, mut b: Vec<f32>) -> Self {
        let (nv, nh) = (a.len(), b.len());
        assert_eq!(w.len(), nv * nh, "W must be [n_v, n_h]");
        let nhp = pad16(nh);
        let w = if nhp == nh {
            Cow::Borrowed(w)
        } else {
            let mut p = vec![0.0; nv * nhp];
            for (dst, src) in p.chunks_exact_mut(nhp).zip(w.chunks_exact(nh)) {
                dst[..nh].copy_from_slice(src);
            }
            Cow::Owned(p)
        };
        b.resize(nhp, 0.0);
        Self {
            nv,
            nh,
            nhp,
            w,
            a,
            b,
        }
    }
}

/// What a step computes besides the statistics.
pub(crate) struct StepRequest<'a> {
    /// Gibbs steps.
    pub k: usize,
    /// Persistent chains `[chains, nv]` (PCD), or `None` for CD.
    pub chains: Option<(&'a [f32], usize)>,
    /// The weight gradient to form, if any.
    pub gradient: Option<GradientForm>,
}

/// The sign convention and penalties of the weight gradient.
#[derive(Clone, Copy)]
pub(crate) struct GradientForm {
    /// `true`: the optimiser's descent direction −∂ℓ/∂W + λ₁ sign W + λ₂ W (and −∂ℓ/∂a,
    /// −∂ℓ/∂b); `false`: the ascent direction ∂ℓ (penalties ignored).
    pub descent: bool,
    /// λ₁ of the gradient: the configured strength under
    /// [`crate::train::PenaltyConvention::Gradient`], 0 under `Decoupled` (where the optimiser
    /// applies it through [`WeightPenalty`]).
    pub l1: f32,
    /// λ₂ of the gradient, as `l1`.
    pub l2: f32,
}

/// The results of a step.
pub(crate) struct HostStep {
    /// The weight gradient `[nv, nh]`, when requested.
    pub weights: Option<Vec<f32>>,
    /// The visible-bias gradient `[nv]` (in the requested direction; ascent without a
    /// request).
    pub visible_bias: Vec<f32>,
    /// The hidden-bias gradient `[nh]`.
    pub hidden_bias: Vec<f32>,
    /// The negative samples `[rows, nv]` and their number of rows.
    pub negative: (Vec<f32>, usize),
    /// Rows of the batch.
    pub batch: usize,
    /// The batch mean of E[h|v⁰] per hidden unit, `[nh]`.
    pub hidden_mean: Vec<f32>,
    pub reconstruction_error: f64,
    pub free_energy_data: f64,
    pub free_energy_negative: f64,
    pub pseudo_log_likelihood: f64,
}
