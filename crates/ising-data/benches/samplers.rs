//! Sampler throughput at the paper's point (periodic 40×40 lattice, K = 0.408).
//!
//! Throughput is reported per sweep-equivalent as N = 1600 "elements": for Metropolis these
//! are single-spin flip attempts, for Wolff cluster-flipped spins (a Wolff sweep-equivalent
//! flips N spins on average). Criterion's "elem/s" divided by 10⁹ is spins per nanosecond.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ising_data::Lattice;
use ising_data::rng::Xoshiro256pp;
use ising_data::sampler::{Metropolis, Sampler, Wolff, random_configuration};

fn samplers(c: &mut Criterion) {
    let lattice = Lattice::Square { l: 40 };
    let k = 0.408;
    let n = lattice.n_sites();
    let mut group = c.benchmark_group("sweep_L40_K0.408");
    group.throughput(Throughput::Elements(n as u64));

    let mut rng = Xoshiro256pp::seed_from_u64(1);
    let mut metropolis = Metropolis::new(&lattice, k, 0.0, random_configuration(n, &mut rng));
    for _ in 0..1000 {
        metropolis.sweep(&mut rng);
    }
    group.bench_function("metropolis_checkerboard", |b| {
        b.iter(|| {
            metropolis.sweep(&mut rng);
            black_box(metropolis.spins()[0])
        })
    });

    let mut wolff = Wolff::new(&lattice, k, random_configuration(n, &mut rng));
    for i in 0..1000 {
        if i == 500 {
            wolff.calibrate();
        }
        wolff.sweep(&mut rng);
    }
    wolff.calibrate();
    group.bench_function("wolff", |b| {
        b.iter(|| {
            wolff.sweep(&mut rng);
            black_box(wolff.spins()[0])
        })
    });
    group.finish();
}

criterion_group!(benches, samplers);
criterion_main!(benches);
