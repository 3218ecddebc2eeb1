//! The exact results against each other and against enumeration.

use std::f64::consts::{FRAC_PI_2, LN_2, PI};

use super::enumeration::*;
use super::kaufman::*;
use super::onsager::*;
use super::ring::*;
use super::thermo::*;

/// Relative deviation `|a − b| / |b|`.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

const KS: [f64; 6] = [0.1, 0.3, 0.408, K_C, 0.6, 1.0];

#[test]
fn critical_coupling_literal() {
    // Reference: the defining formula K_c = ½ ln(1 + √2) and sinh 2K_c = 1.
    assert!((K_C - 0.5 * (1.0 + 2f64.sqrt()).ln()).abs() < 1e-16);
    assert!(((2.0 * K_C).sinh() - 1.0).abs() < 4.0 * f64::EPSILON);
}

#[test]
fn elliptic_integrals_special_values() {
    // References (Abramowitz & Stegun §17.3): K(0) = E(0) = π/2, E(1) = 1, and the
    // lemniscatic value K(1/√2) = Γ(1/4)² / (4√π) with Γ(1/4) = 3.6256099082219083119…
    assert!((elliptic_k(0.0) - FRAC_PI_2).abs() < 1e-15);
    assert!((elliptic_e(0.0) - FRAC_PI_2).abs() < 1e-15);
    assert!((elliptic_e(1.0) - 1.0).abs() < 1e-15);
    assert!(elliptic_k(1.0).is_infinite());
    assert!(elliptic_k(1.5).is_nan());
    let lemniscate = 1.854_074_677_301_371_9;
    assert!((elliptic_k(0.5f64.sqrt()) - lemniscate).abs() < 2e-15);
    // Legendre's relation at k = 1/√2: 2 K E − K² = π/2 (A&S §17.3).
    let (kk, ee) = (elliptic_k(0.5f64.sqrt()), elliptic_e(0.5f64.sqrt()));
    assert!((2.0 * kk * ee - kk * kk - FRAC_PI_2).abs() < 4e-15);
    // Legendre's relation K E' + E K' − K K' = π/2 at a generic modulus.
    let k = 0.3_f64;
    let kp = (1.0 - k * k).sqrt();
    let lhs = elliptic_k(k) * elliptic_e(kp) + elliptic_e(k) * elliptic_k(kp)
        - elliptic_k(k) * elliptic_k(kp);
    assert!((lhs - FRAC_PI_2).abs() < 4e-15);
}

#[test]
fn elliptic_integrals_match_quadrature() {
    // Reference: composite Simpson quadrature of the defining integrals (the
    // integrands are smooth and periodic for k < 1, so 2000 panels reach rounding).
    for &k in &[0.1, 0.5, 0.9, 0.99] {
        let steps = 2000;
        let h = FRAC_PI_2 / steps as f64;
        let (mut ik, mut ie) = (0.0, 0.0);
        for i in 0..=steps {
            let w = if i == 0 || i == steps {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            let s = (i as f64 * h).sin();
            let root = (1.0 - k * k * s * s).sqrt();
            ik += w / root;
            ie += w * root;
        }
        ik *= h / 3.0;
        ie *= h / 3.0;
        assert!(rel(elliptic_k(k), ik) < 1e-12, "K({k})");
        assert!(rel(elliptic_e(k), ie) < 1e-12, "E({k})");
    }
}

#[test]
fn onsager_critical_values_and_specific_heat_derivative() {
    // Reference: u(K_c) = −√2 (Onsager 1944).
    assert!((onsager_energy_per_spin(K_C) + 2f64.sqrt()).abs() < 1e-12);
    // Reference: c = −K² du/dK, by a central difference of the energy (step 1e-5,
    // truncation ~ h² u''' ~ 1e-9, rounding ~ 1e-16/h ~ 1e-11).
    for &k in &[0.2, 0.35, 0.5, 0.8] {
        let h = 1e-5;
        let du = (onsager_energy_per_spin(k + h) - onsager_energy_per_spin(k - h)) / (2.0 * h);
        let c = onsager_specific_heat_per_spin(k);
        assert!(rel(c, -k * k * du) < 1e-8, "K = {k}");
    }
    assert!(onsager_specific_heat_per_spin(K_C) > 10.0);
}

#[test]
fn yang_magnetization_values() {
    // Reference: Yang's formula evaluated directly at K = 0.5 (2K = 1).
    let expected = (1.0 - 1f64.sinh().powi(-4)).powf(0.125);
    assert!((yang_magnetization(0.5) - expected).abs() < 1e-15);
    // Exactly zero by definition at and below K_c.
    assert!(yang_magnetization(0.3) == 0.0 && yang_magnetization(K_C) == 0.0);
    assert!(yang_magnetization(2.0) > 0.9999);
}

#[test]
fn kaufman_matches_enumeration() {
    // Reference: brute-force enumeration of all 2^{mn} configurations.
    let mut worst = [0.0_f64; 3];
    for &(m, n) in &[(3, 3), (4, 4), (4, 6), (6, 4), (5, 5), (3, 5), (5, 3)] {
        let histogram = energy_histogram_square(m, n);
        let total: u64 = histogram.iter().map(|&(_, g)| g).sum();
        assert_eq!(total, 1_u64 << (m * n));
        for &k in &KS {
            let exact = thermo_from_density_of_states(&histogram, m * n, k);
            let kaufman = kaufman_thermo(m, n, k);
            let deviations = [
                rel(kaufman.log_partition, exact.log_partition),
                rel(kaufman.energy_per_spin, exact.energy_per_spin),
                rel(kaufman.specific_heat_per_spin, exact.specific_heat_per_spin),
            ];
            assert!(deviations[0] < 1e-10, "{m}×{n} K={k}: ln Z {deviations:?}");
            assert!(deviations[1] < 1e-9, "{m}×{n} K={k}: u {deviations:?}");
            assert!(deviations[2] < 1e-9, "{m}×{n} K={k}: c {deviations:?}");
            assert!(rel(kaufman.entropy_per_spin, exact.entropy_per_spin) < 1e-9);
            for (w, d) in worst.iter_mut().zip(deviations) {
                *w = w.max(d);
            }
        }
    }
    eprintln!("kaufman vs enumeration, worst relative (ln Z, u, c): {worst:?}");
}

#[test]
fn the_coupling_at_an_energy_inverts_kaufman() {
    // Round trip through the exact energy, on both sides of K_c.
    for k in [0.05, 0.3, 0.408, K_C, 0.6, 1.5] {
        let u = kaufman_energy_per_spin(40, 40, k);
        let fit = coupling_at_energy_2d(40, 40, u).expect("in range");
        assert!((fit - k).abs() < 1e-9, "K = {k}: fit {fit}");
    }
    // No ferromagnetic coupling is hotter than infinite temperature or colder than −2.
    for u in [0.0, 0.1, -2.0, f64::NAN] {
        assert_eq!(coupling_at_energy_2d(40, 40, u), None, "u = {u}");
    }
}

#[test]
fn kaufman_counts_double_bonds_on_width_two() {
    // Reference: enumeration of the 2×n torus, whose vertical bonds are doubled
    // (two bonds between (0, j) and (1, j)); Kaufman's formula describes the same
    // 2mn-bond lattice.
    for &(m, n) in &[(2, 2), (2, 5), (5, 2), (2, 8)] {
        let histogram = energy_histogram_square(m, n);
        for &k in &KS {
            let exact = thermo_from_density_of_states(&histogram, m * n, k);
            let kaufman = kaufman_thermo(m, n, k);
            assert!(rel(kaufman.log_partition, exact.log_partition) < 1e-10);
            assert!(rel(kaufman.energy_per_spin, exact.energy_per_spin) < 1e-9);
            assert!(rel(kaufman.specific_heat_per_spin, exact.specific_heat_per_spin) < 1e-9);
        }
    }
}

#[test]
fn kaufman_is_symmetric_in_m_and_n() {
    // Reference: the m×n and n×m tori are the same lattice.
    for &(m, n) in &[(8, 32), (17, 40), (64, 128)] {
        for &k in &[0.2, K_C, 0.7] {
            let a = kaufman_thermo(m, n, k);
            let b = kaufman_thermo(n, m, k);
            assert!(rel(a.log_partition, b.log_partition) < 1e-12);
            assert!(rel(a.energy_per_spin, b.energy_per_spin) < 1e-11);
            assert!(rel(a.specific_heat_per_spin, b.specific_heat_per_spin) < 1e-9);
        }
    }
}

#[test]
fn kaufman_derivatives_match_finite_differences() {
    // Reference: Richardson-extrapolated central differences of ln Z on a 32×32
    // lattice, D = (4 D_{h/2} − D_h)/3, whose truncation error is O(h⁴). Near K_c the
    // free energy varies on the scale 1/L ≈ 0.03, so the h⁴ remainder is
    // ~ (h L)⁴ · 1e-4: measured 1.7e-5 (first) and 4e-5 (second derivative) at
    // h = 8e-3, falling 16× per halving of h, to 5e-9 and 9e-9 at h = 1e-3. Rounding,
    // ε |ln Z| / h² ≈ 1e-16 · 1e3 / 1e-6 = 1e-7 absolute against ∂²ln Z ~ 1e4, adds
    // ~ 1e-11 relative. Tolerances: 1e-8 and 1e-7 relative.
    let (m, n) = (32, 32);
    let f = |k: f64| kaufman_log_partition(m, n, k);
    let first = |k: f64, h: f64| (f(k + h) - f(k - h)) / (2.0 * h);
    let second = |k: f64, h: f64| (f(k + h) - 2.0 * f(k) + f(k - h)) / (h * h);
    let mut worst = [0.0_f64; 2];
    for &k in &[0.2, 0.4, K_C, 0.45, 0.7] {
        let (_, d1, d2) = kaufman_log_partition_jet(m, n, k);
        let h = 1e-3;
        let fd1 = (4.0 * first(k, h / 2.0) - first(k, h)) / 3.0;
        let fd2 = (4.0 * second(k, h / 2.0) - second(k, h)) / 3.0;
        let (e1, e2) = (rel(d1, fd1), rel(d2, fd2));
        assert!(e1 < 1e-8 && e2 < 1e-7, "K = {k}: {e1:e} {e2:e}");
        worst = [worst[0].max(e1), worst[1].max(e2)];
    }
    eprintln!("jet vs finite differences on 32×32, worst relative: {worst:?}");
}

#[test]
fn kaufman_approaches_onsager_away_from_criticality() {
    // Reference: Onsager's infinite-lattice formulas; at L = 256 the finite-size
    // corrections ~ e^{−L/ξ} with ξ ≲ 2 are far below rounding.
    let mut worst = 0.0_f64;
    for &k in &[0.3, 0.6] {
        let t = kaufman_thermo(256, 256, k);
        let du = rel(t.energy_per_spin, onsager_energy_per_spin(k));
        let dc = rel(t.specific_heat_per_spin, onsager_specific_heat_per_spin(k));
        assert!(du < 1e-8 && dc < 1e-8, "K = {k}: {du:e} {dc:e}");
        worst = worst.max(du).max(dc);
    }
    eprintln!("Kaufman L=256 vs Onsager, worst relative: {worst:e}");
    // Deep in either phase a 64×64 lattice is already at the thermodynamic limit;
    // the tolerance allows for the cancellation of O(e^{−4K}) terms in c at K = 2.
    for &k in &[0.05, 2.0] {
        let t = kaufman_thermo(64, 64, k);
        assert!(rel(t.energy_per_spin, onsager_energy_per_spin(k)) < 1e-12);
        assert!(rel(t.specific_heat_per_spin, onsager_specific_heat_per_spin(k)) < 1e-10);
    }
}

#[test]
fn kaufman_is_smooth_through_the_critical_coupling() {
    // Reference: on a finite lattice u and c are analytic in K, so relative changes
    // across K_c(1 ± ε) must be O(ε) although γ_0 changes sign there: measured slopes
    // d ln|u| / d ln K ≈ 5 and d ln c / d ln K ≈ 50 at L = 512, so ε = 1e-12 allows
    // 1e-10 relative, which any loss of accuracy in the γ_0 ≈ 0 factor would exceed.
    for &l in &[32, 512] {
        let at = kaufman_thermo(l, l, K_C);
        for &eps in &[-1e-12, -1e-15, 1e-15, 1e-12] {
            let near = kaufman_thermo(l, l, K_C * (1.0 + eps));
            assert!(rel(near.energy_per_spin, at.energy_per_spin) < 1e-10);
            assert!(rel(near.specific_heat_per_spin, at.specific_heat_per_spin) < 1e-10);
        }
    }
}

#[test]
fn kaufman_critical_specific_heat_grows_logarithmically() {
    // Reference: Ferdinand & Fisher (1969), c(K_c, L) = (8/π) K_c² ln L + const + O(ln L / L).
    let c: Vec<f64> = [64, 128, 256, 512]
        .iter()
        .map(|&l| kaufman_specific_heat_per_spin(l, l, K_C))
        .collect();
    assert!(c.windows(2).all(|w| w[1] > w[0]));
    let slope = (c[3] - c[1]) / (512f64.ln() - 128f64.ln());
    let expected = 8.0 * K_C * K_C / PI;
    eprintln!("critical slope {slope} vs {expected}");
    assert!(rel(slope, expected) < 0.01);
}

#[test]
fn kaufman_is_finite_on_large_lattices() {
    // Reference: sanity of the stable evaluation over the supported range; the
    // entropy per spin lies in [0, ln 2] and the energy in [−2, 0].
    for &l in &[2, 7, 64, 512] {
        for &k in &[0.05, 0.2, K_C, 0.44069, 1.0, 2.0] {
            let t = kaufman_thermo(l, l, k);
            assert!(t.log_partition.is_finite());
            assert!((-2.0..=0.0).contains(&t.energy_per_spin), "{l} {k} {t:?}");
            assert!(t.specific_heat_per_spin >= 0.0, "{l} {k} {t:?}");
            assert!(
                (0.0..=LN_2 + 1e-12).contains(&t.entropy_per_spin),
                "{l} {k} {t:?}"
            );
        }
    }
}

#[test]
fn ring_matches_enumeration() {
    // Reference: brute-force enumeration of all 2^N ring configurations.
    for &n in &[10, 13] {
        for &k in &[0.3, 1.1] {
            let exact = enumerate_ring(n, k, 0.0);
            assert!(rel(ring_log_partition(n, k), exact) < 1e-13);
            assert!(rel(ring_log_partition_field(n, k, 0.0), exact) < 1e-13);
            let exact_h = enumerate_ring(n, k, 0.2);
            assert!(rel(ring_log_partition_field(n, k, 0.2), exact_h) < 1e-13);
            for r in 0..=n {
                let c = enumerate_ring_correlation(n, k, 0.0, r);
                assert!(
                    (ring_correlation(n, k, r) - c).abs() < 1e-13,
                    "N={n} K={k} r={r}"
                );
            }
            let u = -enumerate_ring_correlation(n, k, 0.0, 1);
            assert!((ring_energy_per_spin(n, k) - u).abs() < 1e-13);
        }
    }
    // Antiferromagnetic odd ring (frustrated; λ- < 0) and tiny rings with self-bonds.
    for &(n, k, h) in &[(7, -0.8, 0.3), (1, 0.4, 0.1), (2, 0.4, -0.2)] {
        let exact = enumerate_ring(n, k, h);
        assert!((ring_log_partition_field(n, k, h) - exact).abs() < 1e-13);
    }
}

#[test]
fn ring_energy_is_derivative_of_log_partition() {
    // Reference: u = −(∂ ln Z/∂K)/N by a central difference (step 1e-5).
    let (n, k, h) = (12, 0.7, 1e-5);
    let du = -(ring_log_partition(n, k + h) - ring_log_partition(n, k - h)) / (2.0 * h);
    assert!(rel(ring_energy_per_spin(n, k), du / n as f64) < 1e-9);
}

#[test]
fn decimation_identity() {
    // Reference: summing out every other spin, Z_N(K) = A^{N/2} Z_{N/2}(K').
    let (n, k) = (16, 0.7);
    let lhs = ring_log_partition(n, k);
    let rhs = (n / 2) as f64 * decimation_prefactor(k).ln()
        + ring_log_partition(n / 2, decimated_coupling(k));
    assert!(rel(lhs, rhs) < 1e-12);
    let exact = enumerate_ring(n, k, 0.0);
    assert!(rel(rhs, exact) < 1e-12);
    // tanh K' = tanh² K, and the flow decreases K.
    for &k in &[0.01, 0.3, 0.7, 2.0, 10.0] {
        let kp = decimated_coupling(k);
        assert!(kp < k && kp > 0.0);
        assert!(rel(kp.tanh(), k.tanh().powi(2)) < 1e-12);
    }
}

#[test]
fn boltzmann_distribution_is_normalised() {
    // Reference: probabilities sum to one and reproduce the enumerated mean energy.
    let dist = boltzmann_energy_distribution(4, 4, 0.408);
    let total: f64 = dist.iter().map(|&(_, p)| p).sum();
    assert!((total - 1.0).abs() < 1e-14);
    let mean: f64 = dist.iter().map(|&(e, p)| e as f64 * p).sum();
    assert!(rel(mean / 16.0, enumerate_square(4, 4, 0.408).energy_per_spin) < 1e-13);
    let direct = enumerate_square(3, 3, 0.5);
    let via_dos = thermo_from_density_of_states(&energy_histogram_square(3, 3), 9, 0.5);
    assert!((direct.log_partition - via_dos.log_partition).abs() < 1e-15);
    assert!((direct.specific_heat_per_spin - via_dos.specific_heat_per_spin).abs() < 1e-15);
    // Known density of states of the 4×4 torus: 2 ground states, 32 single flips.
    let hist = energy_histogram_square(4, 4);
    assert_eq!(hist[0], (-32, 2));
    assert_eq!(hist[1], (-24, 32));
}
