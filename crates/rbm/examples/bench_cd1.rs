//! One CD-1 training step of the paper's first layer (1600 → 400 Bernoulli units, batch 100,
//! SGD with momentum), timed over a fixed number of batches after a warm-up; `--shape 400x100`
//! times another layer's shape.
//!
//! `cargo run --release -p rbm --example bench_cd1 -- --device flex [--batches 200] [--tensor-ops] [--shape NVxNH]`
//!
//! The step runs where `RBM_KERNEL` says (`avx512`, `avx2`, `neon`, `tensor`; by default the
//! widest instruction set of the fused kernel this CPU has; see `rbm::CpuPath`).
//! `--tensor-ops` is `RBM_KERNEL=tensor`: the step as separate Burn tensor operations.
//!
//! The last line printed is `samples_per_s <number>`.

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::TrainStep;
use rbm::device::select_device;
use rbm::{CdConfig, RbmConfig, sgd_with_momentum};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    rbm::retain_freed_memory();
    let mut device_name = "flex".to_string();
    let mut batches = 200usize;
    let mut warmup = 20usize;
    let mut generic = false;
    let (mut nv, mut nh) = (1600usize, 400usize);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--device" => device_name = value()?,
            "--batches" => batches = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            "--bench" => {}
            "--tensor-ops" => generic = true,
            "--shape" => {
                let v = value()?;
                let (a, b) = v.split_once('x').ok_or(format!(
                    "--shape {v}: expected VISIBLExHIDDEN, e.g. 400x100"
                ))?;
                (nv, nh) = (a.parse()?, b.parse()?);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    // An invalid RBM_KERNEL is an error here, before any work.
    rbm::CpuPath::from_env()?;
    let device = select_device(&device_name)?;
    device.seed(1);
    let batch = 100;
    let data: Vec<Tensor<2>> = (0..8)
        .map(|_| Tensor::random([batch, nv], Distribution::Bernoulli(0.5), &device))
        .collect();
    let rbm = RbmConfig::new(nv, nh).init(&device).unwrap();
    let cd = CdConfig::new().with_k(1).with_l1(2e-4);
    let mut model = cd.init(rbm).unwrap().with_cpu_kernel(!generic);
    let kernel = match model.effective_cpu_path() {
        rbm::CpuPath::Kernel(isa) => format!("fused CPU kernel, {isa}"),
        rbm::CpuPath::Tensor => "tensor operations".to_string(),
    };
    let mut optim = sgd_with_momentum(0.5);
    let mut split = [0.0f64; 2];
    let mut run = |n: usize, model: &mut rbm::CdModel| {
        for i in 0..n {
            let batch = rbm::CdBatch::new(data[i % data.len()].clone(), i as u64);
            let t0 = Instant::now();
            let out = TrainStep::step(&*model, batch);
            let t1 = Instant::now();
            *model = optim.step(0.1, model.clone(), out.grads);
            split[0] += (t1 - t0).as_secs_f64();
            split[1] += t1.elapsed().as_secs_f64();
        }
        // Wait for the device to finish.
        model.rbm.weights.val().sum().into_scalar::<f32>()
    };
    run(warmup, &mut model);
    let start = Instant::now();
    let check = run(batches, &mut model);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "device {device_name} ({kernel}): {batches} CD-1 steps of {nv}x{nh}, batch {batch}: {:.3} ms/step (checksum {check:.3})",
        1e3 * seconds / batches as f64
    );
    println!(
        "of which the CD step {:.3} ms, the optimiser {:.3} ms (per step, warm-up included)",
        1e3 * split[0] / (batches + warmup) as f64,
        1e3 * split[1] / (batches + warmup) as f64
    );
    println!("samples_per_s {:.0}", (batches * batch) as f64 / seconds);
    Ok(())
}
