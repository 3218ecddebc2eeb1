//! The optimiser's update of a parameter in one multithreaded pass over host buffers:
//! v ← g + μ v (v = g without a previous velocity) and θ ← θ − ε v, each operation rounded
//! to f32 as Burn's SGD rounds it (`g·1 + v·μ`, then `θ − v·ε`), so the results are
//! bit-identical to it; with a decoupled weight penalty ([`WeightPenalty`]) then
//! θ ← θ − ε (λ₁ sign θ₀ + λ₂ θ₀) in the same pass, rounded as the optimiser's tensor
//! operations round it. Memory-bound: plain loops, vectorised for the target's base
//! instruction set.

use super::team;

/// Below this many elements the pass runs on the calling thread.
const PARALLEL_FROM: usize = 1 << 15;

/// The strengths of a decoupled penalty on a weight matrix (see
/// [`crate::train::PenaltyConvention::Decoupled`]), at least one of them nonzero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WeightPenalty {
    /// λ₁.
    pub l1: f32,
    /// λ₂.
    pub l2: f32,
}

impl WeightPenalty {
    /// λ₁ sign w + λ₂ w (sign 0 = 0) in f32, a term of zero strength left out (so that the
    /// result has the bits of the optimiser's tensor operations, which leave it out).
    #[inline(always)]
    pub(crate) fn of(self, w: f32) -> f32 {
        let sign = if w == 0.0 { 0.0 } else { 1.0f32.copysign(w) };
        match (self.l1 != 0.0, self.l2 != 0.0) {
            (true, true) => sign * self.l1 + w * self.l2,
            (true, false) => sign * self.l1,
            (false, true) => w * self.l2,
            (false, false) => 0.0,
        }
    }
}

/// The updated parameter and velocity for the parameter `theta`, its gradient `g` and its
/// velocity `v` (`None` at the first step), momentum `mu` and learning rate `lr`, and, with
/// `penalty`, the decoupled penalty subtracted from the parameter after its update:
/// θ' = (θ − ε v') − ε P(θ), P from [`WeightPenalty::of`] at the parameter before the step.
///
/// # Panics
/// If the lengths differ.
pub(crate) fn momentum_update(
    theta: &[f32],
    g: &[f32],
    v: Option<&[f32]>,
    mu: f32,
    lr: f32,
    penalty: Option<WeightPenalty>,
) -> (Vec<f32>, Vec<f32>) {
    // One monomorphised pass each, so that the unpenalised loop has no penalty in it.
    match penalty {
        None => pass(theta, g, v, mu, lr, |_, stepped| stepped),
        Some(p) => pass(theta, g, v, mu, lr, |before, stepped| {
            stepped - p.of(before) * lr
        }),
    }
}

/// [`momentum_update`] with `finish(θ, θ − ε v')` giving each updated element.
#[inline(always)]
fn pass(
    theta: &[f32],
    g: &[f32],
    v: Option<&[f32]>,
    mu: f32,
    lr: f32,
    finish: impl Fn(f32, f32) -> f32 + Sync,
) -> (Vec<f32>, Vec<f32>) {
    let n = theta.len();
    assert_eq!(g.len(), n, "the gradient's length");
    if let Some(v) = v {
        assert_eq!(v.len(), n, "the velocity's length");
    }
    // Written without being zeroed first (zeroing is a pass over memory of its own).
    let mut theta_out: Vec<f32> = Vec::with_capacity(n);
    let mut v_out: Vec<f32> = Vec::with_capacity(n);
    let chunk = if n < PARALLEL_FROM {
        n.max(1)
    } else {
        n.div_ceil(team::threads() * team::TASKS_PER_THREAD)
            .next_multiple_of(16)
    };
    let parts: Vec<_> = theta_out.spare_capacity_mut()[..n]
        .chunks_mut(chunk)
        .zip(v_out.spare_capacity_mut()[..n].chunks_mut(chunk))
        .collect();
    team::for_each(parts, |i, (t_out, v_part)| {
        let r = i * chunk..i * chunk + t_out.len();
        let (theta, g) = (&theta[r.clone()], &g[r.clone()]);
        match v {
            Some(v) => {
                for (((vo, &gi), &vi), (to, &ti)) in v_part
                    .iter_mut()
                    .zip(g)
                    .zip(&v[r])
                    .zip(t_out.iter_mut().zip(theta))
                {
                    let vn = gi + vi * mu;
                    vo.write(vn);
                    to.write(finish(ti, ti - vn * lr));
                }
            }
            None => {
                for ((vo, &gi), (to, &ti)) in
                    v_part.iter_mut().zip(g).zip(t_out.iter_mut().zip(theta))
                {
                    vo.write(gi);
                    to.write(finish(ti, ti - gi * lr));
                }
            }
        }
    });
    // SAFETY: the parts cover the first n elements of both buffers, and the task of each part
    // wrote every element of it (the loops run over the whole part: the inputs are at least as
    // long, as asserted above).
    unsafe {
        theta_out.set_len(n);
        v_out.set_len(n);
    }
    (theta_out, v_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::Noise;

    /// The pass gives the element-by-element formula's bits, on one thread and split over the
    /// team, for lengths around the split's boundaries, with and without a velocity, without
    /// a penalty and with each form of decoupled penalty.
    #[test]
    fn the_pass_gives_the_formula_on_every_split() {
        let mut noise = Noise::new(5);
        for n in [
            1,
            17,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            PARALLEL_FROM + 5,
            100_003,
        ] {
            // Weights of both signs, for the L1 term's sign.
            let theta: Vec<f32> = noise.uniforms(n).iter().map(|x| x - 0.5).collect();
            let g: Vec<f32> = noise.uniforms(n).iter().map(|x| x - 0.5).collect();
            let v: Vec<f32> = noise.uniforms(n).iter().map(|x| 0.1 * x).collect();
            let (mu, lr) = (0.5f32, 0.1f32);
            let penalties = [
                None,
                Some(WeightPenalty { l1: 2e-3, l2: 0.0 }),
                Some(WeightPenalty { l1: 0.0, l2: 3e-2 }),
                Some(WeightPenalty { l1: 2e-3, l2: 3e-2 }),
            ];
            for (velocity, penalty) in [None, Some(v.as_slice())]
                .into_iter()
                .flat_map(|v| penalties.map(|p| (v, p)))
            {
                let (t, vo) = momentum_update(&theta, &g, velocity, mu, lr, penalty);
                assert_eq!((t.len(), vo.len()), (n, n));
                for i in 0..n {
                    let want_v = match velocity {
                        Some(v) => g[i] + v[i] * mu,
                        None => g[i],
                    };
                    assert_eq!(vo[i].to_bits(), want_v.to_bits(), "n {n}, v[{i}]");
                    let mut want_t = theta[i] - want_v * lr;
                    if let Some(p) = penalty {
                        let sign = if theta[i] == 0.0 {
                            0.0
                        } else {
                            theta[i].signum()
                        };
                        want_t -= (p.l1 * sign + p.l2 * theta[i]) * lr;
                    }
                    assert_eq!(
                        t[i].to_bits(),
                        want_t.to_bits(),
                        "n {n}, θ[{i}], {penalty:?}"
                    );
                }
            }
        }
    }
}
