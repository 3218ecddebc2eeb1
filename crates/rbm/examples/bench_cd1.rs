//! One CD-1 training step of the paper's first layer (1600 → 400 Bernoulli units, batch 100,
//! SGD with momentum), timed over a fixed number of batches after a warm-up.
//!
//! `cargo run --release -p rbm --example bench_cd1 -- --device flex [--batches 200]`
//!
//! The last line printed is `samples_per_s <number>`.

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::TrainStep;
use rbm::device::select_device;
use rbm::{CdConfig, RbmConfig, sgd_with_momentum};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut device_name = "flex".to_string();
    let mut batches = 200usize;
    let mut warmup = 20usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--device" => device_name = value()?,
            "--batches" => batches = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let device = select_device(&device_name)?;
    device.seed(1);
    let (nv, nh, batch) = (1600, 400, 100);
    let data: Vec<Tensor<2>> = (0..8)
        .map(|_| Tensor::random([batch, nv], Distribution::Bernoulli(0.5), &device))
        .collect();
    let rbm = RbmConfig::new(nv, nh).init(&device);
    let mut model = CdConfig::new().with_k(1).with_l1(2e-4).init(rbm);
    let mut optim = sgd_with_momentum(0.5);
    let mut run = |n: usize, model: &mut rbm::CdModel| {
        for i in 0..n {
            let batch = rbm::CdBatch::new(data[i % data.len()].clone(), i as u64);
            let out = TrainStep::step(&*model, batch);
            *model = optim.step(0.1, model.clone(), out.grads);
        }
        // Wait for the device to finish.
        model.rbm.weights.val().sum().into_scalar::<f32>()
    };
    run(warmup, &mut model);
    let start = Instant::now();
    let check = run(batches, &mut model);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "device {device_name}: {batches} CD-1 steps of {nv}x{nh}, batch {batch}: {:.3} ms/step (checksum {check:.3})",
        1e3 * seconds / batches as f64
    );
    println!("samples_per_s {:.0}", (batches * batch) as f64 / seconds);
    Ok(())
}
