//! Scalar functions in double precision shared by the exact and estimated likelihoods.

/// A streaming log-sum-exp, ln Σ e^{x_i}, that neither overflows nor underflows: the sum
/// is kept relative to the largest term seen.
#[derive(Debug, Clone, Copy)]
pub struct LogSumExp {
    max: f64,
    sum: f64,
}

impl LogSumExp {
    /// The empty sum (ln 0 = −∞).
    pub fn new() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    /// Adds e^x.
    pub fn add(&mut self, x: f64) {
        if x > self.max {
            self.sum = self.sum * (self.max - x).exp() + 1.0;
            self.max = x;
        } else {
            self.sum += (x - self.max).exp();
        }
    }

    /// The sum of two partial sums.
    pub fn merge(self, other: Self) -> Self {
        if other.max == f64::NEG_INFINITY {
            return self;
        }
        let mut out = self;
        if other.max > out.max {
            out.sum = out.sum * (out.max - other.max).exp() + other.sum;
            out.max = other.max;
        } else {
            out.sum += other.sum * (other.max - out.max).exp();
        }
        out
    }

    /// ln of the sum.
    pub fn value(self) -> f64 {
        self.max + self.sum.ln()
    }
}

impl Default for LogSumExp {
    fn default() -> Self {
        Self::new()
    }
}

/// ln Σ e^{x_i} of the values `xs` (−∞ when there are none).
pub fn log_sum_exp(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut acc = LogSumExp::new();
    for x in xs {
        acc.add(x);
    }
    acc.value()
}

/// softplus(x) = ln(1 + eˣ), stable for large |x|.
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_merges_like_a_direct_sum() {
        let xs = [-3.0, 700.0, 2.5, 699.0, -1e9];
        let direct = 700.0 + xs.iter().map(|x| (x - 700.0f64).exp()).sum::<f64>().ln();
        let mut a = LogSumExp::new();
        let mut b = LogSumExp::new();
        for (i, &x) in xs.iter().enumerate() {
            if i % 2 == 0 { a.add(x) } else { b.add(x) }
        }
        assert!((a.merge(b).value() - direct).abs() < 1e-12);
        assert!((log_sum_exp(xs) - direct).abs() < 1e-12);
        assert_eq!(log_sum_exp([]), f64::NEG_INFINITY);
    }

    #[test]
    fn softplus_is_ln_one_plus_exp_without_overflow() {
        for x in [-800.0, -30.0, -1.0, 0.0, 0.5, 30.0] {
            assert!(
                (softplus(x) - x.exp().ln_1p()).abs() < 1e-15,
                "softplus({x})"
            );
        }
        assert_eq!(softplus(800.0), 800.0);
    }
}
