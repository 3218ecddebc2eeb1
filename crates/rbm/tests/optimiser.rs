//! The optimiser of CD training (`rbm::CdSgd`) against Burn's SGD with momentum and no
//! dampening: the same parameters bit for bit, and each one resuming the other's recorded
//! state.

mod common;

use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use common::values;
use rbm::{CdConfig, CdModel, CdSgd, Rbm, Units};

fn burn_sgd(momentum: f64) -> ModuleOptimizer {
    let momentum = (momentum > 0.0).then_some(MomentumConfig {
        momentum,
        dampening: 0.0,
        nesterov: false,
    });
    SgdConfig::new().with_momentum(momentum).init()
}

/// Gradients for every parameter of `rbm`, different at each step.
fn gradients(rbm: &Rbm, step: u64) -> GradientsParams {
    let mut s = 1000 + step;
    let mut random =
        |n: usize| -> Vec<f32> { (0..n).map(|_| common::lcg(&mut s) as f32).collect() };
    let [nv, nh] = rbm.weights.dims();
    let d = Device::flex();
    let mut grads = GradientsParams::new();
    grads.register(
        rbm.weights.id,
        Tensor::<2>::from_data(TensorData::new(random(nv * nh), [nv, nh]), &d),
    );
    grads.register(
        rbm.visible_bias.id,
        Tensor::<1>::from_data(TensorData::new(random(nv), [nv]), &d),
    );
    grads.register(
        rbm.hidden_bias.id,
        Tensor::<1>::from_data(TensorData::new(random(nh), [nh]), &d),
    );
    grads
}

fn parameters(model: &CdModel) -> Vec<Vec<f64>> {
    let rbm = &model.rbm;
    vec![
        values(rbm.weights.val()),
        values(rbm.visible_bias.val()),
        values(rbm.hidden_bias.val()),
    ]
}

/// `steps` steps of `optim` from `model`, the gradients of steps `first..`.
fn run(
    mut optim: ModuleOptimizer,
    mut model: CdModel,
    first: u64,
    steps: u64,
) -> (ModuleOptimizer, CdModel) {
    for step in first..first + steps {
        let grads = gradients(&model.rbm, step);
        model = optim.step(0.1, model, grads);
    }
    (optim, model)
}

/// A trainable model (parameters on flex's autodiff device) of a random RBM.
fn model(seed: u64) -> CdModel {
    let rbm = common::random_rbm(200, 120, Units::Bernoulli, Units::Bernoulli, 0.1, seed);
    CdConfig::new().init(rbm).unwrap()
}

#[test]
fn the_optimiser_gives_burns_sgd_bit_for_bit() {
    // 200 × 120 weights take the optimiser's host pass on flex; the biases its tensor
    // operations. With momentum 0.5 and without momentum, five steps.
    for momentum in [0.5, 0.0] {
        let start = model(3);
        let (_, ours) = run(CdSgd::new(momentum).init(), start.clone(), 0, 5);
        let (_, theirs) = run(burn_sgd(momentum), start.clone(), 0, 5);
        assert!(
            parameters(&ours) == parameters(&theirs),
            "momentum {momentum}: the parameters differ from Burn's SGD"
        );
        assert!(
            parameters(&ours) != parameters(&start),
            "the steps changed nothing"
        );
    }
}

#[test]
fn each_optimiser_resumes_the_others_recorded_state() {
    // Three steps with one optimiser, its record loaded into the other, two more steps: the
    // parameters equal five steps of either, bit for bit (the velocity was carried over; a
    // lost velocity would change them).
    let start = model(4);
    let (_, straight) = run(burn_sgd(0.5), start.clone(), 0, 5);
    let fresh: [fn() -> ModuleOptimizer; 2] = [|| CdSgd::new(0.5).init(), || burn_sgd(0.5)];
    for (first, second) in [(0, 1), (1, 0)] {
        let (optim, rbm) = run(fresh[first](), start.clone(), 0, 3);
        let resumed = fresh[second]().load_record(optim.to_record());
        let (_, rbm) = run(resumed, rbm, 3, 2);
        assert!(
            parameters(&rbm) == parameters(&straight),
            "resuming with optimiser {second} from {first}'s record"
        );
        // Without the recorded state the result differs: the test can fail.
        let (_, midway) = run(fresh[first](), start.clone(), 0, 3);
        let (_, lost) = run(fresh[second](), midway, 3, 2);
        assert!(parameters(&lost) != parameters(&straight));
    }
}

#[test]
fn the_decoupled_penalty_keeps_the_record_and_resumes_bit_for_bit() {
    // The decoupled penalty is stateless and never enters the velocity: with these gradients
    // (which do not depend on the parameters) an optimiser with it records the same velocities
    // as one without, in Burn's SGD's format (Burn's SGD resumes either record to the same
    // bits); and three steps, a record and a fresh decoupled optimiser's two more give five
    // straight steps' bits. A resume without the penalty differs (the test can fail).
    let decoupled = || CdSgd::new(0.5).with_decoupled_penalty(5e-3, 2e-2).init();
    let start = model(5);
    let (_, straight) = run(decoupled(), start.clone(), 0, 5);
    let (optim, midway) = run(decoupled(), start.clone(), 0, 3);
    let (plain, _) = run(CdSgd::new(0.5).init(), start.clone(), 0, 3);
    let (_, a) = run(
        burn_sgd(0.5).load_record(optim.to_record()),
        midway.clone(),
        3,
        2,
    );
    let (_, b) = run(
        burn_sgd(0.5).load_record(plain.to_record()),
        midway.clone(),
        3,
        2,
    );
    assert!(parameters(&a) == parameters(&b), "the records differ");
    let (_, resumed) = run(
        decoupled().load_record(optim.to_record()),
        midway.clone(),
        3,
        2,
    );
    assert!(parameters(&resumed) == parameters(&straight));
    let (_, without) = run(CdSgd::new(0.5).init(), midway, 3, 2);
    assert!(parameters(&without) != parameters(&straight));
}
