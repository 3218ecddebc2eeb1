//! Exact computations in double precision on the host: energies, free energies, the
//! partition function by enumerating the smaller discrete layer, exact log-likelihoods.
//!
//! These are the references against which the tensor code, AIS and training are tested; they
//! are practical when the enumerated layer has at most [`MAX_ENUMERATED_UNITS`] units.

use rayon::prelude::*;

use crate::error::{RbmError, Result};
use crate::math::LogSumExp;
use crate::rbm::Rbm;
use crate::tensor::to_vec;
use crate::units::Units;

/// The largest layer [`HostRbm::log_partition_exact`] enumerates (2^24 states).
pub const MAX_ENUMERATED_UNITS: usize = 24;

/// An RBM's parameters copied to the host in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRbm {
    /// n_v.
    pub n_visible: usize,
    /// n_h.
    pub n_hidden: usize,
    /// W, row-major `[n_visible][n_hidden]`.
    pub weights: Vec<f64>,
    /// a.
    pub visible_bias: Vec<f64>,
    /// b.
    pub hidden_bias: Vec<f64>,
    /// Visible unit type.
    pub visible_units: Units,
    /// Hidden unit type.
    pub hidden_units: Units,
}

/// Configuration number `index` of `n` discrete units: bit i of `index` selects the upper
/// value of unit i.
pub fn state(units: Units, n: usize, index: u64) -> Vec<f64> {
    let [lo, hi] = units.values().expect("discrete units");
    (0..n)
        .map(|i| if index >> i & 1 == 1 { hi } else { lo })
        .collect()
}

impl HostRbm {
    /// Copies an RBM's parameters to the host.
    ///
    /// # Errors
    /// If the device cannot hand the parameters back.
    pub fn from_rbm(rbm: &Rbm) -> Result<Self> {
        Ok(Self {
            n_visible: rbm.n_visible(),
            n_hidden: rbm.n_hidden(),
            weights: to_vec(rbm.weights.val())?,
            visible_bias: to_vec(rbm.visible_bias.val())?,
            hidden_bias: to_vec(rbm.hidden_bias.val())?,
            visible_units: rbm.visible_units,
            hidden_units: rbm.hidden_units,
        })
    }

    /// W_ij.
    #[inline]
    pub fn w(&self, i: usize, j: usize) -> f64 {
        self.weights[i * self.n_hidden + j]
    }

    /// The input vW + b to the hidden layer.
    pub fn hidden_input(&self, v: &[f64]) -> Vec<f64> {
        let mut x = self.hidden_bias.clone();
        for (i, &vi) in v.iter().enumerate() {
            if vi != 0.0 {
                for (j, xj) in x.iter_mut().enumerate() {
                    *xj += vi * self.w(i, j);
                }
            }
        }
        x
    }

    /// The input hWᵀ + a to the visible layer.
    pub fn visible_input(&self, h: &[f64]) -> Vec<f64> {
        (0..self.n_visible)
            .map(|i| {
                self.visible_bias[i]
                    + h.iter()
                        .enumerate()
                        .map(|(j, &hj)| hj * self.w(i, j))
                        .sum::<f64>()
            })
            .collect()
    }

    /// E(v, h) (Eq. 10, with ½hᵀh for Gaussian hidden units).
    pub fn energy(&self, v: &[f64], h: &[f64]) -> f64 {
        let x = self.hidden_input(v);
        let mut e = -x.iter().zip(h).map(|(x, h)| x * h).sum::<f64>()
            - v.iter()
                .zip(&self.visible_bias)
                .map(|(v, a)| v * a)
                .sum::<f64>();
        e += h
            .iter()
            .map(|&h| self.hidden_units.base_energy(h))
            .sum::<f64>();
        e
    }

    /// F(v) = −ln Σ_h e^{−E(v,h)}.
    pub fn free_energy(&self, v: &[f64]) -> f64 {
        let a: f64 = v.iter().zip(&self.visible_bias).map(|(v, a)| v * a).sum();
        let hidden: f64 = self
            .hidden_input(v)
            .iter()
            .map(|&x| self.hidden_units.log_partition(x))
            .sum();
        -(a + hidden)
    }

    /// `n` exact samples of the visible marginal p(v), row-major `[n, n_visible]`, drawn with
    /// the generator `rng`: h from p(h) ∝ e^{−F(h)} by enumerating the hidden layer, then each
    /// v_i independently from p(v_i | h).
    ///
    /// # Errors
    /// If the hidden units are not discrete or more than [`MAX_ENUMERATED_UNITS`].
    ///
    /// # Panics
    /// If the visible units are not discrete.
    pub fn sample_visible_exact(
        &self,
        n: usize,
        rng: &mut ising_data::rng::Xoshiro256pp,
    ) -> Result<Vec<f64>> {
        let [lo, hi] = self.visible_units.values().expect("discrete visible units");
        if !self.hidden_units.is_discrete() || self.n_hidden > MAX_ENUMERATED_UNITS {
            return Err(RbmError::Unsupported(format!(
                "exact sampling enumerates the hidden layer: it needs at most \
                 {MAX_ENUMERATED_UNITS} discrete hidden units, the RBM has {} {:?}",
                self.n_hidden, self.hidden_units
            )));
        }
        let states: Vec<Vec<f64>> = (0..1u64 << self.n_hidden)
            .map(|i| state(self.hidden_units, self.n_hidden, i))
            .collect();
        let log_p: Vec<f64> = states.iter().map(|h| -self.hidden_free_energy(h)).collect();
        let log_z = crate::math::log_sum_exp(log_p.iter().copied());
        let mut cumulative = Vec::with_capacity(states.len());
        let mut total = 0.0;
        for lp in &log_p {
            total += (lp - log_z).exp();
            cumulative.push(total);
        }
        let mut out = Vec::with_capacity(n * self.n_visible);
        for _ in 0..n {
            let u = rng.next_f64() * total;
            let k = cumulative
                .partition_point(|&c| c <= u)
                .min(states.len() - 1);
            for x in self.visible_input(&states[k]) {
                // P(v_i = hi | h) = 1 / (1 + e^{−(hi − lo) x}).
                let p_hi = 1.0 / (1.0 + (-(hi - lo) * x).exp());
                out.push(if rng.next_f64() < p_hi { hi } else { lo });
            }
        }
        Ok(out)
    }

    /// F(h) = −ln Σ_v e^{−E(v,h)} = H^RBM\[h\] (Eq. 15).
    pub fn hidden_free_energy(&self, h: &[f64]) -> f64 {
        let mut b: f64 = h.iter().zip(&self.hidden_bias).map(|(h, b)| h * b).sum();
        b -= h
            .iter()
            .map(|&h| self.hidden_units.base_energy(h))
            .sum::<f64>();
        let visible: f64 = self
            .visible_input(h)
            .iter()
            .map(|&x| self.visible_units.log_partition(x))
            .sum();
        -(b + visible)
    }

    /// ln Z, exactly, by enumerating the smaller discrete layer (the hidden layer when it is
    /// discrete and no larger than the visible one).
    ///
    /// # Errors
    /// [`RbmError::Unsupported`] if the layer to enumerate has more than
    /// [`MAX_ENUMERATED_UNITS`] units.
    pub fn log_partition_exact(&self) -> Result<f64> {
        let hidden_first = self.hidden_units.is_discrete() && self.n_hidden <= self.n_visible;
        let n = if hidden_first {
            self.n_hidden
        } else {
            self.n_visible
        };
        if n > MAX_ENUMERATED_UNITS {
            return Err(RbmError::Unsupported(format!(
                "exact ln Z needs a discrete layer of at most {MAX_ENUMERATED_UNITS} units; \
                 the smaller enumerable layer has {n}"
            )));
        }
        // Enumerate in chunks of 2^12 states, each started from scratch, in parallel; within
        // a chunk, Gray-code order changes one unit at a time.
        let chunk_bits = n.min(12);
        let chunks = 1u64 << (n - chunk_bits);
        let lse = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let mut acc = LogSumExp::new();
                let base = c << chunk_bits;
                if hidden_first {
                    self.enumerate_chunk(base, chunk_bits, true, &mut acc);
                } else {
                    self.enumerate_chunk(base, chunk_bits, false, &mut acc);
                }
                acc
            })
            .reduce(LogSumExp::new, LogSumExp::merge);
        Ok(lse.value())
    }

    /// Adds −F(state) for the 2^bits states `base ^ gray(k)` of one layer to `acc`.
    fn enumerate_chunk(&self, base: u64, bits: usize, hidden: bool, acc: &mut LogSumExp) {
        let (n, own_units, other_units) = if hidden {
            (self.n_hidden, self.hidden_units, self.visible_units)
        } else {
            (self.n_visible, self.visible_units, self.hidden_units)
        };
        let (own_bias, other_bias) = if hidden {
            (&self.hidden_bias, &self.visible_bias)
        } else {
            (&self.visible_bias, &self.hidden_bias)
        };
        let weight = |own: usize, other: usize| {
            if hidden {
                self.w(other, own)
            } else {
                self.w(own, other)
            }
        };
        let [lo, hi] = own_units.values().expect("discrete");
        let mut s = state(own_units, n, base);
        let mut input: Vec<f64> = other_bias.clone();
        for (k, &sk) in s.iter().enumerate() {
            for (m, x) in input.iter_mut().enumerate() {
                *x += sk * weight(k, m);
            }
        }
        let mut linear: f64 = s.iter().zip(own_bias).map(|(s, b)| s * b).sum();
        let total = |linear: f64, input: &[f64]| {
            linear
                + input
                    .iter()
                    .map(|&x| other_units.log_partition(x))
                    .sum::<f64>()
        };
        acc.add(total(linear, &input));
        for step in 1u64..(1u64 << bits) {
            let k = step.trailing_zeros() as usize;
            let new = if s[k] == lo { hi } else { lo };
            let delta = new - s[k];
            s[k] = new;
            linear += delta * own_bias[k];
            for (m, x) in input.iter_mut().enumerate() {
                *x += delta * weight(k, m);
            }
            acc.add(total(linear, &input));
        }
    }

    /// ln p(v) = −F(v) − ln Z for each configuration (rows of `data`, flat).
    ///
    /// # Errors
    /// As [`HostRbm::log_partition_exact`].
    ///
    /// # Panics
    /// If `data.len()` is not a multiple of n_v.
    pub fn log_prob_visible(&self, data: &[f64]) -> Result<Vec<f64>> {
        assert_eq!(data.len() % self.n_visible, 0, "data of wrong width");
        let log_z = self.log_partition_exact()?;
        Ok(data
            .chunks(self.n_visible)
            .map(|v| -self.free_energy(v) - log_z)
            .collect())
    }
}
