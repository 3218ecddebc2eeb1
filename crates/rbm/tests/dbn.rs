//! The DBN stack against explicit compositions of its layers.

mod common;

use burn::prelude::*;
use rbm::{Dbn, Propagation, RbmConfig, Units};

fn close(a: Tensor<2>, b: Tensor<2>, tol: f64) -> bool {
    let (a, b) = (
        a.into_data().try_to_vec::<f32>().unwrap(),
        b.into_data().try_to_vec::<f32>().unwrap(),
    );
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| (x - y).abs() as f64 <= tol)
}

#[test]
fn upward_map_reconstruction_and_receptive_fields_compose_the_layers() {
    let device = Device::flex();
    let _rng = common::seeded(3);
    let l1 = RbmConfig::new(12, 6)
        .with_init_std(0.5)
        .init(&device)
        .unwrap();
    let l2 = RbmConfig::new(6, 3)
        .with_init_std(0.5)
        .init(&device)
        .unwrap();
    let dbn = Dbn::new(vec![l1.clone(), l2.clone()]).unwrap();
    let v = Tensor::<2>::random([5, 12], burn::tensor::Distribution::Bernoulli(0.5), &device);

    let h1 = l1.hidden_mean(v.clone());
    let h2 = l2.hidden_mean(h1.clone());
    assert!(close(dbn.up(v.clone(), 1, Propagation::Mean), h1, 1e-6));
    assert!(close(
        dbn.up(v.clone(), 2, Propagation::Mean),
        h2.clone(),
        1e-6
    ));
    let down = l1.visible_mean(l2.visible_mean(h2));
    assert!(close(dbn.reconstruct(v.clone()), down, 1e-6));
    // Sampled activities are valid unit values.
    let s = dbn
        .up(v, 2, Propagation::Sample)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(s.iter().all(|&x| x.abs() < 1e-6 || (x - 1.0).abs() < 1e-6));

    // r(1) = W(1), r(2) = W(1) W(2), computed element by element on the host.
    let r = dbn.receptive_fields();
    assert_eq!(r[1].dims(), [12, 3]);
    let w1 = l1.weights.val().into_data().try_to_vec::<f32>().unwrap();
    let w2 = l2.weights.val().into_data().try_to_vec::<f32>().unwrap();
    let r2 = r[1].clone().into_data().try_to_vec::<f32>().unwrap();
    for i in 0..12 {
        for j in 0..3 {
            let x: f32 = (0..6).map(|m| w1[i * 6 + m] * w2[m * 3 + j]).sum();
            assert!((r2[i * 3 + j] - x).abs() < 1e-5);
        }
    }
}

#[test]
fn mismatched_stacks_are_refused() {
    let _rng = common::seeded(0);
    let device = Device::flex();
    let l1 = RbmConfig::new(12, 6).init(&device).unwrap();
    let wrong_width = RbmConfig::new(5, 3).init(&device).unwrap();
    let err = Dbn::new(vec![l1.clone(), wrong_width])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("6 hidden units") && err.contains("5 visible"),
        "{err}"
    );
    let wrong_units = RbmConfig::new(6, 3)
        .with_visible_units(Units::Spin)
        .init(&device)
        .unwrap();
    assert!(Dbn::new(vec![l1, wrong_units]).is_err());
    assert!(Dbn::new(vec![]).is_err());
}
