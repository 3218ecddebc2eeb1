use rayon::prelude::*;

use std::sync::Mutex;

use macerator::{Simd, WithSimd};

use super::isa::within_once;
use super::math::{sigmoid_in_place, sigmoid_into, softplus_in_place, softplus_into, sum_lanes};
use super::matmul::{Operand, Term, WIDTH_MULTIPLE, matmul_new, panel_width};
use super::params::{GradientForm, HostStep, KernelParams, StepRequest, pad16};
use super::team;
use crate::math::softplus as softplus64;
use crate::noise::StepNoise;

/// The parts of the inner dimension of the products vW (see [`hidden_input`]).
const INNER_PARTS: usize = 2;

/// The hidden inputs x = vW + b of `rows` visible rows, `[rows, nhp]` (padding columns 0).
///
/// The product is split over the inner dimension into [`INNER_PARTS`] halves of the
/// visible units, x = v₁W₁ + v₂W₂, and each half over blocks of whole column panels of W
/// (about [`team::TASKS_PER_THREAD`] tasks per thread in all). The tasks of one half come
/// one after another, so on two threads each thread's own tasks read only its half of W (the
/// half of the rows that its task of W Hᵀ and of the gradient also touches, so it stays in
/// that core's cache), and the batch's rows are not divided (the README's speed section
/// compares this with one block of batch rows per thread). Each element is summed in the
/// same order whatever the split, and the number of parts is fixed, so the results do not
/// depend on the number of threads.
#[inline(always)]
pub(super) fn hidden_input<S: Simd>(rbm: &KernelParams, v: &[f32], rows: usize) -> Vec<f32> {
    let (nv, nhp) = (rbm.nv, rbm.nhp);
    let blocks = column_blocks(nhp, panel_width::<S>(), INNER_PARTS);
    // Task part·blocks.len() + c: columns blocks[c] of part `part`'s partial product.
    let slots: Vec<Mutex<Vec<f32>>> = (0..INNER_PARTS * blocks.len())
        .map(|_| Mutex::new(Vec::new()))
        .collect();
    let (slots_ref, blocks_ref) = (&slots, &blocks);
    team::run(slots.len(), &|task| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                let (part, cols) = (
                    task / blocks_ref.len(),
                    &blocks_ref[task % blocks_ref.len()],
                );
                let (k0, k1) = (part * nv / INNER_PARTS, (part + 1) * nv / INNER_PARTS);
                let term = Term {
                    k: k1 - k0,
                    a: Operand::new(&v[k0..], nv, 1),
                    b: &rbm.w[k0 * nhp + cols.start..],
                    b_stride: nhp,
                };
                let out = matmul_new::<S>(rows, cols.len(), &[term]);
                *slots_ref[task].lock().unwrap_or_else(|e| e.into_inner()) = out;
            })
        }
    });
    let slots: Vec<Vec<f32>> = slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    sum_parts::<S>(rbm, &slots, &blocks, rows)
}

/// `width` columns (a multiple of [`WIDTH_MULTIPLE`]) split into blocks of whole panels of
/// `panel` columns, each a multiple of [`WIDTH_MULTIPLE`] wide (the last may be narrower),
/// about [`team::TASKS_PER_THREAD`] blocks per thread over `parts` parts.
fn column_blocks(width: usize, panel: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let wanted = (team::threads() * team::TASKS_PER_THREAD)
        .div_ceil(parts)
        .max(1);
    let unit = lcm(panel, WIDTH_MULTIPLE);
    let per = width.div_ceil(unit).div_ceil(wanted).max(1) * unit;
    (0..width)
        .step_by(per)
        .map(|c0| c0..(c0 + per).min(width))
        .collect()
}

fn lcm(a: usize, b: usize) -> usize {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

/// x = (Σ_parts in part order) + b from the parts' column blocks (see [`hidden_input`]),
/// rows in parallel.
#[inline(always)]
fn sum_parts<S: Simd>(
    rbm: &KernelParams,
    slots: &[Vec<f32>],
    blocks: &[std::ops::Range<usize>],
    rows: usize,
) -> Vec<f32> {
    let (nh, nhp) = (rbm.nh, rbm.nhp);
    let mut x = vec![0.0f32; rows * nhp];
    team::for_each_rows(&mut x, nhp, 1, |range, xs| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                for (r, xr) in range.zip(xs.chunks_exact_mut(nhp)) {
                    for (c, cols) in blocks.iter().enumerate() {
                        let w = cols.len();
                        let xc = &mut xr[cols.clone()];
                        xc.copy_from_slice(&slots[c][r * w..(r + 1) * w]);
                        for part in 1..INNER_PARTS {
                            let p = &slots[part * blocks.len() + c][r * w..(r + 1) * w];
                            for (a, b) in xc.iter_mut().zip(p) {
                                *a += b;
                            }
                        }
                    }
                    for (xi, bi) in xr[..nh].iter_mut().zip(&rbm.b) {
                        *xi += bi;
                    }
                }
            })
        }
    });
    x
}

/// Samples Bernoulli hidden units with means `p` (`[rows, nhp]`) from the uniforms `u`
/// (`[rows, nh]`), into Hᵀ `[nh, rows_p]` (the layout of the next product's right factor;
/// padding rows and columns 0): hidden units in parallel.
#[inline(always)]
pub(super) fn sample_hidden_t<S: Simd>(
    rbm: &KernelParams,
    p: &[f32],
    rows: usize,
    u: &[f32],
) -> (Vec<f32>, usize) {
    let (nh, nhp) = (rbm.nh, rbm.nhp);
    assert_eq!(u.len(), rows * nh);
    let rows_p = pad16(rows);
    let mut ht = vec![0.0f32; nh * rows_p];
    team::for_each_rows(&mut ht, rows_p, 1, |units, block| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                for (j, row) in units.zip(block.chunks_exact_mut(rows_p)) {
                    for (r, h) in row[..rows].iter_mut().enumerate() {
                        *h = if u[r * nh + j] < p[r * nhp + j] {
                            1.0
                        } else {
                            0.0
                        };
                    }
                }
            })
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
#[inline(always)]
fn hidden_stats<S: Simd>(
    rbm: &KernelParams,
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
    let ranges = team::row_ranges(rows, 1);
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
    team::for_each(parts, |_, (r0, m, mut sc, e)| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                for (j, e) in e.iter_mut().enumerate() {
                    let r = r0 + j;
                    let vr = v.map(|v| &v[r * nv..(r + 1) * nv]);
                    let xr = &x[r * nhp..r * nhp + nh];
                    let mr = &mut m[j * nhp..j * nhp + nh];
                    let sr = sc.as_deref_mut().map(|sc| &mut sc[j * nhp..(j + 1) * nhp]);
                    *e = hidden_row(rbm, vr, xr, mr, sr, scale.unwrap_or(1.0));
                }
            })
        }
    });
    HiddenStats {
        means,
        scaled,
        free_energy: v.map(|_| energies.iter().sum::<f64>() / rows as f64),
    }
}

/// s·p, or 0 where that is subnormal. A mean near σ's floor (e^−87) times s = ±1/B is
/// subnormal, and on x86 every product with a subnormal operand takes a microcode assist;
/// wide layers, whose hidden inputs reach −87, would spend most of the gradient's products in
/// them. Such a term lies below f32's smallest normal number and is dropped.
#[inline(always)]
fn scaled_mean(p: f32, s: f32) -> f32 {
    let y = p * s;
    if y.abs() < f32::MIN_POSITIVE { 0.0 } else { y }
}

/// One row of [`hidden_stats`]: writes σ(x) into `m` and s·σ(x) into `scaled`, and
/// returns F(v) (0 without `v`).
#[inline(always)]
fn hidden_row(
    rbm: &KernelParams,
    v: Option<&[f32]>,
    x: &[f32],
    m: &mut [f32],
    scaled: Option<&mut [f32]>,
    s: f32,
) -> f64 {
    sigmoid_into(x, m);
    if let Some(out) = scaled {
        for (o, p) in out.iter_mut().zip(m.iter()) {
            *o = scaled_mean(*p, s);
        }
    }
    v.map_or(0.0, |v| row_free_energy(rbm, v, x))
}

/// The visible half of a Gibbs step from Hᵀ `[nh, rows_p]`: the means p = σ(hWᵀ + a) of
/// `rows` rows (never stored whole) give the summed squared difference Σ (p − v)² from the
/// rows `v` when given (summed per row, then over rows in order), and Bernoulli samples
/// from the uniforms `u` (`[rows, nv]`) when given. With `temper`, each row's means are
/// those at its inverse temperature ([`Temper`]).
///
/// Yᵀ = W Hᵀ comes out of the product as `[nv, rows_p]`. Each thread transposes its rows
/// of Y into its own buffer, reading Yᵀ in blocks of 16 rows of Y (one cache line of each
/// row of Yᵀ), and finishes them row by row while they are in its cache.
#[inline(always)]
pub(super) fn visible_step<S: Simd>(
    rbm: &KernelParams,
    ht: &[f32],
    rows: usize,
    rows_p: usize,
    v: Option<&[f32]>,
    u: Option<&[f32]>,
    temper: Option<Temper>,
) -> (f64, Option<Vec<f32>>) {
    let nv = rbm.nv;
    let term = Term {
        k: rbm.nh,
        a: Operand::new(&rbm.w, rbm.nhp, 1),
        b: ht,
        b_stride: rows_p,
    };
    let yt = matmul_new::<S>(nv, rows_p, &[term]);
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
    let ranges = &ranges;
    team::for_each(parts, |t, (errors, mut out)| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                let (r00, n) = (ranges[t].start, errors.len());
                // One block of 16 rows at a time, transposed into `y` and finished there.
                let mut y = vec![0.0f32; n.min(16) * nv];
                let mut diff = vec![0.0f32; nv];
                for b0 in (0..n).step_by(16) {
                    let nb = (n - b0).min(16);
                    for i in 0..nv {
                        let src = &yt[i * rows_p + r00 + b0..][..nb];
                        for (rr, &x) in src.iter().enumerate() {
                            y[rr * nv + i] = x;
                        }
                    }
                    for (jj, p) in y.chunks_exact_mut(nv).take(nb).enumerate() {
                        let j = b0 + jj;
                        let span = (r00 + j) * nv..(r00 + j + 1) * nv;
                        let t = temper.map(|t| (t.beta[r00 + j], t.base));
                        visible_means_row(p, &rbm.a, t);
                        errors[j] = visible_row(
                            p,
                            v.map(|v| &v[span.clone()]),
                            u.map(|u| &u[span.clone()]),
                            out.as_deref_mut().map(|o| &mut o[j * nv..(j + 1) * nv]),
                            &mut diff,
                        );
                    }
                }
            })
        }
    });
    (errors.iter().sum(), samples)
}

/// The inverse temperature of each row of a visible pass, and the base-rate path's a₀ if
/// any (see [`crate::eval::tempering`]).
#[derive(Clone, Copy)]
pub(super) struct Temper<'a> {
    pub beta: &'a [f32],
    pub base: Option<&'a [f32]>,
}

/// row ← σ(row + a), or at inverse temperature β, σ(β(row + a)) and on the base-rate path
/// σ(β(row + a) + (1 − β)a₀).
#[inline(always)]
fn visible_means_row(row: &mut [f32], a: &[f32], temper: Option<(f32, Option<&[f32]>)>) {
    match temper {
        None => {
            for (y, ai) in row.iter_mut().zip(a) {
                *y += ai;
            }
        }
        Some((beta, None)) => {
            for (y, ai) in row.iter_mut().zip(a) {
                *y = (*y + ai) * beta;
            }
        }
        Some((beta, Some(a0))) => {
            for ((y, ai), bi) in row.iter_mut().zip(a).zip(a0) {
                *y = (*y + ai) * beta + (1.0 - beta) * bi;
            }
        }
    }
    sigmoid_in_place(row);
}

/// One row of [`visible_step`]: writes the samples into `out` when uniforms are given,
/// and returns the summed squared difference from `v` (0 without `v`).
#[inline(always)]
fn visible_row(
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
#[inline(always)]
fn row_free_energy(rbm: &KernelParams, v: &[f32], x: &[f32]) -> f64 {
    let mut sp = vec![0.0f32; rbm.nh];
    softplus_into(x, &mut sp);
    let prod: Vec<f32> = v.iter().zip(&rbm.a).map(|(vi, ai)| vi * ai).collect();
    -(sum_lanes(&prod) + sum_lanes(&sp))
}

/// [`cd_step`] as an operation for [`super::Level::run`].
pub(super) struct CdStep<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v0: &'a [f32],
    pub req: &'a StepRequest<'a>,
    pub noise: StepNoise,
}

impl WithSimd for CdStep<'_, '_> {
    type Output = HostStep;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> HostStep {
        cd_step::<S>(self.rbm, self.v0, self.req, self.noise)
    }
}

/// [`exact_pll`] as an operation for [`super::Level::run`].
pub(super) struct ExactPll<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v: &'a [f32],
}

impl WithSimd for ExactPll<'_, '_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> f64 {
        exact_pll::<S>(self.rbm, self.v)
    }
}

/// [`super::mean_free_energy`] as an operation for [`super::Level::run`].
pub(super) struct MeanFreeEnergy<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v: &'a [f32],
}

impl WithSimd for MeanFreeEnergy<'_, '_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> f64 {
        let rows = self.v.len() / self.rbm.nv;
        let x = hidden_input::<S>(self.rbm, self.v, rows);
        hidden_stats::<S>(self.rbm, Some(self.v), &x, rows, None)
            .free_energy
            .expect("the rows were given")
    }
}

#[inline(always)]
fn cd_step<S: Simd>(
    rbm: &KernelParams,
    v0: &[f32],
    req: &StepRequest,
    noise: StepNoise,
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
    let StepNoise {
        hidden: hidden_u,
        visible: visible_u,
        sites,
    } = noise;
    let x0 = hidden_input::<S>(rbm, v0, batch);
    let (mut hidden_u, mut visible_u) = (hidden_u.into_iter(), visible_u.into_iter());
    let data = hidden_stats::<S>(rbm, Some(v0), &x0, batch, wants.then_some(s0));
    let u = hidden_u.next().expect("drawn");
    let (h0t, bp) = sample_hidden_t::<S>(rbm, &data.means, batch, &u);
    let (mut v, first, squared_error) = match req.chains {
        Some((chains, _)) => {
            let (squared_error, _) = visible_step::<S>(rbm, &h0t, batch, bp, Some(v0), None, None);
            (chains.to_vec(), 0, squared_error)
        }
        None => {
            let u = visible_u.next().expect("drawn");
            let (squared_error, v) =
                visible_step::<S>(rbm, &h0t, batch, bp, Some(v0), Some(&u), None);
            (v.expect("sampled"), 1, squared_error)
        }
    };
    let reconstruction_error = squared_error / (batch * nv) as f64;
    let mut x = hidden_input::<S>(rbm, &v, rows);
    for _ in first..req.k {
        let means = hidden_stats::<S>(rbm, None, &x, rows, None).means;
        let u = hidden_u.next().expect("drawn");
        let (ht, rows_p) = sample_hidden_t::<S>(rbm, &means, rows, &u);
        let u = visible_u.next().expect("drawn");
        v = visible_step::<S>(rbm, &ht, rows, rows_p, None, Some(&u), None)
            .1
            .expect("sampled");
        x = hidden_input::<S>(rbm, &v, rows);
    }
    let negative = hidden_stats::<S>(rbm, Some(&v), &x, rows, wants.then_some(sk));
    let (ph0, phk) = (&data.means, &negative.means);

    let weights = req.gradient.map(|form| {
        let p0 = data.scaled.as_deref().expect("requested with the gradient");
        let pk = negative
            .scaled
            .as_deref()
            .expect("requested with the gradient");
        weight_gradient::<S>(rbm, form, (v0, p0, batch), (&v, pk, rows))
    });
    let (visible_bias, _) = bias_gradient::<S>(v0, &v, nv, nv, s0, sk);
    let (hidden_bias, hidden_sums) = bias_gradient::<S>(ph0, phk, nhp, nh, s0, sk);
    let hidden_mean = hidden_sums.iter().map(|s| s / batch as f32).collect();
    let free_energy_data = data.free_energy.expect("the rows were given");
    let free_energy_negative = negative.free_energy.expect("the rows were given");
    let pseudo_log_likelihood = stochastic_pll::<S>(rbm, v0, &x0, &sites);
    HostStep {
        weights,
        visible_bias,
        hidden_bias,
        negative: (v, rows),
        batch,
        hidden_mean,
        reconstruction_error,
        free_energy_data,
        free_energy_negative,
        pseudo_log_likelihood,
    }
}

/// The weights' gradient Gᵢⱼ = Σ_b v⁰_bi p⁰_bj + Σ_c v^k_ci p^k_cj of the data's rows
/// `positive` and the negative rows `negative` (each: rows `[n, nv]`, their scaled hidden
/// means `[n, nhp]`, n), with the penalties of `form` added when it descends, `[nv, nh]`.
#[inline(always)]
fn weight_gradient<S: Simd>(
    rbm: &KernelParams,
    form: GradientForm,
    positive: (&[f32], &[f32], usize),
    negative: (&[f32], &[f32], usize),
) -> Vec<f32> {
    let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
    // A(i, b) = v[b, i].
    let terms = [positive, negative].map(|(v, p, k)| Term {
        k,
        a: Operand::new(v, 1, nv),
        b: p,
        b_stride: nhp,
    });
    let mut g = matmul_new::<S>(nv, nhp, &terms);
    let (l1, l2) = if form.descent {
        (form.l1, form.l2)
    } else {
        (0.0, 0.0)
    };
    if l1 != 0.0 || l2 != 0.0 {
        team::for_each_rows(&mut g, nhp, 1, |rows, g| {
            // SAFETY: the task runs within this function's level `S`, whose instruction sets
            // are therefore present.
            unsafe {
                within_once!(S, {
                    let w = &rbm.w[rows.start * nhp..][..g.len()];
                    add_penalties(g, w, l1, l2)
                })
            }
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
}

/// s₀ Σ_rows a + s_k Σ_rows b over the first `n` columns of the row-major matrices `a`
/// and `b` (row stride `width`), each column summed over rows in order, and Σ_rows a:
/// columns in parallel.
#[inline(always)]
fn bias_gradient<S: Simd>(
    a: &[f32],
    b: &[f32],
    width: usize,
    n: usize,
    s0: f32,
    sk: f32,
) -> (Vec<f32>, Vec<f32>) {
    let mut out = vec![0.0f32; 2 * n];
    let (mut gradient, mut sums) = out.split_at_mut(n);
    // One range of columns per thread.
    let mut parts = Vec::new();
    for cols in team::row_ranges(n, 16) {
        let (g, g_rest) = gradient.split_at_mut(cols.len());
        let (s, s_rest) = sums.split_at_mut(cols.len());
        parts.push((cols, g, s));
        (gradient, sums) = (g_rest, s_rest);
    }
    team::for_each(parts, |_, (cols, gradient, sums)| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                let (x, y) = (column_sums(a, width, &cols), column_sums(b, width, &cols));
                for (((g, s), x), y) in gradient.iter_mut().zip(sums.iter_mut()).zip(x).zip(y) {
                    *g = s0 * x + sk * y;
                    *s = x;
                }
            })
        }
    });
    let sums = out.split_off(n);
    (out, sums)
}

/// The sums over rows, in row order, of the columns `cols` of `m` (row stride `width`).
#[inline(always)]
fn column_sums(m: &[f32], width: usize, cols: &std::ops::Range<usize>) -> Vec<f32> {
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
#[inline(always)]
fn stochastic_pll<S: Simd>(rbm: &KernelParams, v: &[f32], x: &[f32], sites: &[usize]) -> f64 {
    let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
    let rows = sites.len();
    let mut terms = vec![0.0f64; rows];
    team::for_each_rows(&mut terms, 1, 1, |range, terms| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
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
            })
        }
    });
    terms.iter().fold(0.0, |total, t| total - t) / rows as f64
}

/// g += λ₁ sign(w) + λ₂ w (sign 0 = 0), elementwise.
#[inline(always)]
fn add_penalties(g: &mut [f32], w: &[f32], l1: f32, l2: f32) {
    if l1 == 0.0 && l2 == 0.0 {
        return;
    }
    for (g, &w) in g.iter_mut().zip(w) {
        let sign = if w == 0.0 { 0.0 } else { 1.0f32.copysign(w) };
        *g += l1 * sign + l2 * w;
    }
}

#[inline(always)]
fn exact_pll<S: Simd>(rbm: &KernelParams, v: &[f32]) -> f64 {
    let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
    assert_eq!(v.len() % nv, 0, "the rows must be [rows, n_v]");
    let rows = v.len() / nv;
    let x = hidden_input::<S>(rbm, v, rows);
    let per_row: Vec<f64> = (0..rows)
        .into_par_iter()
        .map(|r| {
            let (vr, xr) = (&v[r * nv..(r + 1) * nv], &x[r * nhp..r * nhp + nh]);
            // SAFETY: the task runs within this function's level `S`, whose instruction sets
            // are therefore present.
            unsafe { within_once!(S, { row_pll(rbm, vr, xr) }) }
        })
        .collect();
    per_row.iter().sum::<f64>() / (rows * nv) as f64
}

/// Σ_i ln p(v_i | v_{−i}) of one row with hidden input `x` (`[nh]`).
#[inline(always)]
fn row_pll(rbm: &KernelParams, v: &[f32], x: &[f32]) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::scaled_mean;

    #[test]
    fn scaled_means_are_never_subnormal() {
        // σ's floor in the kernel, e^−87 ≈ 1.6e-38, times 1/B for B = 100 is subnormal.
        let floor = (-87.0f32).exp();
        assert!(floor.is_normal() && (floor * 0.01).is_subnormal());
        assert_eq!(scaled_mean(floor, 0.01), 0.0);
        assert_eq!(scaled_mean(floor, -0.01), 0.0);
        // Normal products are kept exactly.
        assert_eq!(scaled_mean(0.5, 0.01), 0.5 * 0.01);
        assert_eq!(scaled_mean(1e-30, -0.01), 1e-30 * -0.01);
        assert!(scaled_mean(1e-30, 0.01).is_normal());
    }
}
