//! The Fig. 3 pipeline end to end on a small stack (8×8 lattice, 64-16-4) on the CPU: the
//! binary writes every output, they parse, training lowered the reconstruction error of every
//! layer, the run records the Burn version of `Cargo.lock`, and an existing run folder is
//! refused without being touched.

mod common;

use std::path::Path;
use std::process::Command;

use experiments::output::read_json;
use experiments::quality::QualityReport;
use experiments::rg::operators::Operator;
use experiments::rg::{Outcome, RgReport};

fn run(config: &Path, out: &Path, datasets: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fig3"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--datasets", datasets.to_str().unwrap()])
        .output()
        .expect("the fig3 binary runs")
}

#[test]
fn small_stack_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("small.json");
    std::fs::write(&config, common::SMALL_CONFIG).unwrap();
    let out = tmp.path().join("run");
    let datasets = tmp.path().join("datasets");
    let result = run(&config, &out, &datasets);
    assert!(
        result.status.success(),
        "fig3 failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    for name in [
        "config.json",
        "metrics.json",
        "run.json",
        "weights/layer1_W.npy",
        "weights/layer2_hidden_bias.npy",
        "fig3b_top_receptive_fields.png",
        "fig3c_middle_receptive_fields.png",
        "fig3d_receptive_field_size.png",
        "fig3e_reconstructions.png",
        "training_curves.png",
    ] {
        assert!(out.join(name).is_file(), "missing {name}");
    }
    // The run records the Burn version resolved in the workspace's Cargo.lock.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("the workspace's Cargo.lock");
    let locked = lock
        .split("[[package]]")
        .find(|p| p.lines().any(|l| l.trim() == "name = \"burn\""))
        .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .expect("burn in Cargo.lock");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(record["burn_version"], locked.as_str());
    assert_eq!(experiments::BURN_VERSION, locked);
    // The weights are float32 arrays of the architecture's shape.
    let w = std::fs::read(out.join("weights/layer1_W.npy")).unwrap();
    assert!(String::from_utf8_lossy(&w[..80]).contains("'descr': '<f4'"));
    assert!(String::from_utf8_lossy(&w[..80]).contains("(64, 16)"));
    // Every layer's held-out reconstruction error fell during training.
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let layers = metrics["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for layer in layers {
        let valid: Vec<f64> = layer["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["split"] == "valid")
            .map(|e| e["values"]["reconstruction_error"].as_f64().unwrap())
            .collect();
        assert_eq!(valid.len(), 8);
        assert!(
            valid[7] < 0.9 * valid[0],
            "reconstruction error did not fall: {valid:?}"
        );
        // With 2 400 training samples and 8 epochs the model has not overfitted: the
        // free-energy gap is small against the free energies themselves.
        let gap = layer["free_energy_gap"].as_f64().unwrap();
        assert!(gap.is_finite() && gap.abs() < 5.0, "free-energy gap {gap}");
        // Per-epoch held-out metrics: the gap, and the pseudo-log-likelihood per unit, which
        // lies between −1 and 0 (−ln 2 is a uniform model) and rises with training.
        let series = |name: &str| -> Vec<f64> {
            layer["epochs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["split"] == "valid")
                .map(|e| e["values"][name].as_f64().unwrap())
                .collect()
        };
        let gaps = series("free_energy_gap");
        assert!(
            gaps.iter().all(|g| g.is_finite() && g.abs() < 5.0),
            "{gaps:?}"
        );
        // The pseudo-likelihood is defined for binary data only: layer 1 (Ising samples),
        // not layer 2 (trained on layer 1's hidden probabilities).
        if layer["layer"] == 1 {
            let pll = series("pseudo_log_likelihood_per_unit");
            assert!(pll.iter().all(|p| *p < 0.0 && *p > -1.0), "{pll:?}");
            assert!(
                pll[7] > pll[0],
                "the pseudo-likelihood did not rise: {pll:?}"
            );
            let exact = layer["valid_pseudo_log_likelihood_per_unit"]
                .as_f64()
                .unwrap();
            assert!(exact < 0.0 && exact > -1.0, "{exact}");
        } else {
            let first = &layer["epochs"][0]["values"];
            assert!(
                first.get("pseudo_log_likelihood_per_unit").is_none(),
                "{first}"
            );
            assert!(layer["valid_pseudo_log_likelihood_per_unit"].is_null());
        }
    }
    assert_eq!(metrics["receptive_fields"].as_array().unwrap().len(), 2);
    // The first layer in absolute terms: a finite ln Z in both directions with error bars, and
    // a KL per spin from the exact Ising distribution that is positive (an 8×8 lattice
    // trained for 8 epochs is far from exact) and below ln 2 (the uniform model's KL is
    // ln 2 − s, and training lowers it).
    let quality = &metrics["first_layer_quality"];
    for direction in ["forward", "reverse"] {
        let z = &quality[format!("log_partition_{direction}")];
        assert!(z["log_partition"].as_f64().unwrap().is_finite(), "{z}");
        assert!(z["std_error"].as_f64().unwrap() > 0.0, "{z}");
        let kl = quality[format!("kl_per_spin_{direction}")]["value"]
            .as_f64()
            .unwrap();
        let s = quality["entropy_per_spin"].as_f64().unwrap();
        assert!(
            kl > 0.0 && kl < std::f64::consts::LN_2 - s,
            "KL {kl}, entropy {s}"
        );
    }

    // The dataset was stored and is reused (verified against its manifest) by a second run;
    // an existing run folder is refused and left as it was.
    let before = std::fs::read(out.join("metrics.json")).unwrap();
    let again = run(&config, &out, &datasets);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(out.join("metrics.json")).unwrap(), before);
    // A second run with the data reused, checking the first layer's KL every 4 epochs: the
    // checks of epochs 4 and 8 are recorded, and epoch 8's (the final model) agrees with the
    // end-of-run check to within the two AIS estimates' spread (their held-out free energies
    // are the same: 0.005 nats per spin is > 4σ of the difference of two ln Z / N here).
    let run2 = tmp.path().join("run2");
    let second = Command::new(env!("CARGO_BIN_EXE_fig3"))
        .args(["--config", config.to_str().unwrap()])
        .args(["--out", run2.to_str().unwrap()])
        .args(["--datasets", datasets.to_str().unwrap(), "--kl-every", "4"])
        .output()
        .unwrap();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("verified"));
    assert!(String::from_utf8_lossy(&second.stdout).contains("layer 1 epoch 4: KL per spin"));
    let metrics2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run2.join("metrics.json")).unwrap()).unwrap();
    let checks = metrics2["layers"][0]["kl_during_training"]
        .as_array()
        .unwrap();
    let epochs: Vec<u64> = checks
        .iter()
        .map(|c| c["epoch"].as_u64().unwrap())
        .collect();
    assert_eq!(epochs, vec![4, 8]);
    let kl = |c: &serde_json::Value| c["kl_per_spin_forward"]["value"].as_f64().unwrap();
    let end = metrics2["first_layer_quality"]["kl_per_spin_forward"]["value"]
        .as_f64()
        .unwrap();
    assert!(
        (kl(&checks[1]) - end).abs() < 0.005,
        "{} vs {end}",
        kl(&checks[1])
    );
    assert!(kl(&checks[0]) > kl(&checks[1]), "training lowered the KL");
    assert!(run2.join("layer1/kl_during_training.json").is_file());
    assert!(metrics2["layers"][1].get("kl_during_training").is_none());

    check_quality(&out, &datasets);
    check_rg(&out, &datasets);
    // fig3 --force still replaces a run folder that holds quality's and rg's output.
    let forced = Command::new(env!("CARGO_BIN_EXE_fig3"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--datasets", datasets.to_str().unwrap(), "--force"])
        .output()
        .unwrap();
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(!out.join("quality").exists());
    assert!(!out.join("rg").exists());
}

fn rg(run: &Path, datasets: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rg_analysis"))
        .args([run.to_str().unwrap()])
        .args(["--datasets", datasets.to_str().unwrap()])
        .args(["--lattice-samples", "800"])
        .args(extra)
        .output()
        .expect("the rg binary runs")
}

/// `rg` on the small run: every output; the data's own K_eff is the data's coupling (the
/// held-out rows are Monte Carlo samples at K: within 4σ); each layer's units are assigned
/// one-to-one to the 4×4 and 2×2 coarse lattices; an existing output is refused untouched,
/// and a bad flag names itself.
fn check_rg(run: &Path, datasets: &Path) {
    let result = rg(run, datasets, &[]);
    assert!(
        result.status.success(),
        "rg failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = run.join("rg");
    for name in [
        "rg.json",
        "layer1_assignment.png",
        "layer2_assignment.png",
        "couplings.png",
        "mcrg.png",
    ] {
        assert!(dir.join(name).is_file(), "missing rg/{name}");
    }
    let report: RgReport = read_json(&dir.join("rg.json")).unwrap();
    let k = report.coupling;
    let fit = &report.data.coupling;
    let (k_eff, sigma) = (fit.k_eff.unwrap(), fit.error().unwrap());
    assert!(
        (k_eff - k).abs() < 4.0 * sigma,
        "data K_eff {k_eff} ± {sigma} vs K = {k}"
    );
    // The data's effective Hamiltonian is the Ising model at K: K₁ = K, h = K₂ = K₃ = K₄ = 0,
    // each within 4σ.
    let hamiltonian = report.data.hamiltonian.measured().unwrap();
    assert_eq!(hamiltonian.couplings.len(), 5);
    for c in &hamiltonian.couplings {
        let expected = if c.operator == Operator::Nearest {
            k
        } else {
            0.0
        };
        assert!(
            c.value.sigmas_from(expected) < 4.0,
            "data {:?}: {}, expected {expected}",
            c.operator,
            c.value
        );
    }
    let layers = &report.layers;
    assert_eq!(layers.len(), 2);
    // MCRG needs a coarse lattice of 3×3 or more: layer 1 (8×8 → 4×4) has it, layer 2 (2×2)
    // says why not.
    let mcrg = |l: usize| &layers[l].mcrg.as_ref().unwrap().stack;
    assert!(!mcrg(0).measured().unwrap().thermal.is_empty());
    match mcrg(1) {
        Outcome::Failed(why) => assert!(why.contains("3×3"), "{why}"),
        other => panic!("layer 2's MCRG: {other:?}"),
    }
    for (layer, (units, side)) in layers.iter().zip([(16, 2), (4, 4)]) {
        assert_eq!(layer.assignment.block_side, side);
        let mut sites = layer.assignment.site_of_unit.clone();
        sites.sort_unstable();
        assert_eq!(sites, (0..units).collect::<Vec<usize>>());
    }
    let before = std::fs::read(dir.join("rg.json")).unwrap();
    let again = rg(run, datasets, &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    assert_eq!(std::fs::read(dir.join("rg.json")).unwrap(), before);
    let bad = rg(run, datasets, &["--force", "--rows", "5"]);
    assert!(!bad.status.success());
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(message.contains("--rows must be at least 40"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    assert_eq!(std::fs::read(dir.join("rg.json")).unwrap(), before);
}

fn quality(run: &Path, datasets: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quality"))
        .args([run.to_str().unwrap()])
        .args(["--datasets", datasets.to_str().unwrap()])
        .args([
            "--chains",
            "20",
            "--burn-in",
            "300",
            "--sweeps",
            "600",
            "--thin",
            "3",
        ])
        .args(["--ais-runs", "20", "--ais-repetitions", "4"])
        .args(extra)
        .output()
        .expect("the quality binary runs")
}

/// `quality` on the small run: every output, ln Z bracketed and, for these enumerable
/// layers (16 and 4 hidden units), agreeing with the exact value; a KL per spin between 0
/// and the uniform model's; generators whose z-scores and fitted coupling are finite; an
/// existing output refused without --force and replaced with it.
fn check_quality(run: &Path, datasets: &Path) {
    let result = quality(run, datasets, &[]);
    assert!(
        result.status.success(),
        "quality failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let dir = run.join("quality");
    for name in [
        "quality.json",
        "correlation.png",
        "energy_histogram.png",
        "magnetization_histogram.png",
        "log_partition.png",
    ] {
        assert!(dir.join(name).is_file(), "missing {name}");
    }
    let q: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("quality.json")).unwrap()).unwrap();
    let layers = q["log_partition"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    for layer in layers {
        let exact = layer["log_partition_exact"].as_f64().expect("enumerable");
        let side = |key: &str| {
            let z = &layer[key];
            (
                z["log_partition"].as_f64().unwrap(),
                z["std_error"].as_f64().unwrap(),
            )
        };
        // Both sides within 4 standard errors and 0.1 nats of the exact value.
        for key in ["log_partition_forward", "log_partition_reverse"] {
            let (value, error) = side(key);
            eprintln!(
                "layer {}: {key} {value:.4} ± {error:.4}, exact {exact:.4}",
                layer["layer"]
            );
            assert!(error > 0.0, "{key}: {layer}");
            assert!(
                (value - exact).abs() < (4.0 * error).max(0.02) && (value - exact).abs() < 0.1,
                "{key} {value} ± {error} vs exact {exact}"
            );
        }
    }
    let s = q["first_layer"]["entropy_per_spin"].as_f64().unwrap();
    for side in ["forward", "reverse"] {
        let kl = q["first_layer"]["kl_per_spin"][side]["value"]
            .as_f64()
            .unwrap();
        assert!(kl > 0.0 && kl < std::f64::consts::LN_2 - s, "KL {kl}");
    }
    let generators = q["generators"].as_array().unwrap();
    assert_eq!(generators.len(), 2);
    for g in generators {
        for key in [
            "energy_per_spin",
            "specific_heat",
            "abs_magnetization",
            "correlation_1",
        ] {
            assert!(
                g["z_scores"][key].as_f64().unwrap().is_finite(),
                "{key}: {g}"
            );
        }
    }
    // Two measures of how hot a generator runs agree in direction where the first is clear:
    // the z-score of its E/N against the exact value at K, and the coupling whose exact E/N it
    // has (a higher energy is a lower coupling).
    let typed: QualityReport = read_json(&dir.join("quality.json")).unwrap();
    for g in &typed.generators {
        let z = g.z_scores["energy_per_spin"];
        let k_fit = g.coupling_fit.unwrap().value;
        if z.abs() > 3.0 {
            assert_eq!(
                z.signum(),
                (typed.coupling - k_fit).signum(),
                "{}: z {z}, K_fit {k_fit}, K {}",
                g.generator,
                typed.coupling
            );
        }
        // An integrated autocorrelation time of positively correlated chains is at least ½.
        assert!(g.tau_int_energy_sweeps >= 0.5, "{}", g.generator);
    }
    // The data are measured the same way: the exact energy within 4 standard errors.
    let data = q["data"]["energy_per_spin"]["value"].as_f64().unwrap();
    let error = q["data"]["energy_per_spin"]["std_error"].as_f64().unwrap();
    let exact = q["exact"]["energy_per_spin"].as_f64().unwrap();
    assert!(
        (data - exact).abs() < 4.0 * error,
        "{data} ± {error} vs {exact}"
    );

    let before = std::fs::read(dir.join("quality.json")).unwrap();
    let again = quality(run, datasets, &[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    assert_eq!(std::fs::read(dir.join("quality.json")).unwrap(), before);
    let forced = quality(run, datasets, &["--force", "--seed", "9"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read(dir.join("quality.json")).unwrap(), before);
}
