//! Contrastive divergence against exact answers: the update is the analytic CD gradient (and
//! the gradient of the free-energy surrogate), CD-k with large k approaches the exact
//! log-likelihood gradient, and training on 3×3 Ising samples drives the exact KL divergence
//! per spin below 0.01 nats, where the AIS estimate of it agrees with the exact value.

mod common;

use burn::prelude::*;
use burn::train::TrainStep;
use common::{rows_tensor as rows, values};
use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding, exact as ising_exact};
use rbm::eval::ais::{AisConfig, ais_log_partition, ais_reverse_log_partition};
use rbm::eval::exact::{HostRbm, state};
use rbm::eval::likelihood::{Estimate, ising_kl_per_spin_estimate, ising_kl_per_spin_exact};
use rbm::{
    CdBatch, CdConfig, CpuPath, Isa, Noise, PtConfig, Rbm, RbmConfig, Restart, Units, noise,
    sgd_with_momentum,
};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A 5×3 RBM with weights of size 0.8, drawn from the (seeded) device stream.
fn small_rbm() -> Rbm {
    let d = Device::flex();
    RbmConfig::new(5, 3).with_init_std(0.8).init(&d).unwrap()
}

#[test]
fn the_update_is_the_analytic_cd_gradient_and_the_surrogate_gradient() {
    let _rng = common::seeded(1);
    let rbm = small_rbm();
    let model = CdConfig::new()
        .with_k(2)
        .with_l1(0.01)
        .with_l2(0.02)
        .init(rbm)
        .unwrap();
    let v0: Vec<Vec<f64>> = (0..7u64)
        .map(|i| state(Units::Bernoulli, 5, i * 3 + 1))
        .collect();
    let (g, _) = model.cd_gradient(rows(&v0), &mut Noise::new(1));
    let vk: Vec<Vec<f64>> = values(g.negative.clone())
        .chunks(5)
        .map(|c| c.to_vec())
        .collect();
    // Reference, on the host in f64 from the same v⁰ and v^k:
    // ∂ℓ/∂W_ij = mean_v⁰ v_i σ(x_j) − mean_v^k v_i σ(x_j).
    let host = HostRbm::from_rbm(&model.rbm).unwrap();
    let stat = |vs: &[Vec<f64>], i: usize, j: usize| {
        vs.iter()
            .map(|v| v[i] * sigmoid(host.hidden_input(v)[j]))
            .sum::<f64>()
            / vs.len() as f64
    };
    let gw = values(g.weights.clone());
    for i in 0..5 {
        for j in 0..3 {
            let expected = stat(&v0, i, j) - stat(&vk, i, j);
            assert!((gw[i * 3 + j] - expected).abs() < 1e-5);
        }
    }
    let ga = values(g.visible_bias.clone());
    for i in 0..5 {
        let expected =
            v0.iter().map(|v| v[i]).sum::<f64>() / 7.0 - vk.iter().map(|v| v[i]).sum::<f64>() / 7.0;
        assert!((ga[i] - expected).abs() < 1e-5);
    }
    let gb = values(g.hidden_bias.clone());
    for j in 0..3 {
        let mean = |vs: &[Vec<f64>]| {
            vs.iter()
                .map(|v| sigmoid(host.hidden_input(v)[j]))
                .sum::<f64>()
                / vs.len() as f64
        };
        assert!((gb[j] - (mean(&v0) - mean(&vk))).abs() < 1e-5);
    }

    // The same weight gradient as autodiff of the surrogate mean F(v⁰) − mean F(v^k).
    let loss = model.rbm.free_energy(rows(&v0)).mean() - model.rbm.free_energy(rows(&vk)).mean();
    let grads = loss.backward();
    let auto = values(model.rbm.weights.val().grad(&grads).unwrap());
    assert!(
        auto.iter().zip(&gw).all(|(a, g)| (a + g).abs() < 1e-5),
        "surrogate gradient differs"
    );

    // One SGD step without momentum moves W by −ε(−∂ℓ/∂W + λ₁ sign W + λ₂ W).
    let w0 = values(model.rbm.weights.val());
    let grads = model.optimiser_gradients(&g);
    let mut optim = sgd_with_momentum(0.0);
    let lr = 0.1;
    let stepped = optim.step(lr, model.clone(), grads);
    let w1 = values(stepped.rbm.weights.val());
    for (idx, (a, b)) in w0.iter().zip(&w1).enumerate() {
        let expected = a - lr * (-gw[idx] + 0.01 * a.signum() + 0.02 * a);
        assert!((b - expected).abs() < 1e-6, "{b} vs {expected}");
    }
}

#[test]
fn momentum_has_no_dampening() {
    let _rng = common::seeded(2);
    // Two identical gradients G with μ = 0.5: steps −εG then −ε(1.5 G).
    let model = CdConfig::new().init(small_rbm()).unwrap();
    let v0 = rows(&[state(Units::Bernoulli, 5, 9)]);
    let (g, _) = model.cd_gradient(v0, &mut Noise::new(2));
    let mut optim = sgd_with_momentum(0.5);
    let w0 = values(model.rbm.weights.val());
    let m1 = optim.step(0.1, model.clone(), model.optimiser_gradients(&g));
    let m2 = optim.step(0.1, m1.clone(), model.optimiser_gradients(&g));
    let gw = values(g.weights);
    let (w1, w2) = (values(m1.rbm.weights.val()), values(m2.rbm.weights.val()));
    for i in 0..w0.len() {
        assert!((w1[i] - (w0[i] + 0.1 * gw[i])).abs() < 1e-6);
        assert!((w2[i] - (w1[i] + 0.15 * gw[i])).abs() < 1e-6);
    }
}

#[test]
fn cd_with_many_steps_approaches_the_exact_gradient() {
    let _rng = common::seeded(3);
    // Exact gradient of the mean log-likelihood of a fixed data set:
    // ⟨v E[h|v]⟩_data − Σ_v p(v) v E[h|v], the model term by enumerating all 2^5 visible states.
    let rbm = small_rbm();
    let host = HostRbm::from_rbm(&rbm).unwrap();
    let data: Vec<Vec<f64>> = [1u64, 6, 7, 12, 30, 31]
        .iter()
        .map(|&i| state(Units::Bernoulli, 5, i))
        .collect();
    let all: Vec<Vec<f64>> = (0..32).map(|i| state(Units::Bernoulli, 5, i)).collect();
    let flat: Vec<f64> = all.iter().flatten().copied().collect();
    let p = common::visible_probabilities(&host, &flat);
    let vh = |v: &[f64], i: usize, j: usize| v[i] * sigmoid(host.hidden_input(v)[j]);
    let exact: Vec<f64> = (0..15)
        .map(|ij| {
            let (i, j) = (ij / 3, ij % 3);
            data.iter().map(|v| vh(v, i, j)).sum::<f64>() / data.len() as f64
                - all
                    .iter()
                    .zip(&p)
                    .map(|(v, p)| p * vh(v, i, j))
                    .sum::<f64>()
        })
        .collect();
    // CD-50 on 6 000 copies of the data: the negative phase then samples p(v) to within a
    // standard error ≤ 0.5/√6000 ≈ 0.0065 per entry; allow 0.03 (4.6σ).
    let batch: Vec<Vec<f64>> = (0..6000).map(|r| data[r % data.len()].clone()).collect();
    let long = CdConfig::new().with_k(50).init(rbm.clone()).unwrap();
    let g = values(long.cd_gradient(rows(&batch), &mut Noise::new(3)).0.weights);
    let worst = g
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 0.03,
        "CD-50 differs from the exact gradient by {worst}"
    );
    // CD-1 is visibly biased on this model (the reason to test with large k).
    let short = CdConfig::new().with_k(1).init(rbm).unwrap();
    let g1 = values(
        short
            .cd_gradient(rows(&batch), &mut Noise::new(4))
            .0
            .weights,
    );
    let worst1 = g1
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst1 > worst,
        "CD-1 ({worst1}) should be further from exact than CD-50 ({worst})"
    );
}

#[test]
fn training_on_3x3_ising_samples_lowers_the_exact_kl_below_001() {
    // Data: 20 000 Wolff samples of the periodic 3×3 lattice at K = 0.4 (ising-data). The
    // exact KL per spin against the true Boltzmann distribution (enumeration) starts at
    // ln 2 − s ≈ 0.33 for the (nearly uniform) untrained model and must end below 0.01 nats.
    let (lattice, k) = (Lattice::Square { l: 3 }, 0.4);
    let mut config = GenerateConfig::new(lattice, k, 20_000, 5);
    config.spacing_sweeps = 2;
    let samples = generate(&config.validated().unwrap(), &|_| {}).spins;
    let device = Device::flex();
    // With device seed 11 (initial weights), chains from key 0 and step keys
    // (11, epoch, batch) it ends at 0.0009 nats per spin.
    let _rng = common::seeded(11);
    let data = IsingDataset::new(lattice, samples)
        .unwrap()
        .to_tensor(SpinEncoding::PlusMinusOne, &device);
    let rbm = RbmConfig::new(9, 18)
        .with_visible_units(Units::Spin)
        .with_hidden_units(Units::Spin)
        .with_init_std(0.1)
        .init(&device)
        .unwrap();
    let kl_start = ising_kl_per_spin_exact(&HostRbm::from_rbm(&rbm).unwrap(), &lattice, k).unwrap();
    let initial_entropy_gap =
        std::f64::consts::LN_2 - ising_exact::enumerate_square(3, 3, k).entropy_per_spin;
    // The untrained model (weights of size 0.1) is close to uniform.
    assert!((kl_start - initial_entropy_gap).abs() < 0.05);
    let mut model = CdConfig::new()
        .with_k(1)
        .with_persistent(true)
        .with_chains(200)
        .init(rbm)
        .unwrap();
    let mut optim = sgd_with_momentum(0.5);
    let batch = 100;
    for epoch in 0..40 {
        // Annealed learning rate: PCD's noise at the end sets the final KL.
        let lr = match epoch {
            0..20 => 0.05,
            20..30 => 0.01,
            _ => 0.002,
        };
        for b in 0..20_000 / batch {
            let v0 = data.clone().slice([b * batch..(b + 1) * batch, 0..9]);
            let out = TrainStep::step(&model, CdBatch::new(v0, noise::key(&[11, epoch, b as u64])));
            model = optim.step(lr, model, out.grads);
        }
    }
    let kl = ising_kl_per_spin_exact(&HostRbm::from_rbm(&model.rbm).unwrap(), &lattice, k).unwrap();
    eprintln!("exact KL per spin: {kl_start:.4} before training, {kl:.5} after");
    assert!(
        kl < 0.01,
        "KL per spin after training: {kl} (start {kl_start})"
    );

    // The same KL estimated as a large model's would be: AIS for ln Z (forward from the
    // uniform model, reverse from exact samples of the RBM, 200 runs each, the default
    // ladder) and the mean free energy of 20 000 fresh samples of the Ising lattice (Wolff,
    // 5 sweeps apart, another seed), minus the exact entropy (enumeration).
    // Each side agrees with the exact KL within 4 of its standard errors.
    let trained = model.rbm.valid();
    let host = HostRbm::from_rbm(&trained).unwrap();
    let ais = AisConfig {
        runs: 200,
        seed: 3,
        ..AisConfig::default()
    };
    let forward = ais_log_partition(&trained, None, &ais).unwrap();
    let mut rng = ising_data::rng::Xoshiro256pp::seed_from_u64(4);
    let start: Vec<f32> = host
        .sample_visible_exact(ais.runs, &mut rng)
        .unwrap()
        .iter()
        .map(|&x| x as f32)
        .collect();
    let start = Tensor::<2>::from_data(TensorData::new(start, [ais.runs, 9]), &device);
    let reverse = ais_reverse_log_partition(&trained, None, &ais, start).unwrap();
    let mut fresh = GenerateConfig::new(lattice, k, 20_000, 6);
    fresh.spacing_sweeps = 5;
    let fresh = IsingDataset::new(
        lattice,
        generate(&fresh.validated().unwrap(), &|_| {}).spins,
    )
    .unwrap()
    .to_tensor(SpinEncoding::PlusMinusOne, &device);
    let entropy = ising_exact::enumerate_square(3, 3, k).entropy_per_spin;
    // E_P[F(v)] by enumeration isolates the AIS error: (E_P[F] + ln Ẑ)/N − s against the
    // exact KL within 4 standard errors of ln Ẑ (and 10⁻³).
    let (mut weight_sum, mut mean_f) = (0.0, 0.0);
    for index in 0u32..1 << 9 {
        let s: Vec<i8> = (0..9)
            .map(|i| if index >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        let weight = (k * lattice.bond_sum(&s) as f64).exp();
        let v: Vec<f64> = s.iter().map(|&x| f64::from(x)).collect();
        weight_sum += weight;
        mean_f += weight * host.free_energy(&v);
    }
    let mean_f = mean_f / weight_sum;
    for (side, z) in [("forward", forward), ("reverse", reverse)] {
        let by_ais = (mean_f + z.log_partition) / 9.0 - entropy;
        let error = z.std_error / 9.0;
        eprintln!("KL per spin with E_P[F] exact, ln Z by AIS ({side}): {by_ais:.6} ± {error:.6}");
        assert!(
            (by_ais - kl).abs() < (4.0 * error).max(1e-4) && (by_ais - kl).abs() < 1e-3,
            "{side}: {by_ais} ± {error} vs exact {kl}"
        );
    }
    for (side, z) in [("forward", forward), ("reverse", reverse)] {
        let log_partition = Estimate {
            value: z.log_partition,
            std_error: z.std_error,
        };
        let estimate =
            ising_kl_per_spin_estimate(&trained, fresh.clone(), log_partition, entropy).unwrap();
        eprintln!(
            "KL per spin by AIS ({side}): {:.5} ± {:.5}, exact {kl:.5}",
            estimate.value, estimate.std_error
        );
        assert!(
            (estimate.value - kl).abs() < 4.0 * estimate.std_error && estimate.std_error < 0.005,
            "{side}: {estimate:?} vs exact {kl}"
        );
    }
}

#[test]
fn a_step_is_a_function_of_the_model_the_batch_and_its_key() {
    // The step draws from its own keyed stream, not from the device's: reseeding or draining
    // the device generator in between changes nothing, and another key changes the sample.
    let _rng = common::seeded(5);
    let model = CdConfig::new().with_k(3).init(small_rbm()).unwrap();
    let v0 = rows(
        &(0..9u64)
            .map(|i| state(Units::Bernoulli, 5, i))
            .collect::<Vec<_>>(),
    );
    let run = |key: u64| {
        let out = TrainStep::step(&model, CdBatch::new(v0.clone(), key));
        let grads = out.grads;
        let w = grads
            .get::<2>(model.rbm.weights.id)
            .expect("weight gradient");
        (values(w), values(out.item.reconstruction_error))
    };
    let first = run(42);
    Device::flex().seed(999);
    let _ = Tensor::<2>::random(
        [50, 50],
        burn::tensor::Distribution::Default,
        &Device::flex(),
    );
    assert_eq!(run(42), first);
    assert_ne!(run(43).0, first.0);
}

#[test]
fn the_batch_pseudo_likelihood_is_unbiased_and_the_gap_is_exact() {
    // The per-batch PLL draws one site per row; its mean over many keys must match the exact
    // all-sites PLL per unit within 5 standard errors (estimated from the draws themselves).
    for (vu, hu, seed) in [
        (Units::Bernoulli, Units::Bernoulli, 21),
        (Units::Spin, Units::Spin, 22),
        (Units::Bernoulli, Units::Gaussian, 23),
    ] {
        let rbm = common::random_rbm(8, 4, vu, hu, 0.9, seed);
        let rows_v: Vec<Vec<f64>> = (0..12u64).map(|i| state(vu, 8, 17 * i + 3)).collect();
        let exact = rbm::eval::likelihood::pseudo_log_likelihood(&rbm, rows(&rows_v)).unwrap();
        let model = CdConfig::new().init(rbm.clone()).unwrap();
        let draws: Vec<f64> = (0..3000u64)
            .map(|key| {
                let out = model.evaluate(CdBatch::new(rows(&rows_v), key));
                values(out.pseudo_log_likelihood)[0]
            })
            .collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let se = (draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        assert!(
            (mean - exact).abs() < 5.0 * se + 1e-6,
            "{vu:?}/{hu:?}: stochastic PLL {mean} ± {se}, exact {exact}"
        );

        // The gap: mean F(batch) − mean F(reference), against f64 host free energies.
        let reference: Vec<Vec<f64>> = (0..5u64).map(|i| state(vu, 8, 31 * i + 1)).collect();
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let mean_f =
            |vs: &[Vec<f64>]| vs.iter().map(|v| host.free_energy(v)).sum::<f64>() / vs.len() as f64;
        let expected = mean_f(&rows_v) - mean_f(&reference);
        // On the tensor operations and on every instruction set of the kernel this CPU has
        // (the kernel computes the reference rows' free energy itself).
        let paths = std::iter::once(CpuPath::Tensor)
            .chain(Isa::detected().into_iter().map(CpuPath::Kernel));
        for path in paths {
            let model = model.clone().with_cpu_path(Some(path));
            let out =
                model.evaluate(CdBatch::new(rows(&rows_v), 1).with_reference(rows(&reference)));
            let gap = values(out.free_energy_gap)[0];
            assert!(
                (gap - expected).abs() < 1e-4,
                "{vu:?}/{hu:?} on {:?}: gap {gap} vs {expected}",
                model.effective_cpu_path()
            );
        }
        // Training batches carry no reference: the gap is NaN, not a number that looks valid.
        assert!(
            values(
                model
                    .evaluate(CdBatch::new(rows(&rows_v), 1))
                    .free_energy_gap
            )[0]
            .is_nan()
        );
    }
}

#[test]
#[cfg_attr(
    not(kernel_host),
    ignore = "this CPU has none of the fused kernel's instruction sets (AVX-512, AVX2, NEON)"
)]
fn the_fused_cpu_kernel_computes_the_step_of_the_tensor_operations() {
    // The kernel (CdModel::effective_cpu_path), on every instruction set this CPU has, must give the
    // tensor implementation's update and statistics from the same random numbers: the same
    // negative samples exactly, gradients within 2e-6 and statistics within 1e-5 relative
    // (f32 rounding of different summation orders); and the instruction sets must give the
    // same bits as each other. Hidden widths that are not multiples of 16 exercise the
    // padding; CD-1, CD-3, PCD-2, PT-PCD-2 and restarted chains with penalties exercise every
    // branch (the ladder's own update is compared in `tests/pt_pcd.rs`).
    let isas = Isa::detected();
    assert!(
        !isas.is_empty(),
        "no instruction set of the kernel: {}",
        rbm::describe_cpu()
    );
    for isa in isas {
        fused_step_matches_tensor_step(isa);
    }
}

/// The step of [`the_fused_cpu_kernel_computes_the_step_of_the_tensor_operations`] on `isa`.
fn fused_step_matches_tensor_step(isa: Isa) {
    let mut s = 17u64;
    // The negative phase: from the batch (CD), persistent chains, persistent chains under
    // tempering (3 rungs from β = 0.5), chains restarted at random.
    let tempered = Some(PtConfig {
        replicas: 3,
        beta_min: 0.5,
    });
    for (nv, nh, batch, k, persistent, seed, tempering, restart) in [
        (40, 24, 13, 1, false, 1u64, None, None),
        (64, 33, 20, 3, false, 2, None, None),
        (37, 16, 9, 2, true, 3, None, None),
        (100, 80, 30, 1, false, 4, None, None),
        (37, 16, 9, 2, true, 5, tempered.clone(), None),
        (40, 24, 13, 2, false, 6, None, Some(Restart::Random)),
    ] {
        let rbm = common::random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 0.3, seed);
        let v0: Vec<Vec<f64>> = (0..batch)
            .map(|_| {
                (0..nv)
                    .map(|_| f64::from(common::lcg(&mut s) > 0.0))
                    .collect()
            })
            .collect();
        let cd = CdConfig::new()
            .with_k(k)
            .with_persistent(persistent)
            .with_chains(11)
            .with_tempering(tempering.clone())
            .with_restart(restart)
            .with_l1(0.01)
            .with_l2(0.02);
        let fused = cd
            .clone()
            .init_seeded(rbm.clone(), 7)
            .unwrap()
            .with_cpu_path(Some(CpuPath::Kernel(isa)));
        let tensor = cd
            .init_seeded(rbm, 7)
            .unwrap()
            .with_cpu_path(Some(CpuPath::Tensor));
        assert_eq!(fused.effective_cpu_path(), CpuPath::Kernel(isa));
        assert_eq!(tensor.effective_cpu_path(), CpuPath::Tensor);
        let case = format!(
            "{isa}: {nv}x{nh}, batch {batch}, k {k}, persistent {persistent}, {tempering:?}, {restart:?}"
        );

        let (gf, of) = fused.cd_gradient(rows(&v0), &mut Noise::new(seed));
        let (gt, ot) = tensor.cd_gradient(rows(&v0), &mut Noise::new(seed));
        // Every instruction set gives the bits of the widest one.
        let widest = fused
            .clone()
            .with_cpu_path(Some(CpuPath::Kernel(Isa::detected()[0])));
        let (gw, _) = widest.cd_gradient(rows(&v0), &mut Noise::new(seed));
        assert!(
            values(gw.weights) == values(gf.weights.clone()),
            "{case}: dℓ/dW differs from {}'s",
            Isa::detected()[0]
        );
        assert_eq!(
            values(gf.negative),
            values(gt.negative),
            "{case}: negative samples"
        );

        let close = |a: Vec<f64>, b: Vec<f64>, tol: f64, what: &str| {
            assert_eq!(a.len(), b.len());
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!((x - y).abs() <= tol, "{case}: {what}[{i}] = {x} vs {y}");
            }
        };
        close(values(gf.weights), values(gt.weights), 2e-6, "dℓ/dW");
        close(
            values(gf.visible_bias),
            values(gt.visible_bias),
            2e-6,
            "dℓ/da",
        );
        close(
            values(gf.hidden_bias),
            values(gt.hidden_bias),
            2e-6,
            "dℓ/db",
        );
        let stats = |o: &rbm::CdOutput| {
            [
                o.reconstruction_error.clone(),
                o.free_energy_data.clone(),
                o.free_energy_negative.clone(),
                o.pseudo_log_likelihood.clone(),
            ]
            .map(|t| t.into_scalar::<f64>())
        };
        close(
            values(of.hidden_mean.clone()),
            values(ot.hidden_mean.clone()),
            1e-6,
            "mean E[h|v⁰]",
        );
        for (x, y) in stats(&of).iter().zip(stats(&ot)) {
            assert!(
                (x - y).abs() <= 1e-5 * y.abs().max(1.0),
                "{case}: {x} vs {y}"
            );
        }

        // The train step: the optimiser's gradients, penalties included, and the chains.
        let a = TrainStep::step(&fused, CdBatch::new(rows(&v0), seed));
        let b = TrainStep::step(&tensor, CdBatch::new(rows(&v0), seed));
        let w = fused.rbm.weights.id;
        let grad = |g: &burn::optim::GradientsParams| values(g.get::<2>(w).expect("dW"));
        close(grad(&a.grads), grad(&b.grads), 2e-6, "descent dW");
        let hb = fused.rbm.hidden_bias.id;
        let grad_b = |g: &burn::optim::GradientsParams| values(g.get::<1>(hb).expect("db"));
        close(grad_b(&a.grads), grad_b(&b.grads), 2e-6, "descent db");
        assert_eq!(
            values(fused.chains.value()),
            values(tensor.chains.value()),
            "{case}: chains after the step"
        );
    }
}

#[test]
#[cfg_attr(
    not(kernel_host),
    ignore = "this CPU has none of the fused kernel's instruction sets (AVX-512, AVX2, NEON)"
)]
fn the_kernel_and_the_tensor_operations_give_the_same_exact_pseudo_likelihood() {
    // The exact PLL per unit on the fused kernel (rows in parallel) against the tensor
    // implementation, within 1e-5 relative, with hidden widths off the 16-lane grid, on every
    // instruction set this CPU has.
    let isas = Isa::detected();
    assert!(
        !isas.is_empty(),
        "no instruction set of the kernel: {}",
        rbm::describe_cpu()
    );
    let mut s = 5u64;
    for (nv, nh, rows_n, seed) in [(30, 7, 25, 1u64), (64, 40, 50, 2), (100, 100, 33, 3)] {
        let rbm = common::random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 0.5, seed);
        let v: Vec<Vec<f64>> = (0..rows_n)
            .map(|_| {
                (0..nv)
                    .map(|_| f64::from(common::lcg(&mut s) > 0.2))
                    .collect()
            })
            .collect();
        let pll =
            |path| rbm::eval::likelihood::pseudo_log_likelihood_with(&rbm, rows(&v), path).unwrap();
        let tensor = pll(CpuPath::Tensor);
        for &isa in &isas {
            let kernel = pll(CpuPath::Kernel(isa));
            assert!(
                (kernel - tensor).abs() < 1e-5 * tensor.abs(),
                "{isa} {nv}x{nh}: kernel {kernel} vs tensor {tensor}"
            );
        }
    }
}

#[test]
fn the_mean_hidden_activation_metric_reports_the_mean_of_the_hidden_probabilities() {
    // The example statistic of the metric module (rbm::train::metric::HiddenActivation):
    // on both implementations of the step, its value for a batch is the mean over rows and
    // units of E[h|v⁰] = σ(v⁰W + b), computed here independently from the RBM.
    use rbm::train::metric::{HiddenActivation, Statistic};
    let mut s = 3u64;
    let (nv, nh, batch) = (48, 20, 17);
    let rbm = common::random_rbm(nv, nh, Units::Bernoulli, Units::Bernoulli, 0.4, 5);
    let v0: Vec<Vec<f64>> = (0..batch)
        .map(|_| {
            (0..nv)
                .map(|_| f64::from(common::lcg(&mut s) > 0.1))
                .collect()
        })
        .collect();
    let want = rbm.hidden_mean(rows(&v0)).mean().into_scalar::<f64>();
    // The tensor step on every CPU, and the kernel on each instruction set this CPU has.
    let kernels = Isa::detected().into_iter().map(CpuPath::Kernel);
    for path in std::iter::once(CpuPath::Tensor).chain(kernels) {
        let kernel = path != CpuPath::Tensor;
        let model = CdConfig::new()
            .init_seeded(rbm.clone(), 1)
            .unwrap()
            .with_cpu_path(Some(path));
        assert_eq!(model.effective_cpu_path(), path);
        let out = model.evaluate(CdBatch::new(rows(&v0), 9));
        let got = HiddenActivation::of(&out).into_scalar::<f64>();
        assert!(
            (got - want).abs() < 1e-6,
            "{path} (kernel {kernel}): {got} vs {want}"
        );
        assert!(got > 0.05 && got < 0.95, "a non-trivial value: {got}");
    }
}
