//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different subset

use burn::prelude::*;
use rbm::{Rbm, Units};

/// A deterministic pseudo-random number in [−1, 1) (a tiny LCG, independent of the crates).
pub fn lcg(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

/// An RBM on the flex device with weights uniform in ±`scale` and biases uniform in ±0.5.
pub fn random_rbm(nv: usize, nh: usize, vu: Units, hu: Units, scale: f64, seed: u64) -> Rbm {
    let mut s = seed;
    let d = Device::flex();
    let w: Vec<f32> = (0..nv * nh).map(|_| (scale * lcg(&mut s)) as f32).collect();
    let a: Vec<f32> = (0..nv).map(|_| (0.5 * lcg(&mut s)) as f32).collect();
    let b: Vec<f32> = (0..nh).map(|_| (0.5 * lcg(&mut s)) as f32).collect();
    Rbm::from_parameters(
        Tensor::from_data(TensorData::new(w, [nv, nh]), &d),
        Tensor::from_data(TensorData::new(a, [nv]), &d),
        Tensor::from_data(TensorData::new(b, [nh]), &d),
        vu,
        hu,
    )
}

/// Rows of f64 values as a `[rows, n]` tensor on the flex device.
pub fn rows_tensor(rows: &[Vec<f64>]) -> Tensor<2> {
    let n = rows[0].len();
    let flat: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), n]), &Device::flex())
}

/// A tensor's values as f64.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Seeds the flex device's random stream and holds it for the rest of the test.
///
/// The flex backend has one random generator per process, and the tests of one binary run on
/// parallel threads: without this lock, two tests drawing at the same time would interleave
/// their draws and a seeded test would not be reproducible.
pub fn seeded(seed: u64) -> std::sync::MutexGuard<'static, ()> {
    let guard = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Device::flex().seed(seed);
    guard
}

/// χ² of observed `counts` against probabilities `p` for `n` draws, classes with fewer than
/// five expected draws pooled, and the 0.1% critical value (Wilson–Hilferty).
pub fn chi2_test(counts: &[f64], p: &[f64], n: f64) -> (f64, f64) {
    let (mut chi2, mut classes, mut pooled_o, mut pooled_e) = (0.0, 0usize, 0.0, 0.0);
    for (o, pi) in counts.iter().zip(p) {
        let e = n * pi;
        if e < 5.0 {
            pooled_o += o;
            pooled_e += e;
        } else {
            chi2 += (o - e).powi(2) / e;
            classes += 1;
        }
    }
    if pooled_e > 0.0 {
        chi2 += (pooled_o - pooled_e).powi(2) / pooled_e;
        classes += 1;
    }
    let d = (classes - 1) as f64;
    let a = 2.0 / (9.0 * d);
    (chi2, d * (1.0 - a + 3.0902 * a.sqrt()).powi(3))
}

/// p(v) of each of the visible rows `flat` (row-major), by enumeration.
pub fn visible_probabilities(host: &rbm::eval::exact::HostRbm, flat: &[f64]) -> Vec<f64> {
    host.log_prob_visible(flat)
        .unwrap()
        .iter()
        .map(|x| x.exp())
        .collect()
}
