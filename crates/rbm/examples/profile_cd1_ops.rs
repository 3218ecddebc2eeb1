//! Times the individual tensor operations of a CD-1 step of the 1600 → 400 layer (batch 100)
//! on the flex backend, to see where a training step's time goes.
//!
//! `cargo run --release -p rbm --example profile_cd1_ops`

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;

fn time(name: &str, flops: f64, f: &dyn Fn() -> f32) {
    for _ in 0..5 {
        f();
    }
    let n = 50;
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / n as f64;
    if flops > 0.0 {
        println!("{name:<32} {ms:>7.3} ms  {:>6.1} GFLOP/s", flops / ms / 1e6);
    } else {
        println!("{name:<32} {ms:>7.3} ms");
    }
}

fn first(t: Tensor<2>) -> f32 {
    t.slice([0..1, 0..1]).into_scalar::<f32>()
}

fn main() {
    let d = Device::flex();
    d.seed(1);
    let v = Tensor::<2>::random([100, 1600], Distribution::Bernoulli(0.5), &d);
    let w = Tensor::<2>::random([1600, 400], Distribution::Default, &d);
    let h = Tensor::<2>::random([100, 400], Distribution::Default, &d);
    let mm = 2.0 * 100.0 * 1600.0 * 400.0;
    time("v W        [100x1600][1600x400]", mm, &|| {
        first(v.clone().matmul(w.clone()))
    });
    time("h Wᵀ       [100x400][400x1600]", mm, &|| {
        first(h.clone().matmul(w.clone().transpose()))
    });
    time("vᵀ h       [1600x100][100x400]", mm, &|| {
        first(v.clone().transpose().matmul(h.clone()))
    });
    time("hᵀ v       [400x100][100x1600]", mm, &|| {
        first(h.clone().transpose().matmul(v.clone()))
    });
    time("sigmoid    [100x400]", 0.0, &|| first(sigmoid(h.clone())));
    time("uniforms   [100x1600]", 0.0, &|| {
        first(Tensor::<2>::random([100, 1600], Distribution::Default, &d))
    });
    time("W + W      [1600x400]", 0.0, &|| {
        first(w.clone() + w.clone())
    });
}
