//! What a line chart's axes and legend need to be read: tick labels with the decimals their
//! spacing needs (never `0.30000000000000004`), integer ticks on an axis that counts (epochs,
//! layers), and the legend in the corner of the plot with the fewest points under it.

use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::SeriesLabelPosition;

/// How a linear axis over `lo..hi` labels its ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ticks {
    /// At most this many ticks.
    pub count: usize,
    /// Decimals of each label.
    pub decimals: usize,
}

impl Ticks {
    /// The ticks of an axis over `lo..hi` showing `values`: when every value is an integer
    /// (an axis that counts), integer ticks at least 1 apart; otherwise about ten ticks. The
    /// decimals are those of the spacing plotters picks (1, 2 or 5 times a power of ten).
    pub fn new(lo: f64, hi: f64, values: impl IntoIterator<Item = f64>) -> Self {
        let counts = values.into_iter().all(|v| !v.is_finite() || v == v.round());
        let count = match counts {
            true => ((hi - lo).floor() as usize + 1).clamp(2, 11),
            false => 10,
        };
        let points = RangedCoordf64::from(lo..hi).key_points(count);
        let step = points
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::INFINITY, f64::min);
        let decimals = match step.is_finite() && step > 0.0 {
            true => (-(step.log10() + 1e-9).floor()).clamp(0.0, 12.0) as usize,
            false => 0,
        };
        Self { count, decimals }
    }

    /// The label of the tick at `v`.
    pub fn label(&self, v: f64) -> String {
        let text = format!("{v:.*}", self.decimals);
        // "-0" and "-0.00" are 0.
        match text
            .trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            true => text.trim_start_matches('-').to_string(),
            false => text,
        }
    }
}

/// The label of a tick at `v` on a logarithmic axis: decimals down to 10⁻³, powers of ten
/// (`1e-5`) beyond, and beyond 10⁵.
pub fn log_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exponent = v.abs().log10().floor();
    match exponent {
        e if !(-3.0..=5.0).contains(&e) => format!("{v:.0e}"),
        e => format!("{v:.*}", (-e).max(0.0) as usize),
    }
}

/// The ticks of a logarithmic axis over `lo..hi` (both positive): 1, 2 and 5 times the
/// powers of ten inside it, or every digit times them where that gives fewer than four.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let ticks = |mantissas: &[f64]| -> Vec<f64> {
        let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (first..=last)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let coarse = ticks(&[1.0, 2.0, 5.0]);
    match coarse.len() {
        n if n >= 4 => coarse,
        _ => ticks(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
    }
}

/// Where on the plot over `x` × `y` the legend, a box of `size` (fractions of the plot's
/// width and height), covers least of `lines` (each a polyline, sampled along its segments):
/// of the four corners and the middles of the four sides, the first with the least, corners
/// first, the upper right first of all.
pub fn legend_corner(
    lines: &[Vec<(f64, f64)>],
    x: (f64, f64),
    y: (f64, f64),
    size: (f64, f64),
) -> SeriesLabelPosition {
    legend_place(lines, x, y, size).0
}

/// The legend's place as [`legend_corner`] chooses it, and a y range that keeps it clear of
/// `lines`: `y` itself where some place covers none of them, else `y` raised at the top by
/// the legend's height, which leaves the upper corners free.
pub fn legend_room(
    lines: &[Vec<(f64, f64)>],
    x: (f64, f64),
    y: (f64, f64),
    size: (f64, f64),
) -> (SeriesLabelPosition, (f64, f64)) {
    let (place, covered) = legend_place(lines, x, y, size);
    if covered == 0 {
        return (place, y);
    }
    let room = size.1.min(0.8) + 0.03;
    let raised = (y.0, y.1 + (y.1 - y.0) * room / (1.0 - room));
    (legend_place(lines, x, raised, size).0, raised)
}

/// [`legend_corner`]'s choice and the number of line samples its box covers.
fn legend_place(
    lines: &[Vec<(f64, f64)>],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    (width, height): (f64, f64),
) -> (SeriesLabelPosition, usize) {
    use SeriesLabelPosition as P;
    // Each place: its position and the box's fractions [left, right] × [bottom, top].
    let (w, h) = (width.min(1.0), height.min(1.0));
    let (mid_x, mid_y) = ((1.0 - w) / 2.0, (1.0 - h) / 2.0);
    let places = [
        (P::UpperRight, (1.0 - w, 1.0), (1.0 - h, 1.0)),
        (P::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (P::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (P::LowerLeft, (0.0, w), (0.0, h)),
        (P::MiddleRight, (1.0 - w, 1.0), (mid_y, mid_y + h)),
        (P::MiddleLeft, (0.0, w), (mid_y, mid_y + h)),
        (P::UpperMiddle, (mid_x, mid_x + w), (1.0 - h, 1.0)),
        (P::LowerMiddle, (mid_x, mid_x + w), (0.0, h)),
    ];
    let samples: Vec<(f64, f64)> = lines
        .iter()
        .flat_map(|line| sampled(line))
        .map(|(x, y)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)))
        .collect();
    let covered = |(l, r): (f64, f64), (b, t): (f64, f64)| {
        samples
            .iter()
            .filter(|(fx, fy)| (l..=r).contains(fx) && (b..=t).contains(fy))
            .count()
    };
    places
        .into_iter()
        .map(|(p, xs, ys)| (p, covered(xs, ys)))
        .min_by_key(|&(_, n)| n)
        .unwrap_or((P::UpperRight, 0))
}

/// The points of `line` and 16 more along each of its segments.
fn sampled(line: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = line.to_vec();
    for w in line.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        out.extend((1..=16).map(|i| {
            let t = f64::from(i) / 17.0;
            (ax + t * (bx - ax), ay + t * (by - ay))
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_axis_that_counts_has_integer_ticks() {
        // Layers 1 to 3 (padded): ticks 1, 2, 3, labelled without decimals.
        let t = Ticks::new(0.75, 3.25, [1.0, 2.0, 3.0]);
        assert_eq!(t.decimals, 0);
        let points = RangedCoordf64::from(0.75..3.25).key_points(t.count);
        assert_eq!(points, vec![1.0, 2.0, 3.0]);
        // Epochs 1 to 200: ticks every 20 (at most 11), no ".0".
        let t = Ticks::new(1.0, 200.0, (1..=200).map(f64::from));
        assert_eq!((t.count, t.decimals), (11, 0));
        assert_eq!(t.label(40.0), "40");
    }

    #[test]
    fn decimals_follow_the_spacing() {
        let t = Ticks::new(0.0004, 0.0011, [0.0004, 0.0011]);
        assert_eq!(t.decimals, 4, "ticks 0.0001 apart");
        assert_eq!(t.label(0.1 + 0.2 - 0.3 + 0.0004), "0.0004");
        let t = Ticks::new(-1.0, 1.0, [-0.5, 0.5]);
        assert_eq!(t.decimals, 1);
        assert_eq!(t.label(-0.0), "0.0");
        assert_eq!(Ticks::new(0.0, 4000.0, [0.5]).decimals, 0);
    }

    #[test]
    fn log_labels_switch_to_powers_of_ten_far_from_one() {
        assert_eq!(log_label(0.01), "0.01");
        assert_eq!(log_label(100.0), "100");
        assert_eq!(log_label(1e-5), "1e-5");
        assert_eq!(log_label(1e7), "1e7");
    }

    #[test]
    fn log_ticks_are_one_two_five_or_every_digit_on_a_short_axis() {
        let t = log_ticks(0.02, 0.4);
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(
            (t[0] - 0.02).abs() < 1e-15 && (t[3] - 0.2).abs() < 1e-15,
            "{t:?}"
        );
        let t = log_ticks(0.03, 0.09);
        assert_eq!(t.len(), 7, "{t:?}: 0.03 to 0.09");
        let t = log_ticks(1e-4, 10.0);
        assert_eq!(t.len(), 16, "{t:?}: 1, 2, 5 in five decades, and 10");
    }

    #[test]
    fn the_legend_goes_where_the_lines_are_not() {
        let unit = ((0.0, 10.0), (0.0, 10.0), (0.3, 0.3));
        let place = |lines: &[Vec<(f64, f64)>]| legend_corner(lines, unit.0, unit.1, unit.2);
        // A line falling from the upper left to the lower right leaves the upper right free.
        assert_eq!(
            place(&[vec![(0.0, 10.0), (10.0, 0.0)]]),
            SeriesLabelPosition::UpperRight
        );
        // A rising line: the upper left is free (its segment crosses the upper right).
        assert_eq!(
            place(&[vec![(0.0, 0.0), (10.0, 10.0)]]),
            SeriesLabelPosition::UpperLeft
        );
        // Lines along the top and the bottom: the middle of the right side.
        let top_and_bottom = [vec![(0.0, 9.5), (10.0, 9.0)], vec![(0.0, 0.5), (10.0, 1.0)]];
        assert_eq!(place(&top_and_bottom), SeriesLabelPosition::MiddleRight);
        // Room is made only where it is needed: here the range stays.
        let (p, y) = legend_room(&top_and_bottom, unit.0, unit.1, unit.2);
        assert_eq!((p, y), (SeriesLabelPosition::MiddleRight, unit.1));
    }

    #[test]
    fn a_legend_with_no_free_place_gets_room_above_the_lines() {
        // Lines along the top, the middle and the bottom cover every place of a box of
        // 0.3 × 0.3; the range is raised at the top until the upper right is free.
        let lines = [
            vec![(0.0, 9.5), (10.0, 9.5)],
            vec![(0.0, 5.0), (10.0, 5.0)],
            vec![(0.0, 0.5), (10.0, 0.5)],
        ];
        let size = (0.3, 0.3);
        let (p, (y0, y1)) = legend_room(&lines, (0.0, 10.0), (0.0, 10.0), size);
        assert_eq!(p, SeriesLabelPosition::UpperRight);
        assert_eq!(y0, 0.0);
        // The top line sits below the legend's box: 9.5 < y1 (1 − 0.3).
        assert!(9.5 < y1 * (1.0 - size.1), "y1 = {y1}");
        assert!(
            y1 < 20.0,
            "raised by about the legend's height, not more: {y1}"
        );
    }
}
