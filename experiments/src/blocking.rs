//! Kadanoff block spins: 2×2 majority rule on the periodic square lattice (Fig. 1).

use ising_data::lattice::Lattice;
use ising_data::rng::Xoshiro256pp;

/// One majority-rule step: each 2×2 block of an L×L configuration becomes one spin, the sign
/// of the block's sum, with ties (sum 0) broken by a fair coin from `rng`. L must be even.
///
/// # Panics
/// If `spins.len() != l * l` or `l` is odd.
pub fn majority_rule(spins: &[i8], l: usize, rng: &mut Xoshiro256pp) -> Vec<i8> {
    assert_eq!(spins.len(), l * l, "configuration of wrong size");
    assert!(
        l.is_multiple_of(2),
        "majority rule needs an even lattice size"
    );
    crate::rg::coarse::majority_blocks(spins, l, 2, rng)
}

/// The coarse-grained configurations of one L×L configuration at every scale L, L/2, …,
/// down to `min_size` (inclusive), the original first.
pub fn block_scales(
    spins: &[i8],
    l: usize,
    min_size: usize,
    rng: &mut Xoshiro256pp,
) -> Vec<(usize, Vec<i8>)> {
    let mut scales = vec![(l, spins.to_vec())];
    let (mut size, mut current) = (l, spins.to_vec());
    while size % 2 == 0 && size / 2 >= min_size {
        current = majority_rule(&current, size, rng);
        size /= 2;
        scales.push((size, current.clone()));
    }
    scales
}

/// Nearest-neighbour correlation ⟨s_i s_j⟩ over all bonds of a periodic configuration.
pub fn nearest_neighbour_correlation(spins: &[i8], l: usize) -> f64 {
    let lattice = Lattice::Square { l };
    lattice.bond_sum(spins) as f64 / lattice.n_bonds() as f64
}

/// |m| of a configuration.
pub fn abs_magnetization(spins: &[i8]) -> f64 {
    (spins.iter().map(|&s| s as i64).sum::<i64>() as f64 / spins.len() as f64).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_lattices_stay_ordered() {
        let mut rng = Xoshiro256pp::seed_from_u64(1);
        for s in [1i8, -1] {
            let out = majority_rule(&[s; 64], 8, &mut rng);
            assert_eq!(out, vec![s; 16]);
        }
    }

    #[test]
    fn a_hand_computed_configuration() {
        // 4×4, rows:  + + - -      blocks: (++/+-)=+2 → +   (--/--)=−4 → −
        //             + - - -              (-+/++)=+2 → +   (+-/-+)= 0 → tie
        //             - + + -
        //             + + - +
        let s: Vec<i8> = [
            1, 1, -1, -1, //
            1, -1, -1, -1, //
            -1, 1, 1, -1, //
            1, 1, -1, 1,
        ]
        .to_vec();
        let mut rng = Xoshiro256pp::seed_from_u64(3);
        let out = majority_rule(&s, 4, &mut rng);
        assert_eq!(&out[..3], &[1, -1, 1]);
        assert!(out[3] == 1 || out[3] == -1);
        // Ties are broken both ways over many draws (a fair coin: 400 draws give both).
        let ties: Vec<i8> = (0..400)
            .map(|_| majority_rule(&s, 4, &mut rng)[3])
            .collect();
        let ups = ties.iter().filter(|&&t| t == 1).count();
        assert!((140..=260).contains(&ups), "{ups} of 400 ties went up");
    }

    #[test]
    fn correlation_of_simple_states() {
        assert!((nearest_neighbour_correlation(&[1; 16], 4) - 1.0).abs() < 1e-12);
        let neel: Vec<i8> = (0..16)
            .map(|i| if (i / 4 + i % 4) % 2 == 0 { 1 } else { -1 })
            .collect();
        assert!((nearest_neighbour_correlation(&neel, 4) + 1.0).abs() < 1e-12);
        assert!(abs_magnetization(&neel).abs() < 1e-12);
    }
}
