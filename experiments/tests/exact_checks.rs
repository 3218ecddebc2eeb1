//! The mapping's identities and the decimation architecture, against exact enumeration.

use experiments::decimation::{
    decimated_coupling, decimation_host, flow, marginal_deviation_enumeration,
    marginal_deviation_transfer,
};
use experiments::mapping::{check_mapping, ring_hamiltonian};
use ising_data::exact::{decimation_prefactor, ring_log_partition};
use ising_data::rng::Xoshiro256pp;
use rbm::Units;
use rbm::eval::exact::HostRbm;

fn random_host(nv: usize, nh: usize, vu: Units, hu: Units, seed: u64) -> HostRbm {
    let mut rng = Xoshiro256pp::seed_from_u64(seed);
    let mut u = |s: f64| s * (2.0 * rng.next_f64() - 1.0);
    HostRbm {
        n_visible: nv,
        n_hidden: nh,
        weights: (0..nv * nh).map(|_| u(1.5)).collect(),
        visible_bias: (0..nv).map(|_| u(0.5)).collect(),
        hidden_bias: (0..nh).map(|_| u(0.5)).collect(),
        visible_units: vu,
        hidden_units: hu,
    }
}

#[test]
fn equations_21_and_22_hold_for_random_rbms_on_random_hamiltonians() {
    for (k, (vu, hu)) in [
        (Units::Spin, Units::Spin),
        (Units::Bernoulli, Units::Bernoulli),
        (Units::Spin, Units::Bernoulli),
    ]
    .into_iter()
    .enumerate()
    {
        let host = random_host(7, 5, vu, hu, 10 + k as u64);
        let mut rng = Xoshiro256pp::seed_from_u64(k as u64);
        let h: Vec<f64> = (0..128).map(|_| 6.0 * rng.next_f64() - 3.0).collect();
        let r = check_mapping(&host, &h);
        assert!(
            r.max_eq21_deviation < 1e-9,
            "Eq. 21: {}",
            r.max_eq21_deviation
        );
        assert!(
            r.max_eq22_deviation < 1e-9,
            "Eq. 22: {}",
            r.max_eq22_deviation
        );
        // e^{−ΔF} = ⟨Tr_h e^T⟩_P.
        assert!((r.log_mean_trace + r.delta_f).abs() < 1e-9);
        // A random model is far from exact, and KL > 0.
        assert!(r.log_trace_spread > 0.1 && r.kl > 0.01);
    }
}

#[test]
fn an_rbm_that_represents_the_ring_exactly_makes_the_mapping_exact() {
    // One ±1 hidden unit per bond with weight w on both spins: Σ_h e^{h w (v_j + v_{j+1})}
    // = 2cosh(w(v_j + v_{j+1})) ∝ e^{K v_j v_{j+1}} when cosh 2w = e^{2K}. Then p = P exactly:
    // KL = 0, Tr_h e^T is the same for every v, and equals 1 once H's constant gives ΔF = 0.
    let (n, k) = (8, 0.7f64);
    let w = 0.5 * (2.0 * k).exp().acosh();
    let mut weights = vec![0.0; n * n];
    for j in 0..n {
        weights[j * n + j] = w;
        weights[((j + 1) % n) * n + j] = w;
    }
    let host = HostRbm {
        n_visible: n,
        n_hidden: n,
        weights,
        visible_bias: vec![0.0; n],
        hidden_bias: vec![0.0; n],
        visible_units: Units::Spin,
        hidden_units: Units::Spin,
    };
    let r = check_mapping(&host, &ring_hamiltonian(n, k));
    assert!(r.kl.abs() < 1e-12, "KL {}", r.kl);
    assert!(r.log_trace_spread < 1e-9, "spread {}", r.log_trace_spread);
    assert!(r.max_trace_deviation_at_zero_delta_f < 1e-9);
    // Without fixing the constant, Tr_h e^T = e^{−ΔF} ≠ 1: exactness needs the constant too.
    assert!((r.max_trace_deviation - ((-r.delta_f).exp() - 1.0).abs()).abs() < 1e-9);
}

#[test]
fn decimation_architecture_reproduces_the_decimated_ring() {
    // H^RBM[h] = −J' Σ h_j h_{j+1} + const with tanh J' = tanh² J, for N = 16 (enumeration
    // of all 2^8 hidden states) and N = 64 (transfer matrices), every layer.
    for ring in [16usize, 64] {
        let couplings = flow(0.9, 6);
        let (mut n, mut layer) = (ring, 0);
        while n >= 4 {
            let host = decimation_host(n, couplings[layer]);
            let dev_t = marginal_deviation_transfer(&host, couplings[layer + 1]);
            assert!(dev_t < 1e-9, "ring {ring} layer {layer}: {dev_t}");
            if n <= 16 {
                let dev_e = marginal_deviation_enumeration(&host, couplings[layer + 1]);
                assert!(dev_e < 1e-9, "ring {ring} layer {layer}: {dev_e}");
            }
            n /= 2;
            layer += 1;
        }
    }
    // The check has power, and the two methods agree: a wrong J' leaves a deviation of
    // |J' − J'_wrong| per bond, N/2 bonds, up to the free constant: (N/2)·0.1 for a shift of 0.1.
    let host = decimation_host(16, 0.9);
    let wrong = decimated_coupling(0.9) + 0.1;
    let (e, t) = (
        marginal_deviation_enumeration(&host, wrong),
        marginal_deviation_transfer(&host, wrong),
    );
    assert!((e - t).abs() < 1e-9 && (e - 0.8).abs() < 1e-9, "{e} {t}");
}

#[test]
fn decimation_identity_and_flow() {
    // Z_N(K) = A^{N/2} Z_{N/2}(K'), A = 2√(cosh 2K), and tanh K' = tanh² K.
    for (n, k) in [(16, 0.9), (64, 0.4), (8, 2.0)] {
        let lhs = ring_log_partition(n, k);
        let rhs = n as f64 / 2.0 * decimation_prefactor(k).ln()
            + ring_log_partition(n / 2, decimated_coupling(k));
        assert!((lhs - rhs).abs() < 1e-10 * lhs.abs());
    }
    let f = flow(1.0, 5);
    for w in f.windows(2) {
        assert!((w[1].tanh() - w[0].tanh().powi(2)).abs() < 1e-14);
        assert!(w[1] < w[0], "the flow runs to J = 0");
    }
}
