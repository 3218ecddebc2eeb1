//! PT-PCD (persistent chains under parallel tempering, `CdConfig::tempering`) against exact
//! answers: the training step's own β = 1 replicas, run at fixed parameters on a bimodal
//! RBM small enough to enumerate, sample its exact p(v) where plain PCD chains from the same
//! start do not (on the tensor path and on the fused kernel); the configuration refuses
//! tempering without PCD and bad ladders; training on 4×4 Ising samples in the ordered phase
//! reaches a lower exact KL than CD-1 at equal epochs; the ladder's update on the fused
//! kernel agrees with tensor operations.

mod common;

use burn::config::Config;
use burn::module::RunningState;
use burn::prelude::*;
use burn::train::TrainStep;
use common::{bimodal_rbm, chi2_with_p, exact_p, histogram, kernel_path, random_rbm, values};
use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding};
use rbm::eval::exact::HostRbm;
use rbm::eval::likelihood::ising_kl_per_spin_exact;
use rbm::train::{CdBatch, CdConfig, CdModel, PtConfig, sgd_with_momentum};
use rbm::{CpuPath, RbmConfig, RbmError, Units, noise};

/// Chains per inverse temperature in the sampling test.
const CHAINS: usize = 2000;

/// `model`'s persistent states all at `value` (every replica, every unit).
fn start_all_at(model: CdModel, value: f64) -> CdModel {
    let [rows, n] = model.chains.value_sync().dims();
    let start = Tensor::<2>::full([rows, n], value, &Device::flex());
    CdModel {
        chains: RunningState::new(start),
        ..model
    }
}

/// The β = 1 states of `model`'s chains (the last `CHAINS` rows).
fn model_rows(model: &CdModel) -> Tensor<2> {
    let states = model.chains.value_sync();
    let rows = states.dims()[0];
    states.narrow(0, rows - CHAINS, CHAINS)
}

/// Runs `steps` training steps of `model` without updating its parameters (the gradient is
/// dropped), recording the β = 1 states after each step past `burn_in` that is a multiple
/// of `thin` after it.
fn run_chains(model: &CdModel, burn_in: usize, steps: usize, thin: usize) -> Tensor<2> {
    let n = model.rbm.n_visible();
    let v0 = Tensor::<2>::zeros([1, n], &Device::flex());
    let mut recorded = Vec::new();
    for t in 0..burn_in + steps {
        let batch = CdBatch::new(v0.clone(), noise::key(&[5, t as u64]));
        let _ = TrainStep::step(model, batch);
        if t >= burn_in && (t + 1 - burn_in).is_multiple_of(thin) {
            recorded.push(model_rows(model));
        }
    }
    Tensor::cat(recorded, 0)
}

#[test]
fn the_training_steps_tempered_chains_sample_a_bimodal_marginal_that_pcd_does_not() {
    // The bimodal 10 × 3 RBM of the tempering tests, in ±1 units (the tensor path) and in
    // {0, 1} units (the fused kernel on CPUs that have it); 2000 chains per inverse
    // temperature on 8 rungs geometric from 0.05, every replica started in the lower mode;
    // 150 steps of burn-in, then the β = 1 replicas every 50 steps (4000 samples). χ² against
    // exact enumeration at significance 10⁻³: PT-PCD must pass, plain PCD chains with the
    // same start and steps must fail.
    let spin = bimodal_rbm(Units::Spin, Units::Spin, 1.2);
    let (bernoulli, _) = spin.clone().with_visible_units(Units::Bernoulli);
    let (bernoulli, _) = bernoulli.with_hidden_units(Units::Bernoulli);
    for rbm in [spin, bernoulli] {
        let units = rbm.visible_units;
        let p = exact_p(&rbm);
        let [lo, _] = units.values().unwrap();
        let pcd = CdConfig::new().with_persistent(true).with_chains(CHAINS);
        let pt = pcd.clone().with_tempering(Some(PtConfig {
            replicas: 8,
            beta_min: 0.05,
        }));
        let tempered = start_all_at(pt.init_seeded(rbm.clone(), 3).unwrap(), lo);
        assert_eq!(tempered.chains.value_sync().dims(), [8 * CHAINS, 10]);
        let samples = run_chains(&tempered, 150, 100, 50);
        let n = samples.dims()[0] as f64;
        let (chi2, critical, p_value) = chi2_with_p(&histogram(units, samples), &p, n);
        eprintln!(
            "{units:?} ({:?}) PT-PCD: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3}",
            tempered.effective_cpu_path()
        );
        assert!(chi2 < critical, "{units:?}: PT-PCD rejected, {chi2:.1}");

        let plain = start_all_at(pcd.init_seeded(rbm.clone(), 3).unwrap(), lo);
        let samples = run_chains(&plain, 150, 100, 50);
        let (chi2, critical, p_value) = chi2_with_p(&histogram(units, samples), &p, n);
        eprintln!("{units:?} PCD: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3e}");
        assert!(
            chi2 > critical,
            "{units:?}: plain PCD not rejected, {chi2:.1}"
        );
    }
}

#[test]
fn tempering_needs_pcd_and_a_valid_ladder() {
    let rbm = bimodal_rbm(Units::Spin, Units::Spin, 1.0);
    let ladder = |replicas, beta_min| Some(PtConfig { replicas, beta_min });
    let cases = [
        (false, ladder(4, 0.1), "persistent"),
        (true, ladder(1, 0.1), "tempering.replicas"),
        (true, ladder(4, 0.0), "tempering.beta_min"),
        (true, ladder(4, 1.0), "tempering.beta_min"),
    ];
    for (persistent, tempering, field) in cases {
        let config = CdConfig::new()
            .with_persistent(persistent)
            .with_tempering(tempering);
        let e = config.init(rbm.clone()).unwrap_err();
        assert!(matches!(e, RbmError::Config(_)), "{e:?}");
        assert!(e.to_string().contains(field), "{e} (expected {field})");
    }
    // A configuration written before tempering existed reads as plain PCD.
    let old = r#"{"k": 1, "persistent": true, "chains": 10, "l1": 0.0, "l2": 0.0}"#;
    let config = CdConfig::load_binary(old.as_bytes()).unwrap();
    assert_eq!(config.tempering, None);
    let unknown = r#"{"k": 1, "persistent": true, "chains": 10, "l1": 0.0, "l2": 0.0,
        "tempering": {"replicas": 4, "beta_min": 0.1, "betas": [0.5]}}"#;
    let e = CdConfig::load_binary(unknown.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("betas"), "{e}");
}

/// The exact KL per spin against the 4×4 Ising model at K = 0.6 (ordered, two modes) of a
/// 16-16 RBM in ±1 units trained with `config` on `data` for 10 epochs, learning rate 0.005
/// and momentum 0.5, initial weights and step keys from seed 17.
fn trained_kl(config: &CdConfig, data: &Tensor<2>) -> f64 {
    let (lattice, k) = (Lattice::Square { l: 4 }, 0.6);
    let device = Device::flex();
    let _rng = common::seeded(17);
    let rbm = RbmConfig::new(16, 16)
        .with_visible_units(Units::Spin)
        .with_hidden_units(Units::Spin)
        .with_init_std(0.1)
        .init(&device)
        .unwrap();
    let mut model = config.init_seeded(rbm, 17).unwrap();
    let mut optim = sgd_with_momentum(0.5);
    let (rows, batch) = (data.dims()[0], 100);
    for epoch in 0..10 {
        for b in 0..rows / batch {
            let v0 = data.clone().slice([b * batch..(b + 1) * batch, 0..16]);
            let key = noise::key(&[17, epoch, b as u64]);
            let out = TrainStep::step(&model, CdBatch::new(v0, key));
            model = optim.step(0.005, model, out.grads);
        }
    }
    ising_kl_per_spin_exact(&HostRbm::from_rbm(&model.rbm).unwrap(), &lattice, k).unwrap()
}

#[test]
fn pt_pcd_trains_a_bimodal_ising_model_better_than_cd1_and_pcd() {
    // 10 000 Wolff samples of the 4×4 torus at K = 0.6 (two modes of opposite
    // magnetisation); the same RBM, initial weights and step keys trained by CD-1, by PCD-1
    // (100 chains) and by PT-PCD (100 chains on 6 rungs from β = 0.2). The exact KL per spin
    // (enumeration of the 2^16 states) of PT-PCD must be below both: PCD's chains, stuck in
    // one mode, drive the model away (KL 0.01 to 0.6 over seeds 16 to 20), while PT-PCD ends
    // at 0.0053 to 0.0057 and CD-1 at 0.0071 to 0.0085.
    let lattice = Lattice::Square { l: 4 };
    let mut generate_config = GenerateConfig::new(lattice, 0.6, 10_000, 9);
    generate_config.spacing_sweeps = 2;
    let samples = generate(&generate_config.validated().unwrap(), &|_| {}).spins;
    let data = IsingDataset::new(lattice, samples)
        .unwrap()
        .to_tensor(SpinEncoding::PlusMinusOne, &Device::flex());
    let pcd = CdConfig::new().with_persistent(true).with_chains(100);
    let pt = pcd.clone().with_tempering(Some(PtConfig {
        replicas: 6,
        beta_min: 0.2,
    }));
    let kl_cd = trained_kl(&CdConfig::new(), &data);
    let kl_pcd = trained_kl(&pcd, &data);
    let kl_pt = trained_kl(&pt, &data);
    eprintln!(
        "exact KL per spin after 10 epochs: CD-1 {kl_cd:.5}, PCD-1 {kl_pcd:.5}, PT-PCD {kl_pt:.5}"
    );
    assert!(kl_pt < kl_cd, "PT-PCD {kl_pt} not below CD-1 {kl_cd}");
    assert!(kl_pt < kl_pcd, "PT-PCD {kl_pt} not below PCD-1 {kl_pcd}");
}

#[test]
#[cfg_attr(
    not(kernel_host),
    ignore = "this CPU has none of the fused kernel's instruction sets (AVX-512, AVX2, NEON)"
)]
fn the_ladder_update_on_the_kernel_agrees_with_tensor_operations() {
    // A Bernoulli RBM of 20 visible and 12 hidden units (padded to 16 on the kernel),
    // couplings of scale 0.8, PT-PCD with 30 chains on 4 rungs from β = 0.3, 25 training
    // steps at fixed parameters on each path from the same seeds. Both draw the same numbers
    // in the same order, so they make the same draws and swaps except where a uniform falls
    // within f32 rounding of a probability (after which that replica goes its own way): at
    // least 90 % of every replica's final states identical and each pair's acceptance,
    // summed over the steps, within 0.05. A wrong β, energy or swap order changes nearly
    // every row.
    let rbm = random_rbm(20, 12, Units::Bernoulli, Units::Bernoulli, 0.8, 11);
    let config = CdConfig::new()
        .with_persistent(true)
        .with_chains(30)
        .with_tempering(Some(PtConfig {
            replicas: 4,
            beta_min: 0.3,
        }));
    let run = |path: CpuPath| {
        let model = config
            .clone()
            .init_seeded(rbm.clone(), 9)
            .unwrap()
            .with_cpu_path(Some(path));
        assert_eq!(model.effective_cpu_path(), path);
        let v0 = Tensor::<2>::zeros([1, 20], &Device::flex());
        let mut acceptance = [0.0f64; 3];
        for t in 0..25u64 {
            let out = TrainStep::step(&model, CdBatch::new(v0.clone(), noise::key(&[8, t])));
            for (a, x) in acceptance.iter_mut().zip(&out.item.swap_acceptance) {
                *a += x / 25.0;
            }
        }
        (values(model.chains.value_sync()), acceptance)
    };
    let (tensor, kernel) = (run(CpuPath::Tensor), run(kernel_path()));
    let rows = tensor.0.len() / 20;
    assert_eq!(rows, 4 * 30);
    let same = tensor
        .0
        .chunks(20)
        .zip(kernel.0.chunks(20))
        .filter(|(a, b)| a == b)
        .count();
    eprintln!(
        "replicas identical {same}/{rows}, acceptance tensor {:.3?} kernel {:.3?}",
        tensor.1, kernel.1
    );
    assert!(
        same as f64 >= 0.9 * rows as f64,
        "only {same} of {rows} replicas agree"
    );
    for (x, y) in tensor.1.iter().zip(&kernel.1) {
        assert!((x - y).abs() < 0.05, "acceptance {x} against {y}");
    }
}
