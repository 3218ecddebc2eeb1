//! Exact results for the Ising model, the yardstick for Monte Carlo samples and for models
//! trained on them.
//!
//! Conventions throughout: spins `s_i = ±1`, Hamiltonian `H = −J Σ_⟨ij⟩ s_i s_j` with
//! `J = 1`, dimensionless coupling `K = J / k_B T`, periodic boundaries, and energies
//! quoted in units of `J` (so the Boltzmann weight of a configuration of energy `E` is
//! `e^{−K E}`).
//!
//! # Contents
//!
//! * **Infinite square lattice.** Onsager's energy and specific heat (Onsager, Phys. Rev.
//!   65, 117 (1944)) and Yang's spontaneous magnetisation (Yang, Phys. Rev. 85, 808
//!   (1952)), with complete elliptic integrals evaluated by the arithmetic–geometric mean.
//! * **Finite periodic `m × n` square lattice.** Kaufman's exact partition function
//!   (Kaufman, Phys. Rev. 76, 1232 (1949)) in the form of Ferdinand & Fisher (Phys. Rev.
//!   185, 832 (1969)), evaluated in log space together with its first
//!   two derivatives in `K`, so that the energy and specific heat are exact to rounding
//!   for lattices of any practical size, including at the critical coupling [`K_C`].
//! * **Brute-force enumeration** of small periodic lattices: exact density of states,
//!   energy distribution and thermodynamics, independent of any formula.
//! * **One-dimensional ring.** Transfer-matrix results with and without a field,
//!   correlations, and the decimation map `K' = ½ ln cosh 2K` used by the paper's 1D
//!   renormalisation-group example.
//!
//! Because the Ising distribution is known exactly, the entropy per spin
//! `s = ln Z / N + K u` ([`Thermo::entropy_per_spin`]) is the floor of any model's negative
//! log-likelihood per spin on exact samples; the gap is the model's KL divergence per spin.
//!
//! # Example
//!
//! ```
//! use ising_data::exact::{K_C, kaufman_thermo, onsager_energy_per_spin};
//!
//! // Far from criticality a 64×64 torus is already at the thermodynamic limit.
//! let t = kaufman_thermo(64, 64, 0.3);
//! assert!((t.energy_per_spin - onsager_energy_per_spin(0.3)).abs() < 1e-10);
//! // At the critical point the energy per spin of the infinite lattice is −√2.
//! assert!((onsager_energy_per_spin(K_C) + 2f64.sqrt()).abs() < 1e-12);
//! ```

use std::f64::consts::{FRAC_PI_2, LN_2, PI};

/// Critical coupling of the square-lattice Ising model, `K_c = ½ ln(1 + √2)`, the
/// solution of `sinh 2K_c = 1` (Kramers & Wannier 1941; Onsager 1944).
///
/// The literal is the correctly rounded value of 0.44068679350977151261630466…
pub const K_C: f64 = 0.440_686_793_509_771_5;

/// Thermodynamic quantities of a finite lattice at one coupling.
///
/// All quantities are per spin except the log partition function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thermo {
    /// `ln Z`.
    pub log_partition: f64,
    /// Mean energy per spin, `u = ⟨E⟩ / N = −(∂ ln Z / ∂K) / N` (units of `J`).
    pub energy_per_spin: f64,
    /// Specific heat per spin, `c = K² var(E) / N = K² (∂² ln Z / ∂K²) / N` (units of `k_B`).
    pub specific_heat_per_spin: f64,
    /// Entropy per spin, `s = ln Z / N + K u` (units of `k_B`, natural logarithm).
    pub entropy_per_spin: f64,
}

impl Thermo {
    /// Assembles the per-spin quantities from `ln Z` and its first two `K`-derivatives.
    fn from_log_partition_derivatives(n_spins: f64, k: f64, log_z: f64, d1: f64, d2: f64) -> Self {
        let energy_per_spin = -d1 / n_spins;
        Thermo {
            log_partition: log_z,
            energy_per_spin,
            specific_heat_per_spin: k * k * d2 / n_spins,
            entropy_per_spin: log_z / n_spins + k * energy_per_spin,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Complete elliptic integrals
// ---------------------------------------------------------------------------------------

/// Complete elliptic integrals `(K(k), E(k))` from the modulus `k` and the complementary
/// modulus `k' = √(1 − k²)`, both given, by the arithmetic–geometric mean (Abramowitz &
/// Stegun §17.6): `K = π / (2 AGM(1, k'))`, `E = K (1 − Σ_{j≥0} 2^{j−1} c_j²)` with
/// `c_0 = k`, `c_{j+1} = c_j² / (4 a_{j+1})`.
///
/// Passing `k'` separately lets callers that know it in closed form avoid the cancellation
/// in `1 − k²` near `k = 1`.
fn elliptic_ke_complementary(k: f64, k_prime: f64) -> (f64, f64) {
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

// ---------------------------------------------------------------------------------------
// Infinite square lattice: Onsager and Yang
// ---------------------------------------------------------------------------------------

/// The elliptic moduli of Onsager's solution at coupling `k`: returns
/// `(κ, κ'', K1(κ), E1(κ))` with `κ = 2 sinh 2K / cosh² 2K` and the *signed* complementary
/// modulus `κ'' = 2 tanh² 2K − 1 = (sinh² 2K − 1) / cosh² 2K`, `|κ''| = √(1 − κ²)`.
fn onsager_moduli(k: f64) -> (f64, f64, f64, f64) {
    let sinh2k = (2.0 * k).sinh();
    let cosh2k_sq = 1.0 + sinh2k * sinh2k;
    let kappa = 2.0 * sinh2k / cosh2k_sq;
    // (sinh 2K − 1)(sinh 2K + 1) avoids cancelling large squares near K_c.
    let kappa_pp = (sinh2k - 1.0) * (sinh2k + 1.0) / cosh2k_sq;
    let (k1, e1) = elliptic_ke_complementary(kappa, kappa_pp.abs());
    (kappa, kappa_pp, k1, e1)
}

/// Panics unless `k` is finite and strictly positive.
fn assert_positive_coupling(k: f64) {
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

// ---------------------------------------------------------------------------------------
// Finite periodic m × n lattice: Kaufman (1949), Ferdinand & Fisher (1969)
// ---------------------------------------------------------------------------------------

/// A factor `F(K)` of a product, carried as its sign, `ln |F|` and the first two
/// derivatives of `ln |F|` in `K`. Products add componentwise, so long products of
/// factors neither overflow nor lose accuracy.
#[derive(Debug, Clone, Copy)]
struct LogJet {
    sign: f64,
    ln_abs: f64,
    /// `F' / F`.
    d1: f64,
    /// `(ln |F|)'' = F''/F − (F'/F)²`.
    d2: f64,
}

impl LogJet {
    const ONE: LogJet = LogJet {
        sign: 1.0,
        ln_abs: 0.0,
        d1: 0.0,
        d2: 0.0,
    };

    fn mul(self, other: LogJet) -> LogJet {
        LogJet {
            sign: self.sign * other.sign,
            ln_abs: self.ln_abs + other.ln_abs,
            d1: self.d1 + other.d1,
            d2: self.d2 + other.d2,
        }
    }

    /// `2 cosh a(K)` from the jet `(a, a', a'')`:
    /// `ln = |a| + ln(1 + e^{−2|a|})`, `(ln)' = tanh a · a'`,
    /// `(ln)'' = sech² a · a'² + tanh a · a''`.
    fn two_cosh(a: f64, a1: f64, a2: f64) -> LogJet {
        let x = (-2.0 * a.abs()).exp();
        let tanh = a.tanh();
        let sech_sq = 4.0 * x / ((1.0 + x) * (1.0 + x));
        LogJet {
            sign: 1.0,
            ln_abs: a.abs() + x.ln_1p(),
            d1: tanh * a1,
            d2: sech_sq * a1 * a1 + tanh * a2,
        }
    }

    /// `2 sinh a(K)` for `a` bounded away from zero: `ln = |a| + ln(1 − e^{−2|a|})`,
    /// `(ln)' = coth a · a'`, `(ln)'' = −csch² a · a'² + coth a · a''`.
    ///
    /// Used for `a = m γ_l / 2` with `l ≥ 1`, where `γ_l ≥ acosh(2 − cos(π/n)) ≈ π/n`, so
    /// `a ≳ πm/2n`. Recombining `(ln)''` with `((ln)')²` later cancels terms of size
    /// `csch² a`, costing at most `~(2n/πm)²` ulps: negligible unless the lattice is
    /// extremely elongated.
    fn two_sinh(a: f64, a1: f64, a2: f64) -> LogJet {
        let one_minus_x = -(-2.0 * a.abs()).exp_m1(); // 1 − e^{−2|a|}
        let x = 1.0 - one_minus_x;
        let coth = 1.0 / a.tanh();
        let csch_sq = 4.0 * x / (one_minus_x * one_minus_x);
        LogJet {
            sign: a.signum(),
            ln_abs: a.abs() + one_minus_x.ln(),
            d1: coth * a1,
            d2: -csch_sq * a1 * a1 + coth * a2,
        }
    }
}

/// One of the four sums `Z_i`, carried as `e^{scale} (z, y1, y2)` with
/// `z = Z_i e^{−scale}`, `y1 = (∂ − μ) Z_i e^{−scale}` and `y2 = (∂ − μ)² Z_i e^{−scale}`
/// for a common reference slope `μ` (`∂ = d/dK`). Centring on `μ` keeps the second
/// derivative of `ln Σ Z_i` free of the cancellation `Z''/Z − (Z'/Z)²` between two
/// numbers of order `(mn)²`.
#[derive(Debug, Clone, Copy)]
struct CentredTerm {
    scale: f64,
    z: f64,
    y1: f64,
    y2: f64,
}

impl CentredTerm {
    /// The term `F` described by a log jet, centred on `mu`:
    /// `(∂ − μ)F = F (d1 − μ)`, `(∂ − μ)²F = F [d2 + (d1 − μ)²]`.
    fn from_log_jet(f: LogJet, mu: f64) -> Self {
        let nu = f.d1 - mu;
        CentredTerm {
            scale: f.ln_abs,
            z: f.sign,
            y1: f.sign * nu,
            y2: f.sign * (f.d2 + nu * nu),
        }
    }

    /// The term `2 sinh(a) · R`, centred on `mu`, where `a(K)` may vanish (the `γ_0` factor
    /// at `K_c`). The sinh is carried as a scaled value jet
    /// `e^{|a|} (z0, z0', z0'')`, `z0 = sgn(a)(1 − e^{−2|a|})`,
    /// `z0' = (1 + e^{−2|a|}) a'`, `z0'' = z0 a'² + (1 + e^{−2|a|}) a''`,
    /// so no logarithm or reciprocal of `sinh a` is ever formed. With `ν = (ln R)' − μ`,
    /// Leibniz's rule gives `(∂ − μ)(fR) = R (f' + ν f)` and
    /// `(∂ − μ)²(fR) = R [f'' + 2ν f' + ((ln R)'' + ν²) f]`.
    fn from_sinh_times_log_jet(a: f64, a1: f64, a2: f64, rest: LogJet, mu: f64) -> Self {
        let one_minus_x = -(-2.0 * a.abs()).exp_m1();
        let one_plus_x = 2.0 - one_minus_x;
        let z0 = if a < 0.0 { -one_minus_x } else { one_minus_x };
        let z1 = one_plus_x * a1;
        let z2 = z0 * a1 * a1 + one_plus_x * a2;
        let nu = rest.d1 - mu;
        CentredTerm {
            scale: a.abs() + rest.ln_abs,
            z: rest.sign * z0,
            y1: rest.sign * (z1 + nu * z0),
            y2: rest.sign * (z2 + 2.0 * nu * z1 + (rest.d2 + nu * nu) * z0),
        }
    }
}

/// `γ_0 = 2K + ln tanh K` with its sign (negative for `K < K_c`) and its derivatives
/// `γ_0' = 2 + 2 / sinh 2K`, `γ_0'' = −4 cosh 2K / sinh² 2K`.
fn kaufman_gamma_0(k: f64) -> (f64, f64, f64) {
    // ln tanh K = ln(1 − e^{−2K}) − ln(1 + e^{−2K}), accurate for small and large K.
    let x = (-2.0 * k).exp();
    let ln_tanh = (-(-2.0 * k).exp_m1()).ln() - x.ln_1p();
    let sinh2k = (2.0 * k).sinh();
    (
        2.0 * k + ln_tanh,
        2.0 + 2.0 / sinh2k,
        -4.0 * (2.0 * k).cosh() / (sinh2k * sinh2k),
    )
}

/// The `K`-dependent parts of `cosh γ_l = c(K) − cos(πl/n)`, shared by all `l ≥ 1`.
///
/// With `σ = sinh 2K`: `c = cosh 2K coth 2K = σ + 1/σ`,
/// `c' = 2 cosh 2K (1 − 1/σ²)`, `c'' = 4σ + 4/σ + 8/σ³`, and
/// `c − 2 = (σ − 1)²/σ ≥ 0` (zero exactly at `K_c`), which is kept separately so that
/// `cosh γ_l − 1` is formed without cancellation even for `γ_l ≈ π/n` on large lattices.
#[derive(Debug, Clone, Copy)]
struct KaufmanCoupling {
    c_minus_2: f64,
    c1: f64,
    c2: f64,
}

impl KaufmanCoupling {
    fn new(k: f64) -> Self {
        let sigma = (2.0 * k).sinh();
        let cosh2k = (2.0 * k).cosh();
        KaufmanCoupling {
            c_minus_2: (sigma - 1.0) * (sigma - 1.0) / sigma,
            c1: 2.0 * cosh2k * (sigma - 1.0) * (sigma + 1.0) / (sigma * sigma),
            c2: 4.0 * sigma + 4.0 / sigma + 8.0 / (sigma * sigma * sigma),
        }
    }

    /// `(γ_l, γ_l', γ_l'')` for `l ≥ 1`, with `cosh γ_l = u = c − cos θ`, `θ = πl/n`:
    /// `γ' = u'/√(u² − 1)`, `γ'' = u''/√(u² − 1) − u u'²/(u² − 1)^{3/2}`.
    fn gamma(&self, l: usize, n: usize) -> (f64, f64, f64) {
        let half_theta = 0.5 * PI * l as f64 / n as f64;
        // δ = u − 1 = (c − 2) + (1 − cos θ) ≥ 2 sin²(π/2n) > 0.
        let delta = self.c_minus_2 + 2.0 * half_theta.sin().powi(2);
        let root = (delta * (delta + 2.0)).sqrt(); // √(u² − 1) = sinh γ
        let u = 1.0 + delta;
        let g1 = self.c1 / root;
        (
            (delta + root).ln_1p(), // acosh(1 + δ)
            g1,
            (self.c2 - u * g1 * self.c1 / root) / root,
        )
    }
}

/// Panics unless the lattice is at least 2×2 and the coupling is finite and positive.
fn assert_lattice(m: usize, n: usize, k: f64) {
    assert!(
        m >= 2 && n >= 2,
        "the periodic lattice must be at least 2×2, got {m}×{n}"
    );
    assert_positive_coupling(k);
}

/// `(ln Z, ∂_K ln Z, ∂²_K ln Z)` for the periodic `m × n` lattice (Kaufman 1949, in the
/// form of Ferdinand & Fisher 1969):
///
/// `Z = ½ (2 sinh 2K)^{mn/2} (Z1 + Z2 + Z3 + Z4)`,
/// `Z1 = Π_{r=0}^{n−1} 2 cosh(m γ_{2r+1}/2)`, `Z2 = Π_{r=0}^{n−1} 2 sinh(m γ_{2r+1}/2)`,
/// `Z3 = Π_{r=0}^{n−1} 2 cosh(m γ_{2r}/2)`,   `Z4 = Π_{r=0}^{n−1} 2 sinh(m γ_{2r}/2)`.
fn kaufman_log_partition_jet(m: usize, n: usize, k: f64) -> (f64, f64, f64) {
    let coupling = KaufmanCoupling::new(k);
    let half_m = 0.5 * m as f64;
    let a_of = |(g, g1, g2): (f64, f64, f64)| (half_m * g, half_m * g1, half_m * g2);

    let mut z1 = LogJet::ONE;
    let mut z2 = LogJet::ONE;
    let mut z3_rest = LogJet::ONE; // Z3 without its l = 0 factor
    let mut z4_rest = LogJet::ONE; // Z4 without its l = 0 factor
    for r in 0..n {
        let (a, a1, a2) = a_of(coupling.gamma(2 * r + 1, n));
        z1 = z1.mul(LogJet::two_cosh(a, a1, a2));
        z2 = z2.mul(LogJet::two_sinh(a, a1, a2));
        if r > 0 {
            let (a, a1, a2) = a_of(coupling.gamma(2 * r, n));
            z3_rest = z3_rest.mul(LogJet::two_cosh(a, a1, a2));
            z4_rest = z4_rest.mul(LogJet::two_sinh(a, a1, a2));
        }
    }
    let (a0, a0_1, a0_2) = a_of(kaufman_gamma_0(k));
    let z3 = z3_rest.mul(LogJet::two_cosh(a0, a0_1, a0_2));

    // Z1 > 0 always; its slope is the reference μ about which all terms are centred.
    let mu = z1.d1;
    let terms = [
        CentredTerm::from_log_jet(z1, mu),
        CentredTerm::from_log_jet(z2, mu),
        CentredTerm::from_log_jet(z3, mu),
        CentredTerm::from_sinh_times_log_jet(a0, a0_1, a0_2, z4_rest, mu),
    ];
    // Signed log-sum-exp of the four terms (Z4 < 0 for K < K_c).
    let top = terms
        .iter()
        .map(|t| t.scale)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut z, mut y1, mut y2) = (0.0, 0.0, 0.0);
    for t in &terms {
        let w = (t.scale - top).exp();
        z += w * t.z;
        y1 += w * t.y1;
        y2 += w * t.y2;
    }
    debug_assert!(z > 0.0, "Kaufman sum must be positive, got {z}");
    let slope_offset = y1 / z;

    let mn = (m * n) as f64;
    let sinh2k = (2.0 * k).sinh();
    // ln(2 sinh 2K) = 2K + ln(1 − e^{−4K}).
    let ln_two_sinh2k = 2.0 * k + (-(-4.0 * k).exp_m1()).ln();
    let log_z = -LN_2 + 0.5 * mn * ln_two_sinh2k + top + z.ln();
    let d1 = mn / (2.0 * k).tanh() + mu + slope_offset;
    let d2 = -2.0 * mn / (sinh2k * sinh2k) + y2 / z - slope_offset * slope_offset;
    (log_z, d1, d2)
}

/// Exact thermodynamics of the periodic `m × n` square lattice from Kaufman's partition
/// function (Kaufman 1949; in the form of Ferdinand & Fisher 1969):
///
/// `Z = ½ (2 sinh 2K)^{mn/2} (Z1 + Z2 + Z3 + Z4)`, with
/// `Z1,2 = Π_{r=0}^{n−1} 2 cosh, 2 sinh(m γ_{2r+1}/2)` and
/// `Z3,4 = Π_{r=0}^{n−1} 2 cosh, 2 sinh(m γ_{2r}/2)`,
/// `cosh γ_l = cosh 2K coth 2K − cos(πl/n)` (`γ_l > 0`) for `l ≥ 1` and
/// `γ_0 = 2K + ln tanh K`, which keeps its sign (negative above `T_c`, so `Z4 < 0` there).
///
/// The result is symmetric in `m ↔ n` up to rounding, and agrees with brute-force
/// enumeration ([`enumerate_square`]) of the torus in which every site `(i, j)` is bonded
/// to `(i+1 mod m, j)` and `(i, j+1 mod n)`. For `m = 2` or `n = 2` that torus has two
/// parallel bonds between the same pair of spins, and Kaufman's formula counts both
/// (it always describes `2mn` bonds).
///
/// The energy and specific heat come from `∂_K ln Z` and `∂²_K ln Z`, computed
/// analytically alongside `ln Z` (not by finite differences): every factor is carried in
/// log space with its log-derivatives, the possibly vanishing factor `2 sinh(m γ_0 / 2)`
/// as a scaled value jet, and the four sums are combined by a signed log-sum-exp centred
/// on a common slope. This is accurate to rounding at [`K_C`] (where `γ_0 = 0`) and does
/// not overflow for lattices of any practical size (tested for `L ≤ 512` and
/// `0.05 ≤ K ≤ 2`).
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `k` is not finite and strictly positive (programmer errors).
pub fn kaufman_thermo(m: usize, n: usize, k: f64) -> Thermo {
    assert_lattice(m, n, k);
    let (log_z, d1, d2) = kaufman_log_partition_jet(m, n, k);
    Thermo::from_log_partition_derivatives((m * n) as f64, k, log_z, d1, d2)
}

/// `ln Z` of the periodic `m × n` square lattice (Kaufman 1949); see [`kaufman_thermo`].
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `k` is not finite and strictly positive.
pub fn kaufman_log_partition(m: usize, n: usize, k: f64) -> f64 {
    kaufman_thermo(m, n, k).log_partition
}

/// Mean energy per spin `u = −(∂ ln Z / ∂K) / mn` of the periodic `m × n` square lattice
/// (Kaufman 1949); see [`kaufman_thermo`].
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `k` is not finite and strictly positive.
pub fn kaufman_energy_per_spin(m: usize, n: usize, k: f64) -> f64 {
    kaufman_thermo(m, n, k).energy_per_spin
}

/// Specific heat per spin `c = K² (∂² ln Z / ∂K²) / mn` of the periodic `m × n` square
/// lattice (Kaufman 1949); see [`kaufman_thermo`]. At [`K_C`] it grows like
/// `(8/π) K_c² ln L` on `L × L` lattices (Ferdinand & Fisher 1969).
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `k` is not finite and strictly positive.
pub fn kaufman_specific_heat_per_spin(m: usize, n: usize, k: f64) -> f64 {
    kaufman_thermo(m, n, k).specific_heat_per_spin
}

/// The coupling K_fit at which the exact mean energy per spin of the periodic `m × n` square
/// lattice (Kaufman 1949) equals `energy_per_spin`: the "temperature" of a set of
/// configurations judged by their nearest-neighbour correlations alone. The energy falls
/// strictly with K (∂u/∂K = −N var(e) < 0) from 0 at K = 0 towards −2, so the root is unique;
/// it is found by bisection to 10⁻¹² in K.
///
/// Returns `None` when no K in (0, 10] has that energy: `energy_per_spin` ≥ 0 (as hot as
/// infinite temperature, or antiferromagnetic) or below the energy at K = 10 (≈ −2), or not
/// finite.
///
/// # Panics
///
/// If `m < 2` or `n < 2`.
pub fn coupling_at_energy_2d(m: usize, n: usize, energy_per_spin: f64) -> Option<f64> {
    let u = |k: f64| kaufman_energy_per_spin(m, n, k);
    let (mut lo, mut hi) = (1e-9, 10.0);
    if !energy_per_spin.is_finite() || energy_per_spin >= u(lo) || energy_per_spin < u(hi) {
        return None;
    }
    while hi - lo > 1e-12 {
        let mid = 0.5 * (lo + hi);
        if u(mid) > energy_per_spin {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Entropy per spin `s = ln Z / N + K u` of the periodic `m × n` square lattice
/// (Kaufman 1949); see [`kaufman_thermo`].
///
/// This is the exact Shannon entropy per spin (in nats) of the Boltzmann distribution,
/// and therefore the floor of any model's negative log-likelihood per spin on exact
/// samples.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `k` is not finite and strictly positive.
pub fn entropy_per_spin_2d(m: usize, n: usize, k: f64) -> f64 {
    kaufman_thermo(m, n, k).entropy_per_spin
}

// ---------------------------------------------------------------------------------------
// Brute-force enumeration of small periodic lattices
// ---------------------------------------------------------------------------------------

/// Largest number of spins [`enumerate_square`] and [`energy_histogram_square`] accept.
pub const MAX_ENUMERATED_SPINS: usize = 30;

/// Largest ring [`enumerate_ring`] and [`enumerate_ring_correlation`] accept.
pub const MAX_ENUMERATED_RING: usize = 24;

/// Exact density of states of the periodic `m × n` square lattice by enumeration of all
/// `2^{mn}` configurations: the energies `E = −Σ_⟨ij⟩ s_i s_j` that occur, in increasing
/// order, each with the number of configurations that have it.
///
/// Site `(i, j)` is bonded to `(i+1 mod m, j)` and `(i, j+1 mod n)`, so the lattice always
/// has `2mn` bonds; for `m = 2` (or `n = 2`) two of them join the same pair of spins, as
/// in Kaufman's formula. Configurations are visited in Gray-code order with spin 0 held
/// fixed (the global spin flip doubles the counts), so each step costs one local-field
/// evaluation; a 5×5 lattice takes a few tens of milliseconds in release builds.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, or `m n > 30` ([`MAX_ENUMERATED_SPINS`]).
pub fn energy_histogram_square(m: usize, n: usize) -> Vec<(i64, u64)> {
    assert!(
        m >= 2 && n >= 2,
        "the periodic lattice must be at least 2×2, got {m}×{n}"
    );
    let n_spins = m * n;
    assert!(
        n_spins <= MAX_ENUMERATED_SPINS,
        "enumeration is limited to {MAX_ENUMERATED_SPINS} spins, got {m}×{n}"
    );
    // Neighbour list with multiplicity: up, down, left, right.
    let site = |i: usize, j: usize| (i % m) * n + (j % n);
    let neighbours: Vec<[usize; 4]> = (0..n_spins)
        .map(|s| {
            let (i, j) = (s / n, s % n);
            [
                site(i + m - 1, j),
                site(i + 1, j),
                site(i, j + n - 1),
                site(i, j + 1),
            ]
        })
        .collect();
    let n_bonds = 2 * n_spins as i64;
    let mut spins = vec![1_i64; n_spins];
    let mut energy = -n_bonds; // all spins up
    let mut counts = vec![0_u64; (2 * n_bonds + 1) as usize];
    counts[0] += 1;
    // Gray code over spins 1..N: step t flips spin 1 + trailing_zeros(t).
    for step in 1_u64..(1_u64 << (n_spins - 1)) {
        let s = 1 + step.trailing_zeros() as usize;
        let nb = &neighbours[s];
        let field = spins[nb[0]] + spins[nb[1]] + spins[nb[2]] + spins[nb[3]];
        energy += 2 * spins[s] * field;
        spins[s] = -spins[s];
        counts[(energy + n_bonds) as usize] += 1;
    }
    counts
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c > 0)
        .map(|(idx, &c)| (idx as i64 - n_bonds, 2 * c))
        .collect()
}

/// `ln Σ_i e^{x_i}` with the largest term factored out.
fn log_sum_exp(xs: &[f64]) -> f64 {
    let top = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    top + xs.iter().map(|x| (x - top).exp()).sum::<f64>().ln()
}

/// Exact Boltzmann distribution of the energy of the periodic `m × n` square lattice at
/// coupling `k`, from the enumerated density of states ([`energy_histogram_square`]):
/// `P(E) = g(E) e^{−K E} / Z`, in increasing order of `E`.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, `m n > 30`, or `k` is not finite.
pub fn boltzmann_energy_distribution(m: usize, n: usize, k: f64) -> Vec<(i64, f64)> {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    let histogram = energy_histogram_square(m, n);
    let log_weights: Vec<f64> = histogram
        .iter()
        .map(|&(e, g)| (g as f64).ln() - k * e as f64)
        .collect();
    let log_z = log_sum_exp(&log_weights);
    histogram
        .iter()
        .zip(&log_weights)
        .map(|(&(e, _), lw)| (e, (lw - log_z).exp()))
        .collect()
}

/// Exact thermodynamics of the periodic `m × n` square lattice by brute-force enumeration
/// of all `2^{mn}` configurations (see [`energy_histogram_square`] for the bond
/// convention): `ln Z` by log-sum-exp over the density of states, `u = ⟨E⟩/N`,
/// `c = K² var(E)/N` and `s = ln Z/N + K u`.
///
/// Independent of [`kaufman_thermo`], which it is used to check. To evaluate many
/// couplings, enumerate once with [`energy_histogram_square`] and call
/// [`thermo_from_density_of_states`] for each.
///
/// # Panics
///
/// If `m < 2`, `n < 2`, `m n > 30`, or `k` is not finite.
pub fn enumerate_square(m: usize, n: usize, k: f64) -> Thermo {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    thermo_from_density_of_states(&energy_histogram_square(m, n), m * n, k)
}

/// Thermodynamics of `n_spins` spins at coupling `k` from an exact density of states
/// `g(E)` (pairs `(E, g(E))`, as returned by [`energy_histogram_square`]):
/// `ln Z = ln Σ_E g(E) e^{−K E}` by log-sum-exp, `u = ⟨E⟩/N`, `c = K² var(E)/N` (the
/// variance summed about the mean, without cancellation) and `s = ln Z/N + K u`.
///
/// # Panics
///
/// If `histogram` is empty, `n_spins == 0`, or `k` is not finite.
pub fn thermo_from_density_of_states(histogram: &[(i64, u64)], n_spins: usize, k: f64) -> Thermo {
    assert!(k.is_finite(), "the coupling K must be finite, got {k}");
    assert!(
        !histogram.is_empty() && n_spins > 0,
        "need a non-empty density of states and at least one spin"
    );
    let log_weights: Vec<f64> = histogram
        .iter()
        .map(|&(e, g)| (g as f64).ln() - k * e as f64)
        .collect();
    let log_z = log_sum_exp(&log_weights);
    let probs: Vec<f64> = log_weights.iter().map(|lw| (lw - log_z).exp()).collect();
    let mean: f64 = histogram
        .iter()
        .zip(&probs)
        .map(|(&(e, _), p)| p * e as f64)
        .sum();
    let var: f64 = histogram
        .iter()
        .zip(&probs)
        .map(|(&(e, _), p)| p * (e as f64 - mean).powi(2))
        .sum();
    let n_spins = n_spins as f64;
    let energy_per_spin = mean / n_spins;
    Thermo {
        log_partition: log_z,
        energy_per_spin,
        specific_heat_per_spin: k * k * var / n_spins,
        entropy_per_spin: log_z / n_spins + k * energy_per_spin,
    }
}

// ---------------------------------------------------------------------------------------
// One-dimensional periodic ring
// ---------------------------------------------------------------------------------------

/// `x^e` for a non-negative integer exponent, by repeated squaring (exact sign for
/// negative `x`, no `i32` overflow for large `e`).
fn pow_usize(x: f64, mut e: usize) -> f64 {
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
fn ln_cosh(x: f64) -> f64 {
    let a = x.abs();
    a + (-2.0 * a).exp().ln_1p() - LN_2
}

/// Panics unless the ring has at least one spin.
fn assert_ring(n: usize) {
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
fn ring_histogram(n: usize, r: usize) -> Vec<Vec<[u64; 2]>> {
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
fn enumerate_ring_moments(n: usize, k: f64, h: f64, r: usize) -> (f64, f64) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
