//! Markov-chain and exact samplers of the Ising Boltzmann distribution
//! p(s) ∝ exp(K Σ_⟨ij⟩ s_i s_j + h Σ_i s_i).
//!
//! Every sampler advances in units of *sweep-equivalents*, so that autocorrelation times and
//! sample spacings mean the same thing whatever the algorithm:
//! - [`Metropolis`]: one sweep is one single-spin Metropolis attempt on every site, in
//!   checkerboard order (all sites of one sublattice, then the other).
//! - [`Wolff`]: one sweep-equivalent is a *fixed* number of single-cluster flips,
//!   round(N / ⟨cluster size⟩), with the mean cluster size measured during the second half of
//!   the burn-in ([`Sampler::calibrate`]). The number must not depend on the clusters drawn
//!   after burn-in: stopping "once N spins have flipped" would select the end of each sweep by
//!   the chain's own history, and states seen at such stopping times are biased towards order
//!   (large clusters end sweeps more often).
//! - [`ExactRing`]: every sweep draws a new, independent configuration of the periodic ring
//!   exactly, by sampling the ring as a Markov chain along its sites (transfer matrices).

use serde::{Deserialize, Serialize};

use crate::lattice::Lattice;
use crate::rng::{Xoshiro256pp, threshold};

/// Which sampler generates a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Wolff single-cluster updates (zero field only); the default in 2D.
    Wolff,
    /// Single-spin Metropolis in checkerboard order.
    Metropolis,
    /// Independent exact samples of the 1D ring (1D only); the default in 1D.
    ExactRing,
}

impl Algorithm {
    /// The default sampler for a lattice: Wolff in 2D, the exact sampler in 1D.
    pub fn default_for(lattice: &Lattice) -> Self {
        match lattice {
            Lattice::Ring { .. } => Algorithm::ExactRing,
            Lattice::Square { .. } => Algorithm::Wolff,
        }
    }
}

/// A sampler: anything that holds a configuration and can advance it by one sweep-equivalent
/// while leaving the Boltzmann distribution invariant.
pub trait Sampler: Send {
    /// Advances the chain by one sweep-equivalent.
    fn sweep(&mut self, rng: &mut Xoshiro256pp);
    /// The current configuration.
    fn spins(&self) -> &[i8];
    /// Fixes what a sweep-equivalent is from the statistics gathered since the last call
    /// (called by the driver halfway through and at the end of the burn-in). A no-op for
    /// samplers whose sweep is fixed by construction.
    fn calibrate(&mut self) {}
    /// Advances the chain by one sweep-equivalent of the burn-in, counted directly rather than
    /// through a calibration (which needs statistics the burn-in is still gathering): for a
    /// cluster sampler, clusters until N spins have been flipped. The same as
    /// [`Sampler::sweep`] for samplers whose sweep is fixed by construction.
    fn burn_in_sweep(&mut self, rng: &mut Xoshiro256pp) {
        self.sweep(rng);
    }
}

/// A random (infinite-temperature) configuration.
pub fn random_configuration(n: usize, rng: &mut Xoshiro256pp) -> Vec<i8> {
    (0..n).map(|_| if rng.coin() { 1 } else { -1 }).collect()
}

/// Acceptance probability of energy-neutral flips in [`metropolis_acceptance`].
pub const NEUTRAL_ACCEPTANCE: f64 = 0.9;

/// The acceptance probability of a single-spin flip that changes the reduced energy by
/// `delta` (= ΔE/kT): min(1, e^{−ΔE}), except that energy-neutral flips are accepted with
/// probability [`NEUTRAL_ACCEPTANCE`] = 0.9.
///
/// Any a(0) ∈ (0, 1] satisfies detailed balance, a(ΔE)/a(−ΔE) = e^{−ΔE}. The textbook choice
/// a(0) = 1 makes a fixed sweep order (sequential or checkerboard) *non-ergodic*: a
/// configuration in which every visited spin has ΔE = 0 when its turn comes is flipped
/// deterministically round a closed orbit that no other configuration leads into (at K = 0
/// every spin flips every sweep; on the periodic 3×3 lattice at K = 0.3 some configurations
/// are never visited from a random start, which the χ² test in `tests/monte_carlo.rs`
/// detects). Any a(0) < 1 breaks every such orbit. The value trades mixing speed: measured
/// τ_int(|m|) on the 40×40 lattice at K = 0.408 is ≈ 17 sweeps for a(0) = 1, ≈ 23 for 0.9
/// and ≈ 55 for 0.5.
pub fn metropolis_acceptance(delta: f64) -> f64 {
    if delta.abs() < 1e-12 {
        NEUTRAL_ACCEPTANCE
    } else {
        (-delta).exp().min(1.0)
    }
}

/// Single-spin Metropolis updates in checkerboard order (see [`metropolis_acceptance`]).
#[derive(Debug, Clone)]
pub struct Metropolis {
    spins: Vec<i8>,
    neighbours: Vec<u32>,
    z: usize,
    order: Vec<u32>,
    /// Acceptance thresholds indexed by `(s_i == +1) * (2z + 1) + (s_i Σ_nn s_j + z)`;
    /// `None` means "always accept".
    accept: Vec<Option<u32>>,
}

impl Metropolis {
    /// A Metropolis chain at coupling `k` and field `h`, starting from `spins`.
    ///
    /// # Panics
    /// If `spins` does not have one entry per site.
    pub fn new(lattice: &Lattice, k: f64, h: f64, spins: Vec<i8>) -> Self {
        assert_eq!(
            spins.len(),
            lattice.n_sites(),
            "configuration of wrong size"
        );
        let z = lattice.coordination();
        // Checkerboard order: the sublattice with even coordinate sum first. Updates are made
        // in place one at a time, so every single step satisfies detailed balance and the
        // order is valid on any lattice (it is a true bipartition when the sizes are even).
        let parity = |i: usize| match *lattice {
            Lattice::Ring { .. } => i % 2,
            Lattice::Square { l } => (i / l + i % l) % 2,
        };
        let n = lattice.n_sites();
        let order = (0..n)
            .filter(|&i| parity(i) == 0)
            .chain((0..n).filter(|&i| parity(i) == 1))
            .map(|i| i as u32)
            .collect();
        let mut accept = Vec::with_capacity(2 * (2 * z + 1));
        for s in [-1.0f64, 1.0] {
            for local in -(z as i64)..=(z as i64) {
                // local = s_i Σ_nn s_j; ΔE/kT = 2K local + 2h s_i.
                let d = 2.0 * k * local as f64 + 2.0 * h * s;
                accept.push(threshold(metropolis_acceptance(d)));
            }
        }
        Self {
            spins,
            neighbours: lattice.neighbours(),
            z,
            order,
            accept,
        }
    }
}

impl Sampler for Metropolis {
    fn sweep(&mut self, rng: &mut Xoshiro256pp) {
        let z = self.z;
        for &i in &self.order {
            let i = i as usize;
            let s = self.spins[i];
            let nn: i32 = self.neighbours[z * i..z * (i + 1)]
                .iter()
                .map(|&j| self.spins[j as usize] as i32)
                .sum();
            let idx = usize::from(s > 0) * (2 * z + 1) + (s as i32 * nn + z as i32) as usize;
            let flip = match self.accept[idx] {
                None => true,
                Some(t) => rng.next_u32() < t,
            };
            if flip {
                self.spins[i] = -s;
            }
        }
    }

    fn spins(&self) -> &[i8] {
        &self.spins
    }
}

/// Wolff single-cluster updates (Wolff 1989) at zero field.
#[derive(Debug, Clone)]
pub struct Wolff {
    spins: Vec<i8>,
    neighbours: Vec<u32>,
    z: usize,
    /// Bond-activation probability 1 − e^{−2K} as a threshold.
    p_add: Option<u32>,
    stack: Vec<u32>,
    /// Clusters per sweep-equivalent (1 until calibrated).
    clusters_per_sweep: usize,
    /// Spins flipped and clusters grown since the last calibration.
    flipped_since: u64,
    clusters_since: u64,
}

impl Wolff {
    /// A Wolff chain at coupling `k ≥ 0` starting from `spins`.
    ///
    /// # Panics
    /// If `spins` does not have one entry per site or `k` is negative.
    pub fn new(lattice: &Lattice, k: f64, spins: Vec<i8>) -> Self {
        assert_eq!(
            spins.len(),
            lattice.n_sites(),
            "configuration of wrong size"
        );
        assert!(k >= 0.0, "Wolff updates need a ferromagnetic coupling");
        Self {
            spins,
            neighbours: lattice.neighbours(),
            z: lattice.coordination(),
            p_add: threshold(1.0 - (-2.0 * k).exp()),
            stack: Vec::new(),
            clusters_per_sweep: 1,
            flipped_since: 0,
            clusters_since: 0,
        }
    }

    /// Grows and flips one cluster; returns its size.
    pub fn flip_cluster(&mut self, rng: &mut Xoshiro256pp) -> usize {
        let n = self.spins.len();
        let seed = rng.below(n);
        let s0 = self.spins[seed];
        // A spin is flipped when it joins the cluster, which also marks it as visited.
        self.spins[seed] = -s0;
        self.stack.clear();
        self.stack.push(seed as u32);
        let mut size = 1;
        let z = self.z;
        while let Some(i) = self.stack.pop() {
            let i = i as usize;
            for k in 0..z {
                let j = self.neighbours[z * i + k] as usize;
                if self.spins[j] == s0 {
                    let add = match self.p_add {
                        None => true,
                        Some(t) => rng.next_u32() < t,
                    };
                    if add {
                        self.spins[j] = -s0;
                        self.stack.push(j as u32);
                        size += 1;
                    }
                }
            }
        }
        self.flipped_since += size as u64;
        self.clusters_since += 1;
        size
    }

    /// Clusters per sweep-equivalent in force.
    pub fn clusters_per_sweep(&self) -> usize {
        self.clusters_per_sweep
    }
}

impl Sampler for Wolff {
    fn sweep(&mut self, rng: &mut Xoshiro256pp) {
        for _ in 0..self.clusters_per_sweep {
            self.flip_cluster(rng);
        }
    }

    /// Clusters until at least N spins have been flipped (one sweep-equivalent by the
    /// definition the calibration estimates: N / mean cluster size clusters).
    fn burn_in_sweep(&mut self, rng: &mut Xoshiro256pp) {
        let n = self.spins.len();
        let mut flipped = 0;
        while flipped < n {
            flipped += self.flip_cluster(rng);
        }
    }

    fn calibrate(&mut self) {
        if self.flipped_since > 0 {
            let mean_size = self.flipped_since as f64 / self.clusters_since as f64;
            self.clusters_per_sweep =
                ((self.spins.len() as f64 / mean_size).round() as usize).max(1);
        }
        self.flipped_since = 0;
        self.clusters_since = 0;
    }

    fn spins(&self) -> &[i8] {
        &self.spins
    }
}

/// Exact, independent samples of the periodic ring at coupling K and field h.
///
/// With transfer matrix T(a, b) = exp(K a b + h (a + b)/2), p(s) = Π_i T(s_i, s_{i+1}) / Tr T^N.
/// We draw s_0 from p(s_0) ∝ (T^N)_{s_0 s_0}, then for i = 1, …, N−1
/// p(s_i | s_{i−1}, s_0) ∝ T(s_{i−1}, s_i) (T^{N−i})_{s_i s_0}, which is exact.
#[derive(Debug, Clone)]
pub struct ExactRing {
    spins: Vec<i8>,
    t: [[f64; 2]; 2],
    /// `powers[m]` = T^m scaled to unit max entry (the scale cancels in every ratio used).
    powers: Vec<[[f64; 2]; 2]>,
}

/// Index 0 is spin +1, index 1 is spin −1.
fn spin_of(index: usize) -> i8 {
    if index == 0 { 1 } else { -1 }
}

impl ExactRing {
    /// The exact sampler of a ring of `n` spins.
    ///
    /// # Panics
    /// If `n < 2`.
    pub fn new(n: usize, k: f64, h: f64) -> Self {
        assert!(n >= 2, "a ring needs at least two spins");
        let mut t = [[0.0; 2]; 2];
        for a in 0..2 {
            for b in 0..2 {
                let (sa, sb) = (spin_of(a) as f64, spin_of(b) as f64);
                t[a][b] = (k * sa * sb + h * (sa + sb) / 2.0).exp();
            }
        }
        let mut powers = vec![[[1.0, 0.0], [0.0, 1.0]]];
        for m in 1..=n {
            let p = powers[m - 1];
            let mut q = [[0.0; 2]; 2];
            for a in 0..2 {
                for b in 0..2 {
                    q[a][b] = p[a][0] * t[0][b] + p[a][1] * t[1][b];
                }
            }
            let scale = q.iter().flatten().fold(0.0f64, |m, &x| m.max(x));
            for row in &mut q {
                for x in row {
                    *x /= scale;
                }
            }
            powers.push(q);
        }
        Self {
            spins: vec![1; n],
            t,
            powers,
        }
    }

    /// Draws a fresh configuration.
    pub fn draw(&mut self, rng: &mut Xoshiro256pp) {
        let n = self.spins.len();
        let pn = self.powers[n];
        let first = usize::from(rng.next_f64() * (pn[0][0] + pn[1][1]) >= pn[0][0]);
        let mut prev = first;
        self.spins[0] = spin_of(first);
        for i in 1..n {
            let p = &self.powers[n - i];
            let w_up = self.t[prev][0] * p[0][first];
            let w_down = self.t[prev][1] * p[1][first];
            let cur = usize::from(rng.next_f64() * (w_up + w_down) >= w_up);
            self.spins[i] = spin_of(cur);
            prev = cur;
        }
    }
}

impl Sampler for ExactRing {
    fn sweep(&mut self, rng: &mut Xoshiro256pp) {
        self.draw(rng);
    }

    fn spins(&self) -> &[i8] {
        &self.spins
    }
}
