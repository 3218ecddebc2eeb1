//! The infinite square lattice: Onsager's energy and specific heat (Phys. Rev. 65, 117
//! (1944)) and Yang's spontaneous magnetisation (Phys. Rev. 85, 808 (1952)), with complete
//! elliptic integrals evaluated by the arithmetic–geometric mean.

use std::f64::consts::{FRAC_PI_2, PI};

use super::thermo::K_C;

/// Complete elliptic integrals `(K(k), E(k))` from the modulus `k` and the complementary
/// modulus `k' = √(1 − k²)`, both given, by the arithmetic–geometric mean (Abramowitz &
/// Stegun §17.6): `K = π / (2 AGM(1, k'))`, `E = K (1 − Σ_{j≥0} 2^{j−1} c_j²)` with
/// `c_0 = k`, `c_{j+1} = c_j² / (4 a_{j+1})`.
///
/// Passing `k'` separately lets callers that know it in closed form avoid the cancellation
/// in `1 − k²` near `k = 1`.
pub(super) fn elliptic_ke_complementary(k: f64, k_prime: f64) -> (f64, f64) {
    if k_prime == 0.0 {
        return (f64::INFINITY, 1.0);
    }
    let mut a = 1.0_f64;
    let mut b = k_prime;
    let mut c = k;
    let mut weight = 0.5; // 2^{j−1}
    let mut sum = weight * c * c;
    // Quadratic convergence: 5 rounds for k' = 0.5, 14 for k' = 1e-300; 64 is a safe cap.
    for _ in 0..64 {
        let a_next = 0.5 * (a + b);
        let b_next = (a * b).sqrt();
        c = c * c / (4.0 * a_next);
        weight *= 2.0;
        sum += weight * c * c;
        a = a_next;
        b = b_next;
        if c.abs() <= f64::EPSILON * a {
            break;
        }
    }
    let big_k = FRAC_PI_2 / a;
    (big_k, big_k * (1.0 - sum))
}

/// Complete elliptic integral of the first kind, `K(k) = ∫_0^{π/2} dθ / √(1 − k² sin²θ)`,
/// in the *modulus* convention, evaluated by the arithmetic–geometric mean to about one
/// unit in the last place.
///
/// Returns `+∞` at `|k| = 1` and `NaN` for `|k| > 1` or `NaN` input.
pub fn elliptic_k(k: f64) -> f64 {
    if k.is_nan() || k.abs() > 1.0 {
        return f64::NAN;
    }
    let k_prime = ((1.0 - k) * (1.0 + k)).sqrt();
    elliptic_ke_complementary(k, k_prime).0
}

/// Complete elliptic integral of the second kind, `E(k) = ∫_0^{π/2} √(1 − k² sin²θ) dθ`,
/// in the *modulus* convention, evaluated by the arithmetic–geometric mean to about one
/// unit in the last place.
///
/// Returns `1` at `|k| = 1` and `NaN` for `|k| > 1` or `NaN` input.
pub fn elliptic_e(k: f64) -> f64 {
    if k.is_nan() || k.abs() > 1.0 {
        return f64::NAN;
    }
    let k_prime = ((1.0 - k) * (1.0 + k)).sqrt();
    elliptic_ke_complementary(k, k_prime).1
}

/// The elliptic moduli of Onsager's solution at coupling `k`: returns
/// `(κ, κ'', K1(κ), E1(κ))` with `κ = 2 sinh 2K / cosh² 2K` and the *signed* complementary
/// modulus `κ'' = 2 tanh² 2K − 1 = (sinh² 2K − 1) / cosh² 2K`, `|κ''| = √(1 − κ²)`.
pub(super) fn onsager_moduli(k: f64) -> (f64, f64, f64, f64) {
    let sinh2k = (2.0 * k).sinh();
    let cosh2k_sq = 1.0 + sinh2k * sinh2k;
    let kappa = 2.0 * sinh2k / cosh2k_sq;
    // (sinh 2K − 1)(sinh 2K + 1) avoids cancelling large squares near K_c.
    let kappa_pp = (sinh2k - 1.0) * (sinh2k + 1.0) / cosh2k_sq;
    let (k1, e1) = elliptic_ke_complementary(kappa, kappa_pp.abs());
    (kappa, kappa_pp, k1, e1)
}

/// Panics unless `k` is finite and strictly positive.
pub(super) fn assert_positive_coupling(k: f64) {
    assert!(
        k.is_finite() && k > 0.0,
        "the coupling K must be finite and positive, got {k}"
    );
}

/// Energy per spin of the infinite square lattice (Onsager 1944):
///
/// `u(K) = −coth 2K [1 + (2/π)(2 tanh² 2K − 1) K1(κ)]`, `κ = 2 sinh 2K / cosh² 2K`,
///
/// with `K1` the complete elliptic integral of the first kind ([`elliptic_k`]). The
/// product `(2 tanh² 2K − 1) K1(κ)` vanishes at `K_c` (logarithmic singularity times a
/// simple zero), where `u(K_c) = −√2`.
///
/// # Panics
///
/// If `k` is not finite and strictly positive.
pub fn onsager_energy_per_spin(k: f64) -> f64 {
    assert_positive_coupling(k);
    let (_, kappa_pp, k1, _) = onsager_moduli(k);
    let singular = if kappa_pp == 0.0 { 0.0 } else { kappa_pp * k1 };
    -1.0 / (2.0 * k).tanh() * (1.0 + 2.0 / PI * singular)
}

/// Specific heat per spin of the infinite square lattice (Onsager 1944), `c = −K² du/dK`:
///
/// `c(K) = (4/π)(K coth 2K)² {K1(κ) − E1(κ) − (1 − tanh² 2K)[π/2 + (2 tanh² 2K − 1) K1(κ)]}`,
///
/// with `κ = 2 sinh 2K / cosh² 2K` and `K1`, `E1` the complete elliptic integrals of the
/// first and second kind ([`elliptic_k`], [`elliptic_e`]). (The tests check it against
/// `−K² du/dK` from [`onsager_energy_per_spin`] and against Kaufman's finite lattice.)
///
/// The specific heat diverges logarithmically at [`K_C`],
/// `c ≈ −(8/π) K_c² ln|1 − K/K_c|`; if the coupling rounds to exactly `κ = 1` this
/// function returns `f64::INFINITY`.
///
/// # Panics
///
/// If `k` is not finite and strictly positive.
pub fn onsager_specific_heat_per_spin(k: f64) -> f64 {
    assert_positive_coupling(k);
    let (_, kappa_pp, k1, e1) = onsager_moduli(k);
    if kappa_pp == 0.0 {
        return f64::INFINITY;
    }
    let tanh2k = (2.0 * k).tanh();
    let sech2k_sq = 1.0 - tanh2k * tanh2k;
    let k_coth = k / tanh2k;
    4.0 / PI * k_coth * k_coth * (k1 - e1 - sech2k_sq * (FRAC_PI_2 + kappa_pp * k1))
}

/// Spontaneous magnetisation per spin of the infinite square lattice (Yang 1952):
/// `M(K) = (1 − sinh⁻⁴ 2K)^{1/8}` for `K > K_c`, and `0` for `K ≤ K_c` (including
/// `K ≤ 0`).
pub fn yang_magnetization(k: f64) -> f64 {
    if k.is_nan() || k <= K_C {
        return 0.0;
    }
    let s2 = (2.0 * k).sinh().powi(2);
    // max(0): guards the last few ulps above K_C, where sinh 2K may round below 1.
    (1.0 - 1.0 / (s2 * s2)).max(0.0).powf(0.125)
}
