//! The flow of a sweep across couplings: each run's coarse-spin couplings by depth (K_eff of
//! G₁ and of the connected G₁; the fitted effective Hamiltonian's K₁, K₂ and K₄) for the
//! stack and for majority rule, and the figures that draw them.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::figures::K_C;
use super::operators::Operator;
use super::report::{CoarseSpins, LayerRg, RgReport};
use crate::plot::{
    Frame, TickLabels, Ticks, colour, framed, framed_numbers, legend, legend_line, render,
};

/// A measure of the coarse spins' couplings that the flow follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowMeasure {
    /// K_eff: the nearest-neighbour Ising coupling with the coarse spins' G₁.
    KEff,
    /// K_eff of the connected, Pearson-normalised G₁.
    KEffConnected,
    /// The fitted effective Hamiltonian's nearest-neighbour coupling K₁.
    K1,
    /// Its diagonal coupling K₂.
    K2,
    /// Its plaquette coupling K₄.
    K4,
}

impl FlowMeasure {
    /// Every measure, in the order of the figures.
    pub const ALL: [Self; 5] = [
        Self::KEff,
        Self::KEffConnected,
        Self::K1,
        Self::K2,
        Self::K4,
    ];

    /// The measure of coarse spins `c` (`None` where it was not measured).
    fn of(self, c: &CoarseSpins) -> Option<f64> {
        let fitted = |operator| Some(c.hamiltonian.measured()?.coupling(operator)?.value);
        match self {
            Self::KEff => c.coupling.k_eff,
            Self::KEffConnected => c.coupling_connected.k_eff,
            Self::K1 => fitted(Operator::Nearest),
            Self::K2 => fitted(Operator::Diagonal),
            Self::K4 => fitted(Operator::Plaquette),
        }
    }

    /// Its name in the figures.
    fn label(self) -> &'static str {
        match self {
            Self::KEff => "K_eff",
            Self::KEffConnected => "K_eff of the connected G₁",
            Self::K1 => "K₁ (fitted, nearest neighbours)",
            Self::K2 => "K₂ (fitted, diagonal)",
            Self::K4 => "K₄ (fitted, plaquette)",
        }
    }

    /// Whether it is a nearest-neighbour coupling, with K_c as its reference.
    fn nearest(self) -> bool {
        !matches!(self, Self::K2 | Self::K4)
    }

    /// Its figures' files: the flow (layer l + 1 against layer l), drawn for the
    /// nearest-neighbour couplings only, and the measure against depth.
    fn files(self) -> (Option<&'static str>, &'static str) {
        match self {
            Self::KEff => (Some("flow.png"), "k_eff_by_layer.png"),
            Self::KEffConnected => (Some("flow_connected.png"), "k_eff_by_layer_connected.png"),
            Self::K1 => (Some("flow_k1.png"), "flow_k1_by_layer.png"),
            Self::K2 => (None, "flow_k2_by_layer.png"),
            Self::K4 => (None, "flow_k4_by_layer.png"),
        }
    }
}

/// One measure by depth (entry 0: the data on the fine lattice; `null` where not measured).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowPair {
    /// Of the stack's sampled units.
    pub stack: Vec<Option<f64>>,
    /// Of majority-rule blocking at the same block sides.
    pub majority: Vec<Option<f64>>,
}

/// One run's flow: the data's coupling and each measure by depth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RgFlow {
    /// The data's coupling K.
    pub coupling: f64,
    /// Each measure's values by depth.
    pub measures: BTreeMap<FlowMeasure, FlowPair>,
}

impl RgFlow {
    /// The flow of one run's `rg.json`.
    pub fn from_report(rg: &RgReport) -> Self {
        let measures = FlowMeasure::ALL
            .into_iter()
            .map(|m| {
                let by_depth = |pick: fn(&LayerRg) -> &CoarseSpins| {
                    std::iter::once(m.of(&rg.data))
                        .chain(rg.layers.iter().map(|l| m.of(pick(l))))
                        .collect()
                };
                let pair = FlowPair {
                    stack: by_depth(|l| &l.rbm),
                    majority: by_depth(|l| &l.majority_rule),
                };
                (m, pair)
            })
            .collect();
        Self {
            coupling: rg.coupling,
            measures,
        }
    }

    /// `measure` by depth, of the stack or of majority rule (empty where there is none).
    fn values(&self, measure: FlowMeasure, stack: bool) -> Vec<Option<f64>> {
        self.measures
            .get(&measure)
            .map(|p| match stack {
                true => p.stack.clone(),
                false => p.majority.clone(),
            })
            .unwrap_or_default()
    }
}

/// Values by coupling of the data: (K, values per depth, `None` where not measured).
type Flows = [(f64, Vec<Option<f64>>)];

/// The mean over runs of `measure` at each depth, per coupling (runs missing a value at a
/// depth leave it out there).
fn mean_by_coupling(
    runs: &[RgFlow],
    measure: FlowMeasure,
    stack: bool,
) -> Vec<(f64, Vec<Option<f64>>)> {
    let mut couplings: Vec<f64> = runs.iter().map(|r| r.coupling).collect();
    couplings.sort_by(f64::total_cmp);
    couplings.dedup();
    couplings
        .into_iter()
        .map(|k| {
            let group: Vec<Vec<Option<f64>>> = runs
                .iter()
                .filter(|r| r.coupling == k)
                .map(|r| r.values(measure, stack))
                .collect();
            let depth = group.iter().map(Vec::len).max().unwrap_or(0);
            let means = (0..depth)
                .map(|d| {
                    let v: Vec<f64> = group
                        .iter()
                        .filter_map(|g| g.get(d).copied().flatten())
                        .collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            (k, means)
        })
        .collect()
}

/// The flow figures of a sweep across couplings, runs with equal coupling averaged, the stack
/// solid with circles and majority rule thin with squares, one colour per coupling:
/// - for K_eff, the connected K_eff and the fitted K₁: the measure at layer l + 1 against
///   layer l, with the diagonal and K_c (`flow.png`, `flow_connected.png`, `flow_k1.png`);
/// - for each measure, the measure against depth (`k_eff_by_layer.png`,
///   `k_eff_by_layer_connected.png`, `flow_k1_by_layer.png`, `flow_k2_by_layer.png`,
///   `flow_k4_by_layer.png`);
/// - `flow_k1_k2.png`: the path in the (K₁, K₂) plane from the data through the layers.
///
/// Measures that no run has are left out.
///
/// # Errors
/// If there is nothing to draw or drawing fails.
pub fn flow_figures(runs: &[RgFlow]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for measure in FlowMeasure::ALL {
        let stack = mean_by_coupling(runs, measure, true);
        let majority = mean_by_coupling(runs, measure, false);
        let all: Vec<f64> = stack
            .iter()
            .chain(&majority)
            .flat_map(|(_, v)| v.iter().flatten().copied())
            .collect();
        if all.is_empty() {
            continue;
        }
        let range = axis_range(&all, measure.nearest());
        crate::plot::check_range(
            &format!("the flow of {}", measure.label()),
            range.0,
            range.1,
        )?;
        let (flow, by_layer) = measure.files();
        if let Some(name) = flow {
            out.push((
                name.to_string(),
                flow_png(&stack, &majority, range, measure)?,
            ));
        }
        let png = by_layer_png(&stack, &majority, range, measure)?;
        out.push((by_layer.to_string(), png));
    }
    if let Some(png) = plane_png(runs)? {
        out.push(("flow_k1_k2.png".to_string(), png));
    }
    if out.is_empty() {
        return Err(anyhow!("no effective couplings to draw"));
    }
    Ok(out)
}

/// An axis range for `values`: from 0 (or below) to above them, and to above K_c for a
/// nearest-neighbour coupling.
fn axis_range(values: &[f64], nearest: bool) -> (f64, f64) {
    let floor = if nearest { K_C } else { 0.0 };
    let hi = values.iter().cloned().fold(floor, f64::max);
    let lo = values.iter().cloned().fold(0.0, f64::min);
    let pad = 0.08 * (hi - lo).max(1e-3);
    (if lo < 0.0 { lo - pad } else { lo }, hi + pad)
}

/// The paths of one coupling of the data: its legend label, the stack's points and
/// majority rule's.
struct Paths {
    label: String,
    stack: Vec<(f64, f64)>,
    majority: Vec<(f64, f64)>,
}

/// A chart of paths, one per coupling: the stack's solid with circles, majority rule's thin
/// with squares, over grey guide lines.
fn paths_png(
    frame: &Frame<'_>,
    (x, y): ((f64, f64), (f64, f64)),
    guides: Vec<Vec<(f64, f64)>>,
    paths: &[Paths],
) -> Result<Vec<u8>> {
    let e = |x: &dyn std::fmt::Display| anyhow!("{x}");
    let half = (0.004 * (x.1 - x.0), 0.004 * (y.1 - y.0));
    render((900, 820), |root| {
        let mut chart = framed(root, frame, x.0..x.1, y.0..y.1)?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(
                guides
                    .into_iter()
                    .map(|g| PathElement::new(g, grey.stroke_width(1))),
            )
            .map_err(|x| e(&x))?;
        for (i, p) in paths.iter().enumerate() {
            let c = colour(i);
            chart
                .draw_series(LineSeries::new(p.stack.clone(), c.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(p.label.clone())
                .legend(legend_line(c, 2));
            chart
                .draw_series(p.stack.iter().map(|&q| Circle::new(q, 4, c.filled())))
                .map_err(|x| e(&x))?;
            let thin = c.mix(0.6).stroke_width(1);
            chart
                .draw_series(LineSeries::new(p.majority.clone(), thin))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(p.majority.iter().map(|&(a, b)| {
                    Rectangle::new([(a - half.0, b - half.1), (a + half.0, b + half.1)], thin)
                }))
                .map_err(|x| e(&x))?;
        }
        legend(&mut chart, 14, 0.8, Some(SeriesLabelPosition::UpperLeft))
    })
}

/// The flow of a nearest-neighbour coupling: its value at layer l + 1 against layer l on
/// `range` for both axes, with the diagonal and K_c.
fn flow_png(
    stack: &Flows,
    majority: &Flows,
    range: (f64, f64),
    measure: FlowMeasure,
) -> Result<Vec<u8>> {
    let (lo, hi) = range;
    let what = measure.label();
    let caption = format!("the flow of {what}: layer l+1 against l (0: data); majority rule thin");
    let (x_desc, y_desc) = (
        format!("{what} at layer l"),
        format!("{what} at layer l + 1"),
    );
    let frame = Frame {
        caption: Some((&caption, 22)),
        label_areas: (50, 70),
        ..Frame::new("", &x_desc, &y_desc)
    };
    let pairs = |v: &Vec<Option<f64>>| -> Vec<(f64, f64)> {
        v.windows(2).filter_map(|w| Some((w[0]?, w[1]?))).collect()
    };
    let paths: Vec<Paths> = stack
        .iter()
        .zip(majority)
        .map(|((k, s), (_, m))| Paths {
            label: format!("K = {k}"),
            stack: pairs(s),
            majority: pairs(m),
        })
        .collect();
    let guides = vec![
        vec![(lo, lo), (hi, hi)],
        vec![(K_C, lo), (K_C, hi)],
        vec![(lo, K_C), (hi, K_C)],
    ];
    paths_png(&frame, ((lo, hi), (lo, hi)), guides, &paths)
}

/// `flow_k1_k2.png`: each coupling's path in the (K₁, K₂) plane from the data (layer 0)
/// through the layers; `None` where no run has both couplings.
fn plane_png(runs: &[RgFlow]) -> Result<Option<Vec<u8>>> {
    let joined = |stack: bool| -> Vec<(f64, Vec<(f64, f64)>)> {
        let k1 = mean_by_coupling(runs, FlowMeasure::K1, stack);
        let k2 = mean_by_coupling(runs, FlowMeasure::K2, stack);
        k1.into_iter()
            .zip(k2)
            .map(|((k, a), (_, b))| {
                let points = a.iter().zip(&b).filter_map(|(x, y)| Some(((*x)?, (*y)?)));
                (k, points.collect())
            })
            .collect()
    };
    let (stack, majority) = (joined(true), joined(false));
    let points: Vec<(f64, f64)> = stack
        .iter()
        .chain(&majority)
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    if points.is_empty() {
        return Ok(None);
    }
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let (x, y) = (axis_range(&xs, true), axis_range(&ys, false));
    crate::plot::check_range("the flow in the (K₁, K₂) plane", x.0, x.1)?;
    crate::plot::check_range("the flow in the (K₁, K₂) plane", y.0, y.1)?;
    let caption =
        "the flow in the (K₁, K₂) plane, data (K₂ = 0) to the top layer; majority rule thin";
    let frame = Frame {
        caption: Some((caption, 22)),
        label_areas: (50, 70),
        ..Frame::new(
            "",
            "K₁ (fitted, nearest neighbours)",
            "K₂ (fitted, diagonal)",
        )
    };
    let paths: Vec<Paths> = stack
        .into_iter()
        .zip(majority)
        .map(|((k, s), (_, m))| Paths {
            label: format!("K = {k}"),
            stack: s,
            majority: m,
        })
        .collect();
    let guides = vec![vec![(K_C, y.0), (K_C, y.1)], vec![(x.0, 0.0), (x.1, 0.0)]];
    paths_png(&frame, (x, y), guides, &paths).map(Some)
}

/// A measure against depth (0 to the deepest layer), with K_c for a nearest-neighbour
/// coupling and 0 for the others.
fn by_layer_png(
    stack: &Flows,
    majority: &Flows,
    (lo, hi): (f64, f64),
    measure: FlowMeasure,
) -> Result<Vec<u8>> {
    let what = measure.label();
    let e = |x: &dyn std::fmt::Display| anyhow!("{x}");
    let caption = format!("{what} by layer: stack (solid) and majority rule (thin)");
    let frame = Frame {
        caption: Some((&caption, 22)),
        label_areas: (50, 70),
        ..Frame::new("", "layer (0: data)", what)
    };
    let depth = stack.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
    let (x0, x1) = (-0.25, depth as f64 - 0.75);
    let layers = Ticks::new(x0, x1, (0..depth).map(|d| d as f64));
    let label = |x: &f64| layers.label(*x);
    let ticks = TickLabels {
        x: (Some(layers.count), Some(&label)),
        ..TickLabels::default()
    };
    let reference = if measure.nearest() { K_C } else { 0.0 };
    render((900, 620), |root| {
        let mut chart = framed_numbers(root, &frame, x0..x1, lo..hi, ticks)?;
        chart
            .draw_series([PathElement::new(
                vec![(x0, reference), (x1, reference)],
                RGBColor(150, 150, 150).stroke_width(1),
            )])
            .map_err(|x| e(&x))?;
        for (i, ((k, s), (_, m))) in stack.iter().zip(majority).enumerate() {
            let c = colour(i);
            let points = |v: &Vec<Option<f64>>| -> Vec<(f64, f64)> {
                v.iter()
                    .enumerate()
                    .filter_map(|(d, k)| Some((d as f64, (*k)?)))
                    .collect()
            };
            let (ps, pm) = (points(s), points(m));
            chart
                .draw_series(LineSeries::new(ps.clone(), c.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(format!("K = {k}"))
                .legend(legend_line(c, 2));
            chart
                .draw_series(ps.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(LineSeries::new(pm, c.mix(0.6).stroke_width(1)))
                .map_err(|x| e(&x))?;
        }
        legend(&mut chart, 14, 0.8, Some(SeriesLabelPosition::UpperLeft))
    })
}
