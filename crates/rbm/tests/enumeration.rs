//! The tensor code against brute-force enumeration of small RBMs (every (v, h) pair), for
//! every unit type. Tensor code runs in f32 on the default CPU device, so tensor-vs-exact
//! tolerances are 1e-4 absolute on quantities of order 1–10; host f64 code is checked to 1e-10.

mod common;

use common::{random_rbm, rows_tensor as tensor, values};
use rbm::eval::exact::{HostRbm, state};
use rbm::{Rbm, Units};

fn all_states(units: Units, n: usize) -> Vec<Vec<f64>> {
    (0..1u64 << n).map(|i| state(units, n, i)).collect()
}

fn log_sum_exp(xs: impl Iterator<Item = f64>) -> f64 {
    let xs: Vec<f64> = xs.collect();
    let m = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

const DISCRETE: [(Units, Units); 4] = [
    (Units::Bernoulli, Units::Bernoulli),
    (Units::Spin, Units::Spin),
    (Units::Bernoulli, Units::Spin),
    (Units::Spin, Units::Bernoulli),
];

#[test]
fn free_energies_conditionals_and_log_z_match_enumeration() {
    for (k, &(vu, hu)) in DISCRETE.iter().enumerate() {
        // 8×4 enumerates the hidden layer, 4×8 the visible one: both paths are covered.
        for (nv, nh) in [(8, 4), (4, 8)] {
            let rbm = random_rbm(nv, nh, vu, hu, 1.0, 17 + k as u64);
            let host = HostRbm::from_rbm(&rbm).unwrap();
            let vs = all_states(vu, nv);
            let hs = all_states(hu, nh);
            // Reference: ln Z = ln Σ_{v,h} e^{−E(v,h)} over all 2^{n_v + n_h} pairs.
            let log_z = log_sum_exp(
                vs.iter()
                    .flat_map(|v| hs.iter().map(|h| -host.energy(v, h)))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            let exact = host.log_partition_exact().unwrap();
            assert!(
                (exact - log_z).abs() < 1e-10 * log_z.abs().max(1.0),
                "{vu:?}/{hu:?} {nv}x{nh}: {exact} vs {log_z}"
            );

            // Visible free energy and E[h|v] on the device, against sums over h.
            let f = values(rbm.free_energy(tensor(&vs)));
            let mean_h = values(rbm.hidden_mean(tensor(&vs)));
            for (idx, v) in vs.iter().enumerate() {
                let fe = -log_sum_exp(hs.iter().map(|h| -host.energy(v, h)));
                assert!((f[idx] - fe).abs() < 1e-4, "F(v): {} vs {fe}", f[idx]);
                assert!((host.free_energy(v) - fe).abs() < 1e-10);
                let w: Vec<f64> = hs.iter().map(|h| (-host.energy(v, h) + fe).exp()).collect();
                for j in 0..nh {
                    let m: f64 = hs.iter().zip(&w).map(|(h, w)| h[j] * w).sum();
                    assert!((mean_h[idx * nh + j] - m).abs() < 1e-5, "E[h|v]");
                }
            }
            // Hidden free energy (H^RBM[h], Eq. 15) and E[v|h].
            let fh = values(rbm.hidden_free_energy(tensor(&hs)));
            let mean_v = values(rbm.visible_mean(tensor(&hs)));
            for (idx, h) in hs.iter().enumerate() {
                let fe = -log_sum_exp(vs.iter().map(|v| -host.energy(v, h)));
                assert!((fh[idx] - fe).abs() < 1e-4, "F(h): {} vs {fe}", fh[idx]);
                assert!((host.hidden_free_energy(h) - fe).abs() < 1e-10);
                let w: Vec<f64> = vs.iter().map(|v| (-host.energy(v, h) + fe).exp()).collect();
                for i in 0..nv {
                    let m: f64 = vs.iter().zip(&w).map(|(v, w)| v[i] * w).sum();
                    assert!((mean_v[idx * nv + i] - m).abs() < 1e-5, "E[v|h]");
                }
            }
            // The energy itself.
            let pairs: Vec<(usize, usize)> = (0..vs.len())
                .step_by(5)
                .zip((0..hs.len()).cycle())
                .collect();
            let v_rows: Vec<Vec<f64>> = pairs.iter().map(|&(i, _)| vs[i].clone()).collect();
            let h_rows: Vec<Vec<f64>> = pairs.iter().map(|&(_, j)| hs[j].clone()).collect();
            let e = values(rbm.energy(tensor(&v_rows), tensor(&h_rows)));
            for (p, (v, h)) in v_rows.iter().zip(&h_rows).enumerate() {
                assert!((e[p] - host.energy(v, h)).abs() < 1e-4);
            }
        }
    }
}

#[test]
fn bernoulli_and_spin_parameterisations_give_the_same_distribution() {
    // p_self(v) = p_new(s(v)) with s = 2v − 1 exactly: compare normalised log-probabilities
    // of every visible (and hidden) configuration, and ln Z_self = ln Z_new + c.
    let rbm = random_rbm(7, 5, Units::Bernoulli, Units::Bernoulli, 1.5, 3);
    let host = HostRbm::from_rbm(&rbm).unwrap();
    let log_z = host.log_partition_exact().unwrap();
    let (spin_v, c_v) = rbm.with_visible_units(Units::Spin);
    let (spin_both, c_h) = spin_v.with_hidden_units(Units::Spin);
    let host_v = HostRbm::from_rbm(&spin_v).unwrap();
    let host_both = HostRbm::from_rbm(&spin_both).unwrap();
    // f32 parameters: relative agreement 1e-5.
    assert!((host_v.log_partition_exact().unwrap() + c_v - log_z).abs() < 1e-4);
    assert!((host_both.log_partition_exact().unwrap() + c_v + c_h - log_z).abs() < 1e-4);
    let lz_both = host_both.log_partition_exact().unwrap();
    for v in all_states(Units::Bernoulli, 7) {
        let s: Vec<f64> = v.iter().map(|x| 2.0 * x - 1.0).collect();
        let lp = -host.free_energy(&v) - log_z;
        let lp_both = -host_both.free_energy(&s) - lz_both;
        assert!((lp - lp_both).abs() < 1e-4, "{lp} vs {lp_both}");
    }
    // And back again.
    let (back, c_back) = spin_both.with_visible_units(Units::Bernoulli);
    let (back, c_back2) = back.with_hidden_units(Units::Bernoulli);
    assert!((c_v + c_h + c_back + c_back2).abs() < 1e-4);
    let w0 = values(rbm.weights.val());
    let w1 = values(back.weights.val());
    assert!(w0.iter().zip(&w1).all(|(a, b)| (a - b).abs() < 1e-5));
}

#[test]
fn gaussian_hidden_units_give_the_hubbard_stratonovich_pairwise_model() {
    // ∫ dh e^{−½hᵀh + hᵀ(Wᵀv + b)} ∝ e^{½|Wᵀv + b|²}: the visible marginal is the pairwise
    // model ln p(v) = aᵀv + (Wb)ᵀv + ½ vᵀ(WWᵀ)v − ln Z', which we build independently
    // (explicit J = WWᵀ) and normalise by enumeration over all 2^8 configurations.
    for vu in [Units::Spin, Units::Bernoulli] {
        let rbm = random_rbm(8, 3, vu, Units::Gaussian, 0.7, 9);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let (nv, nh) = (8, 3);
        let j = |i: usize, k: usize| (0..nh).map(|m| host.w(i, m) * host.w(k, m)).sum::<f64>();
        let field = |i: usize| {
            host.visible_bias[i]
                + (0..nh)
                    .map(|m| host.w(i, m) * host.hidden_bias[m])
                    .sum::<f64>()
        };
        let pairwise = |v: &[f64]| -> f64 {
            let mut e = 0.0;
            for i in 0..nv {
                e += field(i) * v[i];
                for k in 0..nv {
                    e += 0.5 * j(i, k) * v[i] * v[k];
                }
            }
            e
        };
        let vs = all_states(vu, nv);
        let lz_pair = log_sum_exp(vs.iter().map(|v| pairwise(v)));
        let lz_rbm = host.log_partition_exact().unwrap();
        let f = values(rbm.free_energy(tensor(&vs)));
        for (idx, v) in vs.iter().enumerate() {
            let lp_pair = pairwise(v) - lz_pair;
            let lp_rbm = -host.free_energy(v) - lz_rbm;
            assert!(
                (lp_pair - lp_rbm).abs() < 1e-10,
                "{vu:?}: {lp_pair} vs {lp_rbm}"
            );
            assert!((-f[idx] - lz_rbm - lp_pair).abs() < 1e-4);
        }
    }
}

/// Exact block-Gibbs transition matrix on the visible layer, T(v → v') = Σ_h p(h|v) p(v'|h),
/// built from the tensor conditionals; returns (states, T row-major).
fn gibbs_transition(rbm: &Rbm) -> (Vec<Vec<f64>>, Vec<f64>) {
    let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
    let (vu, hu) = (rbm.visible_units, rbm.hidden_units);
    let vs = all_states(vu, nv);
    let hs = all_states(hu, nh);
    // Probability that a unit with mean m takes value x (two-valued units).
    let prob = |units: Units, m: f64, x: f64| {
        let [lo, hi] = units.values().unwrap();
        let p_hi = (m - lo) / (hi - lo);
        if x == hi { p_hi } else { 1.0 - p_hi }
    };
    let mh = values(rbm.hidden_mean(tensor(&vs)));
    let mv = values(rbm.visible_mean(tensor(&hs)));
    let ph_v = |a: usize, b: usize| {
        (0..nh)
            .map(|j| prob(hu, mh[a * nh + j], hs[b][j]))
            .product::<f64>()
    };
    let pv_h = |b: usize, c: usize| {
        (0..nv)
            .map(|i| prob(vu, mv[b * nv + i], vs[c][i]))
            .product::<f64>()
    };
    let n = vs.len();
    let mut t = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..hs.len() {
            let p = ph_v(a, b);
            for c in 0..n {
                t[a * n + c] += p * pv_h(b, c);
            }
        }
    }
    (vs, t)
}

#[test]
fn block_gibbs_leaves_the_exact_marginal_invariant() {
    // Σ_v p(v) T(v → v') = p(v') for every v', with p from exact enumeration.
    for &(vu, hu) in &DISCRETE {
        let rbm = random_rbm(6, 3, vu, hu, 1.2, 5);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let (vs, t) = gibbs_transition(&rbm);
        let n = vs.len();
        let flat: Vec<f64> = vs.iter().flatten().copied().collect();
        let p = common::visible_probabilities(&host, &flat);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-10);
        for c in 0..n {
            let row_sum: f64 = (0..n).map(|c2| t[c * n + c2]).sum();
            assert!((row_sum - 1.0).abs() < 1e-5, "T is stochastic");
            let pushed: f64 = (0..n).map(|a| p[a] * t[a * n + c]).sum();
            assert!(
                (pushed - p[c]).abs() < 1e-6,
                "{vu:?}/{hu:?}: {pushed} vs {}",
                p[c]
            );
        }
    }
}

#[test]
fn sampled_gibbs_chains_reach_the_exact_marginal() {
    // 4096 independent chains, 30 block-Gibbs steps each from all-lo states; the histogram of
    // the final visible states must fit the exact p(v) (χ² at significance 10⁻³, bins with
    // expected count < 5 pooled; critical value by Wilson–Hilferty).
    let _rng = common::seeded(2024);
    for &(vu, hu) in &DISCRETE[..2] {
        let rbm = random_rbm(5, 3, vu, hu, 1.0, 11);
        let host = HostRbm::from_rbm(&rbm).unwrap();
        let vs = all_states(vu, 5);
        let flat: Vec<f64> = vs.iter().flatten().copied().collect();
        let p = common::visible_probabilities(&host, &flat);
        let chains = 4096;
        let start = tensor(&vec![vs[0].clone(); chains]);
        let end = values(rbm.gibbs_chain(start, 30));
        let mut counts = vec![0.0; vs.len()];
        for row in end.chunks(5) {
            let idx = vs
                .iter()
                .position(|v| v.iter().zip(row).all(|(a, b)| (a - b).abs() < 1e-6))
                .expect("a valid state");
            counts[idx] += 1.0;
        }
        let (chi2, critical) = common::chi2_test(&counts, &p, chains as f64);
        assert!(
            chi2 < critical,
            "{vu:?}/{hu:?}: chi2 {chi2:.1} > {critical:.1}"
        );
    }
}
