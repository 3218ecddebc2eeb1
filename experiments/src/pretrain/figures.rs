//! The receptive-field figures of Fig. 3 (b, c, d).

use anyhow::Result;
use burn::prelude::*;
use rbm::tensor::to_vec;

use super::fields::{LayerFields, field_measures};

/// A figure: file name and PNG bytes.
pub type Figure = (String, Vec<u8>);

/// Measures the receptive fields r(1), …, r(n) (each `[L², units]`) and draws Fig. 3b (top
/// layer), 3c (the layer below) and 3d (field size against layer). Returns the measures and
/// the figures as (file name, PNG bytes).
///
/// # Errors
/// If drawing fails.
pub fn receptive_field_figures(
    fields: &[Tensor<2>],
    l: usize,
) -> Result<(Vec<LayerFields>, Vec<Figure>)> {
    use crate::plot::{ColourScale, ImagePanel, Series, image_grid, line_chart};
    let mut reports = Vec::new();
    let mut figures = Vec::new();
    let depth = fields.len();
    for (i, r) in fields.iter().enumerate() {
        let units = r.dims()[1];
        let values = to_vec::<f32, _>(r.clone())?;
        let measures = field_measures(&values, l, units);
        reports.push(LayerFields {
            layer: i + 1,
            units,
            measures,
        });
        let (name, which, pixels) = if i + 1 == depth {
            ("fig3b_top_receptive_fields.png", "top", 120)
        } else if i + 2 == depth {
            ("fig3c_middle_receptive_fields.png", "middle", 80)
        } else {
            continue;
        };
        let panels: Vec<ImagePanel> = (0..units)
            .map(|j| ImagePanel {
                caption: String::new(),
                l,
                values: (0..l * l).map(|s| values[s * units + j]).collect(),
                scale: ColourScale::Diverging,
            })
            .collect();
        let cols = (units as f64).sqrt().ceil() as usize;
        let title = format!(
            "Receptive fields of the {units} {which}-layer units (red +, blue −, each scaled to its max |r|)"
        );
        figures.push((name.to_string(), image_grid(&title, &panels, cols, pixels)?));
    }
    let series = vec![
        Series::new(
            "√A½: side of a square of the half-maximum area (median unit)",
            reports
                .iter()
                .map(|f| (f.layer as f64, f.measures.half_max_area.sqrt()))
                .collect(),
        ),
        Series::new(
            "Kadanoff block side b = L/√units",
            reports
                .iter()
                .map(|f| (f.layer as f64, f.measures.block_side as f64))
                .collect(),
        ),
    ];
    figures.push((
        "fig3d_receptive_field_size.png".into(),
        line_chart(
            "Receptive-field size against layer, beside the Kadanoff block",
            "layer",
            "side, lattice spacings",
            &series,
            false,
        )?,
    ));
    Ok((reports, figures))
}
