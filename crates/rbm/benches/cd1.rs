//! Criterion benchmark of one CD-1 step (update included) of the paper's first layer,
//! 1600 → 400 Bernoulli units, batch 100, on the default CPU backend. Throughput is in
//! samples (rows of the batch) per second.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::TrainStep;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rbm::{CdConfig, RbmConfig, sgd_with_momentum};

fn cd1(c: &mut Criterion) {
    rbm::retain_freed_memory();
    let device = Device::flex();
    device.seed(1);
    let v = Tensor::<2>::random([100, 1600], Distribution::Bernoulli(0.5), &device);
    let mut group = c.benchmark_group("cd1_1600x400_batch100");
    group.throughput(Throughput::Elements(100));
    group.sample_size(30);
    // The fused CPU kernel (where the CPU has AVX-512) and the tensor operations.
    for (name, kernel) in [("flex", true), ("flex_tensor_ops", false)] {
        let mut model = CdConfig::new()
            .with_l1(2e-4)
            .init(RbmConfig::new(1600, 400).init(&device).unwrap())
            .unwrap()
            .with_cpu_kernel(kernel);
        let mut optim = sgd_with_momentum(0.5);
        bench_step(&mut group, name, &v, &mut model, &mut optim);
    }
    group.finish();
}

fn bench_step(
    group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    name: &str,
    v: &Tensor<2>,
    model: &mut rbm::CdModel,
    optim: &mut burn::optim::ModuleOptimizer,
) {
    {
        group.bench_function(name, |b| {
            let mut step = 0u64;
            b.iter(|| {
                step += 1;
                let out = TrainStep::step(&*model, rbm::CdBatch::new(v.clone(), step));
                *model = optim.step(0.1, model.clone(), out.grads);
                model.rbm.hidden_bias.val().sum().into_scalar::<f32>()
            })
        });
    }
}

criterion_group!(benches, cd1);
criterion_main!(benches);
