//! Elementwise functions in f32, written to vectorise inside the kernel's target-feature
//! functions (they are `#[inline(always)]`, so they take the features of their caller).

use super::params::LANES;

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// e^x for f32 to about 2 ulp (Cephes' expf: Cody–Waite reduction and a degree-6
/// polynomial), with the input clamped to [−87, 88].
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Adding 1.5·2²³ rounds x·log₂e to the integer n, which then sits in the low mantissa
    // bits; the scale 2ⁿ is built from those bits with integer operations, so the whole
    // function vectorises.
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x * LOG2E + MAGIC;
    let n = t - MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let n_bits = t.to_bits().wrapping_sub(MAGIC.to_bits());
    y * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// ln(1 + t) for t ∈ [−0.3, 1]: 2 atanh(t / (2 + t)) by its series (error below 1e-8).
#[inline(always)]
fn ln_1p_unit(t: f32) -> f32 {
    let s = t / (2.0 + t);
    let z = s * s;
    let mut p = 1.0f32 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    p = p * z + 1.0;
    2.0 * s * p
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

#[inline(always)]
fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln_1p_unit(exp(-x.abs()))
}

/// e^d − 1 for |d| ≤ 0.25 by its Taylor series to d⁷ (relative error below 1e-9).
#[inline(always)]
fn exp_m1_small(d: f32) -> f32 {
    let mut p = 1.0 + d / 7.0;
    p = 1.0 + d / 6.0 * p;
    p = 1.0 + d / 5.0 * p;
    p = 1.0 + d / 4.0 * p;
    p = 1.0 + d / 3.0 * p;
    p = 1.0 + d / 2.0 * p;
    d * p
}

/// softplus(w + d) − softplus(w) without the cancellation of the difference: for |d| ≤ 0.25
/// as ln(1 + σ(w)(e^d − 1)), whose argument then lies in [−0.3, 0.3]; above it, where the
/// difference is not small, directly.
#[inline(always)]
fn softplus_step(w: f32, d: f32) -> f32 {
    let small = ln_1p_unit(sigmoid(w) * exp_m1_small(d.clamp(-0.25, 0.25)));
    let direct = softplus(w + d) - softplus(w);
    if d.abs() <= 0.25 { small } else { direct }
}

/// `out` = softplus(to·x) − softplus(from·x), elementwise.
#[inline(always)]
pub(super) fn softplus_step_into(x: &[f32], (from, to): (f32, f32), out: &mut [f32]) {
    let delta = to - from;
    for (o, &x) in out.iter_mut().zip(x) {
        *o = softplus_step(from * x, delta * x);
    }
}

#[inline(always)]
pub(super) fn sigmoid_into(x: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(x) {
        *o = sigmoid(x);
    }
}

#[inline(always)]
pub(super) fn sigmoid_in_place(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x = sigmoid(*x);
    }
}

#[inline(always)]
pub(super) fn softplus_into(x: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(x) {
        *o = softplus(x);
    }
}

#[inline(always)]
pub(super) fn softplus_in_place(x: &mut [f32]) {
    for x in x.iter_mut() {
        *x = softplus(*x);
    }
}

/// Σ x in 16 f32 lanes (so that it vectorises), the lanes added in f64.
#[inline(always)]
pub(super) fn sum_lanes(x: &[f32]) -> f64 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    acc.iter().chain(tail).map(|&a| a as f64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_softplus_match_the_standard_library() {
        // Relative error of exp below 3e-7 over the range the kernel uses, and absolute
        // error of softplus and sigmoid below 1e-6.
        for i in -4000..=4000 {
            let x = i as f32 * 0.02;
            let e = exp(x) as f64;
            let r = (x as f64).exp();
            assert!(((e - r) / r).abs() < 3e-7, "exp({x}) = {e}, want {r}");
            let sp = (x as f64).max(0.0) + (-(x as f64).abs()).exp().ln_1p();
            assert!(
                (softplus(x) as f64 - sp).abs() < 1e-6 * sp.max(1.0),
                "softplus({x})"
            );
            let sg = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - sg).abs() < 1e-6, "sigmoid({x})");
        }
        // Saturation without NaN or overflow at the clamp.
        assert!((0.0..1e-38).contains(&sigmoid(-1e4)), "{}", sigmoid(-1e4));
        assert_eq!(sigmoid(1e4), 1.0);
        assert!(softplus(1e4) == 1e4 && (0.0..1e-37).contains(&softplus(-1e4)));
    }

    /// softplus(w + d) − softplus(w) in f64, through ln(1 + σ(w)(e^d − 1)).
    fn softplus_step_f64(w: f64, d: f64) -> f64 {
        let s = 1.0 / (1.0 + (-w).exp());
        (s * d.exp_m1()).ln_1p()
    }

    #[test]
    fn the_softplus_step_keeps_its_relative_precision_for_small_steps() {
        // Relative error below 2e-6 for steps from 1e-7 to 0.25 (both signs) at inputs in
        // [−30, 30], where the plain difference of two f32 softplus values loses all digits
        // of the smallest steps (checked below, so that the test sees the cancellation), and
        // below 1e-5 for the larger steps, which take the plain difference (at most about
        // 4.5 times the two values' errors, as e^{−0.25} ≤ 1 − 0.22).
        let mut worst_plain = 0.0f64;
        for i in -300..=300 {
            let w = i as f32 * 0.1;
            for d in [1e-7f32, 1e-5, 1e-3, 0.1, 0.25, 0.3, 1.0, 5.0] {
                for d in [d, -d] {
                    let want = softplus_step_f64(w as f64, d as f64);
                    let got = softplus_step(w, d) as f64;
                    let rel = ((got - want) / want).abs();
                    let tolerance = if d.abs() <= 0.25 { 2e-6 } else { 1e-5 };
                    assert!(
                        rel < tolerance,
                        "softplus_step({w}, {d}) = {got}, want {want}"
                    );
                    let plain = (softplus(w + d) - softplus(w)) as f64;
                    worst_plain = worst_plain.max(((plain - want) / want).abs());
                }
            }
        }
        assert!(
            worst_plain > 0.1,
            "the plain difference lost {worst_plain:e}"
        );
    }
}
