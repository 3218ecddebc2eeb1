//! An RBM trained on Ising samples through the library: Wolff samples of the periodic 4×4
//! lattice at K = 0.4 (`ising-data`), persistent contrastive divergence (`rbm`), and the
//! exact KL divergence per spin from the Boltzmann distribution before and after, by
//! enumeration of the model's and the lattice's 2¹⁶ states.
//!
//! `cargo run --release -p rbm --example train_rbm`

use burn::prelude::*;
use burn::train::TrainStep;
use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::{IsingDataset, Lattice, SpinEncoding};
use rbm::eval::exact::HostRbm;
use rbm::eval::likelihood::ising_kl_per_spin_exact;
use rbm::{CdBatch, CdConfig, RbmConfig, Units, noise, sgd_with_momentum};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (lattice, coupling, rows) = (Lattice::Square { l: 4 }, 0.4, 10_000);
    let config = GenerateConfig::new(lattice, coupling, rows, 7).validated()?;
    let spins = generate(&config, &|_| {}).spins;
    let device = Device::flex();
    device.seed(1);
    let data = IsingDataset::new(lattice, spins)?.to_tensor(SpinEncoding::PlusMinusOne, &device);
    let rbm = RbmConfig::new(16, 32)
        .with_visible_units(Units::Spin)
        .with_hidden_units(Units::Spin)
        .with_init_std(0.1)
        .init(&device)?;
    let kl = |rbm: &rbm::Rbm| ising_kl_per_spin_exact(&HostRbm::from_rbm(rbm)?, &lattice, coupling);
    println!("KL per spin before training: {:.4} nats", kl(&rbm)?);
    let cd = CdConfig::new()
        .with_k(1)
        .with_persistent(true)
        .with_chains(100);
    let (mut model, mut optimizer, batch) = (cd.init(rbm)?, sgd_with_momentum(0.5), 100);
    for epoch in 0..20 {
        let rate = if epoch < 15 { 0.05 } else { 0.01 };
        for b in 0..rows / batch {
            let v0 = data.clone().slice([b * batch..(b + 1) * batch, 0..16]);
            let out = TrainStep::step(&model, CdBatch::new(v0, noise::key(&[1, epoch, b as u64])));
            model = optimizer.step(rate, model, out.grads);
        }
    }
    println!(
        "KL per spin after 20 epochs of PCD-1: {:.4} nats",
        kl(&model.rbm)?
    );
    Ok(())
}
