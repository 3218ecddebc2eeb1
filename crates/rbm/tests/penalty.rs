//! The L1/L2 penalty convention of the configuration (`CdConfig::penalty`): `gradient` puts
//! λ₁ sign W + λ₂ W into the gradient (through momentum), `decoupled` has the optimiser shrink
//! the weights after its update (never through momentum). The two agree without momentum,
//! differ with it, `decoupled` follows its formula (computed here in f64), `gradient` is the
//! behaviour from before the setting existed, and the fused CPU kernel and the tensor
//! reference agree on both.

mod common;

use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::train::TrainStep;
use common::values;
use rbm::eval::exact::state;
use rbm::{CdBatch, CdConfig, CdModel, CpuPath, Isa, PenaltyConvention, TrainingConfig, Units};

/// The training settings of these tests, with `penalty` as JSON (`None`: the key absent, as
/// in the configurations written before the setting existed).
fn config(penalty: Option<&str>, momentum: f64, l1: f64, l2: f64) -> TrainingConfig {
    let penalty = penalty.map_or(String::new(), |p| format!(r#", "penalty": "{p}""#));
    let json = format!(
        r#"{{
            "cd": {{ "k": 1, "persistent": false, "chains": 100, "l1": {l1}, "l2": {l2}{penalty} }},
            "learning_rate": 0.1,
            "schedule": {{ "kind": "constant" }},
            "momentum": {momentum},
            "batch_size": 12,
            "epochs": 1,
            "seed": 0
        }}"#
    );
    TrainingConfig::load_binary(json.as_bytes()).expect("a valid configuration")
}

/// A trainable model of a random n_v × n_h Bernoulli RBM (weights uniform in ±0.3), on the
/// CPU path `path` (`None`: the process's choice).
fn model(tc: &TrainingConfig, nv: usize, nh: usize, seed: u64, path: Option<CpuPath>) -> CdModel {
    let rbm = common::random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 0.3, seed);
    tc.cd.init(rbm).unwrap().with_cpu_path(path)
}

/// Twelve distinct visible rows of n_v units.
fn data(nv: usize) -> Tensor<2> {
    let rows: Vec<Vec<f64>> = (0..12u64)
        .map(|i| state(Units::Bernoulli, nv, 37 * i + 5))
        .collect();
    common::rows_tensor(&rows)
}

/// The model after `steps` CD-1 steps on `data(n_v)` (keys 0, 1, …) with `optim`.
fn train(mut model: CdModel, mut optim: ModuleOptimizer, steps: u64) -> CdModel {
    let v0 = data(model.rbm.n_visible());
    for key in 0..steps {
        let out = TrainStep::step(&model, CdBatch::new(v0.clone(), key));
        model = optim.step(0.1, model, out.grads);
    }
    model
}

/// Weights, visible biases and hidden biases, as f64.
fn parameters(model: &CdModel) -> [Vec<f64>; 3] {
    let rbm = &model.rbm;
    [
        values(rbm.weights.val()),
        values(rbm.visible_bias.val()),
        values(rbm.hidden_bias.val()),
    ]
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn bits(model: &CdModel) -> Vec<Vec<u64>> {
    parameters(model)
        .iter()
        .map(|p| p.iter().map(|x| x.to_bits()).collect())
        .collect()
}

const L1: f64 = 5e-3;
const L2: f64 = 2e-2;

#[test]
fn the_setting_parses_defaults_to_gradient_and_refuses_other_values_naming_the_field() {
    assert_eq!(
        config(None, 0.5, L1, L2).cd.penalty,
        PenaltyConvention::Gradient
    );
    assert_eq!(
        config(Some("gradient"), 0.5, L1, L2).cd.penalty,
        PenaltyConvention::Gradient
    );
    assert_eq!(
        config(Some("decoupled"), 0.5, L1, L2).cd.penalty,
        PenaltyConvention::Decoupled
    );
    assert_eq!(CdConfig::new().penalty, PenaltyConvention::Gradient);
    // Written back under its name and read again.
    let written = config(Some("decoupled"), 0.5, L1, L2).to_string();
    assert!(written.contains(r#""penalty": "decoupled""#), "{written}");
    let read = TrainingConfig::load_binary(written.as_bytes()).unwrap();
    assert_eq!(read.cd.penalty, PenaltyConvention::Decoupled);
    // Another value, another case, another type: refused, naming the field.
    for bad in [r#""adamw""#, r#""Decoupled""#, "1"] {
        let json = format!(
            r#"{{ "k": 1, "persistent": false, "chains": 1, "l1": 0.0, "l2": 0.0, "penalty": {bad} }}"#
        );
        let err = CdConfig::load_binary(json.as_bytes())
            .expect_err(&format!("penalty {bad} was accepted"))
            .to_string();
        if bad.starts_with('"') {
            assert!(
                err.contains("penalty must be \"gradient\" or \"decoupled\"")
                    && err.contains(bad.trim_matches('"')),
                "{bad}: {err}"
            );
        } else {
            assert!(err.contains("invalid type"), "{bad}: {err}");
        }
    }
}

#[test]
fn without_momentum_the_conventions_give_the_same_weights() {
    // Plain SGD: W − ε(G + P) and (W − εG) − εP are the same number up to f32 rounding
    // (a few ulps of weights below 1 per step: 2e-6 over five steps is generous). The
    // penalty itself moves the weights by ε P ≈ 1e-3 per step, so a convention that lost or
    // doubled it would be caught.
    let steps = 5;
    let run = |penalty: &str, l1: f64, l2: f64| {
        let tc = config(Some(penalty), 0.0, l1, l2);
        train(model(&tc, 9, 7, 1, None), tc.optimizer(), steps)
    };
    let gradient = parameters(&run("gradient", L1, L2));
    let decoupled = parameters(&run("decoupled", L1, L2));
    for (g, d) in gradient.iter().zip(&decoupled) {
        let diff = max_difference(g, d);
        assert!(
            diff < 2e-6,
            "the conventions differ by {diff} without momentum"
        );
    }
    let unpenalised = parameters(&run("gradient", 0.0, 0.0));
    let moved = max_difference(&gradient[0], &unpenalised[0]);
    assert!(
        moved > 1e-3,
        "the penalty moved the weights by only {moved}"
    );
}

#[test]
fn with_momentum_decoupled_follows_its_formula_and_differs_from_gradient() {
    // Three steps with μ = 0.5 on the tensor reference step. Reference in f64 from the
    // gradients the step hands the optimiser (which must be the bare CD gradient: checked
    // against `cd_gradient`): v ← μ v + G (v = G first), W ← W − ε v − ε (λ₁ sign W + λ₂ W)
    // with W the weights before the step; the biases without penalty. Tolerance 1e-6: the
    // f32 rounding of three steps on values below 1.
    let (mu, lr, steps) = (0.5, 0.1, 3u64);
    let tc = config(Some("decoupled"), mu, L1, L2);
    let mut m = model(&tc, 9, 7, 2, Some(CpuPath::Tensor));
    let mut optim = tc.optimizer();
    let v0 = data(9);
    let mut reference = parameters(&m);
    let mut velocity: [Vec<f64>; 3] = Default::default();
    for key in 0..steps {
        let out = TrainStep::step(&m, CdBatch::new(v0.clone(), key));
        let handed = handed_gradients(&m, &out.grads);
        let (cd, _) = m.cd_gradient(v0.clone(), &mut rbm::Noise::new(key));
        let bare = values(cd.weights);
        let diff = handed[0]
            .iter()
            .zip(&bare)
            .map(|(g, b)| (g + b).abs())
            .fold(0.0, f64::max);
        assert!(
            diff < 1e-6,
            "the decoupled step's gradient is not −∂ℓ/∂W ({diff})"
        );
        for (p, ((theta, v), g)) in reference
            .iter_mut()
            .zip(velocity.iter_mut())
            .zip(&handed)
            .enumerate()
        {
            *v = if v.is_empty() {
                g.clone()
            } else {
                v.iter().zip(g).map(|(v, g)| mu * v + g).collect()
            };
            for (t, v) in theta.iter_mut().zip(v.iter()) {
                let penalty = if p == 0 { L1 * sign(*t) + L2 * *t } else { 0.0 };
                *t -= lr * v + lr * penalty;
            }
        }
        m = optim.step(lr, m, out.grads);
        for (name, (got, want)) in ["W", "a", "b"]
            .iter()
            .zip(parameters(&m).iter().zip(&reference))
        {
            let diff = max_difference(got, want);
            assert!(
                diff < 1e-6,
                "step {key}: {name} differs by {diff} from the formula"
            );
        }
    }
    // The gradient convention lets the penalty through momentum: after three steps the
    // weights differ by about ε μ P (1 + …) ≈ 5e-4, far above the rounding.
    let tc = config(Some("gradient"), mu, L1, L2);
    let gradient = train(
        model(&tc, 9, 7, 2, Some(CpuPath::Tensor)),
        tc.optimizer(),
        steps,
    );
    let diff = max_difference(&parameters(&gradient)[0], &parameters(&m)[0]);
    assert!(
        diff > 1e-4,
        "with momentum the conventions differ by only {diff}"
    );
}

fn sign(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x.signum() }
}

/// The weight, visible-bias and hidden-bias gradients a step hands the optimiser.
fn handed_gradients(m: &CdModel, grads: &GradientsParams) -> [Vec<f64>; 3] {
    let rbm = &m.rbm;
    [
        values(grads.get::<2>(rbm.weights.id).expect("W")),
        values(grads.get::<1>(rbm.visible_bias.id).expect("a")),
        values(grads.get::<1>(rbm.hidden_bias.id).expect("b")),
    ]
}

#[test]
fn gradient_is_bit_identical_to_the_behaviour_before_the_setting() {
    // The behaviour before the setting, written out independently of the new code paths:
    // the gradient −∂ℓ/∂W + λ₁ sign W + λ₂ W formed by tensor operations from `cd_gradient`,
    // and Burn's own SGD with momentum 0.5 and dampening 0 (which the crate's optimiser
    // matched bit for bit). Against it, on the tensor reference step: a configuration without
    // the key, one with "gradient", and the constructor's default, all with the optimiser of
    // `TrainingConfig::optimizer` — the same bits, five steps.
    let (mu, steps) = (0.5, 5u64);
    let absent = config(None, mu, L1, L2);
    let start = model(&absent, 9, 7, 3, Some(CpuPath::Tensor));
    let before = {
        let mut optim: ModuleOptimizer = SgdConfig::new()
            .with_momentum(Some(MomentumConfig {
                momentum: mu,
                dampening: 0.0,
                nesterov: false,
            }))
            .init();
        let mut m = start.clone();
        let v0 = data(9);
        for key in 0..steps {
            let (g, _) = m.cd_gradient(v0.clone(), &mut rbm::Noise::new(key));
            let w = m.rbm.weights.val().without_autodiff();
            let gw = g.weights.neg() + w.clone().sign() * L1 + w * L2;
            let mut grads = GradientsParams::new();
            grads.register(m.rbm.weights.id, gw);
            grads.register(m.rbm.visible_bias.id, g.visible_bias.neg());
            grads.register(m.rbm.hidden_bias.id, g.hidden_bias.neg());
            m = optim.step(0.1, m, grads);
        }
        bits(&m)
    };
    let explicit = config(Some("gradient"), mu, L1, L2);
    let constructed = TrainingConfig::new(CdConfig::new().with_l1(L1).with_l2(L2))
        .with_momentum(mu)
        .with_batch_size(12);
    for (name, tc) in [
        ("absent", &absent),
        ("\"gradient\"", &explicit),
        ("CdConfig::new()", &constructed),
    ] {
        let m = train(
            model(tc, 9, 7, 3, Some(CpuPath::Tensor)),
            tc.optimizer(),
            steps,
        );
        assert!(m.cd.penalty == PenaltyConvention::Gradient, "{name}");
        assert!(bits(&m) == before, "{name}: not the bits from before");
    }
    // Decoupled is another update with momentum: the comparison can fail.
    let decoupled = config(Some("decoupled"), mu, L1, L2);
    let m = train(
        model(&decoupled, 9, 7, 3, Some(CpuPath::Tensor)),
        decoupled.optimizer(),
        steps,
    );
    assert!(bits(&m) != before);
}

#[test]
#[cfg_attr(
    not(kernel_host),
    ignore = "this CPU has none of the fused kernel's instruction sets (AVX-512, AVX2, NEON)"
)]
fn the_fused_kernel_and_the_tensor_reference_agree_on_both_conventions() {
    // 200 × 90 weights: the fused step's padded hidden width (90 → 96) and the optimiser's
    // host pass (kernel/update.rs, from 2¹⁴ elements) on the kernel's side, the tensor step
    // and the same optimiser on the other. Three CD-1 steps with μ = 0.5: the two paths'
    // gradients differ by float rounding (within 2e-6, as the kernel's own test states), so
    // the parameters agree within 1e-5. The penalty moves the weights by ε λ₁ = 5e-4 per step
    // and more, so a path that lost or doubled it would differ by far more.
    let (nv, nh, steps) = (200, 90, 3);
    let kernel = Some(CpuPath::Kernel(Isa::detected()[0]));
    for penalty in ["decoupled", "gradient"] {
        let tc = config(Some(penalty), 0.5, L1, L2);
        let run = |path: Option<CpuPath>| {
            let m = model(&tc, nv, nh, 4, path);
            assert_eq!(m.effective_cpu_path(), path.unwrap(), "{penalty}");
            parameters(&train(m, tc.optimizer(), steps))
        };
        let fused = run(kernel);
        let tensor = run(Some(CpuPath::Tensor));
        for (name, (f, t)) in ["W", "a", "b"].iter().zip(fused.iter().zip(&tensor)) {
            let diff = max_difference(f, t);
            assert!(
                diff < 1e-5,
                "{penalty}: {name} differs by {diff} between the paths"
            );
        }
        let plain = config(Some(penalty), 0.5, 0.0, 0.0);
        let unpenalised = parameters(&train(
            model(&plain, nv, nh, 4, kernel),
            plain.optimizer(),
            steps,
        ));
        let moved = max_difference(&fused[0], &unpenalised[0]);
        assert!(
            moved > 1e-3,
            "{penalty}: the penalty moved W by only {moved}"
        );
    }
}

#[test]
fn the_decoupled_penalty_shrinks_the_weights_and_never_the_biases() {
    // A zero gradient with momentum 0.5 and 0: the weights become W − ε (λ₁ sign W + λ₂ W)
    // (f64 formula, tolerance 1e-7 for values below 1), the biases keep their bits. Both on
    // a small model (the optimiser's tensor operations) and a 200 × 120 one (its host pass).
    for (nv, nh) in [(9, 7), (200, 120)] {
        for mu in [0.5, 0.0] {
            let tc = config(Some("decoupled"), mu, L1, L2);
            let m = model(&tc, nv, nh, 5, None);
            let before = parameters(&m);
            let zeros = |t: Tensor<2>| t.zeros_like();
            let mut grads = GradientsParams::new();
            grads.register(
                m.rbm.weights.id,
                zeros(m.rbm.weights.val().without_autodiff()),
            );
            let a = m.rbm.visible_bias.val().without_autodiff();
            let b = m.rbm.hidden_bias.val().without_autodiff();
            grads.register(m.rbm.visible_bias.id, a.zeros_like());
            grads.register(m.rbm.hidden_bias.id, b.zeros_like());
            let after = parameters(&tc.optimizer().step(0.1, m, grads));
            let want: Vec<f64> = before[0]
                .iter()
                .map(|w| w - 0.1 * (L1 * sign(*w) + L2 * w))
                .collect();
            let diff = max_difference(&after[0], &want);
            assert!(diff < 1e-7, "{nv}×{nh}, μ {mu}: W differs by {diff}");
            assert!(
                after[1] == before[1] && after[2] == before[2],
                "a bias moved"
            );
        }
    }
}
