//! The summary of a sweep: each finished run's key metrics (from its `metrics.json`, its
//! `quality/quality.json` where `quality` has run and its `rg/rg.json` where `rg` has) beside
//! its axis values, as JSON and CSV, the unfinished runs by name, a figure of one metric
//! against one axis, and the flow of effective couplings across the runs' couplings.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::kl_curves::{KlPoint, kl_curve};
use super::plan::SweepPlan;
use super::run::finished;
use super::spec::value_text;
use crate::output::read_json;
use crate::plot::{Series, line_chart};
use crate::quality::QualityReport;
use crate::rg::flow::RgFlow;
use crate::rg::mcrg::McrgTable;
use crate::rg::operators::Operator;
use crate::rg::{CoarseSpins, Outcome, RgReport};
use crate::run::{Metrics, RunPaths};
use crate::training::EpochSplit;
use rbm::train::metric::{ReconstructionError, Statistic};

/// `DIR/summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// The axes' names, outermost first.
    pub axes: Vec<String>,
    /// The metric columns of the CSV, in order.
    pub metrics: Vec<String>,
    /// The finished runs.
    pub runs: Vec<RunSummary>,
    /// The runs not finished yet, by name.
    pub unfinished: Vec<String>,
}

/// One finished run in the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Folder name.
    pub name: String,
    /// Axis values.
    pub values: BTreeMap<String, Value>,
    /// Key metrics by column name (`null`: not a finite number).
    #[serde(with = "crate::output::float_map")]
    pub metrics: BTreeMap<String, f64>,
    /// The run's `quality/quality.json`, when there is one.
    pub quality: Option<QualityReport>,
    /// The run's effective couplings by depth from `rg/rg.json`, when there is one.
    #[serde(default)]
    pub flow: Option<RgFlow>,
    /// The first layer's KL per spin during training, when the run checked it
    /// (`fig3 --kl-every`, the sweep's `kl_every`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kl_curve: Vec<KlPoint>,
}

/// The columns `rg.*` of a run's `rg.json`: per layer l, K_eff of the stack and
/// of majority-rule blocking with their errors, the coarse spins' G₂ beside the Ising
/// lattice's at K_eff, ⟨|m|⟩, the median unit-vs-block correlation and the mean displacement.
fn rg_metrics(rg: &RgReport) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let fit = |c: &CoarseSpins| c.coupling.k_eff;
    let connected = |c: &CoarseSpins| c.coupling_connected.k_eff;
    let fit_error = |c: &CoarseSpins| match (c.coupling.k_high, c.coupling.k_low) {
        (Some(h), Some(l)) => 0.5 * (h - l),
        _ => f64::NAN,
    };
    out.insert(
        "rg.data_k_eff".to_string(),
        fit(&rg.data).unwrap_or(f64::NAN),
    );
    for layer in &rg.layers {
        let l = layer.layer;
        for (name, c) in [("stack", &layer.rbm), ("majority", &layer.majority_rule)] {
            let p = format!("rg.layer{l}_{name}");
            out.insert(format!("{p}_k_eff"), fit(c).unwrap_or(f64::NAN));
            out.insert(format!("{p}_k_eff_error"), fit_error(c));
            out.insert(
                format!("{p}_k_eff_connected"),
                connected(c).unwrap_or(f64::NAN),
            );
            out.insert(format!("{p}_g2"), c.correlations.g2.value);
            out.insert(
                format!("{p}_ising_g2"),
                c.ising_at_k_eff.as_ref().map_or(f64::NAN, |i| i.g2.value),
            );
            out.insert(format!("{p}_abs_m"), c.correlations.abs_magnetization.value);
            hamiltonian_columns(&mut out, &p, c);
        }
        if let Some(mcrg) = &layer.mcrg {
            for (name, table) in [("stack", &mcrg.stack), ("majority", &mcrg.majority_rule)] {
                mcrg_columns(&mut out, &format!("rg.layer{l}_{name}"), table);
            }
        }
        out.insert(
            format!("rg.layer{l}_unit_block_median"),
            layer.unit_block.mean_activation.median,
        );
        out.insert(
            format!("rg.layer{l}_mean_displacement"),
            layer.assignment.mean_displacement,
        );
    }
    out
}

/// The effective Hamiltonian's couplings of coarse spins `c` as columns `{prefix}_h`, `_k1` …
/// `_k4`, each with its `_error` (none where there is no fit).
fn hamiltonian_columns(out: &mut BTreeMap<String, f64>, prefix: &str, c: &CoarseSpins) {
    let Some(fit) = c.hamiltonian.measured() else {
        return;
    };
    for (operator, name) in [
        (Operator::Field, "h"),
        (Operator::Nearest, "k1"),
        (Operator::Diagonal, "k2"),
        (Operator::Distance2, "k3"),
        (Operator::Plaquette, "k4"),
    ] {
        if let Some(k) = fit.coupling(operator) {
            out.insert(format!("{prefix}_{name}"), k.value);
            out.insert(format!("{prefix}_{name}_error"), k.std_error);
        }
    }
}

/// A map's MCRG exponents as columns `{prefix}_y_t` (two even operators) and `{prefix}_y_h`
/// (one odd operator), each with its `_error` (none where there is no table).
fn mcrg_columns(out: &mut BTreeMap<String, f64>, prefix: &str, table: &Outcome<McrgTable>) {
    let Some(t) = table.measured() else {
        return;
    };
    for (name, rows, operators) in [("y_t", &t.thermal, 2), ("y_h", &t.magnetic, 1)] {
        if let Some(row) = rows.iter().find(|r| r.operators == operators) {
            out.insert(format!("{prefix}_{name}"), row.exponent.value);
            out.insert(format!("{prefix}_{name}_error"), row.exponent.std_error);
        }
    }
}

/// The key metrics of a run's `metrics.json`: per layer l, the receptive fields' half-maximum
/// area and radius and the fraction inside the block (`layer{l}_half_max_area`, …) and the
/// last held-out reconstruction error; the first layer's KL and NLL per spin (forward and
/// reverse AIS, with standard errors).
pub fn key_metrics(metrics: &Metrics) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for field in &metrics.receptive_fields {
        let (l, m) = (field.layer, &field.measures);
        out.insert(format!("layer{l}_half_max_area"), m.half_max_area);
        out.insert(format!("layer{l}_half_max_radius"), m.half_max_radius);
        out.insert(format!("layer{l}_block_fraction"), m.block_fraction);
    }
    for layer in &metrics.layers {
        let last = layer
            .epochs
            .iter()
            .filter(|e| e.split == EpochSplit::Valid)
            .filter_map(|e| e.values.get(ReconstructionError::ID).copied())
            .next_back();
        out.insert(
            format!("layer{}_valid_reconstruction_error", layer.layer),
            last.unwrap_or(f64::NAN),
        );
    }
    let q = &metrics.first_layer_quality;
    for (key, estimate) in [
        ("kl_per_spin_forward", &q.kl_per_spin_forward),
        ("kl_per_spin_reverse", &q.kl_per_spin_reverse),
        ("nll_per_spin_forward", &q.nll_per_spin_forward),
        ("nll_per_spin_reverse", &q.nll_per_spin_reverse),
    ] {
        out.insert(key.to_string(), estimate.value);
        out.insert(format!("{key}_error"), estimate.std_error);
    }
    out
}

/// The numbers of `quality.json`'s `first_layer` object, flattened with dotted names under
/// `quality.first_layer.`.
fn quality_metrics(quality: &QualityReport) -> Result<BTreeMap<String, f64>> {
    fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
        match v {
            Value::Number(n) => {
                out.insert(prefix.to_string(), n.as_f64().unwrap_or(f64::NAN));
            }
            Value::Object(map) => {
                for (k, sub) in map {
                    flatten(&format!("{prefix}.{k}"), sub, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let first_layer = serde_json::to_value(&quality.first_layer)?;
    flatten("quality.first_layer", &first_layer, &mut out);
    Ok(out)
}

/// Gathers the summary of the sweep in `dir`.
///
/// # Errors
/// If `dir` is not a planned sweep, or a finished run's metrics.json cannot be read.
pub fn summarise(dir: &Path) -> Result<Summary> {
    let manifest = SweepPlan::read(dir)?;
    let mut runs = Vec::new();
    let mut unfinished = Vec::new();
    for (i, entry) in manifest.runs.iter().enumerate() {
        let run_dir = manifest.run_dir(dir, i);
        if !finished(&run_dir) {
            unfinished.push(entry.name.clone());
            continue;
        }
        let paths = RunPaths::new(&run_dir);
        let metrics = Metrics::read(&paths.metrics())?;
        let mut values = key_metrics(&metrics);
        let quality = match paths.quality_report().is_file() {
            true => Some(read_json::<QualityReport>(&paths.quality_report())?),
            false => None,
        };
        if let Some(q) = &quality {
            values.extend(quality_metrics(q)?);
        }
        let flow = match paths.rg_report().is_file() {
            true => {
                let rg: RgReport = read_json(&paths.rg_report())?;
                values.extend(rg_metrics(&rg));
                Some(RgFlow::from_report(&rg))
            }
            false => None,
        };
        runs.push(RunSummary {
            name: entry.name.clone(),
            values: entry.values.clone(),
            metrics: values,
            quality,
            flow,
            kl_curve: kl_curve(&metrics),
        });
    }
    // Columns: every metric any run has, the metrics.json ones first.
    let mut metrics: Vec<String> = Vec::new();
    for run in &runs {
        for key in run.metrics.keys() {
            if !metrics.contains(key) {
                metrics.push(key.clone());
            }
        }
    }
    metrics.sort_by_key(|k| (k.starts_with("quality.") || k.starts_with("rg."), k.clone()));
    Ok(Summary {
        axes: manifest.axes.iter().map(|a| a.name.clone()).collect(),
        metrics,
        runs,
        unfinished,
    })
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

impl Summary {
    /// The CSV: a header (`run`, the axes, the metrics), then one row per finished run; a
    /// metric a run lacks or that is not finite is empty.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = std::iter::once("run".to_string())
            .chain(self.axes.iter().cloned())
            .chain(self.metrics.iter().cloned())
            .map(|h| csv_field(&h))
            .collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for run in &self.runs {
            let row: Vec<String> = std::iter::once(run.name.clone())
                .chain(
                    self.axes
                        .iter()
                        .map(|a| run.values.get(a).map(value_text).unwrap_or_default()),
                )
                .chain(self.metrics.iter().map(|m| match run.metrics.get(m) {
                    Some(x) if x.is_finite() => format!("{x}"),
                    _ => String::new(),
                }))
                .map(|f| csv_field(&f))
                .collect();
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }

    /// A PNG of `metric` against the numeric `axis`: one line per combination of the other
    /// axes, except those that set a seed (keys ending in `.seed`), over which runs are
    /// averaged, with one-standard-error bars where there are several.
    ///
    /// # Errors
    /// An unknown metric or axis (naming the ones there are), an axis whose values are not
    /// numbers, or nothing to plot.
    pub fn figure(&self, manifest: &SweepPlan, metric: &str, axis: &str) -> Result<Vec<u8>> {
        if !self.metrics.iter().any(|m| m == metric) {
            bail!(
                "--metric '{metric}' is not a column of the summary; it has: {}",
                self.metrics.join(", ")
            );
        }
        let Some(x_axis) = manifest.axes.iter().find(|a| a.name == axis) else {
            bail!(
                "--axis '{axis}' is not an axis of the sweep; it has: {}",
                self.axes.join(", ")
            );
        };
        let seed_axes: Vec<&str> = manifest
            .axes
            .iter()
            .filter(|a| a.key == "seed" || a.key.ends_with(".seed"))
            .filter(|a| a.name != x_axis.name)
            .map(|a| a.name.as_str())
            .collect();
        // (series label, x) → values
        let mut groups: BTreeMap<String, BTreeMap<u64, (f64, Vec<f64>)>> = BTreeMap::new();
        for run in &self.runs {
            let x = run
                .values
                .get(axis)
                .and_then(Value::as_f64)
                .with_context(|| {
                    format!(
                        "--axis '{axis}': run {} has a value that is not a number",
                        run.name
                    )
                })?;
            let y = run.metrics.get(metric).copied().unwrap_or(f64::NAN);
            if !y.is_finite() {
                continue;
            }
            let label: Vec<String> = manifest
                .axes
                .iter()
                .filter(|a| a.name != axis && !seed_axes.contains(&a.name.as_str()))
                .map(|a| {
                    format!(
                        "{} = {}",
                        a.name,
                        run.values.get(&a.name).map(value_text).unwrap_or_default()
                    )
                })
                .collect();
            groups
                .entry(label.join(", "))
                .or_default()
                .entry(x.to_bits())
                .or_insert_with(|| (x, Vec::new()))
                .1
                .push(y);
        }
        let mut series = Vec::new();
        for (label, points) in groups {
            let mut xy: Vec<(f64, f64, f64)> = points
                .into_values()
                .map(|(x, ys)| {
                    let n = ys.len() as f64;
                    let mean = ys.iter().sum::<f64>() / n;
                    let error = if ys.len() > 1 {
                        let var = ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / (n - 1.0);
                        (var / n).sqrt()
                    } else {
                        0.0
                    };
                    (x, mean, error)
                })
                .collect();
            xy.sort_by(|a, b| a.0.total_cmp(&b.0));
            let name = if label.is_empty() {
                metric.to_string()
            } else {
                label
            };
            let mut s = Series::new(name, xy.iter().map(|p| (p.0, p.1)).collect());
            if !seed_axes.is_empty() {
                s.errors = Some(xy.iter().map(|p| p.2).collect());
            }
            series.push(s);
        }
        let averaged = match seed_axes.is_empty() {
            true => String::new(),
            false => format!(
                " (mean over {}, ± one standard error)",
                seed_axes.join(", ")
            ),
        };
        line_chart(
            &format!("{metric} against {axis}{averaged}"),
            &format!("{axis} ({})", x_axis.key),
            &super::columns::describe(metric),
            &series,
            false,
        )
    }
}
