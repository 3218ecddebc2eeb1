//! One block-Gibbs sweep of parallel tempering's replicas, each row at its own inverse
//! temperature, on the kernel's products and vectorised passes: the sweep of
//! [`crate::eval::tempering`] for a Bernoulli–Bernoulli RBM, drawing from the same random
//! numbers in the same order, so that the two agree up to f32 rounding.

use macerator::{Simd, WithSimd};

use super::isa::within_once;
use super::math::{sigmoid_in_place, sum_lanes};
use super::params::KernelParams;
use super::step::{Temper, hidden_input, sample_hidden_t, visible_step};
use super::team;

/// The replicas between sweeps: their visible states and hidden inputs.
pub(crate) struct Replicas {
    /// v, `[rows, nv]` (0 or 1).
    pub v: Vec<f32>,
    /// x = vW + b, `[rows, nhp]`.
    pub(super) x: Vec<f32>,
}

impl Replicas {
    /// Row i takes the state of row `order[i]`.
    pub(crate) fn permute(&mut self, order: &[i64], rbm: &KernelParams) {
        let pick = |m: &[f32], w: usize| -> Vec<f32> {
            order
                .iter()
                .flat_map(|&r| &m[r as usize * w..(r as usize + 1) * w])
                .copied()
                .collect()
        };
        self.v = pick(&self.v, rbm.nv);
        self.x = pick(&self.x, rbm.nhp);
    }
}

/// The replicas at the visible states `v` (`[rows, nv]`), as an operation for
/// [`super::Level::run`].
pub(super) struct Start<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v: Vec<f32>,
}

impl WithSimd for Start<'_, '_> {
    type Output = Replicas;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> Replicas {
        let rows = self.v.len() / self.rbm.nv;
        let x = hidden_input::<S>(self.rbm, &self.v, rows);
        Replicas { v: self.v, x }
    }
}

/// σ(vW + b) of the rows of `v` (`[rows, nv]`), `[rows, nh]`, as an operation for
/// [`super::Level::run`].
pub(super) struct Means<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v: &'a [f32],
}

impl WithSimd for Means<'_, '_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> Vec<f32> {
        let (nh, nhp) = (self.rbm.nh, self.rbm.nhp);
        let rows = self.v.len() / self.rbm.nv;
        let x = hidden_input::<S>(self.rbm, self.v, rows);
        let means = tempered_means::<S>(self.rbm, &x, &vec![1.0; rows]);
        means
            .chunks_exact(nhp)
            .flat_map(|row| &row[..nh])
            .copied()
            .collect()
    }
}

/// One sweep, as an operation for [`super::Level::run`]: h at each row's β from the
/// uniforms `hidden_u` (`[rows, nh]`), then v from `visible_u` (`[rows, nv]`); returns the
/// new replicas and, when `energy` asks for it (the swaps need it, AIS does not), the energy
/// that β multiplies per row, E(v, h) = −v·a − h·(vW + b), plus a₀·v on the base-rate path.
pub(super) struct Sweep<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub replicas: Replicas,
    pub beta: &'a [f32],
    pub base: Option<&'a [f32]>,
    pub hidden_u: &'a [f32],
    pub visible_u: &'a [f32],
    pub energy: bool,
}

impl WithSimd for Sweep<'_, '_> {
    type Output = (Replicas, Option<Vec<f64>>);

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> (Replicas, Option<Vec<f64>>) {
        let rbm = self.rbm;
        let rows = self.beta.len();
        assert_eq!(self.replicas.v.len(), rows * rbm.nv, "one β per row");
        assert_eq!(self.hidden_u.len(), rows * rbm.nh);
        assert_eq!(self.visible_u.len(), rows * rbm.nv);
        let means = tempered_means::<S>(rbm, &self.replicas.x, self.beta);
        let (ht, rows_p) = sample_hidden_t::<S>(rbm, &means, rows, self.hidden_u);
        let temper = Temper {
            beta: self.beta,
            base: self.base,
        };
        let v = visible_step::<S>(
            rbm,
            &ht,
            rows,
            rows_p,
            None,
            Some(self.visible_u),
            Some(temper),
        )
        .1
        .expect("sampled");
        let x = hidden_input::<S>(rbm, &v, rows);
        let energy = self
            .energy
            .then(|| energies::<S>(rbm, &v, &x, (&ht, rows_p), self.base));
        (Replicas { v, x }, energy)
    }
}

/// σ(β x) per row, `[rows, nhp]` (padding 0): rows in parallel.
#[inline(always)]
pub(super) fn tempered_means<S: Simd>(rbm: &KernelParams, x: &[f32], beta: &[f32]) -> Vec<f32> {
    let (nh, nhp) = (rbm.nh, rbm.nhp);
    let mut means = vec![0.0f32; beta.len() * nhp];
    team::for_each_rows(&mut means, nhp, 1, |range, m| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                for (r, mr) in range.zip(m.chunks_exact_mut(nhp)) {
                    let b = beta[r];
                    for (o, &xi) in mr[..nh].iter_mut().zip(&x[r * nhp..r * nhp + nh]) {
                        *o = xi * b;
                    }
                    sigmoid_in_place(&mut mr[..nh]);
                }
            })
        }
    });
    means
}

/// The energy that β multiplies, per row: −v·a − h·x, with h read from Hᵀ
/// (`[nh, rows_p]`), plus a₀·v on the base-rate path; rows in parallel.
#[inline(always)]
pub(super) fn energies<S: Simd>(
    rbm: &KernelParams,
    v: &[f32],
    x: &[f32],
    (ht, rows_p): (&[f32], usize),
    base: Option<&[f32]>,
) -> Vec<f64> {
    let (nv, nh, nhp) = (rbm.nv, rbm.nh, rbm.nhp);
    let rows = v.len() / nv;
    let mut energy = vec![0.0f64; rows];
    team::for_each_rows(&mut energy, 1, 1, |range, e| {
        // SAFETY: the task runs within this function's level `S`, whose instruction sets
        // are therefore present.
        unsafe {
            within_once!(S, {
                let (mut hx, mut va) = (vec![0.0f32; nh], vec![0.0f32; nv]);
                for (r, er) in range.zip(e.iter_mut()) {
                    for (j, o) in hx.iter_mut().enumerate() {
                        *o = ht[j * rows_p + r] * x[r * nhp + j];
                    }
                    let vr = &v[r * nv..(r + 1) * nv];
                    match base {
                        None => {
                            for ((o, vi), ai) in va.iter_mut().zip(vr).zip(&rbm.a) {
                                *o = vi * ai;
                            }
                        }
                        Some(a0) => {
                            for (((o, vi), ai), bi) in va.iter_mut().zip(vr).zip(&rbm.a).zip(a0) {
                                *o = vi * (ai - bi);
                            }
                        }
                    }
                    *er = -(sum_lanes(&va) + sum_lanes(&hx));
                }
            })
        }
    });
    energy
}
