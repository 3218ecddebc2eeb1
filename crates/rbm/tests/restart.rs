//! Negative chains restarted from random states every update (`CdConfig::restart`, Decelle
//! et al.'s "Rdm"): with enough Gibbs steps the step's negative samples are exact samples of
//! a small RBM (χ² against enumeration) and with one step they are not; the chains are not
//! kept between steps; restarts with PCD are refused.

mod common;

use burn::config::Config;
use burn::prelude::*;
use burn::train::TrainStep;
use common::{chi2_with_p, exact_p, histogram, random_rbm};
use rbm::train::{CdBatch, CdConfig, Restart};
use rbm::{Noise, RbmError, Units};

#[test]
fn restarted_chains_with_many_steps_sample_the_model_and_with_one_do_not() {
    // An 8 × 4 RBM in ±1 units with weights in ±0.8 (p(v) far from uniform); 4000 chains
    // restarted from random states; χ² at significance 10⁻³ against the exact p(v) of its 256
    // states: k = 100 and k = 30 must pass, k = 1 must fail.
    let rbm = random_rbm(8, 4, Units::Spin, Units::Spin, 0.8, 21);
    let p = exact_p(&rbm);
    let v0 = Tensor::<2>::zeros([10, 8], &Device::flex());
    for (k, passes) in [(100, true), (30, true), (1, false)] {
        let config = CdConfig::new()
            .with_k(k)
            .with_chains(4000)
            .with_restart(Some(Restart::Random));
        let model = config.init_seeded(rbm.clone(), 1).unwrap();
        let (gradient, _) = model.cd_gradient(v0.clone(), &mut Noise::new(4));
        assert_eq!(gradient.negative.dims(), [4000, 8]);
        let counts = histogram(Units::Spin, gradient.negative);
        let (chi2, critical, p_value) = chi2_with_p(&counts, &p, 4000.0);
        eprintln!("k = {k}: chi2 {chi2:.1} (critical {critical:.1}), p {p_value:.3e}");
        assert_eq!(
            chi2 < critical,
            passes,
            "k = {k}: chi2 {chi2:.1}, critical {critical:.1}"
        );
    }
}

#[test]
fn restarted_chains_are_not_kept_and_not_persistent() {
    let rbm = random_rbm(8, 4, Units::Bernoulli, Units::Bernoulli, 0.8, 21);
    let config = CdConfig::new()
        .with_chains(50)
        .with_restart(Some(Restart::Random));
    let model = config.init(rbm.clone()).unwrap();
    let before = model.chains.value_sync().into_data();
    let v0 = Tensor::<2>::zeros([10, 8], &Device::flex());
    let _ = TrainStep::step(&model, CdBatch::new(v0, 3));
    assert_eq!(
        model.chains.value_sync().into_data(),
        before,
        "the chains moved"
    );

    let both = config.clone().with_persistent(true);
    let e = both.init(rbm.clone()).unwrap_err();
    assert!(matches!(e, RbmError::Config(_)), "{e:?}");
    assert!(e.to_string().contains("restart"), "{e}");
    let none = config.with_chains(0);
    assert!(none.init(rbm).unwrap_err().to_string().contains("chains"));
    let written =
        r#"{"k": 1, "persistent": false, "chains": 10, "l1": 0.0, "l2": 0.0, "restart": "random"}"#;
    let read = CdConfig::load_binary(written.as_bytes()).unwrap();
    assert_eq!(read.restart, Some(Restart::Random));
    let old = r#"{"k": 1, "persistent": false, "chains": 10, "l1": 0.0, "l2": 0.0}"#;
    assert_eq!(CdConfig::load_binary(old.as_bytes()).unwrap().restart, None);
}
