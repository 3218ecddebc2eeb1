//! The flow's figure.

use anyhow::Result;

use super::options::critical_temperature;
use super::readout::TemperatureFit;
use super::report::IsyReport;

/// T_fit as text: "2.271 ± 0.012", "0", "∞", or, when K_fit is within two standard errors of
/// 0, "≈ ∞ (K_fit 0.0016 ± 0.0022)".
pub fn format_temperature(fit: &TemperatureFit) -> String {
    match (fit.temperature_fit, fit.coupling_fit) {
        (Some(t), _) if t.value == 0.0 => "0".into(),
        (_, Some(k)) if k.value <= 2.0 * k.std_error => {
            format!("≈ ∞ (K_fit {:.4} ± {:.4})", k.value, k.std_error)
        }
        (Some(t), _) => format!("{:.3} ± {:.3}", t.value, t.std_error),
        (None, _) => "∞".into(),
    }
}

/// One line of the figure: a label, (iteration, value, error) points, a colour index and
/// whether it is dashed (the control).
pub(super) struct Line {
    name: String,
    points: Vec<(f64, f64, f64)>,
    colour: usize,
    dashed: bool,
}

/// The lines of [`flow_figure`]'s two panels, T_fit (points above `t_max` or without a
/// finite T_fit left out and counted in the name) and mean |m|, one per model and start.
pub(super) fn flow_lines(report: &IsyReport, t_max: f64) -> (Vec<Line>, Vec<Line>) {
    let mut t_lines = Vec::new();
    let mut m_lines = Vec::new();
    for (m, model) in report.models.iter().enumerate() {
        for (s, flow) in model.flows.iter().enumerate() {
            let label = match model.name.as_str() {
                "all" => "all T".to_string(),
                _ => format!("T ≤ {} only", report.options.control_max_t),
            };
            let name = format!("{label}, from {}", flow.start.label());
            let mut hidden = 0;
            let mut points = Vec::new();
            for p in &flow.points {
                match p.readout.fit.temperature_fit {
                    Some(t) if t.value <= t_max => {
                        points.push((p.iteration as f64, t.value, t.std_error))
                    }
                    _ => hidden += 1,
                }
            }
            let colour = 2 * m + s;
            let dashed = m > 0;
            t_lines.push(Line {
                name: if hidden > 0 {
                    format!("{name} ({hidden} off scale)")
                } else {
                    name.clone()
                },
                points,
                colour,
                dashed,
            });
            m_lines.push(Line {
                name,
                points: flow
                    .points
                    .iter()
                    .map(|p| {
                        let a = p.readout.abs_magnetization;
                        (p.iteration as f64, a.value, a.std_error)
                    })
                    .collect(),
                colour,
                dashed,
            });
        }
    }
    (t_lines, m_lines)
}

/// The figure: T_fit (left) and ⟨|m|⟩ (right) of the flowed configurations against the
/// iteration, both starts of both models (the control dashed), with T_c as a horizontal
/// line. The T axis ends at the hottest training temperature plus ½: points above it
/// (the random start's first steps) and points without a finite T_fit (T = ∞) are left out,
/// and the legend says how many. Returns PNG bytes.
///
/// # Errors
/// If drawing fails.
pub fn flow_figure(report: &IsyReport) -> Result<Vec<u8>> {
    use crate::plot::{Frame, TickLabel, TickLabels, Ticks, framed_numbers, legend, legend_line};
    use plotters::prelude::*;

    let t_max = report
        .options
        .temperatures
        .iter()
        .copied()
        .fold(critical_temperature(), f64::max)
        + 0.5;
    let x_max = report.options.iterations as f64;
    let (t_lines, m_lines) = flow_lines(report, t_max);
    let t_c = report.critical_temperature;
    let l = report.options.size;
    let e = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    // Iterations count: integer ticks.
    let iterations = Ticks::new(-0.5, x_max + 0.5, [0.0, x_max]);
    let label = |x: &f64| iterations.label(*x);
    let ticks = TickLabels {
        x: (Some(iterations.count), Some(&label as TickLabel<'_>)),
        ..TickLabels::default()
    };
    crate::plot::render((1500, 650), |root| {
        let root = root
            .titled(
                &format!(
                    "RBM flow (Iso, Shiba & Yokoo) of {l}×{l} Ising configurations, {} epochs",
                    report.options.epochs
                ),
                ("sans-serif", 24),
            )
            .map_err(|x| e(&x))?;
        let panels = root.split_evenly((1, 2));
        let axes = [
            (
                &t_lines,
                "T_fit (from the exact energy)",
                0.0..t_max,
                Some(t_c),
            ),
            (&m_lines, "mean |m|", 0.0..1.02, None),
        ];
        for (panel, (lines, y_label, y_range, t_c)) in panels.iter().zip(axes) {
            // The T panel's lines end low, the |m| panel's high.
            let position = match t_c {
                Some(_) => SeriesLabelPosition::UpperRight,
                None => SeriesLabelPosition::LowerRight,
            };
            let frame = Frame {
                caption: None,
                label_areas: (45, 60),
                ..Frame::new("", "iteration", y_label)
            };
            let mut chart = framed_numbers(panel, &frame, -0.5..x_max + 0.5, y_range, ticks)?;
            if let Some(t_c) = t_c {
                chart
                    .draw_series(LineSeries::new(
                        vec![(-0.5, t_c), (x_max + 0.5, t_c)],
                        BLACK.stroke_width(1),
                    ))
                    .map_err(|x| e(&x))?
                    .label(format!("T_c = {t_c:.3}"))
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
            }
            for line in lines.iter() {
                let c = crate::plot::colour(line.colour);
                let xy: Vec<(f64, f64)> = line.points.iter().map(|p| (p.0, p.1)).collect();
                let style = c.stroke_width(2);
                let series = if line.dashed {
                    chart.draw_series(DashedLineSeries::new(xy.clone(), 6, 4, style))
                } else {
                    chart.draw_series(LineSeries::new(xy.clone(), style))
                };
                series
                    .map_err(|x| e(&x))?
                    .label(line.name.clone())
                    .legend(legend_line(c, 2));
                chart
                    .draw_series(line.points.iter().map(|&(x, y, err)| {
                        ErrorBar::new_vertical(x, y - err, y, y + err, c.filled(), 6)
                    }))
                    .map_err(|x| e(&x))?;
            }
            legend(&mut chart, 14, 0.85, Some(position))?;
        }
        Ok(())
    })
}
