//! The optimiser's update of a parameter in one multithreaded pass over host buffers:
//! v ← g + μ v (v = g without a previous velocity) and θ ← θ − ε v, each operation rounded
//! to f32 as Burn's SGD rounds it (`g·1 + v·μ`, then `θ − v·ε`), so the results are
//! bit-identical to it. Memory-bound: plain loops, vectorised for the target's base
//! instruction set.

use super::team;

/// Below this many elements the pass runs on the calling thread.
const PARALLEL_FROM: usize = 1 << 15;

/// The updated parameter and velocity for the parameter `theta`, its gradient `g` and its
/// velocity `v` (`None` at the first step), momentum `mu` and learning rate `lr`.
///
/// # Panics
/// If the lengths differ.
pub(crate) fn momentum_update(
    theta: &[f32],
    g: &[f32],
    v: Option<&[f32]>,
    mu: f32,
    lr: f32,
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
        n.div_ceil(team::threads()).next_multiple_of(16)
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
                    to.write(ti - vn * lr);
                }
            }
            None => {
                for ((vo, &gi), (to, &ti)) in
                    v_part.iter_mut().zip(g).zip(t_out.iter_mut().zip(theta))
                {
                    vo.write(gi);
                    to.write(ti - gi * lr);
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
