//! What starting a short parallel region costs on this machine: a rayon `join` called from a
//! thread outside rayon's pool (as the kernel's regions were) against the kernel's team of
//! spinning helper threads ([`rbm::team`]).
//!
//! `cargo run --release -p rbm --example bench_regions`
//!
//! A trial: the calling thread first works alone for a gap (as between a step's regions, or
//! during the optimiser's update between steps), then runs a region of two tasks that each
//! spin for 50 µs. Ideally the region takes 50 µs; what it takes beyond that is the cost of
//! reaching the second core. Medians over 400 trials per gap.

use std::time::{Duration, Instant};

const TASK: Duration = Duration::from_micros(50);

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// The median overhead in µs of `region` after a gap of `gap`.
fn overhead(gap: Duration, region: &dyn Fn()) -> f64 {
    let mut extra: Vec<f64> = (0..400)
        .map(|_| {
            spin(gap);
            let t = Instant::now();
            region();
            (t.elapsed().as_secs_f64() - TASK.as_secs_f64()) * 1e6
        })
        .collect();
    extra.sort_by(f64::total_cmp);
    extra[extra.len() / 2]
}

fn main() {
    println!(
        "{} threads; a region of two 50 µs tasks, overhead beyond 50 µs (median of 400):",
        rbm::profiling::threads()
    );
    let rayon = || {
        rayon::join(|| spin(TASK), || spin(TASK));
    };
    let team = || rbm::profiling::run(2, &|_| spin(TASK));
    let mut ratios = Vec::new();
    for gap in [0u64, 100, 1000] {
        let gap = Duration::from_micros(gap);
        let (r, t) = (overhead(gap, &rayon), overhead(gap, &team));
        println!(
            "after {:>4} µs alone: rayon {r:6.1} µs, team {t:6.1} µs",
            gap.as_micros()
        );
        ratios.push((r, t));
    }
    let (r, t) = ratios
        .iter()
        .fold((0.0, 0.0), |(a, b), (r, t)| (a + r, b + t));
    println!("summed overhead: rayon {r:.1} µs, team {t:.1} µs");
}
