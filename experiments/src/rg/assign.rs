//! Where a layer's units look: field centres on the torus and an optimal one-to-one assignment
//! of the units to the sites of the coarse lattice.
//!
//! The assignment minimises the total squared torus distance between each unit's field centre
//! and its coarse site's centre, found exactly by the Hungarian algorithm (Kuhn 1955, Munkres
//! 1957) in its O(n³) shortest-augmenting-path form with dual potentials (Jonker & Volgenant
//! 1987); written here (no crate), and tested against enumeration of every permutation.

use serde::{Deserialize, Serialize};

use crate::torus::{coarse_site_centre, torus_distance2};

/// The minimum-cost perfect matching of an n×n cost matrix (`cost[i * n + j]`, row i to
/// column j): `assignment[i]` is row i's column. Exact (Hungarian algorithm with potentials,
/// O(n³)).
///
/// # Panics
/// If `cost.len() != n * n` or a cost is not finite.
pub fn min_cost_assignment(cost: &[f64], n: usize) -> Vec<usize> {
    assert_eq!(cost.len(), n * n, "cost matrix of wrong size");
    assert!(cost.iter().all(|c| c.is_finite()), "costs must be finite");
    // 1-based arrays with a virtual column 0 (e-maxx's formulation): `u`, `v` the row and
    // column potentials, `p[j]` the row matched to column j, `way[j]` the previous column on
    // the shortest augmenting path.
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let (mut p, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=n {
                if !used[j] {
                    let cur = cost[(i0 - 1) * n + j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0; n];
    for j in 1..=n {
        assignment[p[j] - 1] = j - 1;
    }
    assignment
}

/// The assignment of a layer's units to its coarse lattice, and how well the units tile it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Side b of the Kadanoff block (fine sites per coarse site along an axis).
    pub block_side: usize,
    /// Side L/b of the coarse lattice.
    pub coarse_side: usize,
    /// Each unit's field centre (row, column) on the fine lattice.
    pub centres: Vec<(f64, f64)>,
    /// The coarse site (row-major) of each unit.
    pub site_of_unit: Vec<usize>,
    /// Mean torus distance (fine lattice spacings) between a unit's centre and its site's.
    pub mean_displacement: f64,
    /// Largest such distance.
    pub max_displacement: f64,
    /// The fraction of coarse sites whose nearest unit (by centre) is the nearest unit of no
    /// other coarse site: 1 when the centres tile the coarse lattice, lower when units crowd.
    pub unique_nearest_fraction: f64,
}

/// Assigns units with field centres `centres` one-to-one to the sites of the (L/b)² coarse
/// lattice of the L×L torus (b = `block_side`), minimising the total squared distance.
///
/// # Panics
/// If `block_side` does not divide `l` or the number of centres is not (L/b)².
pub fn assign(centres: &[(f64, f64)], l: usize, block_side: usize) -> Assignment {
    assert!(
        block_side > 0 && l.is_multiple_of(block_side),
        "the block side must divide L"
    );
    let coarse = l / block_side;
    let n = coarse * coarse;
    assert_eq!(centres.len(), n, "one unit per coarse site");
    let sites: Vec<(f64, f64)> = (0..n)
        .map(|s| coarse_site_centre(s, coarse, block_side))
        .collect();
    let lf = l as f64;
    let cost: Vec<f64> = centres
        .iter()
        .flat_map(|&c| sites.iter().map(move |&s| torus_distance2(c, s, lf)))
        .collect();
    let site_of_unit = min_cost_assignment(&cost, n);
    let displacement: Vec<f64> = (0..n)
        .map(|u| cost[u * n + site_of_unit[u]].sqrt())
        .collect();
    let nearest: Vec<usize> = (0..n)
        .map(|s| {
            (0..n)
                .min_by(|&a, &b| cost[a * n + s].total_cmp(&cost[b * n + s]))
                .expect("n > 0")
        })
        .collect();
    let mut claims = vec![0usize; n];
    for &u in &nearest {
        claims[u] += 1;
    }
    let unique = nearest.iter().filter(|&&u| claims[u] == 1).count();
    Assignment {
        block_side,
        coarse_side: coarse,
        centres: centres.to_vec(),
        site_of_unit,
        mean_displacement: displacement.iter().sum::<f64>() / n as f64,
        max_displacement: displacement.iter().cloned().fold(0.0, f64::max),
        unique_nearest_fraction: unique as f64 / n as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ising_data::rng::Xoshiro256pp;

    fn total(cost: &[f64], n: usize, a: &[usize]) -> f64 {
        (0..n).map(|i| cost[i * n + a[i]]).sum()
    }

    /// Every permutation of 0..n (Heap's algorithm).
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if k <= 1 {
                out.push(a.clone());
                return;
            }
            for i in 0..k {
                heap(k - 1, a, out);
                let j = if k.is_multiple_of(2) { i } else { 0 };
                a.swap(j, k - 1);
            }
        }
        let mut out = Vec::new();
        heap(n, &mut (0..n).collect(), &mut out);
        out
    }

    #[test]
    fn the_hungarian_algorithm_finds_the_optimum_that_enumeration_finds() {
        let mut rng = Xoshiro256pp::seed_from_u64(11);
        for n in 1..=7 {
            let perms = permutations(n);
            for _ in 0..30 {
                // Integer costs make ties likely: the optimum's value must still be found.
                let cost: Vec<f64> = (0..n * n).map(|_| rng.below(10) as f64 - 3.0).collect();
                let a = min_cost_assignment(&cost, n);
                let mut seen = a.clone();
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "not a permutation");
                let best = perms
                    .iter()
                    .map(|p| total(&cost, n, p))
                    .fold(f64::INFINITY, f64::min);
                assert_eq!(total(&cost, n, &a), best, "n = {n}");
            }
        }
    }

    #[test]
    fn units_at_shifted_block_centres_are_assigned_to_their_blocks() {
        // 100 units on the 40×40 torus at the centres of the 4×4 blocks, shuffled and moved by
        // up to ±1.2 sites: each goes to its own block, with the displacement it was given.
        let (l, b) = (40, 4);
        let coarse = l / b;
        let mut rng = Xoshiro256pp::seed_from_u64(5);
        let mut order: Vec<usize> = (0..coarse * coarse).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let centres: Vec<(f64, f64)> = order
            .iter()
            .map(|&s| {
                let (y, x) = coarse_site_centre(s, coarse, b);
                ((y + 1.2).rem_euclid(40.0), (x - 0.5).rem_euclid(40.0))
            })
            .collect();
        let a = assign(&centres, l, b);
        assert_eq!(a.site_of_unit, order);
        let expected = (1.2f64 * 1.2 + 0.25).sqrt();
        assert!((a.mean_displacement - expected).abs() < 1e-12);
        assert!((a.max_displacement - expected).abs() < 1e-12);
        assert_eq!(a.unique_nearest_fraction, 1.0);
    }

    #[test]
    fn crowded_units_leave_coarse_sites_without_a_unique_nearest_unit() {
        // Four units on the 4×4 torus with 2×2 blocks, all at one block's centre: the optimal
        // assignment still uses every site, and every site's nearest unit is unit 0 (ties go
        // to the lowest index), so no site has a unique nearest unit.
        let centres = vec![(0.5, 0.5); 4];
        let a = assign(&centres, 4, 2);
        let mut seen = a.site_of_unit.clone();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 2, 3]);
        assert_eq!(a.unique_nearest_fraction, 0.0);
        // Distances: one unit at its site (0), two one block away (2), one diagonal (2√2).
        let expected = (0.0 + 2.0 + 2.0 + 8f64.sqrt()) / 4.0;
        assert!((a.mean_displacement - expected).abs() < 1e-12);
    }
}
