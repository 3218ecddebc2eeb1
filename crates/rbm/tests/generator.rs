//! The generator against exact physics: RBMs that represent a small Ising lattice exactly
//! (one ±1 hidden unit per bond, weight w on its two spins, cosh 2w = e^{2K}: summing the
//! hidden unit out gives 2 cosh(w(s_i + s_j)) ∝ e^{K s_i s_j}), sampled by block Gibbs and by
//! the DBN's downward pass, measured with `ising_data::observables` (binned jackknife errors)
//! and compared with the transfer-matrix ring results and the enumeration of the 4×4 torus.
//! Every check allows 4 standard errors and guards against a vacuous pass by a large error
//! bar; the seeds are fixed.

use burn::prelude::*;
use ising_data::exact;
use ising_data::observables::{MeasureOptions, Observables, measure};
use ising_data::{Estimate, Lattice};
use rbm::eval::generator::{Chains, GibbsConfig, dbn_chains, gibbs_chains, tempered_chains};
use rbm::eval::tempering::geometric_ladder;
use rbm::{Dbn, Propagation, Rbm, Units};

/// The exact RBM of the periodic `lattice` at coupling `k`: spin visible units, one spin
/// hidden unit per bond.
fn bond_rbm(lattice: &Lattice, k: f64) -> Rbm {
    let n = lattice.n_sites();
    let c = lattice.coordination();
    let neighbours = lattice.neighbours();
    let w = (0.5 * (2.0 * k).exp().acosh()) as f32;
    let mut bonds = Vec::new();
    for i in 0..n {
        // The table lists (+x, −x[, +y, −y]): the forward neighbours are every other entry.
        for &j in neighbours[i * c..][..c].iter().step_by(2) {
            bonds.push((i, j as usize));
        }
    }
    assert_eq!(bonds.len(), lattice.n_bonds());
    let mut weights = vec![0f32; n * bonds.len()];
    for (b, &(i, j)) in bonds.iter().enumerate() {
        weights[i * bonds.len() + b] += w;
        weights[j * bonds.len() + b] += w;
    }
    spin_rbm(weights, n, bonds.len())
}

fn spin_rbm(weights: Vec<f32>, nv: usize, nh: usize) -> Rbm {
    let d = Device::flex();
    Rbm::from_parameters(
        Tensor::from_data(TensorData::new(weights, [nv, nh]), &d),
        Tensor::zeros([nv], &d),
        Tensor::zeros([nh], &d),
        Units::Spin,
        Units::Spin,
    )
}

/// An RBM whose visible layer copies its hidden layer (weight `w` on the diagonal): a spin
/// differs from its hidden unit with probability 1/(1 + e^{2w}).
fn copy_rbm(n: usize, w: f32) -> Rbm {
    let mut weights = vec![0f32; n * n];
    for i in 0..n {
        weights[i * n + i] = w;
    }
    spin_rbm(weights, n, n)
}

fn observe(lattice: &Lattice, k: f64, chains: &Chains) -> Observables {
    measure(
        lattice,
        &chains.all(),
        MeasureOptions {
            coupling: k,
            field: 0.0,
            correlation: true,
            bins_per_chain: 16,
        },
    )
}

fn check(what: &str, est: Estimate, exact: f64) {
    let z = est.sigmas_from(exact);
    assert!(
        z < 4.0,
        "{what}: generated {est}, exact {exact:.6} ({z:.1} σ)"
    );
    assert!(
        est.std_error < 0.05 * exact.abs().max(0.1),
        "{what}: error bar {est} too large to test anything"
    );
}

fn check_ring(what: &str, n: usize, k: f64, o: &Observables) {
    check(
        &format!("{what}: energy"),
        o.energy_per_spin,
        exact::ring_energy_per_spin(n, k),
    );
    for r in 1..=3 {
        check(
            &format!("{what}: G({r})"),
            o.correlation[r],
            exact::ring_correlation(n, k, r),
        );
    }
}

const CONFIG: GibbsConfig = GibbsConfig {
    chains: 16,
    burn_in: 100,
    sweeps: 4_000,
    thin: 2,
    seed: 5,
};

#[test]
fn gibbs_samples_of_the_exact_ring_rbm_have_the_ring_physics() {
    // Reference: the transfer matrix, ⟨s_i s_{i+r}⟩ = (t^r + t^{N−r})/(1 + t^N), t = tanh K.
    let (n, k) = (12, 0.7);
    let lattice = Lattice::Ring { n };
    let chains = gibbs_chains(&bond_rbm(&lattice, k), &CONFIG, &|_| {}).unwrap();
    assert_eq!(
        (chains.chains, chains.records, chains.units),
        (16, 2_000, n)
    );
    check_ring("ring RBM", n, k, &observe(&lattice, k, &chains));
    // The check has power: the same samples are many σ from the ring at a nearby coupling.
    let o = observe(&lattice, k, &chains);
    assert!(
        o.energy_per_spin
            .sigmas_from(exact::ring_energy_per_spin(n, 0.65))
            > 6.0
    );
}

#[test]
fn gibbs_samples_of_the_exact_square_rbm_match_enumeration() {
    // Reference: all 2^16 configurations of the periodic 4×4 lattice at K = 0.408 (energy
    // and specific heat from ising-data's enumeration; ⟨|m|⟩ and ⟨m²⟩ summed here).
    let (l, k) = (4, 0.408);
    let lattice = Lattice::Square { l };
    let chains = gibbs_chains(&bond_rbm(&lattice, k), &CONFIG, &|_| {}).unwrap();
    let o = observe(&lattice, k, &chains);
    let ex = exact::enumerate_square(l, l, k);
    check("4×4 energy", o.energy_per_spin, ex.energy_per_spin);
    check(
        "4×4 specific heat",
        o.specific_heat,
        ex.specific_heat_per_spin,
    );
    let (mut z, mut abs_m, mut m2) = (0.0, 0.0, 0.0);
    for index in 0u32..1 << 16 {
        let s: Vec<i8> = (0..16)
            .map(|i| if index >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        let weight = (k * lattice.bond_sum(&s) as f64).exp();
        let m = s.iter().map(|&x| f64::from(x)).sum::<f64>() / 16.0;
        (z, abs_m, m2) = (z + weight, abs_m + weight * m.abs(), m2 + weight * m * m);
    }
    check("4×4 ⟨|m|⟩", o.abs_magnetization, abs_m / z);
    check("4×4 ⟨m²⟩", o.magnetization_sq, m2 / z);
}

#[test]
fn the_dbn_generator_passes_the_ring_down_through_copying_layers() {
    // Top RBM: the exact ring; below it two layers that copy their hidden spins to their
    // visible spins (w = 8: a copy fails with probability 1/(1 + e^16) ≈ 10⁻⁷). The bottom
    // configurations then have the ring's physics, whether the intermediate layer passes
    // down conditional means (tanh 8 ≈ 1) or samples.
    let (n, k) = (12, 0.7);
    let lattice = Lattice::Ring { n };
    let dbn = Dbn::new(vec![
        copy_rbm(n, 8.0),
        copy_rbm(n, 8.0),
        bond_rbm(&lattice, k),
    ])
    .unwrap();
    for downward in [Propagation::Mean, Propagation::Sample] {
        let chains = dbn_chains(&dbn, &CONFIG, downward, &|_| {}).unwrap();
        check_ring(
            &format!("DBN ({downward:?})"),
            n,
            k,
            &observe(&lattice, k, &chains),
        );
    }
    // A bottom layer that flips every spin it copies (w = −8) leaves the ring's even
    // correlations and its energy unchanged but is a different generator: the records differ.
    let flipped = Dbn::new(vec![copy_rbm(n, -8.0), bond_rbm(&lattice, k)]).unwrap();
    let straight = Dbn::new(vec![copy_rbm(n, 8.0), bond_rbm(&lattice, k)]).unwrap();
    let a = dbn_chains(&flipped, &CONFIG, Propagation::Mean, &|_| {}).unwrap();
    let b = dbn_chains(&straight, &CONFIG, Propagation::Mean, &|_| {}).unwrap();
    let differing = a.spins.iter().zip(&b.spins).filter(|(x, y)| x != y).count();
    assert!(
        differing as f64 > 0.999 * a.spins.len() as f64,
        "{differing}"
    );
}

#[test]
fn chains_are_a_function_of_the_seed_and_bad_settings_are_refused() {
    let lattice = Lattice::Ring { n: 8 };
    let rbm = bond_rbm(&lattice, 0.5);
    let small = GibbsConfig {
        sweeps: 20,
        ..CONFIG
    };
    let a = gibbs_chains(&rbm, &small, &|_| {}).unwrap();
    assert_eq!(a, gibbs_chains(&rbm, &small, &|_| {}).unwrap());
    let other = GibbsConfig {
        seed: 6,
        ..small.clone()
    };
    assert_ne!(a, gibbs_chains(&rbm, &other, &|_| {}).unwrap());
    for (config, field) in [
        (
            GibbsConfig {
                chains: 0,
                ..small.clone()
            },
            "chains",
        ),
        (
            GibbsConfig {
                thin: 0,
                ..small.clone()
            },
            "thin",
        ),
        (
            GibbsConfig {
                sweeps: 1,
                thin: 2,
                ..small.clone()
            },
            "sweeps",
        ),
    ] {
        let e = gibbs_chains(&rbm, &config, &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains(field), "{e}");
    }
}

#[test]
fn tempered_samples_of_the_exact_ring_rbm_have_the_ring_physics() {
    // The same check as for block Gibbs, through parallel tempering's β = 1 replica (ladder
    // of 4 from β = 0.5), and the swap acceptances are rates.
    let (n, k) = (12, 0.7);
    let lattice = Lattice::Ring { n };
    let betas = geometric_ladder(0.5, 4).unwrap();
    let (chains, acceptance) =
        tempered_chains(&bond_rbm(&lattice, k), &CONFIG, betas, None, &|_| {}).unwrap();
    assert_eq!(
        (chains.chains, chains.records, chains.units),
        (16, 2_000, n)
    );
    check_ring("ring RBM, tempered", n, k, &observe(&lattice, k, &chains));
    assert_eq!(acceptance.len(), 3);
    assert!(
        acceptance.iter().all(|a| (0.05..=1.0).contains(a)),
        "{acceptance:?}"
    );
}
