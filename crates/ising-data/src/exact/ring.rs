//! The one-dimensional ring: transfer-matrix results with and without a field, correlations,
//! the decimation map K' = ½ ln cosh 2K, and their check by enumeration.

use std::f64::consts::LN_2;

use super::enumeration::log_sum_exp;

/// Largest ring [`enumerate_ring`] and [`enumerate_ring_correlation`] accept.
pub const MAX_ENUMERATED_RING: usize = 24;

/// `x^e` for a non-negative integer exponent, by repeated squaring (exact sign for
/// negative `x`, no `i32` overflow for large `e`).
pub(super) fn pow_usize(x: f64, mut e: usize) -> f64 {
    let mut base = x;
    let mut acc = 1.0;
    while e > 0 {
        if e & 1 == 1 {
            acc *= base;
        }
        base *= base;
        e >>= 1;
    }
    acc
}

/// `ln cosh x`, without overflow for large `|x|`.
pub(super) fn ln_cosh(x: f64) -> f64 {
    let a = x.abs();
    a + (-2.0 * a).exp().ln_1p() - LN_2
}

/// Panics unless the ring has at least one spin.
pub(super) fn assert_ring(n: usize) {
    assert!(n >= 1, "the ring must have at least one spin");
}

/// `ln Z` of the periodic ring of `n` spins, `H = −Σ_i s_i s_{i+1 mod n}` (transfer
/// matrix): `Z = (2 cosh K)^N + (2 sinh K)^N`, evaluated as
/// `N ln(2 cosh K) + ln(1 + tanh^N K)`, which neither overflows nor cancels.
///
/// For `n = 1` the single bond is a self-bond and for `n = 2` the two bonds join the same
/// pair; the formula covers both. Any finite `k` is allowed (`k < 0` is the
/// antiferromagnet).
///
/// # Panics
///
/// If `n == 0`.
pub fn ring_log_partition(n: usize, k: f64) -> f64 {
    assert_ring(n);
    n as f64 * (LN_2 + ln_cosh(k)) + pow_usize(k.tanh(), n).ln_1p()
}

/// `ln Z` of the periodic ring of `n` spins in a field,
/// `βH = −K Σ_i s_i s_{i+1} − h Σ_i s_i`, from the transfer-matrix eigenvalues
/// `λ± = e^K cosh h ± √(e^{2K} sinh² h + e^{−2K})`: `Z = λ+^N + λ-^N`.
///
/// Evaluated as `N ln λ+ + ln(1 + (λ-/λ+)^N)` with
/// `ln λ+ = K + ln(cosh h + √(sinh² h + e^{−4K}))` and `λ-/λ+ = 2 sinh 2K / λ+²` (from
/// `λ+ λ- = det T = 2 sinh 2K`), so the ratio is never formed by subtraction; `λ-` is
/// negative for `K < 0`.
///
/// # Panics
///
/// If `n == 0`.
pub fn ring_log_partition_field(n: usize, k: f64, h: f64) -> f64 {
    assert_ring(n);
    let root = (h.sinh().powi(2) + (-4.0 * k).exp()).sqrt();
    let reduced = h.cosh() + root; // λ+ e^{−K}
    let ln_lambda_plus = k + reduced.ln();
    let ratio = -(-4.0 * k).exp_m1() / (reduced * reduced); // λ-/λ+
    n as f64 * ln_lambda_plus + pow_usize(ratio, n).ln_1p()
}

/// Spin–spin correlation `⟨s_i s_{i+r}⟩` on the periodic ring of `n` spins in zero field:
/// `(t^r + t^{N−r}) / (1 + t^N)`, `t = tanh K`.
///
/// # Panics
///
/// If `n == 0` or `r > n`.
pub fn ring_correlation(n: usize, k: f64, r: usize) -> f64 {
    assert_ring(n);
    assert!(r <= n, "the distance r = {r} exceeds the ring size {n}");
    let t = k.tanh();
    (pow_usize(t, r) + pow_usize(t, n - r)) / (1.0 + pow_usize(t, n))
}

/// Mean energy per spin of the periodic ring of `n` spins in zero field,
/// `u = −⟨s_i s_{i+1}⟩ = −(t + t^{N−1}) / (1 + t^N)`, `t = tanh K`
/// (equal to `−(∂ ln Z / ∂K) / N`).
///
/// # Panics
///
/// If `n == 0`.
pub fn ring_energy_per_spin(n: usize, k: f64) -> f64 {
    -ring_correlation(n, k, 1)
}

/// Coupling after decimating every other spin of the ring:
/// `Σ_{s_2 = ±1} e^{K s_2 (s_1 + s_3)} = A e^{K' s_1 s_3}` with `K' = ½ ln cosh 2K`,
/// equivalently `tanh K' = tanh² K`. For `K ≠ 0`, `|K'| < |K|`: the 1D flow runs to the
/// high-temperature fixed point `K = 0`.
pub fn decimated_coupling(k: f64) -> f64 {
    0.5 * ln_cosh(2.0 * k)
}

/// Spin-independent prefactor of the decimation, `A = 2 √(cosh 2K)`; with
/// [`decimated_coupling`], `Z_N(K) = A^{N/2} Z_{N/2}(K')` for even `N`.
pub fn decimation_prefactor(k: f64) -> f64 {
    2.0 * (2.0 * k).cosh().sqrt()
}

/// Counts of the ring's configurations by (number of unsatisfied bonds, number of down
/// spins, whether `s_0 s_r = −1`), for the brute-force ring functions.
pub(super) fn ring_histogram(n: usize, r: usize) -> Vec<Vec<[u64; 2]>> {
    assert!(
        (1..=MAX_ENUMERATED_RING).contains(&n),
        "ring enumeration needs 1 ≤ n ≤ {MAX_ENUMERATED_RING}, got {n}"
    );
    let mask = (1_u32 << n) - 1;
    let mut counts = vec![vec![[0_u64; 2]; n + 1]; n + 1];
    for x in 0..=mask {
        // Bit i set ⇔ s_i = −1. Rotating by one pairs every spin with its successor.
        let rotated = ((x >> 1) | (x << (n - 1))) & mask;
        let broken = (x ^ rotated).count_ones() as usize;
        let down = x.count_ones() as usize;
        let shifted = ((x >> (r % n)) | (x << ((n - r % n) % n))) & mask;
        let anti = ((x ^ shifted) & 1) as usize;
        counts[broken][down][anti] += 1;
    }
    counts
}

/// `ln Z` of the periodic ring of `n` spins in a field, `βH = −K Σ s_i s_{i+1} − h Σ s_i`,
/// by brute-force enumeration of all `2^n` configurations (independent of
/// [`ring_log_partition_field`], which it is used to check).
///
/// # Panics
///
/// If `n == 0` or `n > 24` ([`MAX_ENUMERATED_RING`]).
pub fn enumerate_ring(n: usize, k: f64, h: f64) -> f64 {
    enumerate_ring_moments(n, k, h, 0).0
}

/// `⟨s_0 s_r⟩` on the periodic ring of `n` spins in a field, by brute-force enumeration
/// of all `2^n` configurations (independent of [`ring_correlation`]).
///
/// # Panics
///
/// If `n == 0`, `n > 24` ([`MAX_ENUMERATED_RING`]) or `r > n`.
pub fn enumerate_ring_correlation(n: usize, k: f64, h: f64, r: usize) -> f64 {
    assert!(r <= n, "the distance r = {r} exceeds the ring size {n}");
    enumerate_ring_moments(n, k, h, r).1
}

/// `(ln Z, ⟨s_0 s_r⟩)` of the ring by enumeration.
pub(super) fn enumerate_ring_moments(n: usize, k: f64, h: f64, r: usize) -> (f64, f64) {
    let counts = ring_histogram(n, r);
    let nf = n as f64;
    let mut log_weights = Vec::new();
    let mut signs = Vec::new();
    for (broken, by_down) in counts.iter().enumerate() {
        for (down, by_anti) in by_down.iter().enumerate() {
            for (anti, &c) in by_anti.iter().enumerate() {
                if c > 0 {
                    let bond_sum = nf - 2.0 * broken as f64;
                    let magnetisation = nf - 2.0 * down as f64;
                    log_weights.push((c as f64).ln() + k * bond_sum + h * magnetisation);
                    signs.push(if anti == 1 { -1.0 } else { 1.0 });
                }
            }
        }
    }
    let log_z = log_sum_exp(&log_weights);
    let corr = log_weights
        .iter()
        .zip(&signs)
        .map(|(lw, s)| s * (lw - log_z).exp())
        .sum();
    (log_z, corr)
}
