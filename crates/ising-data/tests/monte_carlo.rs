//! Monte Carlo against exact answers: brute-force enumeration of small lattices, Kaufman's
//! finite-lattice solution, and the exact 1D ring. Every comparison allows 4 standard errors
//! (binned jackknife errors, bins ≫ τ_int), so a correct sampler fails a given check with
//! probability ≈ 6×10⁻⁵; the seeds are fixed, so the outcome is reproducible.

use ising_data::config::{Checked, Valid};
use ising_data::exact::{self, K_C};
use ising_data::generate::{GenerateConfig, generate};
use ising_data::observables::{MeasureOptions, Observables, measure};
use ising_data::{Algorithm, Lattice};

fn run(
    lattice: Lattice,
    k: f64,
    algorithm: Algorithm,
    samples: usize,
    spacing: usize,
    seed: u64,
) -> Observables {
    let mut config = GenerateConfig::new(lattice, k, samples, seed);
    config.algorithm = algorithm;
    config.spacing_sweeps = spacing;
    config.chains = 4;
    let out = generate(&config.validated().expect("valid config"), &|_| {});
    measure(
        &lattice,
        &out.chains(),
        MeasureOptions {
            coupling: k,
            field: 0.0,
            correlation: true,
            bins_per_chain: 16,
        },
    )
}

fn check(what: &str, est: ising_data::Estimate, exact: f64) {
    let z = est.sigmas_from(exact);
    assert!(
        z < 4.0,
        "{what}: measured {est}, exact {exact:.6} ({z:.1} standard errors apart)"
    );
    // Guard against a vacuous pass through a huge error bar.
    assert!(
        est.std_error < 0.05 * exact.abs().max(0.1),
        "{what}: error bar {est} too large"
    );
}

#[test]
fn small_lattice_energy_and_specific_heat_match_enumeration() {
    // Reference: exact enumeration of all 2^16 configurations of the periodic 4×4 lattice.
    for k in [0.408, K_C] {
        let ex = exact::enumerate_square(4, 4, k);
        for (alg, seed) in [(Algorithm::Wolff, 11), (Algorithm::Metropolis, 12)] {
            let o = run(Lattice::Square { l: 4 }, k, alg, 80_000, 2, seed);
            check(
                &format!("4x4 {alg:?} K={k} energy"),
                o.energy_per_spin,
                ex.energy_per_spin,
            );
            check(
                &format!("4x4 {alg:?} K={k} C"),
                o.specific_heat,
                ex.specific_heat_per_spin,
            );
        }
    }
}

#[test]
fn l16_energy_and_specific_heat_match_kaufman() {
    // Reference: Kaufman's exact partition function of the periodic 16×16 lattice.
    for k in [0.408, K_C] {
        let ex = exact::kaufman_thermo(16, 16, k);
        for (alg, spacing, seed) in [(Algorithm::Wolff, 2, 21), (Algorithm::Metropolis, 2, 22)] {
            let o = run(Lattice::Square { l: 16 }, k, alg, 60_000, spacing, seed);
            check(
                &format!("16x16 {alg:?} K={k} energy"),
                o.energy_per_spin,
                ex.energy_per_spin,
            );
            check(
                &format!("16x16 {alg:?} K={k} C"),
                o.specific_heat,
                ex.specific_heat_per_spin,
            );
        }
    }
}

#[test]
fn ring_correlations_match_the_transfer_matrix_result() {
    // Reference: ⟨s_i s_{i+r}⟩ = (t^r + t^{N−r})/(1 + t^N), t = tanh K.
    let (n, k) = (20, 0.8);
    for (alg, spacing, seed) in [
        (Algorithm::ExactRing, 1, 31),
        (Algorithm::Metropolis, 3, 32),
    ] {
        let o = run(Lattice::Ring { n }, k, alg, 40_000, spacing, seed);
        assert_eq!(o.correlation.len(), n / 2 + 1);
        for (r, g) in o.correlation.iter().enumerate().skip(1) {
            check(
                &format!("ring {alg:?} G({r})"),
                *g,
                exact::ring_correlation(n, k, r),
            );
        }
        check(
            "ring energy",
            o.energy_per_spin,
            exact::ring_energy_per_spin(n, k),
        );
        // χ = K N ⟨m²⟩ = K Σ_r G(r), and the second-moment length from the exact structure
        // factor χ̃(q) = Σ_r G(r) cos(q r) at q = 0 and 2π/N.
        let g = |r: usize| exact::ring_correlation(n, k, r);
        let q = 2.0 * std::f64::consts::PI / n as f64;
        let s0: f64 = (0..n).map(g).sum();
        let sq: f64 = (0..n).map(|r| g(r) * (q * r as f64).cos()).sum();
        let xi = (s0 / sq - 1.0).sqrt() / (2.0 * (q / 2.0).sin());
        check(
            &format!("ring {alg:?} χ = K N ⟨m²⟩"),
            o.susceptibility_zero_field.expect("measured"),
            k * s0,
        );
        check(
            &format!("ring {alg:?} ξ₂"),
            o.second_moment_length.expect("measured"),
            xi,
        );
    }
}

/// Upper critical value of χ² with `df` degrees of freedom at significance 10⁻³, by the
/// Wilson–Hilferty approximation (accurate to < 1% for df ≥ 3): z₀.₉₉₉ = 3.0902.
fn chi2_critical_0001(df: usize) -> f64 {
    let d = df as f64;
    let a = 2.0 / (9.0 * d);
    d * (1.0 - a + 3.0902 * a.sqrt()).powi(3)
}

/// Pearson's χ² of `counts` against probabilities `p`, pooling the configurations with
/// expected count < 5 into one class; returns (χ², number of classes).
fn chi2(counts: &[u64], p: &[f64]) -> (f64, usize) {
    let total: u64 = counts.iter().sum();
    let (mut chi2, mut classes) = (0.0, 0);
    let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
    for (&c, &pc) in counts.iter().zip(p) {
        let expected = total as f64 * pc;
        if expected < 5.0 {
            pooled_obs += c as f64;
            pooled_exp += expected;
        } else {
            chi2 += (c as f64 - expected).powi(2) / expected;
            classes += 1;
        }
    }
    if pooled_exp > 0.0 {
        chi2 += (pooled_obs - pooled_exp).powi(2) / pooled_exp;
        classes += 1;
    }
    (chi2, classes)
}

/// Exact Boltzmann probabilities of all 2^9 configurations of the periodic 3×3 lattice
/// (bit i of the index is spin i: 1 ↦ +1).
fn boltzmann_3x3(k: f64) -> Vec<f64> {
    let lattice = Lattice::Square { l: 3 };
    let w: Vec<f64> = (0..512u32)
        .map(|c| {
            let s: Vec<i8> = (0..9)
                .map(|i| if c >> i & 1 == 1 { 1 } else { -1 })
                .collect();
            (k * lattice.bond_sum(&s) as f64).exp()
        })
        .collect();
    let z: f64 = w.iter().sum();
    w.iter().map(|x| x / z).collect()
}

#[test]
fn visited_configurations_follow_the_boltzmann_distribution_on_3x3() {
    // Reference: the exact Boltzmann weights of all 512 configurations of the periodic 3×3
    // lattice. Samples are spaced by 10 sweeps, far beyond τ_int (< 1 sweep here), so they
    // are independent for a χ² goodness-of-fit test at significance 10⁻³.
    let lattice = Lattice::Square { l: 3 };
    let k = 0.3;
    let exact = boltzmann_3x3(k);
    let wrong = boltzmann_3x3(0.33);
    for (alg, seed) in [(Algorithm::Wolff, 41), (Algorithm::Metropolis, 42)] {
        let mut config = GenerateConfig::new(lattice, k, 100_000, seed);
        config.algorithm = alg;
        config.spacing_sweeps = 10;
        let out = generate(&config.validated().expect("valid config"), &|_| {});
        let mut counts = vec![0u64; 512];
        for s in out.spins.chunks(9) {
            let c: usize = s
                .iter()
                .enumerate()
                .map(|(i, &x)| usize::from(x > 0) << i)
                .sum();
            counts[c] += 1;
        }
        let (x2, classes) = chi2(&counts, &exact);
        let critical = chi2_critical_0001(classes - 1);
        assert!(
            x2 < critical,
            "{alg:?}: chi2 = {x2:.1} over {classes} classes exceeds {critical:.1}"
        );
        // The test has power: the same counts are rejected as samples at K = 0.33.
        let (x2_wrong, classes_wrong) = chi2(&counts, &wrong);
        assert!(x2_wrong > chi2_critical_0001(classes_wrong - 1));
    }
}

#[test]
fn output_is_independent_of_the_thread_count() {
    let mut config = GenerateConfig::new(Lattice::Square { l: 8 }, 0.4, 600, 99);
    config.chains = 6;
    config.spacing_sweeps = 3;
    let config = config.validated().expect("valid config");
    let with = |config: &Valid<GenerateConfig>, threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| generate(config, &|_| {}).spins)
    };
    let one = with(&config, 1);
    assert_eq!(one, with(&config, 2));
    assert_eq!(one, with(&config, 3));
    // And a different seed gives different samples.
    let mut other = config.into_inner();
    other.seed = 100;
    assert_ne!(one, with(&other.validated().unwrap(), 2));
}

#[test]
fn ring_energy_and_magnetisation_in_a_field_match_the_transfer_matrix() {
    // Exact samples of a ring of 10 spins at K = 0.5 in the field h = 0.3 (weight
    // exp(K Σ ss + h Σ s)). The exact ⟨Σ ss⟩ = ∂ ln Z/∂K and ⟨Σ s⟩ = ∂ ln Z/∂h come from the
    // transfer-matrix ln Z by central differences (step 1e-5 for first derivatives, error
    // ≈ 1e-10; 1e-4 for the second, error ≈ 1e-7); the energy in
    // units of J is −⟨Σ ss⟩ − (h/K)⟨Σ s⟩.
    let (n, k, h) = (10usize, 0.5, 0.3);
    let mut config = GenerateConfig::new(Lattice::Ring { n }, k, 40_000, 11);
    config.field = h;
    config.chains = 4;
    let out = generate(&config.clone().validated().expect("valid config"), &|_| {});
    let obs = measure(
        &config.lattice,
        &out.chains(),
        MeasureOptions {
            coupling: k,
            field: h,
            correlation: false,
            bins_per_chain: 16,
        },
    );
    let d = 1e-5;
    let ln_z = |k: f64, h: f64| exact::ring_log_partition_field(n, k, h);
    let bonds = (ln_z(k + d, h) - ln_z(k - d, h)) / (2.0 * d);
    let spins = (ln_z(k, h + d) - ln_z(k, h - d)) / (2.0 * d);
    let nf = n as f64;
    check(
        "energy per spin",
        obs.energy_per_spin,
        (-bonds - h / k * spins) / nf,
    );
    // ⟨|m|⟩ ≈ ⟨m⟩ here: the field makes negative m rare, so compare ⟨m²⟩ exactly instead,
    // ⟨(Σ s)²⟩ = ∂² ln Z/∂h² + ⟨Σ s⟩².
    let d2 = 1e-4;
    let second = (ln_z(k, h + d2) - 2.0 * ln_z(k, h) + ln_z(k, h - d2)) / (d2 * d2);
    check(
        "⟨m²⟩",
        obs.magnetization_sq,
        (second + spins * spins) / (nf * nf),
    );
    // Before the fix the field term entered as h Σ s instead of (h/K) Σ s: that energy is
    // far outside the error bar, so the check above can fail.
    let wrong = (-bonds - h * spins) / nf;
    assert!(obs.energy_per_spin.sigmas_from(wrong) > 10.0);
}
