//! Unit types of an RBM layer.
//!
//! A unit with input x (its bias plus what the other layer sends it) contributes e^{u x} to
//! the Boltzmann weight (and, for Gaussian units, the base measure e^{−u²/2}). Each type
//! provides the log of its one-unit partition function Σ_u e^{u x} (or ∫ e^{−u²/2 + u x} du),
//! its conditional mean and a sampler.

use burn::prelude::{Tensor, TensorData};
use burn::tensor::Distribution;
use burn::tensor::activation::{sigmoid, softplus, tanh};
use serde::{Deserialize, Serialize};

use crate::noise::{Draw, Noise};

/// The state space of the units of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Units {
    /// Bernoulli units u ∈ {0, 1}.
    #[default]
    Bernoulli,
    /// Ising spins u ∈ {−1, +1}.
    Spin,
    /// Gaussian units u ∈ ℝ with unit variance: energy term +u²/2 (hidden layers only).
    Gaussian,
}

const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

impl Units {
    /// The two values of a discrete unit, `None` for Gaussian units.
    pub fn values(self) -> Option<[f64; 2]> {
        match self {
            Units::Bernoulli => Some([0.0, 1.0]),
            Units::Spin => Some([-1.0, 1.0]),
            Units::Gaussian => None,
        }
    }

    /// Whether the units take finitely many values (and can be enumerated).
    pub fn is_discrete(self) -> bool {
        self.values().is_some()
    }

    /// log Σ_u e^{u x} for one unit (for Gaussian units ln ∫ e^{−u²/2 + u x} du).
    pub fn log_partition(self, x: f64) -> f64 {
        match self {
            Units::Bernoulli => x.max(0.0) + (-x.abs()).exp().ln_1p(),
            Units::Spin => x.abs() + (-2.0 * x.abs()).exp().ln_1p(),
            Units::Gaussian => 0.5 * x * x + HALF_LN_2PI,
        }
    }

    /// [`Units::log_partition`] elementwise on a tensor of inputs.
    pub fn log_partition_tensor<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Units::Bernoulli => softplus(x, 1.0),
            Units::Spin => {
                // ln 2cosh x = |x| + ln(1 + e^{−2|x|}), stable for large |x|.
                let a = x.abs();
                a.clone() + (a * -2.0).exp().log1p()
            }
            Units::Gaussian => x.square() * 0.5 + HALF_LN_2PI,
        }
    }

    /// L(β_to x) − L(β_from x) elementwise, with L = [`Units::log_partition`]: the change of a
    /// unit's log-partition function between two inverse temperatures of an annealing
    /// ladder. Computed without subtracting two nearly equal numbers where d = (β_to − β_from) x
    /// is small (|d| ≤ 1), with t = tanh(d/2) and w = β_from x:
    /// Bernoulli log1p(σ(w)(e^d − 1)) with e^d − 1 = 2t/(1 − t); spin
    /// log1p(2t(t + tanh w)/(1 − t²)); Gaussian ½(β_to² − β_from²)x² (exact for every d).
    /// Elsewhere it is the plain difference, whose size keeps its relative error small.
    pub fn log_partition_step<const D: usize>(
        self,
        x: Tensor<D>,
        beta_from: f64,
        beta_to: f64,
    ) -> Tensor<D> {
        if self == Units::Gaussian {
            return x.square() * (0.5 * (beta_to * beta_to - beta_from * beta_from));
        }
        let w = x.clone() * beta_from;
        let d = x.clone() * (beta_to - beta_from);
        let direct = self.log_partition_tensor(x * beta_to) - self.log_partition_tensor(w.clone());
        let small = d.clone().abs().lower_equal_elem(1.0);
        let t = (d * 0.5).tanh();
        let stable = match self {
            Units::Bernoulli => {
                let expm1 = t.clone() * 2.0 / (t.neg() + 1.0);
                (sigmoid(w) * expm1).log1p()
            }
            Units::Spin => {
                let ratio = t.clone() * 2.0 * (t.clone() + tanh(w)) / (t.square().neg() + 1.0);
                ratio.log1p()
            }
            Units::Gaussian => unreachable!("handled above"),
        };
        direct.mask_where(small, stable)
    }

    /// The conditional mean E[u | x]: σ(x), tanh(x) or x.
    pub fn mean<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Units::Bernoulli => sigmoid(x),
            Units::Spin => tanh(x),
            Units::Gaussian => x,
        }
    }

    /// The kind of random number sampling one unit consumes.
    pub fn draw(self) -> Draw {
        match self {
            Units::Bernoulli | Units::Spin => Draw::Uniform,
            Units::Gaussian => Draw::Normal,
        }
    }

    /// Draws units given their inputs, with numbers from `noise` (reproducible; see
    /// [`crate::noise`]).
    pub fn sample_with<const D: usize>(self, x: Tensor<D>, noise: &mut Noise) -> Tensor<D> {
        let n = x.dims().iter().product();
        self.sample_from(x, noise.draw(self.draw(), n))
    }

    /// Draws units given their inputs `x` from `numbers`, one per unit, row-major, of the
    /// kind [`Units::draw`] names: a discrete unit takes its upper value when its uniform is
    /// below P(upper | x); a Gaussian unit is x plus its normal number.
    ///
    /// # Panics
    /// If there is not one number per unit.
    pub fn sample_from<const D: usize>(self, x: Tensor<D>, numbers: Vec<f32>) -> Tensor<D> {
        let device = x.device();
        let numbers = Tensor::<D>::from_data(TensorData::new(numbers, x.dims()), &device);
        match self {
            Units::Bernoulli => numbers.lower(sigmoid(x)).float(),
            Units::Spin => numbers.lower(sigmoid(x * 2.0)).float() * 2.0 - 1.0,
            Units::Gaussian => x + numbers,
        }
    }

    /// The base-measure energy of one unit with value u: u²/2 for Gaussian units, 0 for
    /// discrete ones.
    pub fn base_energy(self, u: f64) -> f64 {
        match self {
            Units::Gaussian => 0.5 * u * u,
            Units::Bernoulli | Units::Spin => 0.0,
        }
    }

    /// Σ_j of [`Units::base_energy`] over each row of `u` (`[batch, n]` → `[batch, 1]`);
    /// `None` for discrete units, whose base energy is 0.
    pub fn base_energy_rows(self, u: Tensor<2>) -> Option<Tensor<2>> {
        match self {
            Units::Gaussian => Some(u.square().sum_dim(1) * 0.5),
            Units::Bernoulli | Units::Spin => None,
        }
    }

    /// Draws units given their inputs, with the device's random stream.
    pub fn sample<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        let device = x.device();
        let shape = x.shape();
        match self {
            Units::Bernoulli => {
                let u = Tensor::<D>::random(shape, Distribution::Default, &device);
                u.lower(sigmoid(x)).float()
            }
            Units::Spin => {
                let u = Tensor::<D>::random(shape, Distribution::Default, &device);
                u.lower(sigmoid(x * 2.0)).float() * 2.0 - 1.0
            }
            Units::Gaussian => {
                x + Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device)
            }
        }
    }
}
