//! Models, their persistent chains and training configurations survive a save and load;
//! a record of another architecture is refused with an error.

mod common;

use burn::module::Module;
use burn::prelude::*;
use burn::train::TrainStep;
use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding, exact as ising_exact};
use rbm::eval::ais::{AisConfig, ais_log_partition};
use rbm::eval::exact::HostRbm;
use rbm::eval::likelihood::{Estimate, ising_kl_per_spin_estimate, ising_kl_per_spin_exact};
use rbm::{CdConfig, LrSchedule, RbmConfig, TrainingConfig, Units};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn pcd_model_round_trips_with_its_chains() {
    let device = Device::flex();
    let _rng = common::seeded(4);
    let cd = CdConfig::new().with_persistent(true).with_chains(7);
    let mut model = cd
        .init(
            RbmConfig::new(10, 4)
                .with_init_std(0.3)
                .init(&device)
                .unwrap(),
        )
        .unwrap();
    let mut optim = rbm::sgd_with_momentum(0.5);
    let data = Tensor::<2>::random(
        [20, 10],
        burn::tensor::Distribution::Bernoulli(0.5),
        &device,
    );
    for step in 0..5 {
        let out = TrainStep::step(&model, rbm::CdBatch::new(data.clone(), step));
        model = optim.step(0.1, model, out.grads);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bpk");
    // `valid()` commits the chains' last update before the record is taken.
    let saved = model.valid();
    saved.clone().save_file(&path).unwrap();
    let fresh = cd
        .init(RbmConfig::new(10, 4).init(&device).unwrap())
        .unwrap();
    let loaded = fresh.try_load_file(&path).unwrap();
    // A storage round trip must be bit-exact, so these comparisons are exact.
    assert_eq!(
        values(loaded.rbm.weights.val()),
        values(saved.rbm.weights.val())
    );
    assert_eq!(
        values(loaded.rbm.hidden_bias.val()),
        values(saved.rbm.hidden_bias.val())
    );
    assert_eq!(
        values(loaded.chains.value_sync()),
        values(saved.chains.value_sync())
    );
    // The chains moved during training.
    assert_ne!(
        values(loaded.chains.value_sync()),
        values(
            cd.init(RbmConfig::new(10, 4).init(&device).unwrap())
                .unwrap()
                .chains
                .value_sync()
        )
    );

    // Another architecture: a clear error, not a panic.
    let other = cd
        .init(RbmConfig::new(10, 5).init(&device).unwrap())
        .unwrap();
    let err = other.try_load_file(&path).unwrap_err().to_string();
    assert!(err.contains("shape"), "{err}");
}

#[test]
fn training_config_round_trips_and_schedules_follow_their_formulas() {
    let config = TrainingConfig::new(CdConfig::new().with_k(3).with_l1(2e-4))
        .with_learning_rate(0.1)
        .with_schedule(LrSchedule::Linear { final_lr: 0.01 })
        .with_epochs(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("training.json");
    burn::config::Config::save(&config, &path).unwrap();
    let back: TrainingConfig = burn::config::Config::load(&path).unwrap();
    assert_eq!(back.cd.k, 3);
    assert!((back.cd.l1 - 2e-4).abs() < 1e-18);
    assert_eq!(back.schedule, LrSchedule::Linear { final_lr: 0.01 });
    // Linear over 3 steps: 0.1, 0.07, 0.04, 0.01.
    let mut s = rbm::lr_scheduler(&config.clone().validated().unwrap(), 3).unwrap();
    let lrs: Vec<f64> = (0..4).map(|_| s.step().base()).collect();
    for (got, want) in lrs.iter().zip([0.1, 0.07, 0.04, 0.01]) {
        assert!((got - want).abs() < 1e-12, "{lrs:?}");
    }
    let exponential = config
        .clone()
        .with_schedule(LrSchedule::Exponential { gamma: 0.5 })
        .validated()
        .unwrap();
    let mut e = rbm::lr_scheduler(&exponential, 10).unwrap();
    let lrs: Vec<f64> = (0..3).map(|_| e.step().base()).collect();
    for (got, want) in lrs.iter().zip([0.1, 0.05, 0.025]) {
        assert!((got - want).abs() < 1e-12, "{lrs:?}");
    }
    assert!(config.clone().with_momentum(1.0).validate().is_err());
    let e = config
        .with_schedule(LrSchedule::Exponential { gamma: 0.0 })
        .validated()
        .unwrap_err();
    assert_eq!(e.field(), Some("schedule.gamma"), "{e}");
}

#[test]
fn sampled_kl_estimate_agrees_with_the_exact_kl() {
    // 3×3 Ising samples at K = 0.4; an RBM with random weights. The estimate
    // mean(F) + ln Z over N, minus the exact entropy, must match the enumerated KL within
    // 4 of its standard errors (the sampling error of mean F with 20 000 samples, ≈ 0.002,
    // and the AIS error of ln Z), with ln Z exact and with ln Z from AIS.
    let (lattice, k) = (Lattice::Square { l: 3 }, 0.4);
    let mut config = GenerateConfig::new(lattice, k, 20_000, 9);
    config.spacing_sweeps = 2;
    let spins = generate(&config.validated().unwrap(), &|_| {}).spins;
    let device = Device::flex();
    let _rng = common::seeded(5);
    let samples = IsingDataset::new(lattice, spins)
        .unwrap()
        .to_tensor(SpinEncoding::PlusMinusOne, &device);
    let rbm = RbmConfig::new(9, 6)
        .with_visible_units(Units::Spin)
        .with_init_std(0.4)
        .init(&device)
        .unwrap();
    let host = HostRbm::from_rbm(&rbm).unwrap();
    let exact_kl = ising_kl_per_spin_exact(&host, &lattice, k).unwrap();
    let s = ising_exact::enumerate_square(3, 3, k).entropy_per_spin;
    let log_z = host.log_partition_exact().unwrap();
    let exact_z = Estimate {
        value: log_z,
        std_error: 0.0,
    };
    let est = ising_kl_per_spin_estimate(&rbm, samples.clone(), exact_z, s).unwrap();
    // Samples are 2 sweeps apart, nearly independent at K = 0.4 on 3×3.
    assert!(est.std_error > 0.0005 && est.std_error < 0.005, "{est:?}");
    assert!(
        (est.value - exact_kl).abs() < 4.0 * est.std_error,
        "{est:?} vs {exact_kl}"
    );
    let ais = ais_log_partition(
        &rbm,
        None,
        &AisConfig {
            runs: 50,
            segments: vec![(1.0, 2000)],
            seed: 1,
            cpu_path: None,
        },
    )
    .unwrap();
    let ais_z = Estimate {
        value: ais.log_partition,
        std_error: ais.std_error,
    };
    let est_ais = ising_kl_per_spin_estimate(&rbm, samples, ais_z, s).unwrap();
    assert!(est_ais.std_error >= est.std_error, "{est_ais:?}");
    assert!(
        (est_ais.value - exact_kl).abs() < 4.0 * est_ais.std_error,
        "{est_ais:?} vs {exact_kl}"
    );
}
