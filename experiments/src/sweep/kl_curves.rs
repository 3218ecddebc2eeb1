//! The first layer's KL per spin during training (`fig3 --kl-every`, a sweep's `kl_every`)
//! against training time, per run and as one figure for the sweep.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::plan::SweepPlan;
use super::spec::value_text;
use crate::plot::{Series, line_chart};
use crate::run::Metrics;
use ising_data::Estimate;

/// One check of the first layer's KL per spin during a run's training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KlPoint {
    /// The epoch whose model was checked.
    pub epoch: usize,
    /// Training seconds at the end of that epoch: the epoch times the layer's mean seconds
    /// per epoch in the process that finished it (a resumed layer's earlier epochs are
    /// counted at that rate too).
    pub seconds: f64,
    /// KL per spin with the reverse-AIS ln Z.
    pub kl_per_spin: Estimate,
}

/// The first layer's KL checks of a run's `metrics.json` (empty without `--kl-every`).
pub fn kl_curve(metrics: &Metrics) -> Vec<KlPoint> {
    let Some(layer) = metrics.layers.first() else {
        return Vec::new();
    };
    let last = layer.epochs.iter().map(|e| e.epoch).max().unwrap_or(0);
    let trained_here = last.saturating_sub(layer.resumed_after_epoch).max(1);
    let per_epoch = layer.seconds / trained_here as f64;
    layer
        .kl_during_training
        .iter()
        .map(|c| KlPoint {
            epoch: c.epoch,
            seconds: c.epoch as f64 * per_epoch,
            kl_per_spin: c.kl_per_spin_reverse,
        })
        .collect()
}

/// `summary_kl_vs_seconds.png`: the first layer's KL per spin against training seconds, one
/// line per combination of the non-seed axes (runs differing only in a seed averaged epoch by
/// epoch, with one standard error over them; a single run with its AIS error); `None` when
/// no run has KL checks.
///
/// # Errors
/// If drawing fails.
pub fn kl_figure(
    manifest: &SweepPlan,
    runs: &[(&BTreeMap<String, serde_json::Value>, &[KlPoint])],
) -> Result<Option<Vec<u8>>> {
    let seed = |key: &str| key == "seed" || key.ends_with(".seed");
    let mut groups: BTreeMap<String, Vec<&[KlPoint]>> = BTreeMap::new();
    for &(values, curve) in runs.iter().filter(|(_, c)| !c.is_empty()) {
        let label: Vec<String> = manifest
            .axes
            .iter()
            .filter(|a| !seed(&a.key))
            .map(|a| {
                format!(
                    "{} = {}",
                    a.name,
                    values.get(&a.name).map(value_text).unwrap_or_default()
                )
            })
            .collect();
        groups.entry(label.join(", ")).or_default().push(curve);
    }
    if groups.is_empty() {
        return Ok(None);
    }
    let series: Vec<Series> = groups
        .into_iter()
        .map(|(label, curves)| {
            mean_curve(if label.is_empty() { "KL".into() } else { label }, &curves)
        })
        .collect();
    line_chart(
        "the first layer's KL per spin during training (reverse AIS)",
        "training seconds (epoch × the layer's mean seconds per epoch)",
        "KL per spin (nats)",
        &series,
        true,
    )
    .map(Some)
}

/// The epoch-by-epoch mean of `curves` over the epochs they all have: seconds and KL
/// averaged, the error one standard error over the curves (their AIS error for one curve).
fn mean_curve(label: String, curves: &[&[KlPoint]]) -> Series {
    let n = curves.len() as f64;
    let points: Vec<(f64, f64, f64)> = curves[0]
        .iter()
        .filter_map(|p| {
            let at: Vec<&KlPoint> = curves
                .iter()
                .filter_map(|c| c.iter().find(|q| q.epoch == p.epoch))
                .collect();
            (at.len() == curves.len()).then(|| {
                let seconds = at.iter().map(|q| q.seconds).sum::<f64>() / n;
                let kl: Vec<f64> = at.iter().map(|q| q.kl_per_spin.value).collect();
                let mean = kl.iter().sum::<f64>() / n;
                let error = match curves.len() {
                    1 => at[0].kl_per_spin.std_error,
                    _ => {
                        (kl.iter().map(|k| (k - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt()
                    }
                };
                (seconds, mean, error)
            })
        })
        .collect();
    let mut s = Series::new(label, points.iter().map(|p| (p.0, p.1)).collect());
    s.errors = Some(points.iter().map(|p| p.2).collect());
    s
}
