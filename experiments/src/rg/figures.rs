//! The figures of an `rg` analysis: per layer, the lattice with each unit's half-maximum
//! region, its field centre and its assigned coarse site; and K_eff against depth.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::mcrg::{McrgRow, McrgTable};
use super::operators::Operator;
use super::report::{CoarseSpins, LayerMcrg, LayerRg, Outcome, RgReport};
use crate::plot::{
    Frame, Mark, Series, TickLabel, TickLabels, Ticks, colour, framed_numbers, legend_strip,
    line_chart, render,
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
        out.extend(mcrg_operator_figures(report)?);
    }
    Ok(out)
}

/// An MCRG convergence chart: the exponent `name` of `rows` against the blocking level, one
/// line per number of operators (the first of `operators`), the exact value as a line.
fn convergence_png(
    rows: &[McrgRow],
    (name, exact): (&str, f64),
    operators: &[Operator],
    title: &str,
    x_label: &str,
) -> Result<Vec<u8>> {
    let first = rows.iter().map(|r| r.level).min().unwrap_or(1) as f64;
    let last = rows.iter().map(|r| r.level).max().unwrap_or(1) as f64;
    // The exact value first, so that the measured lines are drawn over it.
    let mut series = vec![Series::new(
        format!("exact {name} = {exact}"),
        vec![(first, exact), (last, exact)],
    )];
    series.extend((1..=operators.len()).map(|n| {
        let picked: Vec<(f64, Estimate)> = rows
            .iter()
            .filter(|r| r.operators == n)
            .map(|r| (r.level as f64, r.exponent))
            .collect();
        let label = match n {
            1 => format!("1 operator: {}", operators[0].label()),
            _ => format!("{n} operators: … + {}", operators[n - 1].label()),
        };
        Series::estimates(label, &picked)
    }));
    line_chart(title, x_label, name, &series, false)
}

/// The MCRG convergence figures of `table` for the map called `map`: y_t and y_h against the
/// blocking level, one line per number of operators, the exact exponent as a line.
///
/// # Errors
/// If drawing fails.
pub fn mcrg_figures(table: &McrgTable, map: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let title = |name: &str| {
        format!(
            "MCRG of {map}: {name} by blocking level ({} configurations)",
            table.configurations
        )
    };
    let x_label = "level (1: the data's first blocking)";
    Ok(vec![
        (
            "mcrg_y_t.png".into(),
            convergence_png(
                &table.thermal,
                ("y_t", 1.0),
                &table.even_operators,
                &title("y_t"),
                x_label,
            )?,
        ),
        (
            "mcrg_y_h.png".into(),
            convergence_png(
                &table.magnetic,
                ("y_h", 1.875),
                &table.odd_operators,
                &title("y_h"),
                x_label,
            )?,
        ),
    ])
}

/// One map's MCRG table of a layer.
type PickTable = fn(&LayerMcrg) -> &Outcome<McrgTable>;

/// Each map's MCRG convergence over the layers of `report`: for the stack and for majority
/// rule, y_t and y_h against the layer, one line per number of operators
/// (`mcrg_stack_y_t.png`, `mcrg_stack_y_h.png`, `mcrg_majority_y_t.png`,
/// `mcrg_majority_y_h.png`); none where no layer has a table.
fn mcrg_operator_figures(report: &RgReport) -> Result<Vec<(String, Vec<u8>)>> {
    let maps: [(&str, &str, PickTable); 2] = [
        ("stack", "the RBM stack", |m| &m.stack),
        ("majority", "majority rule", |m| &m.majority_rule),
    ];
    let mut out = Vec::new();
    for (file, map, pick) in maps {
        let tables: Vec<&McrgTable> = report
            .layers
            .iter()
            .filter_map(|l| pick(l.mcrg.as_ref()?).measured())
            .collect();
        let Some(first) = tables.first() else {
            continue;
        };
        let rows = |thermal: bool| -> Vec<McrgRow> {
            let pick = |t: &&McrgTable| {
                if thermal {
                    t.thermal.clone()
                } else {
                    t.magnetic.clone()
                }
            };
            tables.iter().flat_map(pick).collect()
        };
        for (name, exact, thermal, operators) in [
            ("y_t", 1.0, true, &first.even_operators),
            ("y_h", 1.875, false, &first.odd_operators),
        ] {
            let rows = rows(thermal);
            let title = format!(
                "MCRG of each layer's map, {map}: {name} by operators (data: K = {}, L = {})",
                report.coupling, report.lattice_size
            );
            let x_label = "layer (its map: the layer below, or the data, to it)";
            let png = convergence_png(&rows, (name, exact), operators, &title, x_label)?;
            out.push((format!("mcrg_{file}_{name}.png"), png));
        }
    }
    Ok(out)
}
