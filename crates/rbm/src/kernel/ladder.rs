//! The ladder update of PT-PCD's negative phase ([`crate::train`]'s `Ladder`) on the kernel's
//! products and vectorised passes, in two halves around the swaps, which the caller decides:
//! [`Hidden`] draws every replica's h at its β and returns the joint energies the swaps
//! need; [`Visible`] gathers the hidden states in the swapped order and draws v for the
//! replicas below β = 1. The same random numbers in the same order as the tensor update, so
//! the two agree up to f32 rounding.

use macerator::{Simd, WithSimd};

use super::params::{KernelParams, pad16};
use super::step::{Temper, hidden_input, sample_hidden_t, visible_step};
use super::team;
use super::tempered::{energies, tempered_means};

/// The replicas' hidden states between the two halves: Hᵀ, `[nh, rows_p]`.
pub(crate) struct LadderHidden {
    ht: Vec<f32>,
    rows_p: usize,
}

/// The first half, as an operation for [`super::Level::run`]: x = vW + b of the rows of
/// `v` (`[rows, nv]`), h ~ σ(β x) from `hidden_u` (`[rows, nh]`), and per row the energy
/// E(v, h) = −v·a − h·x that β multiplies.
pub(super) struct Hidden<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub v: &'a [f32],
    pub beta: &'a [f32],
    pub hidden_u: &'a [f32],
}

impl WithSimd for Hidden<'_, '_> {
    type Output = (LadderHidden, Vec<f64>);

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> (LadderHidden, Vec<f64>) {
        let rbm = self.rbm;
        let rows = self.beta.len();
        assert_eq!(self.v.len(), rows * rbm.nv, "one β per row");
        assert_eq!(self.hidden_u.len(), rows * rbm.nh);
        let x = hidden_input::<S>(rbm, self.v, rows);
        let means = tempered_means::<S>(rbm, &x, self.beta);
        let (ht, rows_p) = sample_hidden_t::<S>(rbm, &means, rows, self.hidden_u);
        let energy = energies::<S>(rbm, self.v, &x, (&ht, rows_p), None);
        (LadderHidden { ht, rows_p }, energy)
    }
}

/// The second half, as an operation for [`super::Level::run`]: row r of the result takes
/// the hidden state of row `order[r]` of `hidden`, for the first `beta.len()` rows (those
/// below β = 1), and draws v ~ σ(β(W h + a)) from `visible_u` (`[rows, nv]`); returns
/// those rows' v, `[rows, nv]`.
pub(super) struct Visible<'a, 'b> {
    pub rbm: &'a KernelParams<'b>,
    pub hidden: &'a LadderHidden,
    pub order: &'a [i64],
    pub beta: &'a [f32],
    pub visible_u: &'a [f32],
}

impl WithSimd for Visible<'_, '_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> Vec<f32> {
        let rbm = self.rbm;
        let rows = self.beta.len();
        assert!(
            self.order.len() >= rows,
            "an order for every row below β = 1"
        );
        assert_eq!(self.visible_u.len(), rows * rbm.nv);
        let rows_p = pad16(rows);
        let (from, from_p) = (&self.hidden.ht, self.hidden.rows_p);
        let mut ht = vec![0.0f32; rbm.nh * rows_p];
        team::for_each_rows(&mut ht, rows_p, 1, |units, block| {
            for (j, row) in units.zip(block.chunks_exact_mut(rows_p)) {
                let source = &from[j * from_p..(j + 1) * from_p];
                for (h, &r) in row[..rows].iter_mut().zip(self.order) {
                    *h = source[r as usize];
                }
            }
        });
        let temper = Temper {
            beta: self.beta,
            base: None,
        };
        visible_step::<S>(
            rbm,
            &ht,
            rows,
            rows_p,
            None,
            Some(self.visible_u),
            Some(temper),
        )
        .1
        .expect("sampled")
    }
}
