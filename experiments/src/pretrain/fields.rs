//! Measures of the size and locality of learned receptive fields (Appendix B).

use serde::{Deserialize, Serialize};

/// Size and locality of receptive fields on the periodic L×L lattice.
///
/// Tested in `tests/field_measures.rs` on fields with known answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldMeasures {
    /// Median over units of the number of sites where |r| ≥ ½ max|r| (the field's area at half
    /// maximum; robust to the weak background every field has).
    pub half_max_area: f64,
    /// √(half_max_area / π): the radius of a disc of that area, in lattice spacings.
    pub half_max_radius: f64,
    /// Mean over units of the radius of gyration of |r| around its centre (torus distances),
    /// in lattice spacings. A field spread uniformly over the 40×40 torus has ≈ 16.3.
    pub radius_of_gyration: f64,
    /// Mean over units of the fraction of Σ|r| inside the b×b block around the field's centre,
    /// b = L/√(n_units) (the Kadanoff block of the layer: 2, 4, 8 for 400, 100, 25 units).
    pub block_fraction: f64,
    /// The block side b used.
    pub block_side: usize,
    /// The block fraction a uniform field would have, b²/L².
    pub uniform_block_fraction: f64,
}

/// Measures the receptive fields `r` (`[L², units]`, column j the field of unit j).
///
/// # Panics
/// If `r.len()` is not `l * l * units`.
pub fn field_measures(r: &[f32], l: usize, units: usize) -> FieldMeasures {
    assert_eq!(r.len(), l * l * units, "fields of wrong size");
    let block = ((l as f64) / (units as f64).sqrt()).round().max(1.0) as usize;
    let torus = |a: f64, b: f64| crate::torus::ring_distance(a, b, l as f64);
    let (mut rg_sum, mut frac_sum) = (0.0, 0.0);
    let mut areas = Vec::with_capacity(units);
    for j in 0..units {
        let w: Vec<f64> = (0..l * l)
            .map(|i| (r[i * units + j] as f64).abs())
            .collect();
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            continue;
        }
        let peak = w.iter().cloned().fold(0.0, f64::max);
        areas.push(w.iter().filter(|&&x| x >= 0.5 * peak).count() as f64);
        let (cy, cx) = crate::torus::field_centre(&w, l).expect("total > 0");
        // The b×b block of sites nearest the centre: rows (and columns) start, …, start+b−1.
        let start = |c: f64| {
            ((c - block as f64 / 2.0 + 0.5 + 1e-9).floor() as i64).rem_euclid(l as i64) as usize
        };
        let (y0, x0) = (start(cy), start(cx));
        let in_block = |coord: usize, first: usize| (coord + l - first) % l < block;
        let mut rg2 = 0.0;
        let mut inside = 0.0;
        for (i, wi) in w.iter().enumerate() {
            let (dy, dx) = (torus((i / l) as f64, cy), torus((i % l) as f64, cx));
            rg2 += wi * (dy * dy + dx * dx);
            if in_block(i / l, y0) && in_block(i % l, x0) {
                inside += wi;
            }
        }
        rg_sum += (rg2 / total).sqrt();
        frac_sum += inside / total;
    }
    areas.sort_by(f64::total_cmp);
    let half_max_area = match areas.len() {
        0 => 0.0,
        n if n % 2 == 1 => areas[n / 2],
        n => 0.5 * (areas[n / 2 - 1] + areas[n / 2]),
    };
    FieldMeasures {
        half_max_area,
        half_max_radius: (half_max_area / std::f64::consts::PI).sqrt(),
        radius_of_gyration: rg_sum / units as f64,
        block_fraction: frac_sum / units as f64,
        block_side: block,
        uniform_block_fraction: (block * block) as f64 / (l * l) as f64,
    }
}

/// The measures of one layer's receptive fields.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LayerFields {
    /// 1-based layer.
    pub layer: usize,
    /// Number of hidden units (fields).
    pub units: usize,
    /// The measures.
    #[serde(flatten)]
    pub measures: FieldMeasures,
}
