//! Times the individual tensor operations of a CD-1 step of the 1600 → 400 layer (batch 100)
//! on the flex backend, to see where a training step's time goes.
//!
//! `cargo run --release -p rbm --example profile_cd1_ops`; with `--ceiling`, only the
//! register-only FMA loop (the ceiling the step is compared with), for timing it beside
//! `bench_cd1`.

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
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--ceiling") => {
            for isa in rbm::Isa::detected() {
                fma_peak(isa);
            }
            return;
        }
        Some(other) => {
            eprintln!("error: unknown argument {other} (the only one is --ceiling)");
            std::process::exit(2);
        }
    }
    kernel_products();
    host_uniforms();
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
    let v2 = Tensor::cat(vec![v.clone(), v.clone()], 0);
    let h2 = Tensor::cat(vec![h.clone(), h.clone()], 0);
    time("[v;v]ᵀ [h;h] [1600x200][200x400]", 2.0 * mm, &|| {
        first(v2.clone().transpose().matmul(h2.clone()))
    });
    let v2t = v2.clone().transpose().add_scalar(0.0);
    time("(copied [v;v]ᵀ) [h;h]", 2.0 * mm, &|| {
        first(v2t.clone().matmul(h2.clone()))
    });
    time("transpose copy + product", 2.0 * mm, &|| {
        first(v2.clone().transpose().add_scalar(0.0).matmul(h2.clone()))
    });
    time("([h;h]ᵀ [v;v])ᵀ", 2.0 * mm, &|| {
        first(h2.clone().transpose().matmul(v2.clone()).transpose())
    });
    let h2t = h2.clone().transpose().add_scalar(0.0);
    time("(copied [h;h]ᵀ) [v;v]", 2.0 * mm, &|| {
        first(h2t.clone().matmul(v2.clone()))
    });
    time("transpose by reshape [1600x200]", 0.0, &|| {
        first(
            v2.clone()
                .transpose()
                .reshape([320_000])
                .reshape([1600, 200]),
        )
    });
    time("reshape-transpose + product", 2.0 * mm, &|| {
        first(
            v2.clone()
                .transpose()
                .reshape([320_000])
                .reshape([1600, 200])
                .matmul(h2.clone()),
        )
    });
    time("sigmoid    [100x400]", 0.0, &|| first(sigmoid(h.clone())));
    time("uniforms   [100x1600]", 0.0, &|| {
        first(Tensor::<2>::random([100, 1600], Distribution::Default, &d))
    });
    time("W + W      [1600x400]", 0.0, &|| {
        first(w.clone() + w.clone())
    });
}

/// The fused CPU kernel's matrix products for the same shapes, on every instruction set this
/// CPU has, and each one's multiply-add ceiling.
fn kernel_products() {
    use rbm::profiling::{Operand, Term, matmul_sum};
    let mut noise = rbm::Noise::new(1);
    let v = noise.uniforms(100 * 1600);
    let w = noise.uniforms(1600 * 400);
    let ht = noise.uniforms(400 * 112);
    let p = noise.uniforms(100 * 400);
    let mm = 2.0 * 100.0 * 1600.0 * 400.0;
    let product = |isa, m, n, k, a: Operand<'_>, b: &[f32], b_stride| {
        let mut c = vec![0.0f32; m * n];
        let terms = [Term { k, a, b, b_stride }];
        matmul_sum(isa, m, n, &terms, &mut c, false);
        c[0]
    };
    for isa in rbm::Isa::detected() {
        time(&format!("kernel {isa} v W"), mm, &|| {
            product(isa, 100, 400, 1600, Operand::new(&v, 1600, 1), &w, 400)
        });
        time(&format!("kernel {isa} W hᵀ (padded to 112)"), mm, &|| {
            product(isa, 1600, 112, 400, Operand::new(&w, 400, 1), &ht, 112)
        });
        time(&format!("kernel {isa} vᵀ p"), mm, &|| {
            product(isa, 1600, 400, 100, Operand::new(&v, 1, 1600), &p, 400)
        });
        fma_peak(isa);
    }
}

/// The multiply-add throughput of a loop that touches no memory (independent FMA chains, as
/// many as the registers hold) on `isa`, on one thread and on every thread of `rbm::team`:
/// the ceiling for the products above.
fn fma_peak(isa: rbm::Isa) {
    const ITERATIONS: usize = 4_000_000;
    for threads in [1, rbm::profiling::threads()] {
        let flops = std::sync::atomic::AtomicU64::new(0);
        let start = Instant::now();
        rbm::profiling::run(threads, &|_| {
            let (value, f) = rbm::profiling::fma_chains(isa, ITERATIONS);
            std::hint::black_box(value);
            flops.fetch_add(f, std::sync::atomic::Ordering::Relaxed);
        });
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "register-only FMA loop, {isa}, {threads} thread(s) {:>6.1} GFLOP/s",
            flops.into_inner() as f64 / seconds / 1e9
        );
    }
}

/// A step's 200 000 host uniforms (CD-1 of 1600 → 400, batch 100) from `rbm::Noise` (eight
/// interleaved xoshiro256++ generators), against the same conversion from one generator.
fn host_uniforms() {
    let mut noise = rbm::Noise::new(1);
    let noise = std::cell::RefCell::new(&mut noise);
    time("Noise::uniforms(200 000)", 0.0, &|| {
        noise.borrow_mut().uniforms(200_000)[7]
    });
    let one = std::cell::RefCell::new(ising_data::rng::Xoshiro256pp::seed_from_u64(1));
    time("one xoshiro256++, 200 000", 0.0, &|| {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        let mut rng = one.borrow_mut();
        let mut out = vec![0.0f32; 200_000];
        for pair in out.chunks_exact_mut(2) {
            let bits = rng.next_u64();
            pair[0] = ((bits >> 40) as u32) as f32 * SCALE;
            pair[1] = (((bits >> 8) & 0xFF_FFFF) as u32) as f32 * SCALE;
        }
        out[7]
    });
}
