//! The 1D Ising decimation flow and its deep architecture (Mehta & Schwab, Sec. IV.1,
//! Fig. 2, Eqs. 23–24).
//!
//! Summing out every other spin of a ring at coupling J gives a ring of half the size at
//! J' with tanh J' = tanh² J (Eq. 24). As an RBM with ±1 units, the hidden spin h_j stands for
//! the kept spin 2j, and each decimated (odd) visible spin 2j+1 couples to its two kept
//! neighbours h_j and h_{j+1} with weight J; the kept visible spins couple to nothing. Then
//! Σ_v e^{−E(v,h)} = 2^{N/2} Π_j 2cosh(J(h_j + h_{j+1})) = const · e^{J' Σ_j h_j h_{j+1}}:
//! the hidden layer's Hamiltonian H^RBM\[h\] (Eq. 15) is the decimated ring's.

use burn::prelude::*;
use rbm::eval::exact::HostRbm;
use rbm::{Rbm, Units};

/// The decimated coupling J' with tanh J' = tanh² J (Eq. 24).
pub fn decimated_coupling(j: f64) -> f64 {
    ising_data::exact::decimated_coupling(j)
}

/// J(0), J(1), …, J(steps) of the decimation flow from `j0`.
pub fn flow(j0: f64, steps: usize) -> Vec<f64> {
    let mut out = vec![j0];
    for _ in 0..steps {
        out.push(decimated_coupling(*out.last().expect("non-empty")));
    }
    out
}

/// The weights of the decimation RBM of a ring of `n_visible` spins at coupling `j`, row-major
/// `[n_visible][n_visible / 2]`.
///
/// # Panics
/// If `n_visible` is odd or below 4.
pub fn decimation_weights(n_visible: usize, j: f64) -> Vec<f64> {
    assert!(
        n_visible >= 4 && n_visible.is_multiple_of(2),
        "need an even ring of at least 4 spins"
    );
    let m = n_visible / 2;
    let mut w = vec![0.0; n_visible * m];
    for k in 0..m {
        let odd = 2 * k + 1;
        w[odd * m + k] = j;
        w[odd * m + (k + 1) % m] = j;
    }
    w
}

/// The decimation RBM (±1 units, zero biases) as a host model in f64.
pub fn decimation_host(n_visible: usize, j: f64) -> HostRbm {
    HostRbm {
        n_visible,
        n_hidden: n_visible / 2,
        weights: decimation_weights(n_visible, j),
        visible_bias: vec![0.0; n_visible],
        hidden_bias: vec![0.0; n_visible / 2],
        visible_units: Units::Spin,
        hidden_units: Units::Spin,
    }
}

/// The decimation RBM as a Burn module on `device`.
pub fn decimation_rbm(n_visible: usize, j: f64, device: &Device) -> Rbm {
    let host = decimation_host(n_visible, j);
    let m = host.n_hidden;
    let w: Vec<f32> = host.weights.iter().map(|&x| x as f32).collect();
    Rbm::from_parameters(
        Tensor::from_data(TensorData::new(w, [n_visible, m]), device),
        Tensor::zeros([n_visible], device),
        Tensor::zeros([m], device),
        Units::Spin,
        Units::Spin,
    )
}

/// R(h) = H^RBM\[h\] + J' Σ_j h_j h_{j+1} for one hidden configuration (ring of hidden spins).
fn residual(host: &HostRbm, j_next: f64, h: &[f64]) -> f64 {
    let m = h.len();
    host.hidden_free_energy(h) + j_next * (0..m).map(|k| h[k] * h[(k + 1) % m]).sum::<f64>()
}

/// The largest deviation of H^RBM\[h\] from −J' Σ_j h_j h_{j+1} + c over all hidden
/// configurations h, with the constant c chosen to minimise it: (max R − min R)/2 for the
/// residual R(h) = H^RBM\[h\] + J' Σ h_j h_{j+1}, by enumerating all 2^{n_h} configurations.
///
/// # Panics
/// If the hidden layer has more than 24 units.
pub fn marginal_deviation_enumeration(host: &HostRbm, j_next: f64) -> f64 {
    let m = host.n_hidden;
    assert!(m <= 24, "too many hidden units to enumerate");
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for index in 0..1u64 << m {
        let h = rbm::eval::exact::state(Units::Spin, m, index);
        let r = residual(host, j_next, &h);
        lo = lo.min(r);
        hi = hi.max(r);
    }
    (hi - lo) / 2.0
}

/// As [`marginal_deviation_enumeration`], for any ring size, with max-plus and min-plus
/// transfer matrices: R(h) is a sum of bond terms φ_k(h_k, h_{k+1}) because every visible
/// unit of a decimation-structured RBM couples to at most the two hidden spins k, k+1.
///
/// # Panics
/// If some visible unit couples to hidden units other than a ring-adjacent pair, or the
/// hidden biases are not zero.
pub fn marginal_deviation_transfer(host: &HostRbm, j_next: f64) -> f64 {
    let m = host.n_hidden;
    assert!(
        host.hidden_bias.iter().all(|b| b.abs() < 1e-300),
        "hidden biases must be zero"
    );
    let vals = [-1.0, 1.0];
    // Bond matrices φ_k[x][y], x = h_k, y = h_{k+1}.
    let mut phi = vec![[[0.0f64; 2]; 2]; m];
    for k in 0..m {
        for (x, &hx) in vals.iter().enumerate() {
            for (y, &hy) in vals.iter().enumerate() {
                phi[k][x][y] = j_next * hx * hy;
            }
        }
    }
    for i in 0..host.n_visible {
        let coupled: Vec<usize> = (0..m).filter(|&k| host.w(i, k).abs() > 0.0).collect();
        let (k, other) = match coupled.as_slice() {
            [] => (0, None),
            [k] => (*k, None),
            [a, b] if (a + 1) % m == *b => (*a, Some(*b)),
            [a, b] if (b + 1) % m == *a => (*b, Some(*a)),
            _ => panic!("visible unit {i} couples to non-adjacent hidden units"),
        };
        for (x, &hx) in vals.iter().enumerate() {
            for (y, &hy) in vals.iter().enumerate() {
                let input = host.visible_bias[i]
                    + if coupled.is_empty() {
                        0.0
                    } else {
                        host.w(i, k) * hx
                    }
                    + other.map_or(0.0, |o| host.w(i, o) * hy);
                phi[k][x][y] -= host.visible_units.log_partition(input);
            }
        }
    }
    let extreme = |better: fn(f64, f64) -> f64, worst: f64| -> f64 {
        let mut best = worst;
        for start in 0..2 {
            // Propagate from h_0 = start around the ring and back to h_0.
            let mut acc = [worst, worst];
            acc[start] = 0.0;
            for bond in &phi {
                let mut next = [worst, worst];
                for x in 0..2 {
                    for y in 0..2 {
                        next[y] = better(next[y], acc[x] + bond[x][y]);
                    }
                }
                acc = next;
            }
            best = better(best, acc[start]);
        }
        best
    };
    let hi = extreme(f64::max, f64::NEG_INFINITY);
    let lo = extreme(f64::min, f64::INFINITY);
    (hi - lo) / 2.0
}

/// The nearest-neighbour correlation of each row of `spins` (`[samples, n]` ring
/// configurations, ±1), with its standard error over rows (rows independent).
pub fn ring_nn_correlation(spins: &[f32], n: usize) -> (f64, f64) {
    let per_row: Vec<f64> = spins
        .chunks(n)
        .map(|s| (0..n).map(|i| (s[i] * s[(i + 1) % n]) as f64).sum::<f64>() / n as f64)
        .collect();
    let count = per_row.len() as f64;
    let mean = per_row.iter().sum::<f64>() / count;
    let var = per_row.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count - 1.0).max(1.0);
    (mean, (var / count).sqrt())
}
