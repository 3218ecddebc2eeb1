//! End-to-end generation of the paper's dataset in memory: 40 000 configurations of the
//! periodic 40×40 lattice at K = 0.408 with the default Wolff sampler (8 chains, burn-in
//! 1000 sweeps, spacing 10 sweeps ≥ 10 τ_int(|m|)), on all cores. Prints the wall time, the
//! measured τ_int and the cluster-flipped spins per nanosecond of wall time.
//!
//! `cargo bench -p ising-data --bench paper_dataset`

use std::time::Instant;

use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{Algorithm, Lattice};

fn main() {
    // Under `cargo test --benches` only check that it runs, on a small problem.
    let quick = std::env::args().all(|a| a != "--bench");
    let (l, samples) = if quick { (16, 800) } else { (40, 40_000) };
    let config = GenerateConfig::new(Lattice::Square { l }, 0.408, samples, 7)
        .validated()
        .expect("valid paper configuration");
    assert_eq!(config.algorithm, Algorithm::Wolff);
    let start = Instant::now();
    let out = generate(&config, &|_| {});
    let seconds = start.elapsed().as_secs_f64();
    let flips = config.total_sweeps() as f64 * config.lattice.n_sites() as f64;
    println!(
        "paper dataset (L = {l}, {samples} samples, {} threads): {seconds:.2} s, \
         tau_int(|m|) = {:.3} sweeps, tau_int(E) = {:.3} sweeps, spacing = {:.1} tau_int(|m|), \
         {:.3} cluster-flipped spins per ns",
        rayon::current_num_threads(),
        out.tau.sweeps.abs_magnetization,
        out.tau.sweeps.energy,
        config.spacing_sweeps as f64 / out.tau.sweeps.abs_magnetization,
        flips / seconds / 1e9
    );
}
