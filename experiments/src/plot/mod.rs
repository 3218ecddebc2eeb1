//! PNG figures with `plotters` (fonts embedded, so figures render on a machine without any
//! system fonts).

mod strip;
mod ticks;

use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

pub use strip::{Mark, legend_strip};
pub use ticks::{Ticks, legend_corner, legend_room, log_label, log_ticks};

static FONTS: Once = Once::new();

/// Registers the embedded font as plotters' "sans-serif" family (once per process).
fn register_fonts() {
    FONTS.call_once(|| {
        // The font is a valid TrueType file shipped inside `epaint_default_fonts`.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

/// A line (with points, and optionally symmetric error bars) for [`line_chart`].
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// One-standard-error bars, one per point.
    pub errors: Option<Vec<f64>>,
}

impl Series {
    /// The same series without its points that are not finite (and their error bars).
    fn finite(&self) -> Self {
        let keep: Vec<bool> = self
            .points
            .iter()
            .map(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        let kept = |i: &usize| keep[*i];
        Self {
            name: self.name.clone(),
            points: (0..keep.len())
                .filter(kept)
                .map(|i| self.points[i])
                .collect(),
            errors: self
                .errors
                .as_ref()
                .map(|e| (0..keep.len()).filter(kept).map(|i| e[i]).collect()),
        }
    }

    /// A series of estimates at x, each with its standard error as the error bar.
    pub fn estimates(name: impl Into<String>, points: &[(f64, ising_data::Estimate)]) -> Self {
        Self {
            name: name.into(),
            points: points.iter().map(|(x, e)| (*x, e.value)).collect(),
            errors: Some(points.iter().map(|(_, e)| e.std_error).collect()),
        }
    }

    /// A series without error bars.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            errors: None,
        }
    }
}

/// The colour of series `i`.
pub fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    C[i % C.len()]
}

/// Encodes an RGB buffer as PNG.
///
/// # Errors
/// If the buffer does not match the size or encoding fails.
pub fn encode_png(buf: Vec<u8>, (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| anyhow!("bad image buffer"))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .context("encoding PNG")?;
    Ok(out.into_inner())
}

/// Renders with `draw` onto a white canvas of `size` and returns the PNG bytes.
///
/// # Errors
/// If drawing or encoding fails.
pub fn render(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    register_fonts();
    let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
    }
    encode_png(buf, size)
}

/// The frame of a chart: caption, label areas, axis descriptions, fonts and mesh, drawn by
/// [`framed`]; every chart of the workspace is built through it.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'t> {
    /// The caption above the chart, if any, and its font size.
    pub caption: Option<(&'t str, u32)>,
    /// The heights of the x label area and widths of the y label area, in pixels.
    pub label_areas: (u32, u32),
    /// The axes' descriptions, if any.
    pub x_desc: Option<&'t str>,
    /// The y axis' description, if any.
    pub y_desc: Option<&'t str>,
    /// The tick labels' font size.
    pub label_size: u32,
    /// Whether the grid lines are drawn.
    pub mesh: bool,
}

impl<'t> Frame<'t> {
    /// A frame with a caption of size 24, label areas of 50 and 80 pixels, both axes
    /// described, tick labels of size 16 and the grid.
    pub fn new(caption: &'t str, x_desc: &'t str, y_desc: &'t str) -> Self {
        Self {
            caption: Some((caption, 24)),
            label_areas: (50, 80),
            x_desc: Some(x_desc),
            y_desc: Some(y_desc),
            label_size: 16,
            mesh: true,
        }
    }
}

/// A drawing error of plotters as an [`anyhow::Error`].
pub fn failed(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{e}")
}

/// A chart on a bitmap with the coordinates `X` and `Y` (what [`framed`] returns).
pub type Chart<'a, 'b, X, Y> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<X, Y>>;

/// The chart of `frame` on `area` over the ranges `x` and `y`, its frame drawn (margin 15).
///
/// # Errors
/// If drawing fails.
pub fn framed<'a, 'b, X, Y>(
    area: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    frame: &Frame<'_>,
    x: X,
    y: Y,
) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>>
where
    X: AsRangedCoord,
    Y: AsRangedCoord,
    X::CoordDescType: ValueFormatter<<X::CoordDescType as Ranged>::ValueType>,
    Y::CoordDescType: ValueFormatter<<Y::CoordDescType as Ranged>::ValueType>,
{
    let mut chart = unframed(area, frame, x, y)?;
    styled_mesh(&mut chart, frame).draw().map_err(failed)?;
    Ok(chart)
}

/// The label of a tick at a value.
pub type TickLabel<'f> = &'f dyn Fn(&f64) -> String;

/// How a chart of numbers labels its axes' ticks: at most how many, and the label of each
/// (plotters' defaults where `None`).
#[derive(Clone, Copy, Default)]
pub struct TickLabels<'f> {
    /// The x axis' tick count and labels.
    pub x: (Option<usize>, Option<TickLabel<'f>>),
    /// The y axis' tick count and labels.
    pub y: (Option<usize>, Option<TickLabel<'f>>),
}

/// [`framed`] for axes of numbers (linear or logarithmic), with `ticks` labelling them.
///
/// # Errors
/// If drawing fails.
pub fn framed_numbers<'a, 'b, X, Y>(
    area: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    frame: &Frame<'_>,
    x: X,
    y: Y,
    ticks: TickLabels<'_>,
) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>>
where
    X: AsRangedCoord,
    Y: AsRangedCoord,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = unframed(area, frame, x, y)?;
    let mut mesh = styled_mesh(&mut chart, frame);
    if let Some(n) = ticks.x.0 {
        mesh.x_labels(n);
    }
    if let Some(f) = ticks.x.1 {
        mesh.x_label_formatter(f);
    }
    if let Some(n) = ticks.y.0 {
        mesh.y_labels(n);
    }
    if let Some(f) = ticks.y.1 {
        mesh.y_label_formatter(f);
    }
    mesh.draw().map_err(failed)?;
    Ok(chart)
}

/// The chart of `frame` on `area` (caption, margin, label areas), nothing drawn yet.
fn unframed<'a, 'b, X, Y>(
    area: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    frame: &Frame<'_>,
    x: X,
    y: Y,
) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>>
where
    X: AsRangedCoord,
    Y: AsRangedCoord,
{
    let mut builder = ChartBuilder::on(area);
    if let Some((caption, size)) = frame.caption {
        builder.caption(caption, ("sans-serif", size));
    }
    builder
        .margin(15)
        .x_label_area_size(frame.label_areas.0)
        .y_label_area_size(frame.label_areas.1)
        .build_cartesian_2d(x, y)
        .map_err(failed)
}

/// The mesh of `frame` on `chart`: grid, axis descriptions and label font, to be drawn.
fn styled_mesh<'a, 'c, 'b, X, Y>(
    chart: &'c mut Chart<'a, 'b, X, Y>,
    frame: &Frame<'_>,
) -> MeshStyle<'a, 'c, X, Y, BitMapBackend<'b>>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    if !frame.mesh {
        mesh.disable_mesh();
    }
    if let Some(d) = frame.x_desc {
        mesh.x_desc(d);
    }
    if let Some(d) = frame.y_desc {
        mesh.y_desc(d);
    }
    mesh.label_style(("sans-serif", frame.label_size));
    mesh
}

/// Draws the legend of `chart`'s labelled series: a bordered box on a white background of
/// opacity `opacity`, labels of size `font`, at `position` (plotters' default: upper right).
///
/// # Errors
/// If drawing fails.
pub fn legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'b>, CT>,
    font: u32,
    opacity: f64,
    position: Option<SeriesLabelPosition>,
) -> Result<()> {
    let mut labels = chart.configure_series_labels();
    labels
        .background_style(WHITE.mix(opacity))
        .border_style(BLACK)
        .label_font(("sans-serif", font));
    if let Some(position) = position {
        labels.position(position);
    }
    labels.draw().map_err(failed)
}

/// The legend's mark of a line of colour `c` and width `width`.
pub fn legend_line(c: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(width))
}

/// A line chart of `series`, with optional logarithmic y axis. Returns PNG bytes. An x axis
/// whose points are all integers (epochs, layers) has integer ticks; tick labels carry the
/// decimals their spacing needs; the legend sits in the corner with the fewest points.
///
/// # Errors
/// If there is nothing to plot or drawing fails.
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    log_y: bool,
) -> Result<Vec<u8>> {
    let ((x0, x1), (y0, y1)) = line_chart_ranges(title, series, log_y)?;
    // Points that are not finite (a diverged metric) are left out, with their error bars.
    let series: Vec<Series> = series.iter().map(Series::finite).collect();
    let series = &series[..];
    let frame = Frame::new(title, x_label, y_label);
    // The lines as placed on the y axis (log10 y on a log axis), for the legend's place; the
    // y range grows at the top where the legend has no free place.
    let to_axis = |y: f64| if log_y { y.log10() } else { y };
    let lines: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            let kept = s.points.iter().filter(|p| !log_y || p.1 > 0.0);
            kept.map(|p| (p.0, to_axis(p.1))).collect()
        })
        .collect();
    let (corner, (_, top)) = legend_room(
        &lines,
        (x0, x1),
        (to_axis(y0), to_axis(y1)),
        legend_size(series),
    );
    let y1 = if log_y { 10f64.powf(top) } else { top };
    let points: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.clone()).collect();
    let x_ticks = Ticks::new(x0, x1, points.iter().map(|p| p.0));
    let y_ticks = Ticks::new(y0, y1, points.iter().map(|p| p.1));
    let x_format = |x: &f64| x_ticks.label(*x);
    let y_format = |y: &f64| y_ticks.label(*y);
    let log_format = |y: &f64| log_label(*y);
    let x_labels = (
        Some(x_ticks.count),
        Some(&x_format as &dyn Fn(&f64) -> String),
    );
    render((900, 620), |root| {
        if log_y {
            let ticks = TickLabels {
                x: x_labels,
                y: (None, Some(&log_format)),
            };
            let y = (y0..y1).log_scale().with_key_points(log_ticks(y0, y1));
            let mut chart = framed_numbers(root, &frame, x0..x1, y, ticks)?;
            draw_lines(&mut chart, series, log_y)?;
            legend(&mut chart, 16, 0.8, Some(corner))
        } else {
            let ticks = TickLabels {
                x: x_labels,
                y: (Some(y_ticks.count), Some(&y_format)),
            };
            let mut chart = framed_numbers(root, &frame, x0..x1, y0..y1, ticks)?;
            draw_lines(&mut chart, series, log_y)?;
            legend(&mut chart, 16, 0.8, Some(corner))
        }
    })
}

/// The size of [`line_chart`]'s legend of `series`, as fractions of its plot's width and
/// height (labels of size 16 on a plot of about 790 × 510 pixels).
fn legend_size(series: &[Series]) -> (f64, f64) {
    let longest = series
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let width = (longest as f64 * 8.0 + 60.0) / 790.0;
    let height = (series.len() as f64 * 21.0 + 14.0) / 510.0;
    (width, height)
}

/// Draws each series of [`line_chart`]: its line, its points and its error bars (positive
/// values only on a logarithmic axis).
fn draw_lines<X, Y>(chart: &mut Chart<'_, '_, X, Y>, series: &[Series], log_y: bool) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, s) in series.iter().enumerate() {
        let keep = |y: f64| !log_y || y > 0.0;
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| keep(p.1)).collect();
        let c = colour(i);
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .map_err(failed)?
            .label(s.name.clone())
            .legend(legend_line(c, 2));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(failed)?;
        if let Some(errs) = &s.errors {
            let bars = s.points.iter().zip(errs).filter(|(p, e)| keep(p.1 - **e));
            chart
                .draw_series(bars.map(|(&(x, y), &err)| {
                    ErrorBar::new_vertical(x, y - err, y, y + err, c.filled(), 8)
                }))
                .map_err(failed)?;
        }
    }
    Ok(())
}

/// The axes of [`line_chart`]: the points' bounds with their error bars (positive y only on
/// a log axis), padded (an x axis of integers by a quarter, so that the first and last
/// points and their bars stay inside), and checked.
fn line_chart_ranges(
    title: &str,
    series: &[Series],
    log_y: bool,
) -> Result<((f64, f64), (f64, f64))> {
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.points.clone()).collect();
    if all.is_empty() {
        return Err(anyhow!("nothing to plot in '{title}'"));
    }
    let (mut x0, mut x1) = bounds(all.iter().map(|p| p.0));
    let ends = series.iter().flat_map(|s| {
        let errors = s
            .errors
            .clone()
            .unwrap_or_else(|| vec![0.0; s.points.len()]);
        let errors: Vec<f64> = errors
            .into_iter()
            .map(|e| if e.is_finite() { e } else { 0.0 })
            .collect();
        s.points
            .iter()
            .zip(errors)
            .flat_map(|(p, e)| [p.1 - e, p.1 + e])
            .collect::<Vec<f64>>()
    });
    let (mut y0, mut y1) = bounds(ends.filter(|y| !log_y || *y > 0.0));
    if x1 <= x0 {
        x0 -= 0.5;
        x1 += 0.5;
    } else if all.iter().all(|p| !p.0.is_finite() || p.0 == p.0.round()) {
        x0 -= 0.25;
        x1 += 0.25;
    } else {
        let pad = 0.02 * (x1 - x0);
        x0 -= pad;
        x1 += pad;
    }
    if log_y {
        y0 = y0.max(1e-300) / 2.0;
        y1 *= 2.0;
    } else {
        let pad = 0.05 * (y1 - y0).max(1e-12);
        y0 -= pad;
        y1 += pad;
    }
    check_range(title, x0, x1)?;
    check_range(title, y0, y1)?;
    Ok(((x0, x1), (y0, y1)))
}

/// Checks an axis range `lo..hi` of the figure `title` before plotting: finite ends, a
/// finite, positive span (plotters' tick computation never ends on a range that is not).
///
/// # Errors
/// Naming the figure and the range.
pub fn check_range(title: &str, lo: f64, hi: f64) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite() && hi > lo) {
        return Err(anyhow!(
            "cannot draw '{title}': its values span {lo}..{hi}, not a finite range"
        ));
    }
    Ok(())
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// One spin configuration to draw: a caption, the linear size L and L² spins (row-major).
#[derive(Debug, Clone)]
pub struct SpinPanel {
    /// Caption above the panel.
    pub caption: String,
    /// Linear size.
    pub l: usize,
    /// The spins, ±1.
    pub spins: Vec<i8>,
}

/// Spin configurations side by side in rows (up spins black, down spins white), each panel
/// the same physical size so that coarser lattices show larger blocks. Returns PNG bytes.
///
/// # Errors
/// If drawing fails or a panel's spins do not fill L².
pub fn spin_panels(title: &str, rows: &[Vec<SpinPanel>]) -> Result<Vec<u8>> {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(1);
    let mut panels = Vec::with_capacity(rows.len() * cols);
    for row in rows {
        for p in row {
            panels.push(ImagePanel {
                caption: p.caption.clone(),
                l: p.l,
                values: p.spins.iter().map(|&s| f32::from(s)).collect(),
                scale: ColourScale::Grey { lo: -1.0, hi: 1.0 },
            });
        }
        // Pad short rows so that each row of the figure is one row of `rows`.
        for _ in row.len()..cols {
            panels.push(ImagePanel {
                caption: String::new(),
                l: 1,
                values: vec![-1.0],
                scale: ColourScale::Grey { lo: -1.0, hi: 1.0 },
            });
        }
    }
    image_grid(title, &panels, cols, 240)
}

/// How values map to colours in [`image_grid`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColourScale {
    /// Diverging: −m blue, 0 white, +m red, with m = max |value| of the panel.
    Diverging,
    /// Grey levels from `lo` (white) to `hi` (black).
    Grey {
        /// Value drawn white.
        lo: f32,
        /// Value drawn black.
        hi: f32,
    },
}

/// One L×L image for [`image_grid`].
#[derive(Debug, Clone)]
pub struct ImagePanel {
    /// Caption (may be empty).
    pub caption: String,
    /// Side length.
    pub l: usize,
    /// L² values, row-major.
    pub values: Vec<f32>,
    /// Colour scale.
    pub scale: ColourScale,
}

fn colour_of(scale: ColourScale, v: f32, max_abs: f32) -> RGBColor {
    match scale {
        ColourScale::Diverging => {
            let t = if max_abs > 0.0 {
                (v / max_abs).clamp(-1.0, 1.0)
            } else {
                0.0
            };
            let fade = |t: f32| (255.0 * (1.0 - t.abs())) as u8;
            if t >= 0.0 {
                RGBColor(255, fade(t), fade(t))
            } else {
                RGBColor(fade(t), fade(t), 255)
            }
        }
        ColourScale::Grey { lo, hi } => {
            let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
            let g = (255.0 * (1.0 - t)) as u8;
            RGBColor(g, g, g)
        }
    }
}

/// Images in a grid of `cols` columns, each `panel` pixels wide. Returns PNG bytes.
///
/// # Errors
/// If a panel's values do not fill L² or drawing fails.
pub fn image_grid(title: &str, panels: &[ImagePanel], cols: usize, panel: u32) -> Result<Vec<u8>> {
    let cols = cols.max(1);
    let rows = panels.len().div_ceil(cols);
    let gap = (panel / 12).max(4);
    let caption_h = if panels.iter().any(|p| !p.caption.is_empty()) {
        22
    } else {
        0
    };
    let w = cols as u32 * (panel + gap) + gap;
    let h = 50 + rows as u32 * (panel + gap + caption_h);
    for p in panels {
        if p.values.len() != p.l * p.l {
            return Err(anyhow!(
                "panel '{}' has {} values, not {}²",
                p.caption,
                p.values.len(),
                p.l
            ));
        }
    }
    render((w, h), |root| {
        let e = |e: &dyn std::fmt::Display| anyhow!("{e}");
        root.draw(&Text::new(title, (gap as i32, 12), ("sans-serif", 20)))
            .map_err(|x| e(&x))?;
        for (k, p) in panels.iter().enumerate() {
            let (r, c) = (k / cols, k % cols);
            let x0 = (gap + c as u32 * (panel + gap)) as i32;
            let y0 = (50 + r as u32 * (panel + gap + caption_h)) as i32;
            if !p.caption.is_empty() {
                root.draw(&Text::new(p.caption.clone(), (x0, y0), ("sans-serif", 15)))
                    .map_err(|x| e(&x))?;
            }
            let top = y0 + caption_h as i32;
            let max_abs = p.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let cell = panel as f64 / p.l as f64;
            for i in 0..p.l {
                for j in 0..p.l {
                    let a = (x0 as f64 + j as f64 * cell) as i32;
                    let b = (top as f64 + i as f64 * cell) as i32;
                    let a2 = (x0 as f64 + (j + 1) as f64 * cell) as i32;
                    let b2 = (top as f64 + (i + 1) as f64 * cell) as i32;
                    let colour = colour_of(p.scale, p.values[i * p.l + j], max_abs);
                    root.draw(&Rectangle::new([(a, b), (a2, b2)], colour.filled()))
                        .map_err(|x| e(&x))?;
                }
            }
            root.draw(&Rectangle::new(
                [(x0, top), (x0 + panel as i32, top + panel as i32)],
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(|x| e(&x))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_are_not_finite_never_reach_plotters() {
        // A NaN or infinite point once sent plotters' tick computation into an endless loop.
        let nan = Series::new("nan", vec![(1.0, f64::NAN), (2.0, f64::INFINITY)]);
        assert!(line_chart("t", "x", "y", &[nan], false).is_err());
        let mixed = Series::new("mixed", vec![(1.0, 0.5), (2.0, f64::NAN), (3.0, 0.25)]);
        assert!(line_chart("t", "x", "y", std::slice::from_ref(&mixed), false).is_ok());
        assert!(line_chart("t", "x", "y", &[mixed], true).is_ok());
        let huge = Series::new("huge", vec![(1.0, -f64::MAX), (2.0, f64::MAX)]);
        assert!(line_chart("t", "x", "y", &[huge], false).is_err());
        assert!(check_range("t", 0.0, 1.0).is_ok());
        assert!(check_range("t", 1.0, 1.0).is_err());
    }
}
