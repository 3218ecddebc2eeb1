use burn::prelude::*;
use ising_data::Lattice;
use rbm::eval::generator::{GibbsConfig, tempered_chains, gibbs_chains};
use rbm::eval::tempering::geometric_ladder;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::Path::new(&args[1]);
    let replicas: usize = args[2].parse().unwrap();
    let beta_min: f64 = args[3].parse().unwrap();
    let sweeps: usize = args[4].parse().unwrap();
    let device = Device::flex();
    let (_c, dbn) = experiments::quality::load_run(dir, &device).unwrap();
    let g = GibbsConfig { chains: 8, burn_in: 0, sweeps, thin: 10, seed: 3 };
    let (chains, acc) = if replicas > 1 {
        let (c, a) = tempered_chains(&dbn.layers[0], &g, geometric_ladder(beta_min, replicas).unwrap()).unwrap();
        (c, Some(a))
    } else { (gibbs_chains(&dbn.layers[0], &g, &|_| {}).unwrap(), None) };
    println!("acceptance {acc:?}");
    let lat = Lattice::Square { l: 40 };
    for c in 0..chains.chains {
        let ch = chains.chain(c);
        let rows: Vec<(f64, f64)> = ch.chunks_exact(1600).map(|s| (lat.energy(s, 0.0) / 1600.0, s.iter().map(|&x| x as f64).sum::<f64>() / 1600.0)).collect();
        let q = rows.len() / 8;
        let line: Vec<String> = (0..8).map(|k| { let part = &rows[k*q..(k+1)*q]; let e = part.iter().map(|r| r.0).sum::<f64>() / q as f64; let m = part.iter().map(|r| r.1).sum::<f64>() / q as f64; format!("{e:.3}/{m:+.2}") }).collect();
        println!("chain {c}: {}", line.join("  "));
    }
}
