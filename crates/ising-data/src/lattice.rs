//! Periodic lattices and the Ising energy on them.

use serde::{Deserialize, Serialize};

use crate::config::{Checked, ConfigError};
use crate::error::Result;

/// The geometry of an Ising system: a periodic 1D ring or a periodic square lattice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lattice {
    /// A ring of `n` spins, s_{n} ≡ s_0.
    Ring {
        /// Number of spins.
        n: usize,
    },
    /// An `l` × `l` square lattice with periodic boundaries (a torus), stored row-major.
    Square {
        /// Linear size.
        l: usize,
    },
}

impl std::fmt::Display for Lattice {
    /// "periodic ring of N spins" or "periodic L×L lattice".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Lattice::Ring { n } => write!(f, "periodic ring of {n} spins"),
            Lattice::Square { l } => write!(f, "periodic {l}×{l} lattice"),
        }
    }
}

impl Lattice {
    /// A lattice from a dimension (1 or 2) and a linear size.
    ///
    /// # Errors
    /// If `dim` is not 1 or 2, or the size is too small to have distinct neighbours
    /// (a ring needs n ≥ 3, a square lattice L ≥ 3).
    pub fn new(dim: usize, size: usize) -> Result<Self> {
        let lattice = match dim {
            1 => Lattice::Ring { n: size },
            2 => Lattice::Square { l: size },
            _ => return Err(ConfigError::invalid("dimension", "1 or 2", dim).into()),
        };
        lattice.check()?;
        Ok(lattice)
    }
}

impl Checked for Lattice {
    /// The size: at least 3 (periodic neighbours distinct), at most 2³² sites.
    fn check(&self) -> std::result::Result<(), ConfigError> {
        let (size, field) = match *self {
            Lattice::Ring { n } => (n, "n"),
            Lattice::Square { l } => (l, "l"),
        };
        if size < 3 {
            return Err(ConfigError::invalid(field, "at least 3", size)
                .because("periodic neighbours must be distinct"));
        }
        if self.checked_sites().is_none_or(|n| n > u32::MAX as usize) {
            return Err(ConfigError::invalid(field, "at most 2³² sites", size));
        }
        Ok(())
    }
}

impl Lattice {
    fn checked_sites(&self) -> Option<usize> {
        match *self {
            Lattice::Ring { n } => Some(n),
            Lattice::Square { l } => l.checked_mul(l),
        }
    }

    /// Spatial dimension, 1 or 2.
    pub fn dim(&self) -> usize {
        match self {
            Lattice::Ring { .. } => 1,
            Lattice::Square { .. } => 2,
        }
    }

    /// Linear size (n for a ring, L for a square lattice).
    pub fn size(&self) -> usize {
        match *self {
            Lattice::Ring { n } => n,
            Lattice::Square { l } => l,
        }
    }

    /// Number of spins N.
    pub fn n_sites(&self) -> usize {
        match *self {
            Lattice::Ring { n } => n,
            Lattice::Square { l } => l * l,
        }
    }

    /// Number of nearest-neighbour bonds (N for a ring, 2N for a square lattice).
    pub fn n_bonds(&self) -> usize {
        self.n_sites() * self.dim()
    }

    /// The shape of one configuration: `[n]` or `[L, L]`.
    pub fn shape(&self) -> Vec<usize> {
        match *self {
            Lattice::Ring { n } => vec![n],
            Lattice::Square { l } => vec![l, l],
        }
    }

    /// Coordination number (2 or 4).
    pub fn coordination(&self) -> usize {
        2 * self.dim()
    }

    /// Nearest-neighbour table, `coordination()` entries per site, in the order
    /// (+x, −x) for a ring and (+x, −x, +y, −y) for a square lattice (x = column).
    pub fn neighbours(&self) -> Vec<u32> {
        match *self {
            Lattice::Ring { n } => (0..n)
                .flat_map(|i| [((i + 1) % n) as u32, ((i + n - 1) % n) as u32])
                .collect(),
            Lattice::Square { l } => {
                let mut t = Vec::with_capacity(4 * l * l);
                for r in 0..l {
                    for c in 0..l {
                        let at = |r: usize, c: usize| (r * l + c) as u32;
                        t.extend_from_slice(&[
                            at(r, (c + 1) % l),
                            at(r, (c + l - 1) % l),
                            at((r + 1) % l, c),
                            at((r + l - 1) % l, c),
                        ]);
                    }
                }
                t
            }
        }
    }

    /// The bond sum Σ_⟨ij⟩ s_i s_j, each bond counted once.
    ///
    /// # Panics
    /// If `spins.len() != n_sites()`.
    pub fn bond_sum(&self, spins: &[i8]) -> i64 {
        assert_eq!(spins.len(), self.n_sites(), "configuration of wrong size");
        match *self {
            Lattice::Ring { n } => (0..n).map(|i| (spins[i] * spins[(i + 1) % n]) as i64).sum(),
            Lattice::Square { l } => {
                let mut s = 0i64;
                for r in 0..l {
                    let row = &spins[r * l..(r + 1) * l];
                    let down = &spins[((r + 1) % l) * l..((r + 1) % l + 1) * l];
                    for c in 0..l {
                        s += (row[c] * (row[(c + 1) % l] + down[c])) as i64;
                    }
                }
                s
            }
        }
    }

    /// The energy H/J = −Σ_⟨ij⟩ s_i s_j − (H/J) Σ_i s_i in units of J, for a field H given in
    /// units of J (`field_over_coupling`). With the dimensionless coupling K = J/kT and
    /// field h = H/kT of the Boltzmann weight exp(K Σ ss + h Σ s) that the samplers use, the
    /// field in units of J is h/K: see [`Lattice::energy_at`].
    ///
    /// # Panics
    /// If `spins.len() != n_sites()`.
    pub fn energy(&self, spins: &[i8], field_over_coupling: f64) -> f64 {
        -(self.bond_sum(spins) as f64) - field_over_coupling * magnetization_sum(spins) as f64
    }

    /// The energy in units of J of a configuration sampled with the Boltzmann weight
    /// exp(K Σ ss + h Σ s): [`Lattice::energy`] with the field h/K. At K = 0 the energy in
    /// units of J exists only without a field (0 Σ s); with a field it is NaN.
    ///
    /// # Panics
    /// If `spins.len() != n_sites()`.
    pub fn energy_at(&self, spins: &[i8], coupling: f64, field: f64) -> f64 {
        if field == 0.0 {
            return self.energy(spins, 0.0);
        }
        self.energy(spins, field / coupling)
    }
}

/// Σ_i s_i.
pub fn magnetization_sum(spins: &[i8]) -> i64 {
    spins.iter().map(|&s| s as i64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(bits: &[bool]) -> Vec<i8> {
        bits.iter().map(|&b| if b { 1 } else { -1 }).collect()
    }

    #[test]
    fn ordered_states_have_the_ground_state_energy() {
        for lat in [Lattice::Ring { n: 7 }, Lattice::Square { l: 5 }] {
            let up = vec![1i8; lat.n_sites()];
            assert_eq!(lat.bond_sum(&up), lat.n_bonds() as i64);
        }
        // The Néel state of an even square lattice has every bond broken.
        let l = 4;
        let neel: Vec<i8> = (0..l * l)
            .map(|i| if (i / l + i % l) % 2 == 0 { 1 } else { -1 })
            .collect();
        assert_eq!(Lattice::Square { l }.bond_sum(&neel), -((2 * l * l) as i64));
    }

    #[test]
    fn neighbour_table_is_symmetric() {
        for lat in [Lattice::Ring { n: 5 }, Lattice::Square { l: 4 }] {
            let z = lat.coordination();
            let t = lat.neighbours();
            for i in 0..lat.n_sites() {
                for &j in &t[i * z..(i + 1) * z] {
                    let j = j as usize;
                    assert!(t[j * z..(j + 1) * z].contains(&(i as u32)));
                }
            }
        }
    }

    proptest! {
        #[test]
        fn energy_is_invariant_under_a_global_flip(bits in prop::collection::vec(any::<bool>(), 36)) {
            let lat = Lattice::Square { l: 6 };
            let s = config(&bits);
            let flipped: Vec<i8> = s.iter().map(|&x| -x).collect();
            prop_assert_eq!(lat.bond_sum(&s), lat.bond_sum(&flipped));
        }

        #[test]
        fn single_flip_energy_change_matches_local_formula(
            bits in prop::collection::vec(any::<bool>(), 25),
            site in 0usize..25,
            h in -1.0f64..1.0,
        ) {
            // ΔE of flipping s_i is 2 s_i (Σ_nn s_j + h); compare with the full energies.
            let lat = Lattice::Square { l: 5 };
            let t = lat.neighbours();
            let s = config(&bits);
            let nn: i64 = t[4 * site..4 * site + 4].iter().map(|&j| s[j as usize] as i64).sum();
            let local = 2.0 * s[site] as f64 * (nn as f64 + h);
            let mut f = s.clone();
            f[site] = -f[site];
            let full = lat.energy(&f, h) - lat.energy(&s, h);
            prop_assert!((local - full).abs() < 1e-12);
        }
    }
}
