//! Likelihood estimators against exact answers: AIS against enumeration, pseudo-likelihood
//! against a brute-force host computation, the exact Ising KL against a closed form.

mod common;

use burn::prelude::*;
use common::{kernel_path, random_rbm, rows_tensor};
use ising_data::Lattice;
use rbm::eval::ais::{
    AisConfig, ais_log_partition, ais_log_partition_batch, ais_log_partition_repeated,
    ais_reverse_log_partition, ais_reverse_log_partition_batch,
};
use rbm::eval::exact::{HostRbm, state};
use rbm::eval::likelihood::{
    free_energy_gap, ising_kl_per_spin_exact, pseudo_log_likelihood,
    pseudo_log_likelihood_stochastic,
};
use rbm::{CpuPath, Rbm, Units};

#[test]
fn ais_matches_the_exact_log_partition_of_a_16x8_rbm() {
    // Non-trivial weights (uniform in ±1.5 gives couplings well beyond the base-rate
    // model). Reference: exact enumeration of the 2^8 hidden states.
    let _rng = common::seeded(7);
    for (vu, hu, seed) in [
        (Units::Bernoulli, Units::Bernoulli, 1),
        (Units::Spin, Units::Spin, 2),
    ] {
        let rbm = random_rbm(16, 8, vu, hu, 1.5, seed);
        let exact = HostRbm::from_rbm(&rbm)
            .unwrap()
            .log_partition_exact()
            .unwrap();
        let est = ais_log_partition(&rbm, None, &AisConfig::default()).unwrap();
        let diff = (est.log_partition - exact).abs();
        assert!(
            diff < 3.0 * est.std_error && diff < 0.1,
            "{vu:?}/{hu:?}: AIS {} ± {}, exact {exact}",
            est.log_partition,
            est.std_error
        );
        assert!(
            est.std_error < 0.05,
            "error bar {} too wide to mean anything",
            est.std_error
        );
    }
}

#[test]
fn pseudo_likelihood_matches_a_brute_force_computation() {
    for (vu, hu) in [
        (Units::Bernoulli, Units::Bernoulli),
        (Units::Spin, Units::Gaussian),
    ] {
        let rbm = random_rbm(6, 4, vu, hu, 1.0, 3);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let rows: Vec<Vec<f64>> = (0..64u64).map(|i| state(vu, 6, (i * 37) % 64)).collect();
        // Reference: ln p(v_i | v_{−i}) = −F(v) − ln(e^{−F(v)} + e^{−F(v with i flipped)}).
        let [lo, hi] = vu.values().unwrap();
        let mut total = 0.0;
        for v in &rows {
            for i in 0..6 {
                let mut f = v.clone();
                f[i] = if v[i] == lo { hi } else { lo };
                let (a, b) = (-host.free_energy(v), -host.free_energy(&f));
                let m = a.max(b);
                total += a - (m + ((a - m).exp() + (b - m).exp()).ln());
            }
        }
        let reference = total / (64.0 * 6.0);
        let pll = pseudo_log_likelihood(&rbm, rows_tensor(&rows)).unwrap();
        assert!(
            (pll - reference).abs() < 1e-5,
            "{vu:?}/{hu:?}: {pll} vs {reference}"
        );
        // The stochastic estimate is unbiased: its mean over 400 seeds is within 4 standard
        // errors of the exact value.
        let draws: Vec<f64> = (0..400)
            .map(|s| pseudo_log_likelihood_stochastic(&rbm, rows_tensor(&rows), s).unwrap())
            .collect();
        let mean = draws.iter().sum::<f64>() / 400.0;
        let sd = (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        assert!(
            (mean - reference).abs() < 4.0 * sd / 20.0,
            "{mean} vs {reference} (sd {sd})"
        );
    }
}

#[test]
fn free_energy_gap_is_the_difference_of_mean_free_energies() {
    let rbm = random_rbm(6, 4, Units::Bernoulli, Units::Bernoulli, 1.0, 4);
    let host = HostRbm::from_rbm(&rbm).unwrap();
    let train: Vec<Vec<f64>> = (0..20).map(|i| state(Units::Bernoulli, 6, i)).collect();
    let valid: Vec<Vec<f64>> = (20..64).map(|i| state(Units::Bernoulli, 6, i)).collect();
    let mean_f = |rows: &[Vec<f64>]| {
        rows.iter().map(|v| host.free_energy(v)).sum::<f64>() / rows.len() as f64
    };
    let gap = free_energy_gap(&rbm, rows_tensor(&train), rows_tensor(&valid));
    assert!((gap - (mean_f(&valid) - mean_f(&train))).abs() < 1e-4);
}

#[test]
fn kl_of_the_uniform_model_is_ln2_minus_the_ising_entropy() {
    // A model with no parameters is uniform over 2^N states: KL/N = ln 2 − s, with s the
    // exact entropy per spin (enumeration in ising-data).
    let d = Device::flex();
    for units in [Units::Bernoulli, Units::Spin] {
        let rbm = Rbm::from_parameters(
            Tensor::zeros([9, 3], &d),
            Tensor::zeros([9], &d),
            Tensor::zeros([3], &d),
            units,
            Units::Bernoulli,
        );
        let k = 0.4;
        let kl = ising_kl_per_spin_exact(
            &HostRbm::from_rbm(&rbm).unwrap(),
            &Lattice::Square { l: 3 },
            k,
        )
        .unwrap();
        let s = ising_data::exact::enumerate_square(3, 3, k).entropy_per_spin;
        assert!(
            (kl - (std::f64::consts::LN_2 - s)).abs() < 1e-12,
            "{kl} vs {}",
            std::f64::consts::LN_2 - s
        );
    }
}

#[test]
fn ais_increments_keep_their_digits_at_small_steps_of_beta() {
    // One AIS increment Σ_j [L(β' x_j) − L(β x_j)] of 400 hidden units with inputs of the
    // paper's first layer's size (|x| up to ~20), at the ladder's last step size
    // Δβ = 1e-5 near β = 1: computed in f32 per unit without cancellation
    // (Units::log_partition_step) it agrees with the f64 value of the same inputs to 1e-4
    // relative; the difference of the two f32 sums it replaces is off by far more.
    let device = Device::flex();
    let (rows, nh) = (16, 400);
    let x32: Vec<f32> = rbm::Noise::new(3)
        .normals(rows * nh)
        .iter()
        .map(|z| 8.0 * z)
        .collect();
    let x = Tensor::<2>::from_data(TensorData::new(x32.clone(), [rows, nh]), &device);
    let (b0, b1) = (0.99, 0.99 + 1e-5);
    for units in [Units::Bernoulli, Units::Spin, Units::Gaussian] {
        let stable = units.log_partition_step(x.clone(), b0, b1).sum_dim(1);
        let stable = rbm::tensor::to_vec::<f32, 2>(stable).unwrap();
        let naive = (units.log_partition_tensor(x.clone() * b1)
            - units.log_partition_tensor(x.clone() * b0))
        .sum_dim(1);
        let naive = rbm::tensor::to_vec::<f32, 2>(naive).unwrap();
        let (mut worst_stable, mut worst_naive) = (0.0f64, 0.0f64);
        for r in 0..rows {
            let exact: f64 = x32[r * nh..(r + 1) * nh]
                .iter()
                .map(|&x| units.log_partition(b1 * x as f64) - units.log_partition(b0 * x as f64))
                .sum();
            worst_stable = worst_stable.max(((stable[r] as f64 - exact) / exact).abs());
            worst_naive = worst_naive.max(((naive[r] as f64 - exact) / exact).abs());
        }
        assert!(
            worst_stable < 1e-4,
            "{units:?}: relative error {worst_stable:e}"
        );
        if units != Units::Gaussian {
            assert!(
                worst_naive > 10.0 * worst_stable.max(1e-6),
                "{units:?}: the naive difference ({worst_naive:e}) should lose digits"
            );
        }
    }
}

#[test]
fn a_single_ais_run_reports_no_standard_error() {
    let rbm = random_rbm(8, 4, Units::Bernoulli, Units::Bernoulli, 0.5, 4);
    let one = ais_log_partition(
        &rbm,
        None,
        &AisConfig {
            runs: 1,
            segments: vec![(1.0, 100)],
            seed: 1,
            cpu_path: None,
        },
    )
    .unwrap();
    assert!(one.log_partition.is_finite() && one.std_error.is_nan());
}

#[test]
fn exact_samples_follow_the_visible_marginal() {
    // 20 000 samples of a 6×4 RBM (64 visible states) against p(v) by enumeration: χ² at the
    // 0.1% level, for Bernoulli and spin units.
    for (vu, hu, seed) in [
        (Units::Bernoulli, Units::Bernoulli, 1u64),
        (Units::Spin, Units::Spin, 2),
    ] {
        let rbm = random_rbm(6, 4, vu, hu, 1.2, seed);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let n = 20_000;
        let mut rng = ising_data::rng::Xoshiro256pp::seed_from_u64(seed);
        let samples = host.sample_visible_exact(n, &mut rng).unwrap();
        let states: Vec<Vec<f64>> = (0..64).map(|i| state(vu, 6, i)).collect();
        let flat: Vec<f64> = states.iter().flatten().copied().collect();
        let p = common::visible_probabilities(&host, &flat);
        let mut counts = vec![0.0; 64];
        for row in samples.chunks(6) {
            let i = states.iter().position(|s| s == row).expect("a valid state");
            counts[i] += 1.0;
        }
        let (chi2, critical) = common::chi2_test(&counts, &p, n as f64);
        assert!(chi2 < critical, "{vu:?}: chi2 {chi2:.1} > {critical:.1}");
    }
}

#[test]
fn forward_and_reverse_ais_bracket_the_exact_log_partition() {
    // 16×8 and 20×10 RBMs with non-trivial weights (uniform in ±1.5). Forward AIS (400 runs
    // from the base-rate model) and reverse AIS (400 runs from exact samples of the RBM), on
    // Salakhutdinov & Murray's ladder, both agree with the exact ln Z (enumeration of the
    // hidden layer) within 3 standard errors and 0.05 nats, on tensor operations and, for
    // Bernoulli units, on the fused kernel. Fixed keys: reproducible.
    for (nv, nh, vu, seed) in [
        (16, 8, Units::Bernoulli, 5u64),
        (20, 10, Units::Bernoulli, 6),
        (16, 8, Units::Spin, 7),
    ] {
        let rbm = random_rbm(nv, nh, vu, vu, 1.5, seed);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let exact = host.log_partition_exact().unwrap();
        let paths = match vu {
            Units::Bernoulli => vec![CpuPath::Tensor, kernel_path()],
            _ => vec![CpuPath::Tensor],
        };
        for path in paths {
            let config = AisConfig {
                runs: 400,
                seed,
                ..AisConfig::default()
            }
            .with_cpu_path(path);
            let forward = ais_log_partition(&rbm, None, &config).unwrap();
            let mut rng = ising_data::rng::Xoshiro256pp::seed_from_u64(seed);
            let start: Vec<f32> = host
                .sample_visible_exact(config.runs, &mut rng)
                .unwrap()
                .iter()
                .map(|&x| x as f32)
                .collect();
            let start =
                Tensor::<2>::from_data(TensorData::new(start, [config.runs, nv]), &Device::flex());
            let reverse = ais_reverse_log_partition(&rbm, None, &config, start).unwrap();
            for (name, est) in [("forward", forward), ("reverse", reverse)] {
                eprintln!(
                    "{nv}x{nh} {vu:?} {path:?} {name}: {:.4} ± {:.4} (ESS {:.0}), exact {exact:.4}",
                    est.log_partition, est.std_error, est.effective_sample_size
                );
                let diff = (est.log_partition - exact).abs();
                assert!(
                    diff < 3.0 * est.std_error && diff < 0.05,
                    "{nv}x{nh} {vu:?} {path:?} {name}: {} ± {}, exact {exact}",
                    est.log_partition,
                    est.std_error
                );
                assert!(est.std_error > 0.0 && est.effective_sample_size > 1.0);
            }
        }
    }
}

#[test]
fn ais_on_the_kernel_agrees_with_tensor_operations() {
    // A Bernoulli RBM of 40 visible and 12 hidden units (a hidden width the kernel pads to
    // 16), couplings of scale 1, forward AIS from a base-rate model with biases uniform in
    // ±1 and reverse AIS from random rows, 60 runs on a ladder of 600 steps. Both paths draw
    // the same numbers in the same order, so a chain makes the same moves on both until f32
    // rounding flips one draw: the estimates agree to within a tenth of their standard
    // error, while the spread of independent estimates is one standard error.
    let (nv, nh) = (40, 12);
    let rbm = random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 1.0, 11);
    let mut s = 12u64;
    let base: Vec<f32> = (0..nv).map(|_| common::lcg(&mut s) as f32).collect();
    let base = Tensor::<1>::from_data(TensorData::new(base, [nv]), &Device::flex());
    let rows: Vec<Vec<f64>> = (0..60)
        .map(|_| {
            (0..nv)
                .map(|_| f64::from(common::lcg(&mut s) > 0.0))
                .collect()
        })
        .collect();
    let config = AisConfig {
        runs: 60,
        segments: vec![(0.5, 100), (1.0, 500)],
        seed: 13,
        cpu_path: None,
    };
    let estimates = |path: CpuPath| {
        let config = config.clone().with_cpu_path(path);
        let forward = ais_log_partition(&rbm, Some(base.clone()), &config).unwrap();
        let start = rows_tensor(&rows);
        let reverse = ais_reverse_log_partition(&rbm, Some(base.clone()), &config, start);
        [forward, reverse.unwrap()]
    };
    let (tensor, kernel) = (estimates(CpuPath::Tensor), estimates(kernel_path()));
    for (name, t, k) in [
        ("forward", tensor[0], kernel[0]),
        ("reverse", tensor[1], kernel[1]),
    ] {
        eprintln!(
            "{name}: tensor {:.5} ± {:.5}, kernel {:.5} ± {:.5}",
            t.log_partition, t.std_error, k.log_partition, k.std_error
        );
        assert_eq!(t.log_partition_base, k.log_partition_base);
        assert!(
            (t.log_partition - k.log_partition).abs() < 0.1 * t.std_error,
            "{name}: tensor {t:?}, kernel {k:?}"
        );
    }
}

#[test]
fn a_batch_of_ais_runs_gives_the_estimates_of_its_runs_one_at_a_time() {
    // Three forward and three reverse configurations (20, 30 and 10 runs, their own keys) of
    // a 24×10 Bernoulli RBM on the fused kernel: computed as one batch of rows, each estimate
    // is bit-identical to the configuration's own (each row's arithmetic and random numbers
    // do not depend on the other rows). Configurations with different ladders are refused.
    let (nv, nh) = (24, 10);
    let rbm = random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 1.0, 21);
    let path = kernel_path();
    let configs: Vec<AisConfig> = [(20, 1u64), (30, 2), (10, 3)]
        .into_iter()
        .map(|(runs, seed)| AisConfig {
            runs,
            segments: vec![(0.5, 50), (1.0, 200)],
            seed,
            cpu_path: Some(path),
        })
        .collect();
    let batch = ais_log_partition_batch(&rbm, None, &configs).unwrap();
    for (config, batched) in configs.iter().zip(&batch) {
        assert_eq!(*batched, ais_log_partition(&rbm, None, config).unwrap());
    }
    let mut s = 22u64;
    let mut start = |rows: usize| {
        let rows: Vec<Vec<f64>> = (0..rows)
            .map(|_| {
                (0..nv)
                    .map(|_| f64::from(common::lcg(&mut s) > 0.0))
                    .collect()
            })
            .collect();
        rows_tensor(&rows)
    };
    let runs: Vec<(AisConfig, Tensor<2>)> =
        configs.iter().map(|c| (c.clone(), start(c.runs))).collect();
    let batch = ais_reverse_log_partition_batch(&rbm, None, runs.clone()).unwrap();
    for ((config, start), batched) in runs.into_iter().zip(&batch) {
        assert_eq!(
            *batched,
            ais_reverse_log_partition(&rbm, None, &config, start).unwrap()
        );
    }
    let mut mixed = configs.clone();
    mixed[1].segments = vec![(1.0, 100)];
    let e = ais_log_partition_batch(&rbm, None, &mixed).unwrap_err();
    assert!(e.to_string().contains("ladder"), "{e}");
}

#[test]
fn repeated_ais_gives_an_error_bar_from_its_spread() {
    // Eight repetitions of 50 runs on a 16×8 RBM: the mean is within 3 of its standard errors
    // (the repetitions' spread over √8) of the exact ln Z, and that error agrees with the
    // delta-method errors of the repetitions (their mean over √8) within a factor of 3.
    let rbm = random_rbm(16, 8, Units::Bernoulli, Units::Bernoulli, 1.5, 8);
    let exact = HostRbm::from_rbm(&rbm)
        .unwrap()
        .log_partition_exact()
        .unwrap();
    let config = AisConfig {
        runs: 50,
        seed: 3,
        ..AisConfig::default()
    };
    let repeated = ais_log_partition_repeated(&rbm, None, &config, 8).unwrap();
    assert_eq!(repeated.repetitions.len(), 8);
    let diff = (repeated.log_partition - exact).abs();
    assert!(
        diff < 3.0 * repeated.std_error,
        "{} ± {}, exact {exact}",
        repeated.log_partition,
        repeated.std_error
    );
    let delta = repeated
        .repetitions
        .iter()
        .map(|e| e.std_error)
        .sum::<f64>()
        / 8.0
        / 8f64.sqrt();
    let ratio = repeated.std_error / delta;
    assert!(
        (1.0 / 3.0..3.0).contains(&ratio),
        "spread {} vs delta {delta}",
        repeated.std_error
    );
    assert!(ais_log_partition_repeated(&rbm, None, &config, 1).is_err());
}
