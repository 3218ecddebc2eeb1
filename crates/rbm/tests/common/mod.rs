//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses a different subset

use burn::prelude::*;
use rbm::eval::exact::{HostRbm, state};
use rbm::{CpuPath, Rbm, Units};

/// The fused kernel's path on this CPU: the tests of the kernel's paths need one.
pub fn kernel_path() -> CpuPath {
    let path = CpuPath::best();
    assert!(
        matches!(path, CpuPath::Kernel(_)),
        "this CPU has no instruction set of the fused kernel ({})",
        rbm::describe_cpu()
    );
    path
}

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

/// A 10 × 3 RBM whose p(v) has two modes ten flips apart: hidden unit 0 couples to every
/// visible unit with weight `strong` (a ferromagnet through one hidden unit: p(v) grows with
/// |Σ v| for spins), the other hidden units weakly (±0.3); biases ±0.1 so the modes are not
/// exactly symmetric.
pub fn bimodal_rbm(visible: Units, hidden: Units, strong: f64) -> Rbm {
    let (nv, nh) = (10, 3);
    let mut s = 7;
    let w: Vec<f32> = (0..nv * nh)
        .map(|k| match k % nh {
            0 => strong as f32,
            _ => (0.3 * lcg(&mut s)) as f32,
        })
        .collect();
    let a: Vec<f32> = (0..nv)
        .map(|_| (0.06 + 0.05 * lcg(&mut s)) as f32)
        .collect();
    let b: Vec<f32> = (0..nh).map(|_| (0.1 * lcg(&mut s)) as f32).collect();
    let d = Device::flex();
    Rbm::from_parameters(
        Tensor::from_data(TensorData::new(w, [nv, nh]), &d),
        Tensor::from_data(TensorData::new(a, [nv]), &d),
        Tensor::from_data(TensorData::new(b, [nh]), &d),
        visible,
        hidden,
    )
}

/// The index of a visible row in [`state`]'s numbering (bit i set for the upper value).
pub fn index_of(units: Units, row: &[f64]) -> usize {
    let [lo, hi] = units.values().expect("discrete");
    row.iter().enumerate().fold(0, |acc, (i, &x)| {
        let bit = (x - hi).abs() < 1e-6;
        assert!(bit || (x - lo).abs() < 1e-6, "not a unit value: {x}");
        acc | (usize::from(bit) << i)
    })
}

/// Counts of each visible configuration among the rows of `samples`.
pub fn histogram(units: Units, samples: Tensor<2>) -> Vec<f64> {
    let n = samples.dims()[1];
    let mut counts = vec![0.0; 1 << n];
    for row in values(samples).chunks(n) {
        counts[index_of(units, row)] += 1.0;
    }
    counts
}

/// The exact p(v) of every visible configuration, in [`state`]'s numbering.
pub fn exact_p(rbm: &Rbm) -> Vec<f64> {
    let host = HostRbm::from_rbm(rbm).unwrap();
    let n = rbm.n_visible();
    let flat: Vec<f64> = (0..1u64 << n)
        .flat_map(|i| state(rbm.visible_units, n, i))
        .collect();
    visible_probabilities(&host, &flat)
}

/// Upper tail of the standard normal, Q(z) = ½ erfc(z/√2) (Numerical Recipes' erfc,
/// relative error < 1.2e-7).
pub fn normal_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

/// The χ² statistic, its 0.1% critical value (both from `chi2_test`, bins with
/// fewer than five expected draws pooled) and its p-value by the Wilson–Hilferty
/// approximation, with the degrees of freedom counted by the same pooling rule.
pub fn chi2_with_p(counts: &[f64], p: &[f64], n: f64) -> (f64, f64, f64) {
    let (chi2, critical) = chi2_test(counts, p, n);
    let big = p.iter().filter(|&&pi| n * pi >= 5.0).count();
    let pooled = usize::from(p.iter().any(|&pi| n * pi < 5.0));
    let d = (big + pooled - 1) as f64;
    let a = 2.0 / (9.0 * d);
    let z = ((chi2 / d).cbrt() - (1.0 - a)) / a.sqrt();
    (chi2, critical, normal_tail(z))
}
