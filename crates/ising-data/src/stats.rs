//! Statistics of Markov-chain output: integrated autocorrelation times (Sokal's automatic
//! windowing) and autocorrelation-aware errors (binning with the jackknife).

use serde::{Deserialize, Serialize};

/// A value with its one-standard-error uncertainty: the workspace's one estimate type (Monte
/// Carlo measurements here, likelihoods and AIS in `rbm`). Files written before it was one
/// type, with `mean` and `error`, read the same.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate.
    #[serde(alias = "mean")]
    pub value: f64,
    /// Its standard error.
    #[serde(alias = "error")]
    pub std_error: f64,
}

impl Estimate {
    /// How many standard errors `self` lies from `reference` (∞ for a zero error and a
    /// nonzero difference).
    pub fn sigmas_from(&self, reference: f64) -> f64 {
        let d = (self.value - reference).abs();
        if d == 0.0 { 0.0 } else { d / self.std_error }
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.6} ± {:.6}", self.value, self.std_error)
    }
}

/// Sokal's window constant c: the window W is the smallest with W ≥ c τ_int(W).
pub const SOKAL_WINDOW_C: f64 = 6.0;

/// The integrated autocorrelation time of one or more independent chains of the same
/// process, τ_int = ½ + Σ_{t=1}^{W} ρ(t), with Sokal's automatic window
/// (A. D. Sokal, *Monte Carlo methods in statistical mechanics*, 1997, Sec. 3): W is the
/// smallest lag with W ≥ c τ_int(W), c = [`SOKAL_WINDOW_C`]. Autocovariances are pooled over
/// chains around the grand mean. τ_int is in units of the series' spacing; for uncorrelated
/// data it is ½, so the variance of a mean of n points is 2 τ_int σ² / n.
///
/// Returns ½ for a constant series (nothing to correlate), and the value at the largest
/// available lag if no window is found before the chains run out (then the chains are too
/// short to measure τ, which the caller can detect as τ_int > n / (2c)).
pub fn integrated_autocorrelation_time(chains: &[&[f64]]) -> f64 {
    let total: usize = chains.iter().map(|c| c.len()).sum();
    if total < 2 {
        return 0.5;
    }
    let mean = chains.iter().flat_map(|c| c.iter()).sum::<f64>() / total as f64;
    let autocov = |t: usize| -> Option<f64> {
        let mut s = 0.0;
        let mut count = 0usize;
        for c in chains {
            if c.len() > t {
                for i in 0..c.len() - t {
                    s += (c[i] - mean) * (c[i + t] - mean);
                }
                count += c.len() - t;
            }
        }
        (count > 0).then(|| s / count as f64)
    };
    let c0 = autocov(0).unwrap_or(0.0);
    if c0 <= 0.0 {
        return 0.5;
    }
    let mut tau = 0.5;
    let mut t = 1;
    while let Some(ct) = autocov(t) {
        tau += ct / c0;
        if t as f64 >= SOKAL_WINDOW_C * tau {
            break;
        }
        t += 1;
    }
    tau.max(0.5)
}

/// Splits per-chain series of `q` primary quantities into bins and returns the bin means.
///
/// `rows[chain]` holds that chain's samples, each a `[f64; q]`-like slice of length `q`
/// stored contiguously (`rows[chain].len()` is a multiple of `q`). Each chain is cut into
/// `bins_per_chain` contiguous bins of (almost) equal size; bins never span two chains.
/// Returns `(bin_means, bin_weights)`, with `bin_means` of length `n_bins * q`.
///
/// # Panics
/// If `q == 0` or a chain's length is not a multiple of `q`.
pub fn bin_means(rows: &[&[f64]], q: usize, bins_per_chain: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(q > 0);
    let mut means = Vec::new();
    let mut weights = Vec::new();
    for chain in rows {
        assert_eq!(chain.len() % q, 0, "chain length not a multiple of q");
        let n = chain.len() / q;
        let bins = bins_per_chain.min(n).max(1);
        if n == 0 {
            continue;
        }
        for b in 0..bins {
            let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
            let mut acc = vec![0.0; q];
            for i in lo..hi {
                for (a, x) in acc.iter_mut().zip(&chain[i * q..(i + 1) * q]) {
                    *a += x;
                }
            }
            let w = (hi - lo) as f64;
            means.extend(acc.iter().map(|a| a / w));
            weights.push(w);
        }
    }
    (means, weights)
}

/// Jackknife estimate and error of `f(⟨x⟩)` from weighted bin means of `q` primary
/// quantities (as returned by [`bin_means`]). `f` receives the `q` averages.
///
/// With one bin the error is reported as NaN (it cannot be estimated).
pub fn jackknife(means: &[f64], weights: &[f64], q: usize, f: impl Fn(&[f64]) -> f64) -> Estimate {
    let nb = weights.len();
    let wsum: f64 = weights.iter().sum();
    let mut total = vec![0.0; q];
    for (b, &w) in weights.iter().enumerate() {
        for j in 0..q {
            total[j] += w * means[b * q + j];
        }
    }
    let full: Vec<f64> = total.iter().map(|t| t / wsum).collect();
    let estimate = f(&full);
    if nb < 2 {
        return Estimate {
            value: estimate,
            std_error: f64::NAN,
        };
    }
    let mut loo = vec![0.0; q];
    let leave_out: Vec<f64> = (0..nb)
        .map(|b| {
            let w = wsum - weights[b];
            for j in 0..q {
                loo[j] = (total[j] - weights[b] * means[b * q + j]) / w;
            }
            f(&loo)
        })
        .collect();
    let avg = leave_out.iter().sum::<f64>() / nb as f64;
    let var =
        leave_out.iter().map(|x| (x - avg).powi(2)).sum::<f64>() * (nb as f64 - 1.0) / nb as f64;
    Estimate {
        value: estimate,
        std_error: var.sqrt(),
    }
}

/// The Gelman–Rubin potential scale reduction R̂ of two or more chains of equal length n
/// (Gelman & Rubin 1992; the form of Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4):
/// R̂ = √(((n−1)/n · W + B/n) / W), W the mean within-chain variance and B/n the variance of
/// the chain means. Near 1 when the chains sample one distribution; well above 1 (say > 1.1)
/// when they sit in different modes or have not forgotten their starts. NaN for fewer than
/// two chains, chains of fewer than two points, or no within-chain variance.
pub fn gelman_rubin(chains: &[&[f64]]) -> f64 {
    let m = chains.len();
    let n = chains.iter().map(|c| c.len()).min().unwrap_or(0);
    if m < 2 || n < 2 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains
        .iter()
        .map(|c| c[..n].iter().sum::<f64>() / n as f64)
        .collect();
    let grand = means.iter().sum::<f64>() / m as f64;
    let between = means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m - 1) as f64;
    let within = chains
        .iter()
        .zip(&means)
        .map(|(c, mean)| c[..n].iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64)
        .sum::<f64>()
        / m as f64;
    if within <= 0.0 {
        return f64::NAN;
    }
    let nf = n as f64;
    (((nf - 1.0) / nf * within + between) / within).sqrt()
}

#[cfg(test)]
mod tests {
    /// Manifests and reports written before the workspace had one estimate type named its
    /// fields `mean` and `error`; they read the same, and are written with the new names.
    #[test]
    fn an_estimate_written_with_mean_and_error_reads_back() {
        let old: super::Estimate = serde_json::from_str(r#"{"mean": 1.5, "error": 0.25}"#).unwrap();
        assert_eq!((old.value, old.std_error), (1.5, 0.25));
        let text = serde_json::to_string(&old).unwrap();
        assert_eq!(text, r#"{"value":1.5,"std_error":0.25}"#);
    }

    #[test]
    fn gelman_rubin_is_near_one_for_one_distribution_and_large_for_two_modes() {
        // Four chains of the same i.i.d. uniform numbers (a fixed LCG): R̂ ≈ 1 (its sampling
        // spread for 4 × 2 000 points is ≈ 10⁻³). The same chains with two of them shifted by
        // 3 standard deviations (≈ 0.87 for U(0,1)): R̂ = √(1 + B/W) ≈ 1.8.
        let mut state = 7u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let chains: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..2000).map(|_| uniform()).collect())
            .collect();
        let refs: Vec<&[f64]> = chains.iter().map(Vec::as_slice).collect();
        let r = gelman_rubin(&refs);
        assert!((r - 1.0).abs() < 0.01, "{r}");
        let shifted: Vec<Vec<f64>> = chains
            .iter()
            .enumerate()
            .map(|(i, c)| {
                c.iter()
                    .map(|x| x + if i < 2 { 0.87 } else { 0.0 })
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = shifted.iter().map(Vec::as_slice).collect();
        let r = gelman_rubin(&refs);
        assert!(r > 1.5 && r < 2.2, "{r}");
        assert!(gelman_rubin(&refs[..1]).is_nan());
    }

    use super::*;
    use crate::rng::Xoshiro256pp;

    /// An AR(1) process x_{t+1} = a x_t + ξ has ρ(t) = a^t and
    /// τ_int = ½ + a/(1−a) = (1+a)/(2(1−a)) exactly.
    fn ar1(a: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut g = Xoshiro256pp::seed_from_u64(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                // Sum of 12 uniforms minus 6: unit-variance, near-Gaussian noise.
                let xi: f64 = (0..12).map(|_| g.next_f64()).sum::<f64>() - 6.0;
                x = a * x + xi;
                x
            })
            .collect()
    }

    #[test]
    fn tau_of_an_ar1_process_matches_its_exact_value() {
        for (a, seed) in [(0.0, 1), (0.5, 2), (0.9, 3)] {
            let exact = (1.0 + a) / (2.0 * (1.0 - a));
            let chains: Vec<Vec<f64>> = (0..4).map(|c| ar1(a, 100_000, seed * 10 + c)).collect();
            let refs: Vec<&[f64]> = chains.iter().map(|c| c.as_slice()).collect();
            let tau = integrated_autocorrelation_time(&refs);
            // Sokal's estimate has relative variance ≈ 2(2W+1)/n ≈ (5%)² here, plus a
            // window bias of order e^{-c}; allow 10%.
            assert!(
                (tau - exact).abs() < 0.1 * exact,
                "a = {a}: tau = {tau}, exact {exact}"
            );
        }
    }

    #[test]
    fn binned_jackknife_error_of_a_correlated_mean_is_honest() {
        // For AR(1) with a = 0.8 the variance of the mean of n points is
        // σ² (1+a)/(1−a) / n with σ² = 1/(1−a²). Check the binned jackknife error is within
        // 15% of that exact value (the error of an error estimate from 64 bins is ≈ 9%).
        let a: f64 = 0.8;
        let n = 400_000;
        let x = ar1(a, n, 11);
        let (m, w) = bin_means(&[&x], 1, 64);
        let est = jackknife(&m, &w, 1, |v| v[0]);
        let exact = ((1.0 / (1.0 - a * a)) * (1.0 + a) / (1.0 - a) / n as f64).sqrt();
        assert!(
            (est.std_error - exact).abs() < 0.15 * exact,
            "{} vs {exact}",
            est.std_error
        );
    }

    #[test]
    fn jackknife_of_a_nonlinear_function_recovers_the_delta_method() {
        // Independent data: the jackknife error of f(x̄) = x̄² is ≈ 2|x̄| σ/√n.
        let mut g = Xoshiro256pp::seed_from_u64(5);
        let x: Vec<f64> = (0..100_000).map(|_| 3.0 + g.next_f64()).collect();
        let (m, w) = bin_means(&[&x], 1, 100);
        let est = jackknife(&m, &w, 1, |v| v[0] * v[0]);
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let delta = 2.0 * mean * (1.0f64 / 12.0 / x.len() as f64).sqrt();
        assert!((est.value - mean * mean).abs() < 1e-12);
        assert!((est.std_error - delta).abs() < 0.2 * delta);
    }
}
