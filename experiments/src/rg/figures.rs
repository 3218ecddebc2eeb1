//! The figures of an `rg` analysis: per layer, the lattice with each unit's half-maximum
//! region, its field centre and its assigned coarse site; and K_eff against depth.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::mcrg::{McrgRow, McrgTable};
use super::operators::Operator;
use super::report::{CoarseSpins, LayerMcrg, LayerRg, Outcome, RgReport};
use crate::plot::{
    Frame, Mark, Series, TickLabel, TickLabels, Ticks, colour, framed, framed_numbers, legend,
    legend_line, legend_strip, line_chart, render,
};
use ising_data::Estimate;

/// The critical coupling of the square lattice, ½ ln(1 + √2).
pub const K_C: f64 = 0.440_686_793_509_771_7;

/// The shortest displacement from `a` to `b` on a ring of circumference `l`.
fn wrap(a: f64, b: f64, l: f64) -> f64 {
    let d = (b - a).rem_euclid(l);
    if d > l / 2.0 { d - l } else { d }
}

/// The assignment picture of one layer: `fields` is the layer's receptive fields (`[L², n]`).
fn assignment_figure(layer: &LayerRg, l: usize, fields: &[f32]) -> Result<Vec<u8>> {
    let a = &layer.assignment;
    let units = layer.units;
    let lf = l as f64;
    let title = format!(
        "layer {}: {} units on the {}×{} coarse lattice (b = {}); mean displacement {:.2}",
        layer.layer, units, a.coarse_side, a.coarse_side, a.block_side, a.mean_displacement
    );
    let frame = Frame {
        caption: Some((&title, 20)),
        label_areas: (45, 60),
        x_desc: Some("column (lattice sites)"),
        y_desc: Some("row (lattice sites)"),
        label_size: 14,
        mesh: false,
    };
    render((820, 920), |root| {
        let e = |x: &dyn std::fmt::Display| anyhow!("{x}");
        let (plot, key) = root.split_vertically(870);
        legend_strip(
            &key,
            &[
                (Mark::Line(RGBColor(200, 200, 200), 1), "coarse blocks"),
                (Mark::Outline(colour(0)), "a unit's |field| ≥ ½ max"),
                (Mark::Dot(BLACK), "its field centre"),
                (Mark::Line(RED, 1), "to its assigned block"),
            ],
        )?;
        let sites = Ticks::new(0.0, lf, [0.0, lf]);
        let label = |x: &f64| sites.label(*x);
        let axis = (Some(sites.count), Some(&label as TickLabel<'_>));
        let ticks = TickLabels { x: axis, y: axis };
        let mut chart = framed_numbers(&plot, &frame, 0.0..lf, lf..0.0, ticks)?;
        let grey = RGBColor(200, 200, 200);
        for k in 0..=a.coarse_side {
            let t = (k * a.block_side) as f64;
            chart
                .draw_series([
                    PathElement::new(vec![(t, 0.0), (t, lf)], grey.stroke_width(1)),
                    PathElement::new(vec![(0.0, t), (lf, t)], grey.stroke_width(1)),
                ])
                .map_err(|x| e(&x))?;
        }
        for j in 0..units {
            let w: Vec<f64> = (0..l * l)
                .map(|i| (fields[i * units + j] as f64).abs())
                .collect();
            let peak = w.iter().cloned().fold(0.0, f64::max);
            let inside = |r: i64, c: i64| {
                (0..l as i64).contains(&r)
                    && (0..l as i64).contains(&c)
                    && w[r as usize * l + c as usize] >= 0.5 * peak
                    && peak > 0.0
            };
            let style = colour(j).mix(0.55).stroke_width(1);
            let mut edges = Vec::new();
            for r in 0..l as i64 {
                for c in 0..l as i64 {
                    if !inside(r, c) {
                        continue;
                    }
                    let (x, y) = (c as f64, r as f64);
                    if !inside(r - 1, c) {
                        edges.push(vec![(x, y), (x + 1.0, y)]);
                    }
                    if !inside(r + 1, c) {
                        edges.push(vec![(x, y + 1.0), (x + 1.0, y + 1.0)]);
                    }
                    if !inside(r, c - 1) {
                        edges.push(vec![(x, y), (x, y + 1.0)]);
                    }
                    if !inside(r, c + 1) {
                        edges.push(vec![(x + 1.0, y), (x + 1.0, y + 1.0)]);
                    }
                }
            }
            chart
                .draw_series(edges.into_iter().map(|p| PathElement::new(p, style)))
                .map_err(|x| e(&x))?;
        }
        for j in 0..units {
            let (cy, cx) = a.centres[j];
            let p = (cx + 0.5, cy + 0.5);
            let (sy, sx) =
                crate::torus::coarse_site_centre(a.site_of_unit[j], a.coarse_side, a.block_side);
            let q = (p.0 + wrap(cx, sx, lf), p.1 + wrap(cy, sy, lf));
            chart
                .draw_series([PathElement::new(vec![p, q], RED.stroke_width(1))])
                .map_err(|x| e(&x))?;
            chart
                .draw_series([Circle::new(p, 3, BLACK.filled())])
                .map_err(|x| e(&x))?;
        }
        Ok(())
    })
}

/// The effective Hamiltonian's K₁ and K₂ against depth (layer 0: the data), for the stack
/// and for majority-rule blocking.
fn couplings_figure(report: &RgReport) -> Result<Vec<u8>> {
    let series = |name: &str, operator: Operator, pick: &dyn Fn(&LayerRg) -> &CoarseSpins| {
        let mut spins = vec![(0.0, &report.data)];
        spins.extend(report.layers.iter().map(|l| (l.layer as f64, pick(l))));
        let fitted: Vec<(f64, Estimate)> = spins
            .iter()
            .filter_map(|(x, c)| Some((*x, c.hamiltonian.measured()?.coupling(operator)?)))
            .collect();
        Series::estimates(name, &fitted)
    };
    let depth = report.layers.len() as f64;
    line_chart(
        &format!(
            "effective couplings by layer (pseudo-likelihood; data: K = {}, L = {})",
            report.coupling, report.lattice_size
        ),
        "layer (0: data)",
        "coupling of the coarse spins' effective Hamiltonian",
        &[
            series("K₁ (nearest), RBM stack", Operator::Nearest, &|l| &l.rbm),
            series("K₁ (nearest), majority rule", Operator::Nearest, &|l| {
                &l.majority_rule
            }),
            series("K₂ (diagonal), RBM stack", Operator::Diagonal, &|l| {
                &l.rbm
            }),
            series("K₂ (diagonal), majority rule", Operator::Diagonal, &|l| {
                &l.majority_rule
            }),
            Series::new("K_c", vec![(0.0, K_C), (depth, K_C)]),
        ],
        false,
    )
}

/// `mcrg.png`: each layer's MCRG exponents, y_t with two even operators and y_h with one odd
/// one, for the stack and for majority rule, with the exact values.
fn mcrg_layers_figure(report: &RgReport) -> Result<Vec<u8>> {
    let series = |name: &str, pick: &dyn Fn(&LayerMcrg) -> &Outcome<McrgTable>, thermal: bool| {
        let picked: Vec<(f64, Estimate)> = report
            .layers
            .iter()
            .filter_map(|l| {
                let table = pick(l.mcrg.as_ref()?).measured()?;
                let (rows, n) = if thermal {
                    (&table.thermal, 2)
                } else {
                    (&table.magnetic, 1)
                };
                let row = rows.iter().find(|r| r.operators == n)?;
                Some((l.layer as f64, row.exponent))
            })
            .collect();
        Series::estimates(name, &picked)
    };
    let depth = report.layers.len() as f64;
    line_chart(
        &format!(
            "MCRG exponents of each layer's map (data: K = {}, L = {}; exact at K_c)",
            report.coupling, report.lattice_size
        ),
        "layer (its map: the layer below, or the data, to it)",
        "y = ln λ / ln b",
        &[
            // The exact values first, so that the measured lines are drawn over them.
            Series::new("exact y_t = 1", vec![(1.0, 1.0), (depth, 1.0)]),
            Series::new("exact y_h = 15/8", vec![(1.0, 1.875), (depth, 1.875)]),
            series("y_t (2 even operators), RBM stack", &|m| &m.stack, true),
            series(
                "y_t (2 even operators), majority rule",
                &|m| &m.majority_rule,
                true,
            ),
            series("y_h (1 odd operator), RBM stack", &|m| &m.stack, false),
            series(
                "y_h (1 odd operator), majority rule",
                &|m| &m.majority_rule,
                false,
            ),
        ],
        false,
    )
}

/// The PNG figures of `report` (`fields[l]`: layer l+1's receptive fields, `[L², n]`), named.
///
/// # Errors
/// If drawing fails.
pub fn figures(report: &RgReport, fields: &[Vec<f32>]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (layer, f) in report.layers.iter().zip(fields) {
        out.push((
            format!("layer{}_assignment.png", layer.layer),
            assignment_figure(layer, report.lattice_size, f)?,
        ));
    }
    out.push(("couplings.png".into(), couplings_figure(report)?));
    if report.layers.iter().any(|l| l.mcrg.is_some()) {
        out.push(("mcrg.png".into(), mcrg_layers_figure(report)?));
    }
    Ok(out)
}

/// One run's effective couplings by depth for [`flow_figures`]: entry 0 the data's K_eff on
/// the fine lattice, entry l layer l's (`None` where there is none).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRun {
    /// The data's coupling K (runs with equal K are averaged).
    pub coupling: f64,
    /// K_eff of the stack's sampled units by depth.
    pub stack: Vec<Option<f64>>,
    /// K_eff of majority-rule blocking by depth.
    pub majority: Vec<Option<f64>>,
}

/// The mean over runs of K_eff at each depth, per coupling (runs missing a value at a depth
/// leave it out there).
fn mean_by_coupling(
    runs: &[FlowRun],
    pick: impl Fn(&FlowRun) -> &Vec<Option<f64>>,
) -> Vec<(f64, Vec<Option<f64>>)> {
    let mut couplings: Vec<f64> = runs.iter().map(|r| r.coupling).collect();
    couplings.sort_by(f64::total_cmp);
    couplings.dedup();
    couplings
        .into_iter()
        .map(|k| {
            let group: Vec<&Vec<Option<f64>>> =
                runs.iter().filter(|r| r.coupling == k).map(&pick).collect();
            let depth = group.iter().map(|v| v.len()).max().unwrap_or(0);
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

/// The flow figures of a sweep across couplings: `flow.png`, K_eff(layer l + 1) against
/// K_eff(layer l) for the stack (solid, circles) and majority-rule blocking (thin, squares),
/// one colour per coupling, with the diagonal and K_c; and `k_eff_by_layer.png`, K_eff against
/// depth. Runs with equal coupling are averaged. With `connected`, the K_eff are those of
/// the connected G₁ and the files are `flow_connected.png` and `k_eff_by_layer_connected.png`.
///
/// # Errors
/// If there is nothing to draw or drawing fails.
pub fn flow_figures(runs: &[FlowRun], connected: bool) -> Result<Vec<(String, Vec<u8>)>> {
    let (suffix, what) = match connected {
        true => ("_connected", "K_eff of the connected G₁"),
        false => ("", "K_eff"),
    };
    let stack = mean_by_coupling(runs, |r| &r.stack);
    let majority = mean_by_coupling(runs, |r| &r.majority);
    let all: Vec<f64> = stack
        .iter()
        .chain(&majority)
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    if all.is_empty() {
        return Err(anyhow!("no effective couplings to draw"));
    }
    let hi = all.iter().cloned().fold(K_C, f64::max) * 1.08;
    let lo = all.iter().cloned().fold(K_C, f64::min).min(0.0);
    crate::plot::check_range(&format!("the flow of {what}"), lo, hi)?;
    let depth = stack.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
    let flow = flow_png(&stack, &majority, (lo, hi), what)?;
    let by_layer = by_layer_png(&stack, &majority, (lo, hi), depth, what)?;
    Ok(vec![
        (format!("flow{suffix}.png"), flow),
        (format!("k_eff_by_layer{suffix}.png"), by_layer),
    ])
}

/// Couplings by coupling of the data: (K, K_eff per depth, `None` where not measured).
type Flows = [(f64, Vec<Option<f64>>)];

/// `flow.png` of [`flow_figures`]: K_eff(l + 1) against K_eff(l) on `range` for both axes.
fn flow_png(stack: &Flows, majority: &Flows, range: (f64, f64), what: &str) -> Result<Vec<u8>> {
    let (lo, hi) = range;
    let e = |x: &dyn std::fmt::Display| anyhow!("{x}");
    let caption = format!("the flow of {what}: layer l+1 against layer l (0: data)");
    let frame = Frame {
        caption: Some((&caption, 22)),
        label_areas: (50, 70),
        ..Frame::new("", "K_eff at layer l", "K_eff at layer l + 1")
    };
    render((900, 820), |root| {
        let mut chart = framed(root, &frame, lo..hi, lo..hi)?;
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series([
                PathElement::new(vec![(lo, lo), (hi, hi)], grey.stroke_width(1)),
                PathElement::new(vec![(K_C, lo), (K_C, hi)], grey.stroke_width(1)),
                PathElement::new(vec![(lo, K_C), (hi, K_C)], grey.stroke_width(1)),
            ])
            .map_err(|x| e(&x))?;
        for (i, ((k, s), (_, m))) in stack.iter().zip(majority).enumerate() {
            let c = colour(i);
            let pairs = |v: &Vec<Option<f64>>| -> Vec<(f64, f64)> {
                v.windows(2).filter_map(|w| Some((w[0]?, w[1]?))).collect()
            };
            let (ps, pm) = (pairs(s), pairs(m));
            chart
                .draw_series(LineSeries::new(ps.clone(), c.stroke_width(2)))
                .map_err(|x| e(&x))?
                .label(format!("K = {k}: stack"))
                .legend(legend_line(c, 2));
            chart
                .draw_series(ps.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(LineSeries::new(pm.clone(), c.mix(0.6).stroke_width(1)))
                .map_err(|x| e(&x))?;
            chart
                .draw_series(pm.iter().map(|&p| {
                    Rectangle::new(
                        [
                            (p.0 - 0.004 * (hi - lo), p.1 - 0.004 * (hi - lo)),
                            (p.0 + 0.004 * (hi - lo), p.1 + 0.004 * (hi - lo)),
                        ],
                        c.mix(0.6).stroke_width(1),
                    )
                }))
                .map_err(|x| e(&x))?;
        }
        legend(&mut chart, 14, 0.8, Some(SeriesLabelPosition::UpperLeft))
    })
}

/// `k_eff_by_layer.png` of [`flow_figures`]: K_eff against depth (0 to `depth` − 1).
fn by_layer_png(
    stack: &Flows,
    majority: &Flows,
    range: (f64, f64),
    depth: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let (lo, hi) = range;
    let e = |x: &dyn std::fmt::Display| anyhow!("{x}");
    let caption = format!("{what} by layer: stack (solid) and majority rule (thin)");
    let frame = Frame {
        caption: Some((&caption, 22)),
        label_areas: (50, 70),
        ..Frame::new("", "layer (0: data)", "K_eff")
    };
    let (x0, x1) = (-0.25, depth as f64 - 0.75);
    let layers = Ticks::new(x0, x1, (0..depth).map(|d| d as f64));
    let label = |x: &f64| layers.label(*x);
    let ticks = TickLabels {
        x: (Some(layers.count), Some(&label)),
        ..TickLabels::default()
    };
    render((900, 620), |root| {
        let mut chart = framed_numbers(root, &frame, x0..x1, lo..hi, ticks)?;
        chart
            .draw_series([PathElement::new(
                vec![(x0, K_C), (x1, K_C)],
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

/// The MCRG convergence figures of `table` for the map called `map`: y_t and y_h against the
/// blocking level, one line per number of operators, the exact exponent as a line.
///
/// # Errors
/// If drawing fails.
pub fn mcrg_figures(table: &McrgTable, map: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let panel = |rows: &[McrgRow], exact: f64, name: &str, operators: &[Operator]| {
        let levels = rows.iter().map(|r| r.level).max().unwrap_or(1) as f64;
        let mut series: Vec<Series> = (1..=operators.len())
            .map(|n| {
                let picked: Vec<(f64, Estimate)> = rows
                    .iter()
                    .filter(|r| r.operators == n)
                    .map(|r| (r.level as f64, r.exponent))
                    .collect();
                let name = if n == 1 {
                    format!("1 operator: {}", operators[0].label())
                } else {
                    format!("{n} operators: … + {}", operators[n - 1].label())
                };
                Series::estimates(name, &picked)
            })
            .collect();
        // The exact value first, so that the measured lines are drawn over it.
        series.insert(
            0,
            Series::new(
                format!("exact {name} = {exact}"),
                vec![(1.0, exact), (levels, exact)],
            ),
        );
        line_chart(
            &format!(
                "MCRG of {map}: {name} by blocking level ({} configurations)",
                table.configurations
            ),
            "level (1: the data's first blocking)",
            name,
            &series,
            false,
        )
    };
    Ok(vec![
        (
            "mcrg_y_t.png".into(),
            panel(&table.thermal, 1.0, "y_t", &table.even_operators)?,
        ),
        (
            "mcrg_y_h.png".into(),
            panel(&table.magnetic, 1.875, "y_h", &table.odd_operators)?,
        ),
    ])
}
