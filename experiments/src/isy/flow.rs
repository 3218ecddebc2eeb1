//! The RBM flow v → h → v′ from a start, iterated, read out at every step.

use anyhow::Result;
use burn::prelude::*;
use rbm::tensor::to_vec;
use rbm::{Noise, Propagation, Rbm};
use serde::{Deserialize, Serialize};

use super::readout::{Readout, read_out, spins_from_bernoulli};

/// One step of the RBM flow: h from p(h | v) (a sample, or its mean E[h|v] with
/// [`Propagation::Mean`]), then v' ~ p(v | h), drawing from `noise`. `[starts, n_v]` in and
/// out; the output is always a sample of the visible units.
pub fn flow_step(rbm: &Rbm, v: Tensor<2>, hidden: Propagation, noise: &mut Noise) -> Tensor<2> {
    let x = rbm.hidden_input(v);
    let h = match hidden {
        Propagation::Sample => rbm.hidden_units.sample_with(x, noise),
        Propagation::Mean => rbm.hidden_units.mean(x),
    };
    rbm.visible_units.sample_with(rbm.visible_input(h), noise)
}

/// One point of a flow: the configurations after `iteration` steps, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowPoint {
    /// Steps of the flow taken (0: the start).
    pub iteration: usize,
    /// The measurement.
    #[serde(flatten)]
    pub readout: Readout,
}

/// The RBM flow of the {0, 1} configurations `start` (`[starts, L²]`) of the L×L lattice:
/// `iterations` steps of [`flow_step`], the configurations measured at the start and after
/// every step.
///
/// # Errors
/// If the device cannot hand the configurations back.
///
/// # Panics
/// If `start` is not `[starts, L²]` with L² the RBM's visible width.
pub fn rbm_flow(
    rbm: &Rbm,
    start: Tensor<2>,
    l: usize,
    iterations: usize,
    hidden: Propagation,
    noise: &mut Noise,
) -> Result<Vec<FlowPoint>> {
    assert_eq!(start.dims()[1], l * l, "start of the wrong width");
    assert_eq!(rbm.n_visible(), l * l, "RBM of the wrong width");
    let read = |v: &Tensor<2>, iteration: usize| -> Result<FlowPoint> {
        let values = to_vec::<f32, 2>(v.clone())?;
        Ok(FlowPoint {
            iteration,
            readout: read_out(l, &spins_from_bernoulli(&values)),
        })
    };
    let mut points = vec![read(&start, 0)?];
    let mut v = start;
    for iteration in 1..=iterations {
        v = flow_step(rbm, v, hidden, noise);
        points.push(read(&v, iteration)?);
    }
    Ok(points)
}

/// The starts of the flow: `Cold` all up (T = 0), `Hot` uniformly random (T = ∞).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// Every spin up.
    Cold,
    /// Every spin up or down with probability ½, independently.
    Hot,
}

impl Start {
    /// Both starts.
    pub const ALL: [Start; 2] = [Start::Cold, Start::Hot];

    /// `rows` {0, 1} configurations of `n` spins on `device`, the hot ones from `noise`.
    pub fn configurations(
        self,
        rows: usize,
        n: usize,
        noise: &mut Noise,
        device: &Device,
    ) -> Tensor<2> {
        match self {
            Start::Cold => Tensor::ones([rows, n], device),
            Start::Hot => noise
                .uniform_tensor([rows, n], device)
                .lower_elem(0.5)
                .float(),
        }
    }

    /// "T = 0 (all up)" or "T = ∞ (random)".
    pub fn label(self) -> &'static str {
        match self {
            Start::Cold => "T = 0 (all up)",
            Start::Hot => "T = ∞ (random)",
        }
    }
}

/// One start's flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    /// Where it starts.
    pub start: Start,
    /// The start (iteration 0) and every iteration.
    pub points: Vec<FlowPoint>,
}

/// One trained RBM and its flows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFlows {
    /// `all` (every temperature) or `control` (T ≤ `control_max_t`).
    pub name: String,
    /// The Monte Carlo temperatures of its training rows (besides T ≈ 0).
    pub temperatures: Vec<f64>,
    /// Training rows, the ground-state pair's included.
    pub training_rows: usize,
    /// Mean reconstruction error per unit (Hinton's) of each epoch.
    pub reconstruction_error: Vec<f64>,
    /// Seconds of training.
    pub training_seconds: f64,
    /// Cold and hot flows.
    pub flows: Vec<Flow>,
}
