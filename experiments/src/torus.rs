//! Geometry on the periodic L×L lattice: the site at an offset, distances on the torus, the
//! centre of a field of magnitudes, and the centres of the coarse lattice's blocks.

/// The index of the site at offset (dx, dy) from column x, row y on the periodic m×m lattice
/// (row-major).
pub fn site(m: usize, x: usize, y: usize, dx: i32, dy: i32) -> usize {
    let m = m as i64;
    let wrap = |a: usize, d: i32| (a as i64 + i64::from(d)).rem_euclid(m) as usize;
    wrap(y, dy) * m as usize + wrap(x, dx)
}

/// The distance between coordinates `a` and `b` on a ring of circumference `l`.
pub fn ring_distance(a: f64, b: f64, l: f64) -> f64 {
    let d = (a - b).abs() % l;
    d.min(l - d)
}

/// The squared distance between points `p` and `q` ((row, column)) on the L×L torus.
pub fn torus_distance2(p: (f64, f64), q: (f64, f64), l: f64) -> f64 {
    let (dy, dx) = (ring_distance(p.0, q.0, l), ring_distance(p.1, q.1, l));
    dy * dy + dx * dx
}

/// The centre (row, column) of a field with magnitudes `w` (`[L²]`, row-major) on the L×L
/// torus: per axis, the circular mean of the coordinate weighted by `w`. `None` when `w` sums
/// to zero.
pub fn field_centre(w: &[f64], l: usize) -> Option<(f64, f64)> {
    let total: f64 = w.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let tau = std::f64::consts::TAU;
    let centre = |coord: &dyn Fn(usize) -> usize| {
        let (mut s, mut c) = (0.0, 0.0);
        for (i, wi) in w.iter().enumerate() {
            let th = tau * coord(i) as f64 / l as f64;
            s += wi * th.sin();
            c += wi * th.cos();
        }
        s.atan2(c).rem_euclid(tau) * l as f64 / tau
    };
    Some((centre(&|i| i / l), centre(&|i| i % l)))
}

/// The centre (row, column) of coarse site `s` (row-major on the (L/b)² coarse lattice): the
/// middle of its b×b block of fine sites, b·I + (b − 1)/2.
pub fn coarse_site_centre(s: usize, coarse: usize, b: usize) -> (f64, f64) {
    let half = (b as f64 - 1.0) / 2.0;
    (
        (s / coarse * b) as f64 + half,
        (s % coarse * b) as f64 + half,
    )
}

#[cfg(test)]
mod tests {
    use super::field_centre;

    #[test]
    fn the_circular_mean_centre_wraps_around_the_torus() {
        // Equal weight on columns 39 and 1 of row 0: the centre is column 0, not 20.
        let l = 40;
        let mut w = vec![0.0; l * l];
        w[39] = 1.0;
        w[1] = 1.0;
        let (y, x) = field_centre(&w, l).unwrap();
        assert!(
            y.abs() < 1e-9 && (x.min(40.0 - x)).abs() < 1e-9,
            "({y}, {x})"
        );
        assert!(field_centre(&vec![0.0; l * l], l).is_none());
    }
}
