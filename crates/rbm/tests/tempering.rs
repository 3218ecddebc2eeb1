//! Parallel tempering against exact enumeration of small RBMs: on a bimodal p(v) its β = 1
//! samples fit the exact distribution where plain block Gibbs from the same start does not;
//! its swap acceptance rates match the exact stationary acceptance; its configuration is
//! checked; a run is a function of its seed. Bernoulli models run on both CPU paths: the
//! fused kernel's sweeps and tensor operations.

mod common;

use burn::prelude::*;
use common::{bimodal_rbm, chi2_with_p, exact_p, histogram, kernel_path, random_rbm, values};
use rbm::eval::exact::{HostRbm, state};
use rbm::eval::hidden::hidden_mean_and_sample_on;
use rbm::eval::tempering::{
    TemperingConfig, geometric_ladder, parallel_tempering, parallel_tempering_from,
};
use rbm::{CpuPath, Noise, Rbm, RbmError, Units};

/// The exact tempered visible marginal p_β(v) ∝ Σ_h e^{−βE(v,h)} of every visible
/// configuration: for discrete hidden units the marginal of the RBM with every parameter
/// multiplied by β; for Gaussian hidden units e^{−βF(v)} (the h-integral at β is
/// e^{β|x|²/2} times a constant).
fn exact_p_at(rbm: &Rbm, beta: f64) -> Vec<f64> {
    let mut host = HostRbm::from_rbm(rbm).unwrap();
    let n = rbm.n_visible();
    let states: Vec<Vec<f64>> = (0..1u64 << n)
        .map(|i| state(rbm.visible_units, n, i))
        .collect();
    let log_p: Vec<f64> = if host.hidden_units.is_discrete() {
        for x in host
            .weights
            .iter_mut()
            .chain(&mut host.visible_bias)
            .chain(&mut host.hidden_bias)
        {
            *x *= beta;
        }
        states.iter().map(|v| -host.free_energy(v)).collect()
    } else {
        states.iter().map(|v| -beta * host.free_energy(v)).collect()
    };
    let log_z = rbm::math::log_sum_exp(log_p.iter().copied());
    log_p.iter().map(|lp| (lp - log_z).exp()).collect()
}

/// `sweeps` block-Gibbs steps at β = 1 of `chains` chains from `start`, recording after the
/// burn-in and every `thin`-th sweep as parallel tempering does; numbers from `Noise(seed)`.
fn plain_gibbs(rbm: &Rbm, config: &TemperingConfig, start: Tensor<2>) -> Tensor<2> {
    let mut noise = Noise::new(config.seed);
    let mut v = start;
    let mut recorded = Vec::new();
    for t in 0..config.burn_in + config.sweeps {
        let h = rbm
            .hidden_units
            .sample_with(rbm.hidden_input(v), &mut noise);
        v = rbm
            .visible_units
            .sample_with(rbm.visible_input(h), &mut noise);
        if t >= config.burn_in && (t + 1 - config.burn_in).is_multiple_of(config.thin) {
            recorded.push(v.clone());
        }
    }
    Tensor::cat(recorded, 0)
}

#[test]
fn tempering_samples_a_bimodal_marginal_that_plain_gibbs_does_not() {
    // 2000 chains at 8 inverse temperatures (geometric from 0.05), all started in the lower
    // mode (every visible unit at its lower value); 150 sweeps of burn-in, then one sample
    // per chain every 50 sweeps (4000 samples). The reference p(v) is exact enumeration over
    // all 2^10 visible configurations. Significance 10⁻³: PT must pass, plain Gibbs with
    // the same start, sweeps and recording must fail.
    let cases = [
        (Units::Spin, Units::Spin, 1.2),
        (Units::Spin, Units::Gaussian, 0.5),
    ];
    for (vu, hu, strong) in cases {
        let spin = bimodal_rbm(vu, hu, strong);
        let mut models = vec![(spin, CpuPath::Tensor)];
        if hu == Units::Spin {
            // The same distribution in {0, 1} units (Rbm::with_*_units): Bernoulli layers.
            // Its energy differs by a constant, so its tempered distributions are the same
            // and, from the same stream, so are its draws (up to f32 rounding): this case
            // checks that the {0, 1} path gives them, with tensor operations and on the
            // fused kernel.
            let (b, _) = models[0].0.with_visible_units(Units::Bernoulli);
            let (b, _) = b.with_hidden_units(Units::Bernoulli);
            models.push((b.clone(), CpuPath::Tensor));
            models.push((b, kernel_path()));
        }
        for (rbm, path) in models {
            let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
            let p = exact_p(&rbm);
            // The two modes (all lower, all upper) each carry a sizeable share.
            let (lower, upper) = (p[0], p[(1 << 10) - 1]);
            assert!(
                lower > 0.02 && upper > 0.02,
                "{vu:?}/{hu:?}: {lower} {upper}"
            );

            let config = TemperingConfig::new(geometric_ladder(0.05, 8).unwrap(), 2000, 100)
                .with_burn_in(150)
                .with_thin(50)
                .with_seed(41)
                .with_cpu_path(path);
            let [lo, _] = vu.values().unwrap();
            let start = Tensor::<2>::full([config.chains, 10], lo, &Device::flex());
            let pt = parallel_tempering_from(&rbm, &config, start.clone()).unwrap();
            let n = (config.recorded() * config.chains) as f64;
            assert_eq!(pt.samples.dims(), [n as usize, 10]);
            let (chi2, critical, p_value) = chi2_with_p(&histogram(vu, pt.samples.clone()), &p, n);
            eprintln!(
                "{vu:?}/{hu:?} ({path:?}) modes {lower:.3} {upper:.3} PT: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3}, \
                 acceptance {:.3?}",
                pt.acceptance
            );
            assert!(
                chi2 < critical,
                "{vu:?}/{hu:?}: PT rejected, chi2 {chi2:.1} > {critical:.1}"
            );

            // Every replica's last state (one per chain, independent) against its exact
            // tempered marginal p_β, binned by the number of units at their upper value (11
            // bins: at small β the 2^10 states are too even for 2000 draws): the Gibbs steps
            // and swaps at β < 1 are right too.
            for (k, &beta) in config.betas.iter().enumerate() {
                let c = config.chains;
                let rows = pt.last.clone().narrow(0, k * c, c);
                let by_ones = |per_state: Vec<f64>| {
                    let mut out = vec![0.0; 11];
                    for (i, x) in per_state.into_iter().enumerate() {
                        out[i.count_ones() as usize] += x;
                    }
                    out
                };
                let counts = by_ones(histogram(vu, rows));
                let p_beta = by_ones(exact_p_at(&rbm, beta));
                let (chi2, critical, p_value) = chi2_with_p(&counts, &p_beta, c as f64);
                eprintln!("{vu:?}/{hu:?} β {beta:.3}: chi2 {chi2:.1}, p {p_value:.3}");
                assert!(
                    chi2 < critical,
                    "{vu:?}/{hu:?} β {beta}: chi2 {chi2:.1} > {critical:.1}"
                );
            }

            let gibbs = plain_gibbs(&rbm, &config, start);
            let (chi2, critical, p_value) = chi2_with_p(&histogram(vu, gibbs), &p, n);
            eprintln!(
                "{vu:?}/{hu:?} Gibbs: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3e}"
            );
            assert!(
                chi2 > critical,
                "{vu:?}/{hu:?}: plain Gibbs was not rejected, chi2 {chi2:.1} < {critical:.1}"
            );
        }
    }
}

/// The exact stationary swap acceptance of the pair (β_i, β_j): E[min(1,
/// e^{(β_i − β_j)(E(x) − E(y)))}] for independent x ~ p_{β_i}, y ~ p_{β_j}, by enumerating every
/// joint state (v, h) of a discrete RBM.
fn exact_acceptance(host: &HostRbm, beta_i: f64, beta_j: f64) -> f64 {
    let (nv, nh) = (host.n_visible, host.n_hidden);
    let energies: Vec<f64> = (0..1u64 << nv)
        .flat_map(|i| {
            let v = state(host.visible_units, nv, i);
            (0..1u64 << nh)
                .map(|j| host.energy(&v, &state(host.hidden_units, nh, j)))
                .collect::<Vec<_>>()
        })
        .collect();
    let weights = |beta: f64| {
        let w: Vec<f64> = energies.iter().map(|e| (-beta * e).exp()).collect();
        let z: f64 = w.iter().sum();
        w.into_iter().map(|x| x / z).collect::<Vec<_>>()
    };
    let (pi, pj) = (weights(beta_i), weights(beta_j));
    let mut total = 0.0;
    for (ex, px) in energies.iter().zip(&pi) {
        for (ey, py) in energies.iter().zip(&pj) {
            total += px * py * ((beta_i - beta_j) * (ex - ey)).exp().min(1.0);
        }
    }
    total
}

#[test]
fn swap_acceptance_matches_its_exact_stationary_value() {
    // A 6 × 3 RBM (weights ±1.5, mixing well at every β) with 2000 chains per inverse
    // temperature, 100 sweeps of burn-in, 100 counted. The reference is the exact acceptance
    // of two independent equilibrium states (exact_acceptance). Tolerance: 5 standard errors,
    // with σ = √(A(1−A)/C), the bound for attempts perfectly correlated within a chain
    // (chains are independent). A wide ladder (low acceptance) and a close one (acceptance
    // near 1).
    for &(vu, hu) in &[
        (Units::Spin, Units::Spin),
        (Units::Bernoulli, Units::Bernoulli),
    ] {
        let rbm = random_rbm(6, 3, vu, hu, 1.5, 23);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        for betas in [vec![0.05, 0.3, 1.0], vec![0.98, 0.99, 1.0]] {
            let config = TemperingConfig::new(betas.clone(), 2000, 100)
                .with_burn_in(100)
                .with_seed(5);
            let pt = parallel_tempering(&rbm, &config).unwrap();
            assert_eq!(pt.acceptance.len(), 2);
            for k in 0..2 {
                let measured = pt.acceptance[k];
                assert!((0.0..=1.0).contains(&measured));
                // Even pairs on even sweeps, odd pairs on odd ones: 50 sweeps × 2000 chains.
                assert_eq!(pt.attempts[k], 50 * 2000);
                let exact = exact_acceptance(&host, betas[k], betas[k + 1]);
                let sigma = (exact * (1.0 - exact) / config.chains as f64).sqrt();
                eprintln!(
                    "{vu:?}/{hu:?} β {:.2}↔{:.2}: acceptance {measured:.4}, exact {exact:.4}, \
                     σ bound {sigma:.4}",
                    betas[k],
                    betas[k + 1]
                );
                assert!(
                    (measured - exact).abs() < 5.0 * sigma.max(1e-4),
                    "{vu:?}/{hu:?} pair {k} of {betas:?}: {measured} vs exact {exact}"
                );
            }
            if betas[0] > 0.9 {
                assert!(
                    pt.acceptance.iter().all(|&a| a > 0.95),
                    "{:?}",
                    pt.acceptance
                );
            } else {
                assert!(pt.acceptance[0] < 0.9, "{:?}", pt.acceptance);
            }
        }
    }
}

#[test]
fn validate_names_the_field_at_fault() {
    let good = TemperingConfig::new(vec![0.5, 1.0], 4, 10);
    assert!(good.validate().is_ok());
    let cases: Vec<(TemperingConfig, &str)> = vec![
        (
            TemperingConfig {
                betas: vec![1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![0.0, 1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![-0.5, 1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![f64::NAN, 1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![0.5, 0.5, 1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![0.7, 0.5, 1.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![0.5, 0.9],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                betas: vec![0.5, 2.0],
                ..good.clone()
            },
            "betas",
        ),
        (
            TemperingConfig {
                chains: 0,
                ..good.clone()
            },
            "chains",
        ),
        (
            TemperingConfig {
                sweeps: 0,
                ..good.clone()
            },
            "sweeps",
        ),
        (
            TemperingConfig {
                thin: 0,
                ..good.clone()
            },
            "thin",
        ),
        (
            TemperingConfig {
                thin: 11,
                ..good.clone()
            },
            "thin",
        ),
    ];
    for (config, field) in cases {
        match config.validate() {
            Err(RbmError::Config(e)) => {
                assert_eq!(e.field(), Some(field), "{e}");
            }
            other => panic!("{config:?}: expected a configuration error, got {other:?}"),
        }
        // The sampler refuses it too, before touching the model.
        let rbm = random_rbm(3, 2, Units::Spin, Units::Spin, 1.0, 1);
        assert!(matches!(
            parallel_tempering(&rbm, &config),
            Err(RbmError::Config(_))
        ));
    }
}

#[test]
fn a_run_is_a_function_of_its_seed() {
    // Identical states and rates for the same seed; different ones for another seed.
    let rbm = bimodal_rbm(Units::Spin, Units::Spin, 1.0);
    let config = TemperingConfig::new(geometric_ladder(0.1, 4).unwrap(), 16, 20)
        .with_burn_in(5)
        .with_thin(4)
        .with_seed(99);
    let a = parallel_tempering(&rbm, &config).unwrap();
    let b = parallel_tempering(&rbm, &config).unwrap();
    let c = parallel_tempering(&rbm, &config.clone().with_seed(100)).unwrap();
    assert_eq!(a.samples.dims(), [5 * 16, 10]);
    assert_eq!(a.last.dims(), [4 * 16, 10]);
    let (sa, sb, sc) = (values(a.samples), values(b.samples), values(c.samples));
    assert!(
        sa.iter().all(|x| (x.abs() - 1.0).abs() < 1e-6),
        "spin values"
    );
    assert_eq!(sa, sb);
    assert_eq!(a.acceptance, b.acceptance);
    assert_eq!(values(a.last), values(b.last));
    assert_ne!(sa, sc);
}

/// The exact visible marginal of replica β on the base-rate path from visible biases `a0`:
/// p_β(v) ∝ e^{(1−β) a₀·v} Σ_h e^{−βE(v,h)}, the marginal of the RBM with every parameter
/// multiplied by β and (1 − β) a₀ added to its visible biases (discrete hidden units).
fn exact_p_on_base_path(rbm: &Rbm, beta: f64, a0: &[f32]) -> Vec<f64> {
    let mut host = HostRbm::from_rbm(rbm).unwrap();
    for x in host
        .weights
        .iter_mut()
        .chain(&mut host.visible_bias)
        .chain(&mut host.hidden_bias)
    {
        *x *= beta;
    }
    for (x, &a) in host.visible_bias.iter_mut().zip(a0) {
        *x += (1.0 - beta) * a as f64;
    }
    let n = rbm.n_visible();
    let log_p: Vec<f64> = (0..1u64 << n)
        .map(|i| -host.free_energy(&state(rbm.visible_units, n, i)))
        .collect();
    let log_z = rbm::math::log_sum_exp(log_p.iter().copied());
    log_p.iter().map(|lp| (lp - log_z).exp()).collect()
}

#[test]
fn the_base_rate_path_samples_every_replica_exactly() {
    // The bimodal 10 × 3 RBM in spin and in {0, 1} units, tempered along the path from an
    // independent model with uneven biases a₀ (the β = 0 end is that model, not the uniform
    // distribution). 2000 chains at 8 replicas (β from 0, the base itself, to 1) from the
    // lower mode; the β = 1 samples (4000) against the exact p(v), and every replica's last
    // state against its exact marginal, binned by the number of upper units. χ² at 10⁻³.
    let spin = bimodal_rbm(Units::Spin, Units::Spin, 1.2);
    let (bernoulli, _) = spin.with_visible_units(Units::Bernoulli);
    let (bernoulli, _) = bernoulli.with_hidden_units(Units::Bernoulli);
    let a0: Vec<f32> = (0..10)
        .map(|i| if i % 2 == 0 { 0.4 } else { -0.7 })
        .collect();
    for rbm in [spin, bernoulli] {
        let vu = rbm.visible_units;
        let mut betas = geometric_ladder(0.05, 7).unwrap();
        betas.insert(0, 0.005);
        let config = TemperingConfig::new(betas, 2000, 100)
            .with_burn_in(150)
            .with_thin(50)
            .with_seed(43)
            .with_base(a0.clone());
        let [lo, _] = vu.values().unwrap();
        let start = Tensor::<2>::full([config.chains, 10], lo, &Device::flex());
        let pt = parallel_tempering_from(&rbm, &config, start).unwrap();
        let n = (config.recorded() * config.chains) as f64;
        let (chi2, critical, p_value) =
            chi2_with_p(&histogram(vu, pt.samples.clone()), &exact_p(&rbm), n);
        eprintln!(
            "{vu:?} base path: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3}, acceptance {:.3?}",
            pt.acceptance
        );
        assert!(chi2 < critical, "{vu:?}: chi2 {chi2:.1} > {critical:.1}");
        for (k, &beta) in config.betas.iter().enumerate() {
            let c = config.chains;
            let by_ones = |per_state: Vec<f64>| {
                let mut out = vec![0.0; 11];
                for (i, x) in per_state.into_iter().enumerate() {
                    out[i.count_ones() as usize] += x;
                }
                out
            };
            let counts = by_ones(histogram(vu, pt.last.clone().narrow(0, k * c, c)));
            let p_beta = by_ones(exact_p_on_base_path(&rbm, beta, &a0));
            let (chi2, critical, p_value) = chi2_with_p(&counts, &p_beta, c as f64);
            eprintln!("{vu:?} base path β {beta:.3}: chi2 {chi2:.1}, p {p_value:.3}");
            assert!(
                chi2 < critical,
                "{vu:?} β {beta}: chi2 {chi2:.1} > {critical:.1}"
            );
        }
    }
    // The ladder's base must fit the model.
    let rbm = bimodal_rbm(Units::Spin, Units::Spin, 1.2);
    let bad = TemperingConfig::new(vec![0.5, 1.0], 2, 2).with_base(vec![0.0; 3]);
    let e = rbm::eval::tempering::parallel_tempering(&rbm, &bad).unwrap_err();
    assert!(
        e.to_string().contains("base_visible_bias has 3 entries"),
        "{e}"
    );
}

#[test]
fn the_kernel_sweeps_agree_with_tensor_operations() {
    // A Bernoulli RBM of 20 visible and 12 hidden units (a hidden width the kernel pads to
    // 16), couplings of scale 0.8, 4 inverse temperatures from 0.2, 30 chains, 10 sweeps of
    // burn-in and 40 recorded, plain and on the base-rate path. Both paths draw the same
    // numbers in the same order, so they make the same draws and swaps except where a
    // uniform falls within f32 rounding of a probability (after which that chain goes its
    // own way): at least 90 % of the recorded rows identical and each pair's acceptance
    // within 0.05. A wrong β, base or energy changes nearly every row.
    let rbm = random_rbm(20, 12, Units::Bernoulli, Units::Bernoulli, 0.8, 11);
    let a0: Vec<f32> = (0..20).map(|i| 0.1 * (i % 5) as f32 - 0.2).collect();
    for base in [None, Some(a0)] {
        let mut config = TemperingConfig::new(geometric_ladder(0.2, 4).unwrap(), 30, 40)
            .with_burn_in(10)
            .with_seed(5);
        if let Some(b) = &base {
            config = config.with_base(b.clone());
        }
        let run =
            |path: CpuPath| parallel_tempering(&rbm, &config.clone().with_cpu_path(path)).unwrap();
        let (tensor, kernel) = (run(CpuPath::Tensor), run(kernel_path()));
        // The fraction of rows of two `[rows, 20]` results that are identical.
        let identical = |t: Tensor<2>, k: Tensor<2>| {
            let (t, k) = (values(t), values(k));
            assert_eq!(t.len(), k.len());
            let same = t
                .chunks(20)
                .zip(k.chunks(20))
                .filter(|(a, b)| a == b)
                .count();
            same as f64 / (t.len() / 20) as f64
        };
        let samples = identical(tensor.samples, kernel.samples);
        let last = identical(tensor.last, kernel.last);
        eprintln!(
            "base {}: rows identical {samples:.3} (recorded), {last:.3} (every replica's last), \
             acceptance tensor {:.3?} kernel {:.3?}",
            base.is_some(),
            tensor.acceptance,
            kernel.acceptance
        );
        assert!(
            samples >= 0.9,
            "only {samples:.3} of the recorded rows agree"
        );
        assert!(
            last >= 0.9,
            "only {last:.3} of the replicas' last states agree"
        );
        for (x, y) in tensor.acceptance.iter().zip(&kernel.acceptance) {
            assert!((x - y).abs() < 0.05, "acceptance {x} against {y}");
        }
    }
}

#[test]
fn the_kernels_hidden_pass_agrees_with_tensor_operations() {
    // A Bernoulli RBM of 40 visible and 12 hidden units (padded to 16 on the kernel), 60 rows
    // of binary visible states and 60 rows of means in (0, 1) (what a DBN passes up): E[h|v]
    // within 1e-6 and the same draws from the same numbers on both paths.
    let rbm = random_rbm(40, 12, Units::Bernoulli, Units::Bernoulli, 0.8, 31);
    let mut s = 32u64;
    let binary: Vec<Vec<f64>> = (0..60)
        .map(|_| {
            (0..40)
                .map(|_| f64::from(common::lcg(&mut s) > 0.0))
                .collect()
        })
        .collect();
    let means: Vec<Vec<f64>> = (0..60)
        .map(|_| (0..40).map(|_| 0.5 + 0.5 * common::lcg(&mut s)).collect())
        .collect();
    for rows in [binary, means] {
        let run = |path: CpuPath| {
            let v = common::rows_tensor(&rows);
            let (mean, sample) =
                hidden_mean_and_sample_on(&rbm, v, &mut Noise::new(33), path).unwrap();
            (values(mean), values(sample))
        };
        let (tensor, kernel) = (run(CpuPath::Tensor), run(kernel_path()));
        assert_eq!(tensor.0.len(), 60 * 12);
        let worst = tensor
            .0
            .iter()
            .zip(&kernel.0)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f64, f64::max);
        assert!(worst < 1e-6, "means differ by {worst:e}");
        assert_eq!(tensor.1, kernel.1, "the draws differ");
        let ones = kernel.1.iter().sum::<f64>();
        assert!(ones > 0.0 && ones < kernel.1.len() as f64);
    }
}
