//! A legend drawn in its own strip beside a chart, for figures whose whole plot area is data
//! (a lattice), where a legend on the chart would hide part of it.

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The mark of a legend entry.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    /// A line of this colour and width.
    Line(RGBColor, u32),
    /// A filled dot of this colour.
    Dot(RGBColor),
    /// The outline of a square, of this colour.
    Outline(RGBColor),
}

/// Draws `entries` in one row, left to right, centred vertically on `area`.
///
/// # Errors
/// If drawing fails.
pub fn legend_strip(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    entries: &[(Mark, &str)],
) -> Result<()> {
    let style =
        TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let (_, height) = area.dim_in_pixel();
    let y = height as i32 / 2;
    let mut x = 20;
    for &(mark, label) in entries {
        match mark {
            Mark::Line(c, w) => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                c.stroke_width(w),
            )),
            Mark::Dot(c) => area.draw(&Circle::new((x + 11, y), 4, c.filled())),
            Mark::Outline(c) => area.draw(&Rectangle::new(
                [(x + 4, y - 7), (x + 18, y + 7)],
                c.stroke_width(2),
            )),
        }
        .map_err(|e| anyhow!("{e}"))?;
        area.draw_text(label, &style, (x + 30, y))
            .map_err(|e| anyhow!("{e}"))?;
        let (w, _) = area
            .estimate_text_size(label, &style)
            .map_err(|e| anyhow!("{e}"))?;
        x += 30 + w as i32 + 28;
    }
    Ok(())
}
