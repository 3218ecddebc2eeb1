//! The pieces of the Iso–Shiba–Yokoo RBM flow (`experiments::isy`) against independent
//! answers: the temperature readout on Wolff samples of known coupling and on exact energies,
//! the flow operator on RBMs whose flow is known in closed form, and a tiny end-to-end run of
//! `isy_flow` with its refusals of bad flags.

use std::path::Path;
use std::process::{Command, Output};

use burn::prelude::*;
use experiments::isy::{
    Start, flow_step, rbm_flow, read_out, spins_from_bernoulli, temperature_fit,
};
use ising_data::config::Checked;
use ising_data::exact::{coupling_at_energy_2d, kaufman_energy_per_spin};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{Estimate, Lattice};
use rbm::tensor::to_vec;
use rbm::{Noise, Propagation, Rbm, Units};

/// An RBM of 100 Bernoulli visible units and `hidden` Bernoulli hidden units with every weight
/// `w` and the biases `a` (visible) and `b` (hidden).
fn uniform_rbm(hidden: usize, w: f32, a: f32, b: f32) -> Rbm {
    let d = Device::flex();
    Rbm::from_parameters(
        Tensor::full([100, hidden], w, &d),
        Tensor::full([100], a, &d),
        Tensor::full([hidden], b, &d),
        Units::Bernoulli,
        Units::Bernoulli,
    )
}

#[test]
fn the_readout_recovers_the_coupling_of_wolff_samples() {
    // 4 000 Wolff samples of the periodic 10×10 lattice (10 sweeps apart, far beyond τ_int)
    // at three couplings on both sides of K_c = 0.4407: K_fit from their mean energy must be
    // within 4 standard errors of K, and the error small enough to mean something.
    for (k, seed) in [(0.3, 11), (0.44, 12), (0.6, 13)] {
        let config = GenerateConfig::new(Lattice::Square { l: 10 }, k, 4_000, seed);
        let spins = generate(&config.validated().unwrap(), &|_| {}).spins;
        let readout = read_out(10, &spins);
        let fit = readout.fit.coupling_fit.expect("a finite fit");
        let t = readout.fit.temperature_fit.expect("a finite T_fit");
        eprintln!("K = {k}: K_fit {fit}, T_fit {t}");
        assert!(
            fit.std_error > 0.0 && fit.std_error < 0.01,
            "K = {k}: {fit}"
        );
        assert!(fit.sigmas_from(k) < 4.0, "K = {k}: K_fit {fit}");
        assert!((t.value * fit.value - 1.0).abs() < 1e-12);
        assert!(t.sigmas_from(1.0 / k) < 4.0, "K = {k}: T_fit {t}");
    }
}

#[test]
fn the_readout_inverts_the_exact_energy_and_propagates_its_error() {
    // Kaufman's exact energy at K = 0.4 reads back as K = 0.4; its error is the energy's
    // times dK/du, compared with a central difference of the inversion itself.
    let u = kaufman_energy_per_spin(10, 10, 0.4);
    let fit = temperature_fit(
        10,
        Estimate {
            value: u,
            std_error: 1e-3,
        },
    );
    let k = fit.coupling_fit.unwrap();
    assert!((k.value - 0.4).abs() < 1e-9, "{k}");
    let h = 1e-5;
    let slope = (coupling_at_energy_2d(10, 10, u - h).unwrap()
        - coupling_at_energy_2d(10, 10, u + h).unwrap())
        / (2.0 * h);
    assert!(
        (k.std_error - 1e-3 * slope).abs() < 1e-3 * slope * 1e-4,
        "{} vs {}",
        k.std_error,
        1e-3 * slope
    );
    let t = fit.temperature_fit.unwrap();
    assert!((t.std_error - k.std_error / 0.16).abs() < 1e-12 * t.std_error.max(1.0) + 1e-12);

    // The limits: fully aligned configurations read T_fit = 0 with no finite K_fit; energies
    // at or above 0 (here the antiferromagnetic checkerboard, E/N = +2) have neither.
    let up = read_out(10, &[1i8; 300]);
    assert_eq!(up.energy_per_spin.value, -2.0);
    assert_eq!(up.fit.coupling_fit, None);
    assert_eq!(up.fit.temperature_fit.map(|t| t.value), Some(0.0));
    let checkerboard: Vec<i8> = (0..100)
        .map(|i| if (i / 10 + i % 10) % 2 == 0 { 1 } else { -1 })
        .collect();
    let hot = read_out(10, &checkerboard);
    assert_eq!(hot.energy_per_spin.value, 2.0);
    assert_eq!(hot.fit.coupling_fit, None);
    assert_eq!(hot.fit.temperature_fit, None);
    // One flipped spin in 1 000 aligned configurations is no longer T = 0.
    let mut almost = vec![1i8; 100_000];
    almost[0] = -1;
    let cold = read_out(10, &almost);
    let t = cold.fit.temperature_fit.unwrap().value;
    assert!(t > 0.0 && t < 1.0, "{t}");
}

#[test]
fn with_no_couplings_the_flow_gives_independent_spins() {
    // W = 0: one step gives independent spins, up with probability σ(a) whatever the start
    // (hot here, cold below). With a = 0: ⟨m⟩ = 0, E/N = 0, and the spread of E/N is that of
    // 200 independent bonds, √200/100 = 0.1414. Within 4 standard errors (5 % for the spread).
    let rbm = uniform_rbm(100, 0.0, 0.0, 0.0);
    let device = Device::flex();
    let mut noise = Noise::new(1);
    let v0 = Start::Cold.configurations(4_000, 100, &mut noise, &device);
    let v1 = flow_step(&rbm, v0, Propagation::Sample, &mut noise);
    let r = read_out(10, &spins_from_bernoulli(&to_vec::<f32, 2>(v1).unwrap()));
    assert!(
        r.magnetization.sigmas_from(0.0) < 4.0,
        "{:?}",
        r.magnetization
    );
    assert!(
        r.energy_per_spin.sigmas_from(0.0) < 4.0,
        "{:?}",
        r.energy_per_spin
    );
    assert!(
        (r.energy_std / 200f64.sqrt() * 100.0 - 1.0).abs() < 0.05,
        "{}",
        r.energy_std
    );
    match r.fit.coupling_fit {
        None => assert!(r.fit.temperature_fit.is_none()),
        Some(k) => assert!(k.sigmas_from(0.0) < 4.0, "{k}"),
    }

    // a = 1: ⟨s⟩ = tanh(½), so ⟨m⟩ = tanh(½) and E/N = −2 tanh²(½) exactly.
    let rbm = uniform_rbm(100, 0.0, 1.0, 0.0);
    let mut noise = Noise::new(2);
    let v0 = Start::Hot.configurations(4_000, 100, &mut noise, &device);
    let v1 = flow_step(&rbm, v0, Propagation::Mean, &mut noise);
    let r = read_out(10, &spins_from_bernoulli(&to_vec::<f32, 2>(v1).unwrap()));
    let s = 0.5f64.tanh();
    assert!(
        r.magnetization.sigmas_from(s) < 4.0,
        "{:?} vs {s}",
        r.magnetization
    );
    assert!(
        r.energy_per_spin.sigmas_from(-2.0 * s * s) < 4.0,
        "{:?} vs {}",
        r.energy_per_spin,
        -2.0 * s * s
    );
}

#[test]
fn a_strong_visible_bias_flows_to_all_up_at_t_zero() {
    // W = 0, a = 20: σ(20) rounds to 1 in f32, so every flowed spin is up, from either start,
    // at every iteration: E/N = −2, |m| = 1, T_fit = 0 exactly and no finite K_fit.
    let rbm = uniform_rbm(100, 0.0, 20.0, 0.0);
    let device = Device::flex();
    for start in Start::ALL {
        let mut noise = Noise::new(3);
        let v0 = start.configurations(500, 100, &mut noise, &device);
        let points = rbm_flow(&rbm, v0, 10, 3, Propagation::Sample, &mut noise).unwrap();
        assert_eq!(points.len(), 4);
        if start == Start::Hot {
            let r = &points[0].readout;
            assert!(r.abs_magnetization.value < 0.2, "a random start: {:?}", r);
        }
        for p in &points[1..] {
            let r = &p.readout;
            assert_eq!(r.energy_per_spin.value, -2.0);
            assert_eq!(r.abs_magnetization.value, 1.0);
            assert_eq!(r.fit.coupling_fit, None);
            assert_eq!(r.fit.temperature_fit.map(|t| t.value), Some(0.0));
        }
    }
}

#[test]
fn the_hidden_layer_is_sampled_or_averaged_as_asked() {
    // One hidden unit with weight 2 to every visible unit, hidden bias −200, visible biases 0,
    // from all up: the hidden input is 0, so p(h = 1) = ½. Sampled h: each configuration is
    // independent spins up with probability σ(2) (h = 1) or ½ (h = 0), so ⟨m⟩ = ½(2σ(2) − 1)
    // = 0.3808; mean h = ½: spins up with probability σ(1), ⟨m⟩ = tanh(½) = 0.4621.
    // Each within 4 standard errors (≈ 0.006 and 0.002 with 4 000 starts).
    let rbm = uniform_rbm(1, 2.0, 0.0, -200.0);
    let device = Device::flex();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    for (hidden, expected) in [
        (Propagation::Sample, sigmoid(2.0) - 0.5),
        (Propagation::Mean, 0.5f64.tanh()),
    ] {
        let mut noise = Noise::new(4);
        let v0 = Start::Cold.configurations(4_000, 100, &mut noise, &device);
        let points = rbm_flow(&rbm, v0, 10, 1, hidden, &mut noise).unwrap();
        let m = points[1].readout.magnetization;
        assert!(
            m.sigmas_from(expected) < 4.0,
            "{hidden:?}: ⟨m⟩ {m} vs {expected}"
        );
    }
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isy_flow"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("isy_flow runs")
}

#[test]
fn a_tiny_run_writes_the_report_and_the_figure() {
    // Two temperatures, 100 samples each, 2 epochs, 3 iterations of 20 starts: every file and
    // key exists, and every number is finite where it must be.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    let o = run(
        &[
            "--out",
            out.to_str().unwrap(),
            "--temperatures",
            "1,3",
            "--samples",
            "100",
            "--epochs",
            "2",
            "--starts",
            "20",
            "--iterations",
            "3",
            "--control-max-t",
            "2",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "isy_flow failed: {stderr}");
    assert!(
        stderr.contains("epoch 2/2"),
        "no training progress: {stderr}"
    );
    let png = std::fs::read(out.join("isy-flow.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("isy.json")).unwrap()).unwrap();
    let tc = report["critical_temperature"].as_f64().unwrap();
    assert!((tc - 2.269_185_314_213_022).abs() < 1e-12);
    assert_eq!(report["options"]["epochs"], 2);
    assert_eq!(report["data"].as_array().unwrap().len(), 2);
    let models = report["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"], "all");
    assert_eq!(models[0]["training_rows"], 300);
    assert_eq!(models[1]["name"], "control");
    assert_eq!(models[1]["training_rows"], 200);
    assert_eq!(models[1]["temperatures"], serde_json::json!([1.0]));
    let finite = |v: &serde_json::Value| v.as_f64().is_some_and(f64::is_finite);
    for model in models {
        assert!(
            model["reconstruction_error"]
                .as_array()
                .unwrap()
                .iter()
                .all(finite)
        );
        let flows = model["flows"].as_array().unwrap();
        assert_eq!(flows.len(), 2);
        assert_eq!(flows[0]["start"], "cold");
        assert_eq!(flows[1]["start"], "hot");
        for flow in flows {
            let points = flow["points"].as_array().unwrap();
            assert_eq!(points.len(), 4);
            for (i, p) in points.iter().enumerate() {
                assert_eq!(p["iteration"], i);
                for key in ["energy_per_spin", "abs_magnetization", "magnetization"] {
                    assert!(
                        finite(&p[key]["value"]) && finite(&p[key]["std_error"]),
                        "{key}: {p}"
                    );
                }
                for key in ["temperature_fit", "coupling_fit"] {
                    let v = &p[key];
                    assert!(
                        v.is_null() || (finite(&v["value"]) && finite(&v["std_error"])),
                        "{key}: {p}"
                    );
                }
            }
            // The cold start is all up: T_fit = 0 and |m| = 1.
            if flow["start"] == "cold" {
                assert_eq!(points[0]["temperature_fit"]["value"], 0.0);
                assert_eq!(points[0]["abs_magnetization"]["value"], 1.0);
            }
        }
    }
}

#[test]
fn bad_flags_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flow");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--epochs", "0"], "--epochs"),
        (vec!["--starts", "0"], "--starts"),
        (vec!["--control-max-t", "10"], "--control-max-t"),
        (vec!["--control-max-t", "0.1"], "--control-max-t"),
        (vec!["--temperatures", "1,-2"], "--temperatures"),
        (
            vec!["--flow-hidden", "both"],
            "[possible values: mean, sample]",
        ),
        (
            vec!["--device", "tpu"],
            "invalid value 'tpu' for '--device <DEVICE>'",
        ),
    ] {
        let mut all = vec!["--out", out];
        all.extend(&args);
        let o = run(&all, dir.path());
        let e = String::from_utf8_lossy(&o.stderr);
        // A value outside a closed choice is a usage error (clap's status 2), the rest 1.
        let usage = e.contains("possible values");
        assert_eq!(
            o.status.code(),
            Some(if usage { 2 } else { 1 }),
            "{args:?}: {e}"
        );
        assert!(e.contains(needle), "{args:?} should name {needle}: {e}");
        assert!(
            !e.contains("panicked") && !e.contains("internal error"),
            "{e}"
        );
        assert!(
            !Path::new(out).exists(),
            "{args:?} created the output folder"
        );
    }
}
