//! `quality`'s figures.

use anyhow::Result;
use ising_data::Lattice;
use rbm::eval::ais::AisRepeated;

use super::judge::magnetization;
use super::report::{LayerPartition, QualityReport, Samples};

/// Density histogram of `values` over `range` in `bins` bins, as (bin centre, density)
/// points.
pub(super) fn density(values: &[f64], (lo, hi): (f64, f64), bins: usize) -> Vec<(f64, f64)> {
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in values {
        let b = (((x - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let total = values.len() as f64 * width;
    counts
        .iter()
        .enumerate()
        .map(|(b, &c)| (lo + (b as f64 + 0.5) * width, c as f64 / total))
        .collect()
}

/// The figures of a report, as (file name, PNG bytes): G(r) of the data and each generator
/// (log scale), histograms of E/N and m, and each layer's ln Z from both sides.
///
/// # Errors
/// If drawing fails.
pub fn figures(report: &QualityReport, samples: &Samples) -> Result<Vec<(String, Vec<u8>)>> {
    use crate::plot::{Series, line_chart};
    let lattice = Lattice::Square { l: report.size };
    let n = lattice.n_sites();
    let mut names = vec!["Monte Carlo data".to_string()];
    names.extend(report.generators.iter().map(|g| g.generator.clone()));
    let mut observed = vec![&report.data];
    observed.extend(report.generators.iter().map(|g| &g.observables));
    let correlation: Vec<Series> = names
        .iter()
        .zip(&observed)
        .map(|(name, o)| Series {
            name: name.clone(),
            points: o
                .correlation
                .iter()
                .enumerate()
                .map(|(r, g)| (r as f64, g.value))
                .collect(),
            errors: Some(o.correlation.iter().map(|g| g.std_error).collect()),
        })
        .collect();
    let mut out = vec![(
        "correlation.png".to_string(),
        line_chart(
            &format!(
                "G(r) on the {0}×{0} torus at K = {1}",
                report.size, report.coupling
            ),
            "r (lattice spacings)",
            "G(r) = <s(i) s(i+r)>",
            &correlation,
            true,
        )?,
    )];
    let sources: Vec<Vec<&[i8]>> =
        std::iter::once(samples.data.iter().map(Vec::as_slice).collect())
            .chain(samples.generated.iter().map(|c| c.all()))
            .collect();
    let per_config = |f: &dyn Fn(&[i8]) -> f64| -> Vec<Vec<f64>> {
        sources
            .iter()
            .map(|chains| {
                chains
                    .iter()
                    .flat_map(|c| c.chunks_exact(n).map(f))
                    .collect()
            })
            .collect()
    };
    let energies = per_config(&|s| lattice.energy(s, 0.0) / n as f64);
    let magnetisations = per_config(&magnetization);
    let (e_lo, e_hi) = energies
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    for (file, title, label, values, range) in [
        (
            "energy_histogram.png",
            "Energy per spin",
            "E/N (units of J)",
            &energies,
            (e_lo, e_hi + 1e-9),
        ),
        (
            "magnetization_histogram.png",
            "Magnetisation per spin",
            "m",
            &magnetisations,
            (-1.0, 1.0),
        ),
    ] {
        let series: Vec<Series> = names
            .iter()
            .zip(values)
            .map(|(name, v)| Series::new(name.clone(), density(v, range, 60)))
            .collect();
        out.push((
            file.into(),
            line_chart(title, label, "density", &series, false)?,
        ));
    }
    out.push(("log_partition.png".into(), log_partition_figure(report)?));
    Ok(out)
}

/// ln Z per layer, reverse and forward AIS relative to forward.
pub(super) fn log_partition_figure(report: &QualityReport) -> Result<Vec<u8>> {
    use crate::plot::{Series, line_chart};
    let side = |name: &str, pick: &dyn Fn(&LayerPartition) -> &AisRepeated| Series {
        name: name.into(),
        points: report
            .log_partition
            .iter()
            .map(|p| {
                (
                    p.layer as f64,
                    pick(p).log_partition - p.log_partition_forward.log_partition,
                )
            })
            .collect(),
        errors: Some(
            report
                .log_partition
                .iter()
                .map(|p| pick(p).std_error)
                .collect(),
        ),
    };
    line_chart(
        "ln Z per layer: reverse and forward AIS, relative to forward",
        "layer",
        "ln Z − ln Z of forward AIS (nats)",
        &[
            side("forward AIS (from below)", &|p| &p.log_partition_forward),
            side("reverse AIS (from above)", &|p| &p.log_partition_reverse),
        ],
        false,
    )
}
