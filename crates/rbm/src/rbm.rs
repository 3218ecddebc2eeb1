//! The restricted Boltzmann machine: energy, free energies, conditionals, Gibbs sampling.
//!
//! For visible units v ∈ 𝒱^{n_v} and hidden units h ∈ ℋ^{n_h} (see [`Units`]) the model is
//! p(v, h) = e^{−E(v,h)} / Z with (Mehta & Schwab Eq. 10, plus a Gaussian base measure)
//!
//! E(v, h) = −vᵀ W h − aᵀ v − bᵀ h  (+ ½ hᵀh for Gaussian hidden units),
//!
//! W the `[n_v, n_h]` weights, a the visible and b the hidden biases.
//!
//! # Shapes
//! Batched throughout: visible configurations `[batch, n_v]`, hidden `[batch, n_h]`,
//! per-configuration scalars (energies, free energies) `[batch]`.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;

use ising_data::config::{Checked, ConfigError};

use crate::units::Units;

/// Configuration of an [`Rbm`].
#[derive(Config, Debug)]
pub struct RbmConfig {
    /// Number of visible units n_v.
    pub n_visible: usize,
    /// Number of hidden units n_h.
    pub n_hidden: usize,
    /// Visible unit type (Bernoulli or Spin).
    #[config(default = "Units::Bernoulli")]
    pub visible_units: Units,
    /// Hidden unit type.
    #[config(default = "Units::Bernoulli")]
    pub hidden_units: Units,
    /// Standard deviation of the Gaussian initial weights: 0.01 as Hinton's practical guide
    /// recommends; 0.1 is the value of the Hinton & Salakhutdinov code the paper descends from.
    #[config(default = 0.01)]
    pub init_std: f64,
}

impl RbmConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`crate::RbmError::Config`] for empty layers, Gaussian visible units or a negative or
    /// non-finite initial standard deviation.
    pub fn validate(&self) -> crate::Result<()> {
        Ok(self.check()?)
    }

    /// An RBM with weights drawn from N(0, init_std²) with the device's random stream, and
    /// zero biases.
    ///
    /// # Errors
    /// If the configuration is invalid (see [`RbmConfig::validate`]).
    pub fn init(&self, device: &Device) -> crate::Result<Rbm> {
        self.validate()?;
        let weights = Tensor::random(
            [self.n_visible, self.n_hidden],
            Distribution::Normal(0.0, self.init_std),
            device,
        );
        Ok(self.with_weights(weights, device))
    }

    /// The RBM with its initial weights drawn from the keyed stream `seed` (see
    /// [`crate::noise`]) instead of the device's generator: the same numbers on every backend
    /// and independent of any other draw in the process.
    ///
    /// # Errors
    /// If the configuration is invalid (see [`RbmConfig::validate`]).
    pub fn init_seeded(&self, device: &Device, seed: u64) -> crate::Result<Rbm> {
        self.validate()?;
        let shape = [self.n_visible, self.n_hidden];
        let weights = crate::Noise::new(seed).normal_tensor(shape, device) * self.init_std;
        Ok(self.with_weights(weights, device))
    }

    fn with_weights(&self, weights: Tensor<2>, device: &Device) -> Rbm {
        Rbm {
            weights: Param::from_tensor(weights),
            visible_bias: Param::from_tensor(Tensor::zeros([self.n_visible], device)),
            hidden_bias: Param::from_tensor(Tensor::zeros([self.n_hidden], device)),
            visible_units: self.visible_units,
            hidden_units: self.hidden_units,
        }
    }
}

impl Checked for RbmConfig {
    /// Non-empty layers, discrete visible units, a finite initial standard deviation ≥ 0.
    fn check(&self) -> Result<(), ConfigError> {
        for (field, n) in [("n_visible", self.n_visible), ("n_hidden", self.n_hidden)] {
            if n == 0 {
                return Err(ConfigError::invalid(field, "at least 1", n));
            }
        }
        if self.visible_units == Units::Gaussian {
            return Err(
                ConfigError::invalid("visible_units", "bernoulli or spin", "gaussian")
                    .because("Gaussian units are supported in the hidden layer only"),
            );
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return Err(ConfigError::invalid(
                "init_std",
                "finite and ≥ 0",
                self.init_std,
            ));
        }
        Ok(())
    }
}

/// A restricted Boltzmann machine (see the module docs for the energy).
#[derive(Module, Debug)]
pub struct Rbm {
    /// W, `[n_visible, n_hidden]`.
    pub weights: Param<Tensor<2>>,
    /// a, `[n_visible]`.
    pub visible_bias: Param<Tensor<1>>,
    /// b, `[n_hidden]`.
    pub hidden_bias: Param<Tensor<1>>,
    /// Visible unit type.
    #[module(skip)]
    pub visible_units: Units,
    /// Hidden unit type.
    #[module(skip)]
    pub hidden_units: Units,
}

impl Rbm {
    /// An RBM with the given parameters.
    ///
    /// # Panics
    /// If the shapes disagree or the visible units are Gaussian.
    pub fn from_parameters(
        weights: Tensor<2>,
        visible_bias: Tensor<1>,
        hidden_bias: Tensor<1>,
        visible_units: Units,
        hidden_units: Units,
    ) -> Self {
        let [nv, nh] = weights.dims();
        assert_eq!(visible_bias.dims(), [nv], "visible bias of wrong length");
        assert_eq!(hidden_bias.dims(), [nh], "hidden bias of wrong length");
        assert!(visible_units != Units::Gaussian, "Gaussian visible units");
        Self {
            weights: Param::from_tensor(weights),
            visible_bias: Param::from_tensor(visible_bias),
            hidden_bias: Param::from_tensor(hidden_bias),
            visible_units,
            hidden_units,
        }
    }

    /// The configuration that describes this RBM's architecture.
    pub fn config(&self) -> RbmConfig {
        RbmConfig::new(self.n_visible(), self.n_hidden())
            .with_visible_units(self.visible_units)
            .with_hidden_units(self.hidden_units)
    }

    /// n_v.
    pub fn n_visible(&self) -> usize {
        self.weights.dims()[0]
    }

    /// n_h.
    pub fn n_hidden(&self) -> usize {
        self.weights.dims()[1]
    }

    /// Sets the visible biases so that the RBM with zero weights reproduces the mean of each
    /// visible unit in `data` (Hinton's practical guide, Sec. 8): a_i = ln(p_i/(1−p_i)) for
    /// Bernoulli units, a_i = artanh(m_i) for spins, with the means clamped to 1e-3 from the
    /// boundary.
    ///
    /// # Panics
    /// If `data` is not `[batch, n_visible]`.
    pub fn with_visible_bias_from_data(mut self, data: Tensor<2>) -> Self {
        assert_eq!(data.dims()[1], self.n_visible(), "data of wrong width");
        let mean = data.mean_dim(0).squeeze_dim::<1>(0);
        let eps = 1e-3;
        let bias = match self.visible_units {
            Units::Bernoulli => {
                let p = mean.clamp(eps, 1.0 - eps);
                (p.clone() / (p.neg() + 1.0)).log()
            }
            Units::Spin => {
                let m = mean.clamp(-1.0 + 2.0 * eps, 1.0 - 2.0 * eps);
                ((m.clone() + 1.0) / (m.neg() + 1.0)).log() * 0.5
            }
            Units::Gaussian => unreachable!("Gaussian visible units are rejected"),
        };
        self.visible_bias = Param::from_tensor(bias);
        self
    }

    /// The input to the hidden units, vW + b. `[batch, n_h]`.
    pub fn hidden_input(&self, v: Tensor<2>) -> Tensor<2> {
        v.matmul(self.weights.val()) + self.hidden_bias.val().unsqueeze_dim(0)
    }

    /// The input to the visible units, hWᵀ + a. `[batch, n_v]`.
    pub fn visible_input(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.weights.val().transpose()) + self.visible_bias.val().unsqueeze_dim(0)
    }

    /// E[h | v]: p(h_j = 1 | v) = σ(x_j) for Bernoulli units, tanh(x_j) for spins, x_j for
    /// Gaussian units, with x = vW + b (Eq. 12's conditional). `[batch, n_h]`.
    pub fn hidden_mean(&self, v: Tensor<2>) -> Tensor<2> {
        self.hidden_units.mean(self.hidden_input(v))
    }

    /// E[v | h]. `[batch, n_v]`.
    pub fn visible_mean(&self, h: Tensor<2>) -> Tensor<2> {
        self.visible_units.mean(self.visible_input(h))
    }

    /// A draw of h ~ p(h | v). `[batch, n_h]`.
    pub fn sample_hidden(&self, v: Tensor<2>) -> Tensor<2> {
        self.hidden_units.sample(self.hidden_input(v))
    }

    /// A draw of v ~ p(v | h). `[batch, n_v]`.
    pub fn sample_visible(&self, h: Tensor<2>) -> Tensor<2> {
        self.visible_units.sample(self.visible_input(h))
    }

    /// One step of block Gibbs sampling v → h ~ p(h|v) → v' ~ p(v|h); returns (h, v').
    pub fn gibbs_step(&self, v: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.sample_hidden(v);
        let v_next = self.sample_visible(h.clone());
        (h, v_next)
    }

    /// k steps of block Gibbs sampling from `v`; returns the final visible state.
    pub fn gibbs_chain(&self, v: Tensor<2>, k: usize) -> Tensor<2> {
        (0..k).fold(v, |v, _| self.gibbs_step(v).1)
    }

    /// The mean-field reconstruction E[v | h = E[h|v]].
    pub fn reconstruct(&self, v: Tensor<2>) -> Tensor<2> {
        self.visible_mean(self.hidden_mean(v))
    }

    /// The energy E(v, h) (Eq. 10). `[batch]`.
    pub fn energy(&self, v: Tensor<2>, h: Tensor<2>) -> Tensor<1> {
        let vw = v.clone().matmul(self.weights.val());
        self.energy_with_product(v, h, vw)
    }

    /// [`Rbm::energy`] with the product `vw` = vW (`[batch, n_h]`, without the hidden bias)
    /// given, for callers that have it already. `[batch]`.
    pub fn energy_with_product(&self, v: Tensor<2>, h: Tensor<2>, vw: Tensor<2>) -> Tensor<1> {
        let coupling = (vw * h.clone()).sum_dim(1);
        let a = (v * self.visible_bias.val().unsqueeze_dim(0)).sum_dim(1);
        let b = (h.clone() * self.hidden_bias.val().unsqueeze_dim(0)).sum_dim(1);
        let mut e = (coupling + a + b).neg();
        if let Some(base) = self.hidden_units.base_energy_rows(h) {
            e = e + base;
        }
        e.squeeze_dim(1)
    }

    /// The visible free energy F(v) = −ln Σ_h e^{−E(v,h)} = −aᵀv − Σ_j ln Σ_{h_j} e^{h_j x_j}
    /// (so p(v) = e^{−F(v)}/Z; −F is H^RBM\[v\] of Eq. 14 up to its constant). `[batch]`.
    pub fn free_energy(&self, v: Tensor<2>) -> Tensor<1> {
        let hidden = self
            .hidden_units
            .log_partition_tensor(self.hidden_input(v.clone()))
            .sum_dim(1);
        self.free_energy_from_hidden(v, hidden)
    }

    /// [`Rbm::free_energy`] from the rows' Σ_j ln Σ_{h_j} e^{h_j x_j} (`hidden`, `[batch, 1]`),
    /// for callers that have the hidden inputs already. `[batch]`.
    pub fn free_energy_from_hidden(&self, v: Tensor<2>, hidden: Tensor<2>) -> Tensor<1> {
        let a = (v * self.visible_bias.val().unsqueeze_dim(0)).sum_dim(1);
        (a + hidden).neg().squeeze_dim(1)
    }

    /// The hidden free energy F(h) = −ln Σ_v e^{−E(v,h)} — the Hamiltonian H^RBM\[h\] of the
    /// hidden layer (Eq. 15): p(h) = e^{−F(h)}/Z. `[batch]`.
    pub fn hidden_free_energy(&self, h: Tensor<2>) -> Tensor<1> {
        let mut b = (h.clone() * self.hidden_bias.val().unsqueeze_dim(0)).sum_dim(1);
        if let Some(base) = self.hidden_units.base_energy_rows(h.clone()) {
            b = b - base;
        }
        let visible = self
            .visible_units
            .log_partition_tensor(self.visible_input(h))
            .sum_dim(1);
        (b + visible).neg().squeeze_dim(1)
    }

    /// The same distribution with the visible layer re-expressed in `units` (Bernoulli ↔
    /// Spin, v = (1 + s)/2), and the change of ln Z: returns `(rbm, c)` with
    /// ln Z_self = ln Z_new + c and p_self(v, h) = p_new(s(v), h).
    ///
    /// With v = (1+s)/2: W' = W/2, a' = a/2, b' = b + ½ Wᵀ1, c = ½ Σ a. The inverse map is
    /// W' = 2W, a' = 2a, b' = b − Wᵀ1, c = −Σ a.
    ///
    /// # Panics
    /// If `units` is Gaussian.
    pub fn with_visible_units(&self, units: Units) -> (Rbm, f64) {
        let (w, a, b) = (
            self.weights.val(),
            self.visible_bias.val(),
            self.hidden_bias.val(),
        );
        let (w, a, b, c) = convert_layer(self.visible_units, units, w, a, b);
        (Rbm::from_parameters(w, a, b, units, self.hidden_units), c)
    }

    /// As [`Rbm::with_visible_units`] for the hidden layer (discrete hidden units only):
    /// with h = (1+t)/2: W' = W/2, b' = b/2, a' = a + ½ W1, c = ½ Σ b.
    ///
    /// # Panics
    /// If either unit type is Gaussian.
    pub fn with_hidden_units(&self, units: Units) -> (Rbm, f64) {
        let (w, a, b) = (
            self.weights.val().transpose(),
            self.hidden_bias.val(),
            self.visible_bias.val(),
        );
        let (w, b_new, a_new, c) = convert_layer(self.hidden_units, units, w, a, b);
        (
            Rbm::from_parameters(w.transpose(), a_new, b_new, self.visible_units, units),
            c,
        )
    }
}

/// Re-expresses the layer whose weights are the rows of `w` and biases `own` from `from` to
/// `to` units; `other` are the biases of the other layer. Returns (w, own, other, Δ ln Z).
fn convert_layer(
    from: Units,
    to: Units,
    w: Tensor<2>,
    own: Tensor<1>,
    other: Tensor<1>,
) -> (Tensor<2>, Tensor<1>, Tensor<1>, f64) {
    assert!(
        from.is_discrete() && to.is_discrete(),
        "only discrete layers can be converted"
    );
    match (from, to) {
        (Units::Bernoulli, Units::Spin) => {
            let c = own.clone().sum().into_scalar::<f64>() * 0.5;
            let other = other + w.clone().sum_dim(0).squeeze_dim(0) * 0.5;
            (w * 0.5, own * 0.5, other, c)
        }
        (Units::Spin, Units::Bernoulli) => {
            let c = -own.clone().sum().into_scalar::<f64>();
            let other = other - w.clone().sum_dim(0).squeeze_dim(0);
            (w * 2.0, own * 2.0, other, c)
        }
        _ => (w, own, other, 0.0),
    }
}
