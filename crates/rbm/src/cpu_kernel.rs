//! A fused CPU kernel for the CD-k / PCD step of a Bernoulli–Bernoulli RBM.
//!
//! On the flex CPU device a CD step built from separate tensor operations spends
//! most of its time outside arithmetic: the gradient products vᵀE[h|v] have a short inner
//! dimension (the batch) and run at a third of the speed of vW, every elementwise operation
//! is a separate pass over memory, and the penalty terms add four passes over the weights.
//! This module does the same step on the host, on the tensors' f32 data:
//!
//! - one register-tiled AVX-512 matrix kernel ([`avx512::matmul`]) serves all three product
//!   shapes (vW, W hᵀ and vᵀp), split by rows of the result (vW by halves of its inner
//!   dimension) over the threads of [`crate::team`], whose helpers spin between the step's
//!   short parallel regions;
//! - the step's random numbers are drawn from its stream up front (eight interleaved
//!   generators, vectorised), so that the sampling runs in parallel;
//! - the gradient is accumulated as v⁰ᵀ(s₀ E[h|v⁰]) + v^kᵀ(s_k E[h|v^k]) with the 1/B
//!   scalings and the sign folded into the small factors, and the penalties added in the
//!   same pass that unpads the result;
//! - sigmoid, softplus and sampling are vectorised loops over a polynomial exp.
//!
//! It draws every random number from the step's [`Noise`] stream in exactly the order of the
//! tensor implementation in [`crate::train`], so the two agree up to float rounding (tested
//! there), and it is deterministic: each element of a result is computed by one thread in a
//! fixed order.
//!
//! The kernel needs AVX-512F and FMA, detected at run time; elsewhere [`available`] is false
//! and the tensor implementation runs. With [`crate::team`], this is the crate's `unsafe` code: raw-pointer
//! loads and stores in the matrix kernel (every index is bounded by the shapes checked in
//! `HostRbm::new` and the buffers this module allocates), and calls of functions compiled
//! for the detected target features.
#![allow(unsafe_code)]

use std::borrow::Cow;

use crate::noise::Noise;

/// Whether the fused kernel can run on this CPU (AVX-512F and FMA).
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
/// whose first touch costs a page fault, about a fifth of a step of the 1600 → 400 layer.
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

const LANES: usize = 16;

fn pad16(n: usize) -> usize {
    n.div_ceil(LANES) * LANES
}

/// The parameters of a Bernoulli–Bernoulli RBM on the host, the hidden dimension padded with
/// zeros to a multiple of 16.
pub(crate) struct HostRbm<'a> {
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

impl<'a> HostRbm<'a> {
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
    pub reconstruction_error: f64,
    pub free_energy_data: f64,
    pub free_energy_negative: f64,
    pub pseudo_log_likelihood: f64,
}

/// One CD-k / PCD step for the batch `v0` (`[batch, nv]`, row-major), drawing from `noise`
/// in the order of [`crate::train::CdModel::cd_gradient`].
///
/// # Panics
/// If [`available`] is false, or on inconsistent shapes.
pub(crate) fn cd_step(rbm: &HostRbm, v0: &[f32], req: &StepRequest, noise: &mut Noise) -> HostStep {
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
/// rows of the Bernoulli data `v` (`[rows, nv]`), as [`crate::likelihood::pseudo_log_likelihood`]
/// computes it: rows in parallel, n_v flipped hidden inputs per row.
///
/// # Panics
/// If [`available`] is false, or on inconsistent shapes.
pub(crate) fn pseudo_log_likelihood(rbm: &HostRbm, v: &[f32]) -> f64 {
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

#[cfg(target_arch = "x86_64")]
mod step {
    use rayon::prelude::*;

    use std::sync::Mutex;

    use super::avx512::{Operand, Term, matmul_new};
    use super::*;
    use crate::team;

    /// The parts of the inner dimension of the products vW (see [`hidden_input`]).
    const INNER_PARTS: usize = 2;

    /// Every random number of a step, drawn up front from the step's stream in the order in
    /// which the step uses them (the order of [`crate::train::CdModel::cd_gradient`]), so that
    /// the sampling runs in parallel.
    struct StepNoise {
        /// The uniforms of each hidden sampling, `[rows, nh]`, in order.
        hidden: Vec<Vec<f32>>,
        /// The uniforms of each visible sampling, `[rows, nv]`, in order.
        visible: Vec<Vec<f32>>,
        /// The site of each batch row's stochastic pseudo-likelihood term.
        sites: Vec<usize>,
    }

    impl StepNoise {
        /// Draws h⁰ for the batch; then, for CD, v¹ for the batch, and for PCD none; then
        /// (h, v) for each further Gibbs step of the `rows` chains; then one site per batch
        /// row.
        fn draw(
            noise: &mut Noise,
            nv: usize,
            nh: usize,
            batch: usize,
            rows: usize,
            k: usize,
            persistent: bool,
        ) -> Self {
            let mut hidden = vec![noise.uniforms(batch * nh)];
            let mut visible = Vec::with_capacity(k);
            if !persistent {
                visible.push(noise.uniforms(batch * nv));
            }
            for _ in usize::from(!persistent)..k {
                hidden.push(noise.uniforms(rows * nh));
                visible.push(noise.uniforms(rows * nv));
            }
            let sites = noise.below_many(batch, nv);
            Self {
                hidden,
                visible,
                sites,
            }
        }
    }

    /// The hidden inputs x = vW + b of `rows` visible rows, `[rows, nhp]` (padding columns 0).
    ///
    /// The product is split over the inner dimension into [`INNER_PARTS`] halves of the
    /// visible units, x = v₁W₁ + v₂W₂, each half's rows of the batch further split over the
    /// threads. On two threads each thread reads only its half of W (the half of the rows that
    /// its task of W Hᵀ and of the gradient also touches, so it stays in that core's cache)
    /// and the batch's rows are not divided: this beat one block of batch rows per thread by
    /// 5%. The number of parts is fixed, so the sums, and the results, do not depend on the
    /// number of threads.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn hidden_input(rbm: &HostRbm, v: &[f32], rows: usize) -> Vec<f32> {
        let (nv, nhp) = (rbm.nv, rbm.nhp);
        let chunks = team::threads().div_ceil(INNER_PARTS).max(1);
        let row_chunk = rows.div_ceil(chunks).max(1);
        let chunks = rows.div_ceil(row_chunk);
        // Task part·chunks + chunk: rows chunk·row_chunk.. of part `part`'s partial product.
        let slots: Vec<Mutex<Vec<f32>>> = (0..INNER_PARTS * chunks)
            .map(|_| Mutex::new(Vec::new()))
            .collect();
        team::run(slots.len(), &|task| {
            let (part, chunk) = (task / chunks, task % chunks);
            let (k0, k1) = (part * nv / INNER_PARTS, (part + 1) * nv / INNER_PARTS);
            let r0 = chunk * row_chunk;
            let term = Term {
                k: k1 - k0,
                a: Operand::new(&v[r0 * nv + k0..], nv, 1),
                b: &rbm.w[k0 * nhp..],
                b_stride: nhp,
            };
            // SAFETY: the caller checked the features. Inside a task the team is busy, so
            // the product runs on this thread.
            let out = unsafe { matmul_new(row_chunk.min(rows - r0), nhp, &[term]) };
            *slots[task].lock().unwrap_or_else(|e| e.into_inner()) = out;
        });
        let mut slots = slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()));
        let mut x: Vec<f32> = Vec::with_capacity(rows * nhp);
        for _ in 0..chunks {
            x.extend(slots.next().expect("a chunk of part 0"));
        }
        for _ in 1..INNER_PARTS {
            for chunk in 0..chunks {
                let p = slots.next().expect("a chunk");
                for (a, b) in x[chunk * row_chunk * nhp..].iter_mut().zip(&p) {
                    *a += b;
                }
            }
        }
        for row in x.chunks_exact_mut(nhp) {
            for (xi, bi) in row[..rbm.nh].iter_mut().zip(&rbm.b) {
                *xi += bi;
            }
        }
        x
    }

    /// Samples Bernoulli hidden units with means `p` (`[rows, nhp]`) from the uniforms `u`
    /// (`[rows, nh]`), into Hᵀ `[nh, rows_p]` (the layout of the next product's right factor;
    /// padding rows and columns 0): hidden units in parallel.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn sample_hidden_t(
        rbm: &HostRbm,
        p: &[f32],
        rows: usize,
        u: &[f32],
    ) -> (Vec<f32>, usize) {
        let (nh, nhp) = (rbm.nh, rbm.nhp);
        assert_eq!(u.len(), rows * nh);
        let rows_p = pad16(rows);
        let mut ht = vec![0.0f32; nh * rows_p];
        team::for_each_rows(&mut ht, rows_p, 1, |units, block| {
            for (j, row) in units.zip(block.chunks_exact_mut(rows_p)) {
                for (r, h) in row[..rows].iter_mut().enumerate() {
                    *h = if u[r * nh + j] < p[r * nhp + j] {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        });
        (ht, rows_p)
    }

    /// What one pass over the hidden inputs x = vW + b of `rows` rows gives.
    struct HiddenStats {
        /// σ(x), `[rows, nhp]` (padding 0).
        means: Vec<f32>,
        /// s·σ(x), when a scale s was given.
        scaled: Option<Vec<f32>>,
        /// The mean over rows of F(v) = −v·a − Σ_j softplus(x_j), when the rows were given.
        free_energy: Option<f64>,
    }

    /// The hidden means for the hidden inputs `x` (`[rows, nhp]`), optionally scaled, and
    /// the mean free energy of the visible rows `v` when given: rows in parallel, the free
    /// energies summed in row order.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn hidden_stats(
        rbm: &HostRbm,
        v: Option<&[f32]>,
        x: &[f32],
        rows: usize,
        scale: Option<f32>,
    ) -> HiddenStats {
        let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
        let mut means = vec![0.0f32; rows * nhp];
        let mut scaled = scale.map(|_| vec![0.0f32; rows * nhp]);
        let mut energies = vec![0.0f64; rows];
        // One part per thread: its rows of the means, scaled means and free energies.
        let ranges = crate::team::row_ranges(rows, 1);
        let mut parts = Vec::with_capacity(ranges.len());
        let (mut m_rest, mut s_rest, mut e_rest) =
            (&mut means[..], scaled.as_deref_mut(), &mut energies[..]);
        for range in &ranges {
            let (m, mr) = m_rest.split_at_mut(range.len() * nhp);
            let (sc, sr) = match s_rest {
                Some(sv) => {
                    let (a, b) = sv.split_at_mut(range.len() * nhp);
                    (Some(a), Some(b))
                }
                None => (None, None),
            };
            let (e, er) = e_rest.split_at_mut(range.len());
            parts.push((range.start, m, sc, e));
            (m_rest, s_rest, e_rest) = (mr, sr, er);
        }
        crate::team::for_each(parts, |_, (r0, m, mut sc, e)| {
            for (j, e) in e.iter_mut().enumerate() {
                let r = r0 + j;
                let vr = v.map(|v| &v[r * nv..(r + 1) * nv]);
                let xr = &x[r * nhp..r * nhp + nh];
                let mr = &mut m[j * nhp..j * nhp + nh];
                let sr = sc.as_deref_mut().map(|sc| &mut sc[j * nhp..(j + 1) * nhp]);
                // SAFETY: the caller checked the features.
                *e = unsafe { hidden_row(rbm, vr, xr, mr, sr, scale.unwrap_or(1.0)) };
            }
        });
        HiddenStats {
            means,
            scaled,
            free_energy: v.map(|_| energies.iter().sum::<f64>() / rows as f64),
        }
    }

    /// One row of [`hidden_stats`]: writes σ(x) into `m` and s·σ(x) into `scaled`, and
    /// returns F(v) (0 without `v`).
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn hidden_row(
        rbm: &HostRbm,
        v: Option<&[f32]>,
        x: &[f32],
        m: &mut [f32],
        scaled: Option<&mut [f32]>,
        s: f32,
    ) -> f64 {
        sigmoid_into(x, m);
        if let Some(out) = scaled {
            for (o, p) in out.iter_mut().zip(m.iter()) {
                *o = p * s;
            }
        }
        v.map_or(0.0, |v| unsafe { row_free_energy(rbm, v, x) })
    }

    /// The visible half of a Gibbs step from Hᵀ `[nh, rows_p]`: the means p = σ(hWᵀ + a) of
    /// `rows` rows (never stored whole) give the summed squared difference Σ (p − v)² from the
    /// rows `v` when given (summed per row, then over rows in order), and Bernoulli samples
    /// from the uniforms `u` (`[rows, nv]`) when given.
    ///
    /// Yᵀ = W Hᵀ comes out of the product as `[nv, rows_p]`. Each thread transposes its rows
    /// of Y into its own buffer, reading Yᵀ in blocks of 16 rows of Y (one cache line of each
    /// row of Yᵀ), and finishes them row by row while they are in its cache.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn visible_step(
        rbm: &HostRbm,
        ht: &[f32],
        rows: usize,
        rows_p: usize,
        v: Option<&[f32]>,
        u: Option<&[f32]>,
    ) -> (f64, Option<Vec<f32>>) {
        let nv = rbm.nv;
        let term = Term {
            k: rbm.nh,
            a: Operand::new(&rbm.w, rbm.nhp, 1),
            b: ht,
            b_stride: rows_p,
        };
        let yt = unsafe { matmul_new(nv, rows_p, &[term]) };
        let mut samples = u.map(|_| vec![0.0f32; rows * nv]);
        let mut errors = vec![0.0f64; rows];
        let ranges = team::row_ranges(rows, 1);
        let per = ranges.first().map_or(1, |r| r.len());
        let sample_parts: Vec<Option<&mut [f32]>> = match samples.as_mut() {
            Some(sv) => sv.chunks_mut(per * nv).map(Some).collect(),
            None => ranges.iter().map(|_| None).collect(),
        };
        let parts: Vec<_> = errors.chunks_mut(per).zip(sample_parts).collect();
        let yt = &yt;
        team::for_each(parts, |t, (errors, mut out)| {
            let (r00, n) = (ranges[t].start, errors.len());
            let mut y = vec![0.0f32; n * nv];
            for b0 in (0..n).step_by(16) {
                let nb = (n - b0).min(16);
                for i in 0..nv {
                    let src = &yt[i * rows_p + r00 + b0..][..nb];
                    for (rr, &x) in src.iter().enumerate() {
                        y[(b0 + rr) * nv + i] = x;
                    }
                }
            }
            let mut diff = vec![0.0f32; nv];
            for (j, (e, p)) in errors.iter_mut().zip(y.chunks_exact_mut(nv)).enumerate() {
                let span = (r00 + j) * nv..(r00 + j + 1) * nv;
                // SAFETY (both): the caller checked the features.
                unsafe { bias_sigmoid_row(p, &rbm.a) };
                *e = unsafe {
                    visible_row(
                        p,
                        v.map(|v| &v[span.clone()]),
                        u.map(|u| &u[span.clone()]),
                        out.as_deref_mut().map(|o| &mut o[j * nv..(j + 1) * nv]),
                        &mut diff,
                    )
                };
            }
        });
        (errors.iter().sum(), samples)
    }

    /// row ← σ(row + a).
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn bias_sigmoid_row(row: &mut [f32], a: &[f32]) {
        for (y, ai) in row.iter_mut().zip(a) {
            *y += ai;
        }
        sigmoid_in_place(row);
    }

    /// One row of [`visible_step`]: writes the samples into `out` when uniforms are given,
    /// and returns the summed squared difference from `v` (0 without `v`).
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn visible_row(
        p: &[f32],
        v: Option<&[f32]>,
        u: Option<&[f32]>,
        out: Option<&mut [f32]>,
        diff: &mut [f32],
    ) -> f64 {
        if let (Some(u), Some(out)) = (u, out) {
            for ((o, &ui), &pi) in out.iter_mut().zip(u).zip(p) {
                *o = if ui < pi { 1.0 } else { 0.0 };
            }
        }
        v.map_or(0.0, |v| {
            for ((d, &y), &x) in diff.iter_mut().zip(p).zip(v) {
                *d = (y - x) * (y - x);
            }
            sum_lanes(diff)
        })
    }

    /// F(v) = −v·a − Σ_j softplus(x_j) of one row.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn row_free_energy(rbm: &HostRbm, v: &[f32], x: &[f32]) -> f64 {
        let mut sp = vec![0.0f32; rbm.nh];
        softplus_into(x, &mut sp);
        let prod: Vec<f32> = v.iter().zip(&rbm.a).map(|(vi, ai)| vi * ai).collect();
        -(sum_lanes(&prod) + sum_lanes(&sp))
    }

    #[target_feature(enable = "avx512f,avx512dq,fma")]
    pub(super) unsafe fn cd_step(
        rbm: &HostRbm,
        v0: &[f32],
        req: &StepRequest,
        noise: &mut Noise,
    ) -> HostStep {
        let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
        assert_eq!(v0.len() % nv, 0, "the batch must be [rows, n_v]");
        let batch = v0.len() / nv;
        // Ascent direction d = ⟨·⟩₀ − ⟨·⟩_k, or −d for descent; the scales of the two
        // terms, by which the gradient's right factors are multiplied.
        let sign = match req.gradient {
            Some(g) if g.descent => -1.0f32,
            _ => 1.0,
        };
        let rows = req.chains.map_or(batch, |(_, rows)| rows);
        let (s0, sk) = (sign / batch as f32, -sign / rows as f32);
        let wants = req.gradient.is_some();
        if let Some((chains, rows)) = req.chains {
            assert_eq!(chains.len(), rows * nv, "the chains must be [chains, n_v]");
        }
        // The step's random numbers, drawn up front (a vectorised stream: tens of µs).
        let persistent = req.chains.is_some();
        let StepNoise {
            hidden: hidden_u,
            visible: visible_u,
            sites,
        } = StepNoise::draw(noise, nv, nh, batch, rows, req.k, persistent);
        let x0 = unsafe { hidden_input(rbm, v0, batch) };
        let (mut hidden_u, mut visible_u) = (hidden_u.into_iter(), visible_u.into_iter());
        let data = unsafe { hidden_stats(rbm, Some(v0), &x0, batch, wants.then_some(s0)) };
        let u = hidden_u.next().expect("drawn");
        let (h0t, bp) = unsafe { sample_hidden_t(rbm, &data.means, batch, &u) };
        let (mut v, first, squared_error) = match req.chains {
            Some((chains, _)) => {
                let (squared_error, _) =
                    unsafe { visible_step(rbm, &h0t, batch, bp, Some(v0), None) };
                (chains.to_vec(), 0, squared_error)
            }
            None => {
                let u = visible_u.next().expect("drawn");
                let (squared_error, v) =
                    unsafe { visible_step(rbm, &h0t, batch, bp, Some(v0), Some(&u)) };
                (v.expect("sampled"), 1, squared_error)
            }
        };
        let reconstruction_error = squared_error / (batch * nv) as f64;
        let mut x = unsafe { hidden_input(rbm, &v, rows) };
        for _ in first..req.k {
            let means = unsafe { hidden_stats(rbm, None, &x, rows, None) }.means;
            let u = hidden_u.next().expect("drawn");
            let (ht, rows_p) = unsafe { sample_hidden_t(rbm, &means, rows, &u) };
            let u = visible_u.next().expect("drawn");
            v = unsafe { visible_step(rbm, &ht, rows, rows_p, None, Some(&u)) }
                .1
                .expect("sampled");
            x = unsafe { hidden_input(rbm, &v, rows) };
        }
        let negative = unsafe { hidden_stats(rbm, Some(&v), &x, rows, wants.then_some(sk)) };
        let (ph0, phk) = (&data.means, &negative.means);

        let weights = req.gradient.map(|form| {
            let p0 = data.scaled.as_deref().expect("requested with the gradient");
            let pk = negative
                .scaled
                .as_deref()
                .expect("requested with the gradient");
            // Gᵢⱼ = Σ_b v⁰_bi p⁰_bj + Σ_c v^k_ci p^k_cj: A(i, b) = v[b, i].
            let terms = [
                Term {
                    k: batch,
                    a: Operand::new(v0, 1, nv),
                    b: p0,
                    b_stride: nhp,
                },
                Term {
                    k: rows,
                    a: Operand::new(&v, 1, nv),
                    b: pk,
                    b_stride: nhp,
                },
            ];
            let mut g = unsafe { matmul_new(nv, nhp, &terms) };
            let (l1, l2) = if form.descent {
                (form.l1, form.l2)
            } else {
                (0.0, 0.0)
            };
            if l1 != 0.0 || l2 != 0.0 {
                crate::team::for_each_rows(&mut g, nhp, 1, |rows, g| {
                    let w = &rbm.w[rows.start * nhp..][..g.len()];
                    // SAFETY: the features were checked by this function's caller.
                    unsafe { add_penalties(g, w, l1, l2) }
                });
            }
            if nhp == nh {
                g
            } else {
                let mut out = vec![0.0f32; nv * nh];
                for (dst, src) in out.chunks_exact_mut(nh).zip(g.chunks_exact(nhp)) {
                    dst.copy_from_slice(&src[..nh]);
                }
                out
            }
        });
        let visible_bias = bias_gradient(v0, &v, nv, nv, s0, sk);
        let hidden_bias = bias_gradient(ph0, phk, nhp, nh, s0, sk);
        let free_energy_data = data.free_energy.expect("the rows were given");
        let free_energy_negative = negative.free_energy.expect("the rows were given");
        let pseudo_log_likelihood = unsafe { stochastic_pll(rbm, v0, &x0, &sites) };
        HostStep {
            weights,
            visible_bias,
            hidden_bias,
            negative: (v, rows),
            batch,
            reconstruction_error,
            free_energy_data,
            free_energy_negative,
            pseudo_log_likelihood,
        }
    }

    /// s₀ Σ_rows a + s_k Σ_rows b over the first `n` columns of the row-major matrices `a`
    /// and `b` (row stride `width`), each column summed over rows in order: columns in
    /// parallel.
    fn bias_gradient(a: &[f32], b: &[f32], width: usize, n: usize, s0: f32, sk: f32) -> Vec<f32> {
        let mut out = vec![0.0f32; n];
        team::for_each_rows(&mut out, 1, 16, |cols, out| {
            // SAFETY: the caller checked the features.
            let (x, y) = unsafe { (column_sums(a, width, &cols), column_sums(b, width, &cols)) };
            for ((o, x), y) in out.iter_mut().zip(x).zip(y) {
                *o = s0 * x + sk * y;
            }
        });
        out
    }

    /// The sums over rows, in row order, of the columns `cols` of `m` (row stride `width`).
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn column_sums(m: &[f32], width: usize, cols: &std::ops::Range<usize>) -> Vec<f32> {
        let mut s = vec![0.0f32; cols.len()];
        for row in m.chunks_exact(width) {
            for (si, x) in s.iter_mut().zip(&row[cols.clone()]) {
                *si += x;
            }
        }
        s
    }

    /// The stochastic pseudo-log-likelihood per unit of [`crate::likelihood`]: for each row
    /// of `v` the drawn site i, ln p(v_i | v_{−i}) = −softplus(F(v) − F(v')): rows in
    /// parallel, summed in row order.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn stochastic_pll(rbm: &HostRbm, v: &[f32], x: &[f32], sites: &[usize]) -> f64 {
        let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
        let rows = sites.len();
        let mut terms = vec![0.0f64; rows];
        team::for_each_rows(&mut terms, 1, 1, |range, terms| {
            let mut sp = vec![0.0f32; nh];
            let mut flipped = vec![0.0f32; nh];
            for (r, term) in range.zip(terms.iter_mut()) {
                let i = sites[r];
                let delta = 1.0 - 2.0 * v[r * nv + i];
                let xr = &x[r * nhp..r * nhp + nh];
                let wi = &rbm.w[i * nhp..i * nhp + nh];
                for ((f, xj), wj) in flipped.iter_mut().zip(xr).zip(wi) {
                    *f = xj + wj * delta;
                }
                softplus_into(xr, &mut sp);
                softplus_in_place(&mut flipped);
                let d = (rbm.a[i] * delta) as f64 + sum_lanes(&flipped) - sum_lanes(&sp);
                *term = softplus64(d);
            }
        });
        terms.iter().fold(0.0, |total, t| total - t) / rows as f64
    }

    /// g += λ₁ sign(w) + λ₂ w (sign 0 = 0), elementwise.
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn add_penalties(g: &mut [f32], w: &[f32], l1: f32, l2: f32) {
        if l1 == 0.0 && l2 == 0.0 {
            return;
        }
        for (g, &w) in g.iter_mut().zip(w) {
            let sign = if w == 0.0 { 0.0 } else { 1.0f32.copysign(w) };
            *g += l1 * sign + l2 * w;
        }
    }

    #[target_feature(enable = "avx512f,avx512dq,fma")]
    pub(super) unsafe fn exact_pll(rbm: &HostRbm, v: &[f32]) -> f64 {
        let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
        assert_eq!(v.len() % nv, 0, "the rows must be [rows, n_v]");
        let rows = v.len() / nv;
        let x = unsafe { hidden_input(rbm, v, rows) };
        let per_row: Vec<f64> = (0..rows)
            .into_par_iter()
            .map(|r| {
                let (vr, xr) = (&v[r * nv..(r + 1) * nv], &x[r * nhp..r * nhp + nh]);
                // SAFETY: the features were checked by the caller of `exact_pll`.
                unsafe { row_pll(rbm, vr, xr) }
            })
            .collect();
        per_row.iter().sum::<f64>() / (rows * nv) as f64
    }

    /// Σ_i ln p(v_i | v_{−i}) of one row with hidden input `x` (`[nh]`).
    #[target_feature(enable = "avx512f,avx512dq,fma")]
    unsafe fn row_pll(rbm: &HostRbm, v: &[f32], x: &[f32]) -> f64 {
        let (nh, nhp) = (rbm.nh, rbm.nhp);
        let mut sp = vec![0.0f32; nh];
        softplus_into(x, &mut sp);
        let base = sum_lanes(&sp);
        let mut flipped = vec![0.0f32; nh];
        let mut total = 0.0f64;
        for (i, &vi) in v.iter().enumerate() {
            let delta = 1.0 - 2.0 * vi;
            let wi = &rbm.w[i * nhp..i * nhp + nh];
            for ((f, xj), wj) in flipped.iter_mut().zip(x).zip(wi) {
                *f = xj + wj * delta;
            }
            softplus_in_place(&mut flipped);
            let d = (rbm.a[i] * delta) as f64 + sum_lanes(&flipped) - base;
            total -= softplus64(d);
        }
        total
    }

    fn softplus64(x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
}

// Elementwise functions, written to vectorise inside the target-feature functions above.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for f32 to about 2 ulp (Cephes' expf: Cody–Waite reduction and a degree-6
/// polynomial), with the input clamped to [−87, 88].
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Adding 1.5·2²³ rounds x·log₂e to the integer n, which then sits in the low mantissa
    // bits; the scale 2ⁿ is built from those bits with integer operations, so the whole
    // function vectorises.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let n_bits = t.to_bits().wrapping_sub(MAGIC.to_bits());
    y * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// ln(1 + t) for t ∈ [0, 1]: 2 atanh(t / (2 + t)) by its series (error below 1e-8).
#[inline(always)]
fn ln_1p_unit(t: f32) -> f32 {
    let s = t / (2.0 + t);
    let z = s * s;
    let mut p = 1.0f32 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    p = p * z + 1.0;
    2.0 * s * p
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln_1p_unit(exp(-x.abs()))
}

#[inline(always)]
fn sigmoid_into(x: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(x) {
        *o = sigmoid(x);
    }
}

#[inline(always)]
fn sigmoid_in_place(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x = sigmoid(*x);
    }
}

#[inline(always)]
fn softplus_into(x: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(x) {
        *o = softplus(x);
    }
}

#[inline(always)]
fn softplus_in_place(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x = softplus(*x);
    }
}

/// Σ x in 16 f32 lanes (so that it vectorises), the lanes added in f64.
#[inline(always)]
fn sum_lanes(x: &[f32]) -> f64 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    acc.iter().chain(tail).map(|&a| a as f64).sum()
}

#[cfg(target_arch = "x86_64")]
pub mod avx512 {
    //! C = A·B with an AVX-512 register-tiled kernel.
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// A left factor read through strides: A(i, p) = `data[i·row_stride + p·k_stride]`.
    #[derive(Clone, Copy)]
    pub struct Operand<'a> {
        data: &'a [f32],
        row_stride: usize,
        k_stride: usize,
    }

    impl<'a> Operand<'a> {
        /// A(i, p) = `data[i·row_stride + p·k_stride]`.
        pub fn new(data: &'a [f32], row_stride: usize, k_stride: usize) -> Self {
            Self {
                data,
                row_stride,
                k_stride,
            }
        }
    }

    /// Rows of the result tile (R) and 16-lane vectors per row (Z): 25 accumulators, 5
    /// right-factor vectors and a broadcast fill the 32 vector registers.
    const R_MAX: usize = 5;
    const Z_MAX: usize = 5;
    /// Inner indices per block.
    const KC: usize = 64;

    /// C `[m, n]` (row stride n) = A `[m, k]` · B `[k, n]` (row stride `b_stride`), or
    /// C += A·B when `accumulate`. `n` must be a multiple of 16.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and FMA.
    ///
    /// # Panics
    /// If an operand is too short for the shapes.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn matmul(
        m: usize,
        n: usize,
        k: usize,
        a: Operand,
        b: &[f32],
        b_stride: usize,
        c: &mut [f32],
        accumulate: bool,
    ) {
        let term = Term { k, a, b, b_stride };
        unsafe { matmul_sum(m, n, &[term], c, accumulate) }
    }

    /// One product A·B of a sum: A `[m, k]`, B `[k, n]` with row stride `b_stride`.
    #[derive(Clone, Copy)]
    pub struct Term<'a> {
        /// The inner dimension.
        pub k: usize,
        /// A.
        pub a: Operand<'a>,
        /// B, row-major with row stride `b_stride`.
        pub b: &'a [f32],
        /// B's row stride, at least n.
        pub b_stride: usize,
    }

    /// C `[m, n]` (row stride n) = Σ_t A_t·B_t, or C += Σ_t A_t·B_t when `accumulate`, in one
    /// pass over each column panel of C. Each block of KC inner indices of a term is summed
    /// in registers and added to C, block by block and, within a block, term by term (so
    /// terms of at most KC inner indices are added in term order, as by one [`matmul`] per
    /// term). `n` must be a multiple of 16.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and FMA.
    ///
    /// # Panics
    /// If an operand is too short for the shapes.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn matmul_sum(m: usize, n: usize, terms: &[Term], c: &mut [f32], accumulate: bool) {
        // SAFETY: MaybeUninit<f32> has f32's layout, and only initialised values are written.
        let c = unsafe { &mut *(c as *mut [f32] as *mut [MaybeUninit<f32>]) };
        unsafe { matmul_sum_into(m, n, terms, c, accumulate) }
    }

    /// A new `[m, n]` vector C = Σ_t A_t·B_t (see [`matmul_sum`]), written without being
    /// zeroed first.
    ///
    /// # Safety
    /// The CPU must have AVX-512F and FMA.
    ///
    /// # Panics
    /// If an operand is too short for the shapes.
    #[target_feature(enable = "avx512f,fma")]
    pub unsafe fn matmul_new(m: usize, n: usize, terms: &[Term]) -> Vec<f32> {
        let mut c = Vec::with_capacity(m * n);
        unsafe { matmul_sum_into(m, n, terms, &mut c.spare_capacity_mut()[..m * n], false) };
        // SAFETY: without accumulation, every element of C is written (by the first inner
        // block of its column panel, or by the fill when no term has an inner dimension).
        unsafe { c.set_len(m * n) };
        c
    }

    /// [`matmul_sum`] into C that may be uninitialised when `accumulate` is false.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn matmul_sum_into(
        m: usize,
        n: usize,
        terms: &[Term],
        c: &mut [MaybeUninit<f32>],
        accumulate: bool,
    ) {
        assert_eq!(n % 16, 0, "the result's width must be a multiple of 16");
        assert!(c.len() >= m * n);
        for t in terms.iter().filter(|t| t.k > 0 && m > 0 && n > 0) {
            assert!(t.b_stride >= n);
            let last_a = (m - 1) * t.a.row_stride + (t.k - 1) * t.a.k_stride;
            assert!(last_a < t.a.data.len(), "left factor too short");
            assert!(
                (t.k - 1) * t.b_stride + n <= t.b.len(),
                "right factor too short"
            );
        }
        // Panels of B, (term, first inner index, first column), ordered by inner block, then
        // column, then term: a block of A stays in the L1 cache across the column panels, and
        // a panel of C across the terms.
        let blocks = terms.iter().map(|t| t.k.div_ceil(KC)).max().unwrap_or(0);
        let mut panels = Vec::new();
        for block in 0..blocks {
            for col0 in (0..n).step_by(16 * Z_MAX) {
                for (ti, t) in terms.iter().enumerate() {
                    let nb = t.k.div_ceil(KC);
                    if block < nb {
                        let (k0, k1) = (block * t.k / nb, (block + 1) * t.k / nb);
                        panels.push((ti, k0, col0, k1 - k0));
                    }
                }
            }
        }
        if m == 0 || n == 0 || panels.is_empty() {
            if !accumulate {
                c[..m * n].fill(MaybeUninit::new(0.0));
            }
            return;
        }
        // One block of rows of C per thread.
        crate::team::for_each_rows(&mut c[..m * n], n, R_MAX, |rows, chunk| {
            // SAFETY: the chunk's rows lie in C, bounded by the asserts above; the features
            // are this function's.
            unsafe { product_rows(terms, &panels, chunk, n, accumulate, rows.start) }
        });
    }

    /// The rows `row0..` of C that `c` holds (row stride n): each panel over tiles of R_MAX
    /// rows.
    ///
    /// # Safety
    /// As for [`matmul_sum_into`], whose asserts bound the rows.
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn product_rows(
        terms: &[Term],
        panels: &[(usize, usize, usize, usize)],
        c: &mut [MaybeUninit<f32>],
        n: usize,
        accumulate: bool,
        row0: usize,
    ) {
        let rows = c.len() / n;
        let tiles = rows.div_ceil(R_MAX);
        let mut panels = panels.iter().peekable();
        while let Some(&(ti, k0, col0, kc)) = panels.next() {
            let t = &terms[ti];
            let z = ((n - col0) / 16).min(Z_MAX);
            // A column panel's first contribution overwrites C unless accumulating.
            let add = accumulate || k0 > 0 || ti > 0;
            // The next panel of B, fetched into the cache a slice of rows per tile while
            // this panel is used: its first tile would otherwise wait on every line.
            let (next, next_kc, next_stride) = match panels.peek() {
                Some(&&(nt, nk0, ncol0, nkc)) => {
                    let u = &terms[nt];
                    (
                        u.b.as_ptr().wrapping_add(nk0 * u.b_stride + ncol0),
                        nkc,
                        u.b_stride,
                    )
                }
                None => (std::ptr::null(), 0, 0),
            };
            let mut i = 0;
            let mut tile_index = 0;
            while i < rows {
                let r = (rows - i).min(R_MAX);
                let (pf0, pf1) = (
                    tile_index * next_kc / tiles,
                    (tile_index + 1) * next_kc / tiles,
                );
                // SAFETY: the caller's asserts bound every index the tile touches: rows
                // row0+i..row0+i+r ≤ m, columns col0..col0+16z ≤ n, inner indices
                // k0..k0+kc ≤ k of the term. Prefetches do not access memory.
                unsafe {
                    tile_dyn(
                        r,
                        z,
                        kc,
                        t.a.data
                            .as_ptr()
                            .add((row0 + i) * t.a.row_stride + k0 * t.a.k_stride),
                        t.a.row_stride,
                        t.a.k_stride,
                        t.b.as_ptr().add(k0 * t.b_stride + col0),
                        t.b_stride,
                        c.as_mut_ptr().add(i * n + col0).cast::<f32>(),
                        n,
                        add,
                        Prefetch {
                            at: next.wrapping_add(pf0 * next_stride),
                            rows: pf1 - pf0,
                            stride: next_stride,
                        },
                    )
                };
                i += r;
                tile_index += 1;
            }
        }
    }

    /// Rows of a B panel to bring into the L1 cache: `rows` rows of 16·Z_MAX floats from `at`
    /// (row stride `stride`).
    #[derive(Clone, Copy)]
    struct Prefetch {
        at: *const f32,
        rows: usize,
        stride: usize,
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn tile_dyn(
        r: usize,
        z: usize,
        k: usize,
        a: *const f32,
        a_rs: usize,
        a_ks: usize,
        b: *const f32,
        b_ks: usize,
        c: *mut f32,
        c_rs: usize,
        acc: bool,
        pf: Prefetch,
    ) {
        macro_rules! by_z {
            ($r:literal) => {
                match z {
                    1 => unsafe { tile::<$r, 1>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                    2 => unsafe { tile::<$r, 2>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                    3 => unsafe { tile::<$r, 3>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                    4 => unsafe { tile::<$r, 4>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                    _ => unsafe { tile::<$r, 5>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                }
            };
        }
        match r {
            1 => by_z!(1),
            2 => by_z!(2),
            3 => by_z!(3),
            4 => by_z!(4),
            _ => by_z!(5),
        }
    }

    /// One R × 16Z tile of C over the whole inner dimension, the accumulators in registers.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn tile<const R: usize, const Z: usize>(
        k: usize,
        a: *const f32,
        a_rs: usize,
        a_ks: usize,
        b: *const f32,
        b_ks: usize,
        c: *mut f32,
        c_rs: usize,
        accumulate: bool,
        pf: Prefetch,
    ) {
        let mut acc = [[_mm512_setzero_ps(); Z]; R];
        let mut bv = [_mm512_setzero_ps(); Z];
        for p in 0..k {
            if p < pf.rows {
                let at = pf.at.wrapping_add(p * pf.stride);
                for z in 0..Z_MAX {
                    _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(16 * z) as *const i8);
                }
            }
            unsafe {
                let bp = b.add(p * b_ks);
                for z in 0..Z {
                    bv[z] = _mm512_loadu_ps(bp.add(16 * z));
                }
                let ap = a.add(p * a_ks);
                for r in 0..R {
                    let av = _mm512_set1_ps(*ap.add(r * a_rs));
                    for z in 0..Z {
                        acc[r][z] = _mm512_fmadd_ps(av, bv[z], acc[r][z]);
                    }
                }
            }
        }
        for r in 0..R {
            for z in 0..Z {
                unsafe {
                    let cp = c.add(r * c_rs + 16 * z);
                    let v = if accumulate {
                        _mm512_add_ps(_mm512_loadu_ps(cp), acc[r][z])
                    } else {
                        acc[r][z]
                    };
                    _mm512_storeu_ps(cp, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_softplus_match_the_standard_library() {
        // Relative error of exp below 3e-7 over the range the kernel uses, and absolute
        // error of softplus and sigmoid below 1e-6.
        for i in -4000..=4000 {
            let x = i as f32 * 0.02;
            let e = exp(x) as f64;
            let r = (x as f64).exp();
            assert!(((e - r) / r).abs() < 3e-7, "exp({x}) = {e}, want {r}");
            let sp = (x as f64).max(0.0) + (-(x as f64).abs()).exp().ln_1p();
            assert!(
                (softplus(x) as f64 - sp).abs() < 1e-6 * sp.max(1.0),
                "softplus({x})"
            );
            let sg = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - sg).abs() < 1e-6, "sigmoid({x})");
        }
        // Saturation without NaN or overflow at the clamp.
        assert!((0.0..1e-38).contains(&sigmoid(-1e4)), "{}", sigmoid(-1e4));
        assert_eq!(sigmoid(1e4), 1.0);
        assert!(softplus(1e4) == 1e4 && (0.0..1e-37).contains(&softplus(-1e4)));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn matmul_matches_a_direct_sum_for_every_tile_shape() {
        if !available() {
            eprintln!("skipped: no AVX-512 on this CPU");
            return;
        }
        let mut noise = Noise::new(11);
        // m, n, k chosen to exercise row remainders 1..4 and panel widths 16..80.
        for &(m, n, k) in &[
            (1, 16, 1),
            (7, 48, 3),
            (13, 112, 17),
            (23, 400, 31),
            (100, 96, 5),
            // several inner blocks of KC
            (11, 176, 300),
        ] {
            let a = noise.uniforms(m * k);
            let b = noise.uniforms(k * n);
            for transposed in [false, true] {
                let op = if transposed {
                    // A(i, p) = at[p, i]
                    let mut at = vec![0.0; k * m];
                    for i in 0..m {
                        for p in 0..k {
                            at[p * m + i] = a[i * k + p];
                        }
                    }
                    (at, 1, m)
                } else {
                    (a.clone(), k, 1)
                };
                let mut c = vec![1.0f32; m * n];
                // SAFETY: `available()` checked the features.
                unsafe {
                    avx512::matmul(
                        m,
                        n,
                        k,
                        avx512::Operand::new(&op.0, op.1, op.2),
                        &b,
                        n,
                        &mut c,
                        transposed,
                    )
                };
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                            + if transposed { 1.0 } else { 0.0 };
                        let got = c[i * n + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-5 * (k as f64),
                            "({m},{n},{k}) C[{i},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_sum_of_products_matches_a_direct_sum() {
        if !available() {
            eprintln!("skipped: no AVX-512 on this CPU");
            return;
        }
        let mut noise = Noise::new(12);
        let (m, n) = (37, 208);
        // Inner dimensions across block boundaries, and an empty term.
        let ks = [200usize, 0, 45];
        let a: Vec<Vec<f32>> = ks.iter().map(|&k| noise.uniforms(m * k)).collect();
        let b: Vec<Vec<f32>> = ks.iter().map(|&k| noise.uniforms(k * n)).collect();
        let terms: Vec<avx512::Term> = (0..ks.len())
            .map(|t| avx512::Term {
                k: ks[t],
                a: avx512::Operand::new(&a[t], ks[t], 1),
                b: &b[t],
                b_stride: n,
            })
            .collect();
        // SAFETY: `available()` checked the features.
        let c = unsafe { avx512::matmul_new(m, n, &terms) };
        let mut separate = vec![0.0f32; m * n];
        for (t, term) in terms.iter().enumerate() {
            // SAFETY: as above.
            unsafe {
                avx512::matmul(m, n, ks[t], term.a, &b[t], n, &mut separate, t > 0);
            }
        }
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..ks.len())
                    .flat_map(|t| (0..ks[t]).map(move |p| (t, p)))
                    .map(|(t, p)| a[t][i * ks[t] + p] as f64 * b[t][p * n + j] as f64)
                    .sum();
                let got = c[i * n + j];
                assert!(
                    (got as f64 - want).abs() < 1e-5 * 245.0,
                    "C[{i},{j}] = {got}, want {want}"
                );
                let apart = separate[i * n + j] as f64;
                assert!((got as f64 - apart).abs() < 1e-6 * want.abs().max(1.0));
            }
        }
        // No term with an inner dimension: C = 0.
        let empty = [avx512::Term {
            k: 0,
            a: avx512::Operand::new(&[], 1, 1),
            b: &[],
            b_stride: n,
        }];
        // SAFETY: as above.
        let zero = unsafe { avx512::matmul_new(m, n, &empty) };
        assert!(zero.len() == m * n && zero.iter().all(|&x| x == 0.0));
    }
}
