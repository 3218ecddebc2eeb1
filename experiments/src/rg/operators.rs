//! Translation-invariant spin operators on the periodic m×m square lattice: the couplings of an
//! effective Hamiltonian ([`super::hamiltonian`]) and the operators of Monte Carlo RG
//! ([`super::mcrg`]). Each operator S is a sum, over every site and every one of its shapes, of
//! the product of the spins at the shape's offsets from the site, so that a Hamiltonian reads
//! −H/kT = Σ_α K_α S_α.

use serde::{Deserialize, Serialize};

use crate::torus::site;

/// A spin product's offsets (dx, dy) from its site: x along a row, y down the rows.
type Shape = &'static [(i32, i32)];

/// A translation-invariant operator (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Σ s: the magnetisation (odd).
    Field,
    /// Nearest-neighbour pairs (K₁).
    Nearest,
    /// Diagonal next-nearest pairs, offsets (1, 1) and (1, −1) (K₂).
    Diagonal,
    /// Third neighbours, two apart along a row or a column (K₃).
    Distance2,
    /// The four spins of a plaquette (K₄).
    Plaquette,
    /// Pairs at offsets (2, ±1) and (1, ±2).
    Knight,
    /// Pairs at offsets (2, ±2).
    Diagonal2,
    /// The three-spin products of a plaquette (each plaquette less one corner; odd).
    PlaquetteTriple,
    /// Three spins in a row or a column (odd).
    RowTriple,
}

/// The even operators of Monte Carlo RG, in the order the convergence table adds them.
pub const EVEN: [Operator; 6] = [
    Operator::Nearest,
    Operator::Diagonal,
    Operator::Distance2,
    Operator::Plaquette,
    Operator::Knight,
    Operator::Diagonal2,
];

/// The odd operators of Monte Carlo RG, in the order the convergence table adds them.
pub const ODD: [Operator; 3] = [
    Operator::Field,
    Operator::PlaquetteTriple,
    Operator::RowTriple,
];

/// The effective Hamiltonian's couplings: the field h, then K₁ … K₄.
pub const HAMILTONIAN: [Operator; 5] = [
    Operator::Field,
    Operator::Nearest,
    Operator::Diagonal,
    Operator::Distance2,
    Operator::Plaquette,
];

impl Operator {
    /// The shapes whose products, translated to every site, make up the operator.
    pub fn shapes(self) -> &'static [Shape] {
        match self {
            Self::Field => &[&[(0, 0)]],
            Self::Nearest => &[&[(0, 0), (1, 0)], &[(0, 0), (0, 1)]],
            Self::Diagonal => &[&[(0, 0), (1, 1)], &[(0, 0), (1, -1)]],
            Self::Distance2 => &[&[(0, 0), (2, 0)], &[(0, 0), (0, 2)]],
            Self::Plaquette => &[&[(0, 0), (1, 0), (0, 1), (1, 1)]],
            Self::Knight => &[
                &[(0, 0), (2, 1)],
                &[(0, 0), (2, -1)],
                &[(0, 0), (1, 2)],
                &[(0, 0), (1, -2)],
            ],
            Self::Diagonal2 => &[&[(0, 0), (2, 2)], &[(0, 0), (2, -2)]],
            Self::PlaquetteTriple => &[
                &[(1, 0), (0, 1), (1, 1)],
                &[(0, 0), (0, 1), (1, 1)],
                &[(0, 0), (1, 0), (1, 1)],
                &[(0, 0), (1, 0), (0, 1)],
            ],
            Self::RowTriple => &[&[(0, 0), (1, 0), (2, 0)], &[(0, 0), (0, 1), (0, 2)]],
        }
    }

    /// Its name in tables and figures.
    pub fn label(self) -> &'static str {
        match self {
            Self::Field => "Σs",
            Self::Nearest => "nearest",
            Self::Diagonal => "diagonal",
            Self::Distance2 => "distance 2",
            Self::Plaquette => "plaquette",
            Self::Knight => "(2,1)",
            Self::Diagonal2 => "(2,2)",
            Self::PlaquetteTriple => "plaquette triples",
            Self::RowTriple => "three in a row",
        }
    }
}

/// Largest |offset| along an axis between two spins of one shape, once a shape is moved so
/// that any of its spins sits at the origin.
const REACH: i32 = 4;

/// Index tables of the periodic m×m lattice: for every offset of up to 4 along each axis, the
/// site at that offset from each site. Built once per lattice side, they make an operator's
/// value and local fields a few table lookups per product.
#[derive(Debug, Clone)]
pub struct Torus {
    m: usize,
    /// `(2 REACH + 1)²` tables of m² sites, offset (dx, dy) at
    /// `(dy + REACH) (2 REACH + 1) + dx + REACH`.
    tables: Vec<Vec<u32>>,
}

impl Torus {
    /// The tables of the m×m lattice.
    ///
    /// # Panics
    /// If m < 3 (a shape would meet itself around the torus).
    pub fn new(m: usize) -> Self {
        assert!(
            m >= 3,
            "operators need a lattice of side 3 or more, got {m}"
        );
        let width = 2 * REACH + 1;
        let tables = (0..width * width)
            .map(|t| {
                let (dx, dy) = (t % width - REACH, t / width - REACH);
                (0..m * m)
                    .map(|i| site(m, i % m, i / m, dx, dy) as u32)
                    .collect()
            })
            .collect();
        Self { m, tables }
    }

    fn table(&self, (dx, dy): (i32, i32)) -> &[u32] {
        let width = 2 * REACH + 1;
        &self.tables[((dy + REACH) * width + dx + REACH) as usize]
    }
}

impl Operator {
    /// The operator's value S on one configuration of `torus` (row-major ±1 spins).
    ///
    /// # Panics
    /// If `spins` is not an m×m configuration of `torus`.
    pub fn sum(self, torus: &Torus, spins: &[i8]) -> f64 {
        assert_eq!(
            spins.len(),
            torus.m * torus.m,
            "configuration of wrong size"
        );
        let mut total = 0i64;
        for shape in self.shapes() {
            let tables: Vec<&[u32]> = shape.iter().map(|&d| torus.table(d)).collect();
            for i in 0..spins.len() {
                let product: i8 = tables.iter().map(|t| spins[t[i] as usize]).product();
                total += i64::from(product);
            }
        }
        total as f64
    }

    /// ∂S/∂s_i at every site i of one configuration of `torus`: the operator's local field,
    /// so that flipping s_i changes S by −2 s_i ∂S/∂s_i (S is linear in each spin).
    ///
    /// # Panics
    /// If `spins` is not an m×m configuration of `torus`.
    pub fn local_fields(self, torus: &Torus, spins: &[i8]) -> Vec<i32> {
        assert_eq!(
            spins.len(),
            torus.m * torus.m,
            "configuration of wrong size"
        );
        let mut fields = vec![0i32; spins.len()];
        for shape in self.shapes() {
            for &(px, py) in shape.iter() {
                // The others of the product in which s_i is the spin at (px, py).
                let tables: Vec<&[u32]> = shape
                    .iter()
                    .filter(|&&q| q != (px, py))
                    .map(|&(qx, qy)| torus.table((qx - px, qy - py)))
                    .collect();
                for (i, f) in fields.iter_mut().enumerate() {
                    let product: i32 = tables
                        .iter()
                        .map(|t| i32::from(spins[t[i] as usize]))
                        .product();
                    *f += product;
                }
            }
        }
        fields
    }
}

/// The operators computed site by site without tables: the tests' independent reference, and
/// the local field of one site for a Metropolis sampler.
#[cfg(test)]
impl Operator {
    /// The operator's value S on one m×m configuration (row-major ±1 spins), computed
    /// directly from the shapes: the reference the tables are tested against.
    ///
    /// # Panics
    /// If `spins.len() != m * m` or m < 3 (a shape would meet itself around the torus).
    pub(crate) fn direct_sum(self, spins: &[i8], m: usize) -> f64 {
        check_size(spins, m);
        let mut total = 0i64;
        for y in 0..m {
            for x in 0..m {
                for shape in self.shapes() {
                    let product: i8 = shape
                        .iter()
                        .map(|&(dx, dy)| spins[site(m, x, y, dx, dy)])
                        .product();
                    total += i64::from(product);
                }
            }
        }
        total as f64
    }

    /// ∂S/∂s_i at every site i of one configuration: the operator's local field, so that
    /// flipping s_i changes S by −2 s_i ∂S/∂s_i (S is linear in each spin).
    ///
    /// # Panics
    /// As [`Operator::direct_sum`].
    pub(crate) fn direct_local_fields(self, spins: &[i8], m: usize) -> Vec<i32> {
        check_size(spins, m);
        (0..m * m)
            .map(|i| self.direct_local_field(spins, m, i))
            .collect()
    }

    /// ∂S/∂s_i at one site i: over every product that contains s_i, the product of the others.
    ///
    /// # Panics
    /// As [`Operator::direct_sum`], or if `i` is not a site.
    pub(crate) fn direct_local_field(self, spins: &[i8], m: usize, i: usize) -> i32 {
        check_size(spins, m);
        let (x, y) = (i % m, i / m);
        let mut field = 0i32;
        for shape in self.shapes() {
            for (p, &(px, py)) in shape.iter().enumerate() {
                // The product whose p-th spin is s_i starts at (x − px, y − py).
                let product: i32 = shape
                    .iter()
                    .enumerate()
                    .filter(|&(q, _)| q != p)
                    .map(|(_, &(dx, dy))| i32::from(spins[site(m, x, y, dx - px, dy - py)]))
                    .product();
                field += product;
            }
        }
        field
    }
}

#[cfg(test)]
fn check_size(spins: &[i8], m: usize) {
    assert_eq!(spins.len(), m * m, "configuration of wrong size");
    assert!(
        m >= 3,
        "operators need a lattice of side 3 or more, got {m}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ising_data::rng::Xoshiro256pp;

    fn random(m: usize, seed: u64) -> Vec<i8> {
        let mut rng = Xoshiro256pp::seed_from_u64(seed);
        (0..m * m)
            .map(|_| if rng.coin() { 1 } else { -1 })
            .collect()
    }

    #[test]
    fn counts_on_the_ordered_lattice() {
        // All up: S counts the products, m² per shape (counted by hand).
        let m = 6;
        let (up, torus) = (vec![1i8; m * m], Torus::new(m));
        let shapes = [
            (Operator::Field, 1),
            (Operator::Nearest, 2),
            (Operator::Diagonal, 2),
            (Operator::Distance2, 2),
            (Operator::Plaquette, 1),
            (Operator::Knight, 4),
            (Operator::Diagonal2, 2),
            (Operator::PlaquetteTriple, 4),
            (Operator::RowTriple, 2),
        ];
        for (op, count) in shapes {
            assert_eq!(op.sum(&torus, &up), (count * m * m) as f64, "{op:?}");
        }
    }

    #[test]
    fn the_checkerboard_flips_the_odd_distance_pairs() {
        let m = 6;
        let board: Vec<i8> = (0..m * m)
            .map(|i| if (i / m + i % m) % 2 == 0 { 1 } else { -1 })
            .collect();
        let (n, torus) = ((m * m) as f64, Torus::new(m));
        assert_eq!(Operator::Field.sum(&torus, &board), 0.0);
        assert_eq!(Operator::Nearest.sum(&torus, &board), -2.0 * n);
        assert_eq!(Operator::Diagonal.sum(&torus, &board), 2.0 * n);
        assert_eq!(Operator::Distance2.sum(&torus, &board), 2.0 * n);
        assert_eq!(Operator::Plaquette.sum(&torus, &board), n);
        assert_eq!(Operator::Knight.sum(&torus, &board), -4.0 * n);
    }

    #[test]
    fn local_fields_are_the_change_on_flipping_one_spin() {
        let m = 5;
        let (spins, torus) = (random(m, 11), Torus::new(m));
        for op in [EVEN.as_slice(), ODD.as_slice()].concat() {
            let fields = op.local_fields(&torus, &spins);
            for i in [0, 7, 24] {
                let mut flipped = spins.clone();
                flipped[i] = -flipped[i];
                let change = op.sum(&torus, &flipped) - op.sum(&torus, &spins);
                assert_eq!(
                    change,
                    -2.0 * f64::from(spins[i]) * f64::from(fields[i]),
                    "{op:?} at {i}"
                );
            }
        }
    }

    #[test]
    fn the_tables_give_what_the_direct_sums_give() {
        for m in [3, 5, 8] {
            let torus = Torus::new(m);
            let spins = random(m, m as u64);
            for op in [EVEN.as_slice(), ODD.as_slice()].concat() {
                assert_eq!(op.sum(&torus, &spins), op.direct_sum(&spins, m), "{op:?}");
                assert_eq!(
                    op.local_fields(&torus, &spins),
                    op.direct_local_fields(&spins, m),
                    "{op:?}"
                );
            }
        }
    }

    #[test]
    fn parity_and_the_spin_flip() {
        let m = 4;
        let (spins, torus) = (random(m, 5), Torus::new(m));
        let flipped: Vec<i8> = spins.iter().map(|&s| -s).collect();
        for op in [EVEN.as_slice(), ODD.as_slice()].concat() {
            let sign = if ODD.contains(&op) { -1.0 } else { 1.0 };
            assert_eq!(
                op.sum(&torus, &flipped),
                sign * op.sum(&torus, &spins),
                "{op:?}"
            );
        }
    }

    #[test]
    fn nearest_neighbour_sum_is_the_lattice_bond_sum() {
        let m = 7;
        let spins = random(m, 2);
        let lattice = ising_data::lattice::Lattice::Square { l: m };
        assert_eq!(
            Operator::Nearest.sum(&Torus::new(m), &spins),
            lattice.bond_sum(&spins) as f64
        );
    }
}
