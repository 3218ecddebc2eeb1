//! The importance-weight increment of annealed importance sampling ([`crate::eval::ais`])
//! on the kernel's vectorised passes; the chains move between increments by the sweep of
//! [`super::tempered`], every row at the step's inverse temperature.

use macerator::{Simd, WithSimd};

use super::isa::within_once;
use super::math::{softplus_step_into, sum_lanes};
use super::params::KernelParams;
use super::team;
use super::tempered::Replicas;

/// ln p*_to(v) − ln p*_from(v) per row, as an operation for [`super::Level::run`]:
/// (to − from) a_diff·v + Σ_j [softplus(to x_j) − softplus(from x_j)], with x = vW + b the
/// replicas' hidden input and a_diff = a − a₀.
pub(super) struct Increment<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub replicas: &'a Replicas,
    pub a_diff: &'a [f32],
    pub from: f64,
    pub to: f64,
}

impl WithSimd for Increment<'_, '_> {
    type Output = Vec<f64>;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> Vec<f64> {
        let (nv, nh, nhp) = (self.rbm.nv, self.rbm.nh, self.rbm.nhp);
        let (v, x) = (&self.replicas.v, &self.replicas.x);
        assert_eq!(self.a_diff.len(), nv, "a − a₀ of the wrong length");
        let rows = v.len() / nv;
        let (from, to) = (self.from as f32, self.to as f32);
        let linear_step = self.to - self.from;
        let mut increment = vec![0.0f64; rows];
        team::for_each_rows(&mut increment, 1, 1, |range, out| {
            // SAFETY: the task runs within this function's level `S`, whose instruction sets
            // are therefore present.
            unsafe {
                within_once!(S, {
                    let (mut hidden, mut linear) = (vec![0.0f32; nh], vec![0.0f32; nv]);
                    for (r, o) in range.zip(out.iter_mut()) {
                        softplus_step_into(&x[r * nhp..r * nhp + nh], (from, to), &mut hidden);
                        let vr = &v[r * nv..(r + 1) * nv];
                        for ((l, vi), di) in linear.iter_mut().zip(vr).zip(self.a_diff) {
                            *l = vi * di;
                        }
                        *o = linear_step * sum_lanes(&linear) + sum_lanes(&hidden);
                    }
                })
            }
        });
        increment
    }
}
