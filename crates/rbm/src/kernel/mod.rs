//! The fused CPU path of the CD-k / PCD step of a Bernoulli–Bernoulli RBM.
//!
//! On the flex CPU device a CD step built from separate tensor operations spends most of
//! its time outside arithmetic: the gradient products vᵀE[h|v] have a short inner dimension
//! (the batch), every elementwise operation is a separate pass over memory, and the penalty
//! terms add passes over the weights. This module does the same step on the host, on the
//! tensors' f32 data:
//!
//! - one register-tiled AVX-512 matrix kernel ([`avx512`]) serves all three product shapes
//!   (vW, W hᵀ and vᵀp), split by rows of the result (vW by halves of its inner dimension)
//!   over the threads of [`team`], whose helpers spin between the step's short parallel
//!   regions;
//! - the step's random numbers arrive drawn ([`StepNoise`]), so the sampling runs in
//!   parallel;
//! - the gradient is accumulated as v⁰ᵀ(s₀ E[h|v⁰]) + v^kᵀ(s_k E[h|v^k]) with the 1/B
//!   scalings and the sign folded into the small factors, and the penalties added in the same
//!   pass that unpads the result;
//! - sigmoid, softplus and sampling are vectorised loops over a polynomial exp ([`math`]).
//!
//! The step consumes the same [`StepNoise`] as the tensor reference in [`crate::train`], so
//! the two agree up to float rounding (tested in `tests/training.rs`); it is deterministic:
//! each element of a result is computed by one thread in a fixed order.
//!
//! Layout: [`host`] reads Burn tensors in place and decides whether the kernel applies;
//! `step` is the step and the exact pseudo-likelihood; [`avx512`] the matrix products;
//! [`math`] the vectorised elementwise functions; [`team`] the thread team.
//!
//! # `unsafe`
//! This module holds all of the workspace's `unsafe` code:
//! - calls of functions compiled for AVX-512F/FMA (`#[target_feature]`), each after the
//!   features were detected ([`available`]): [`cd_step`], [`pseudo_log_likelihood`] and the
//!   tests; the functions themselves are safe;
//! - raw-pointer loads and stores in the tile of the matrix kernel ([`avx512`]), whose
//!   indices are bounded by the shapes its safe entry points assert;
//! - the thread team ([`team`]), which hands a region's borrowed tasks to its helpers with
//!   the lifetime erased and does not return before they are done;
//! - `mallopt` in [`retain_freed_memory`].
#![allow(unsafe_code)]

use std::borrow::Cow;

use crate::noise::StepNoise;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
mod host;
mod math;
#[cfg(target_arch = "x86_64")]
mod step;
mod team;

pub(crate) use host::{HostF32, OwnedParams, applies};

/// What the profiling and benchmark examples reach into; not a stable interface.
#[doc(hidden)]
pub mod profiling {
    pub use super::available;
    #[cfg(target_arch = "x86_64")]
    pub use super::avx512::{Operand, Term, matmul, matmul_sum};
    pub use super::team::{SPIN, for_each, for_each_rows, row_ranges, run, threads};
}

/// Whether the fused kernel can run on this CPU (AVX-512F, AVX-512DQ and FMA).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Asks the C allocator (glibc) to keep freed memory for reuse instead of returning it to
/// the operating system: every training step allocates and frees buffers of a few MB (the
/// kernel's and Burn's), and with glibc's defaults each of them comes back as fresh pages
/// whose first touch costs a page fault.
/// Freed memory up to 256 MiB is kept; buffers up to 32 MiB come from the heap.
///
/// A process-wide setting, so binaries call it at start (`fig3`, `bench_cd1`, …), never the
/// library on its own. Does nothing outside Linux with glibc.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes glibc's allocation thresholds; both values are within
        // the documented ranges (the mmap threshold's maximum is 32 MiB on 64-bit systems).
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
        }
    }
}

/// Vector lanes of f32 (one AVX-512 register).
const LANES: usize = 16;

fn pad16(n: usize) -> usize {
    n.div_ceil(LANES) * LANES
}

/// The parameters of a Bernoulli–Bernoulli RBM as the kernel reads them, the hidden
/// dimension padded with zeros to a multiple of 16.
pub(crate) struct KernelParams<'a> {
    nv: usize,
    nh: usize,
    /// Padded hidden width.
    nhp: usize,
    /// W, `[nv, nhp]`.
    w: Cow<'a, [f32]>,
    /// a, `[nv]`.
    a: Vec<f32>,
    /// b, `[nhp]`.
    b: Vec<f32>,
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
    pub l1: f32,
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

/// One CD-k / PCD step for the batch `v0` (`[batch, nv]`, row-major) with the step's random
/// numbers `noise`.
///
/// # Panics
/// If [`available`] is false, or on inconsistent shapes.
pub(crate) fn cd_step(
    rbm: &KernelParams,
    v0: &[f32],
    req: &StepRequest,
    noise: StepNoise,
) -> HostStep {
    assert!(available(), "the fused CPU kernel needs AVX-512F and FMA");
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the target features were checked just above.
        unsafe { step::cd_step(rbm, v0, req, noise) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rbm, v0, req, noise);
        unreachable!()
    }
}

/// The exact pseudo-log-likelihood per unit, (1/n_v) Σ_i ln p(v_i | v_{−i}) averaged over the
/// rows of the Bernoulli data `v` (`[rows, nv]`), as
/// [`crate::eval::likelihood::pseudo_log_likelihood`] computes it: rows in parallel, n_v
/// flipped hidden inputs per row.
///
/// # Panics
/// If [`available`] is false, or on inconsistent shapes.
pub(crate) fn pseudo_log_likelihood(rbm: &KernelParams, v: &[f32]) -> f64 {
    assert!(available(), "the fused CPU kernel needs AVX-512F and FMA");
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the target features were checked just above.
        unsafe { step::exact_pll(rbm, v) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (rbm, v);
        unreachable!()
    }
}
