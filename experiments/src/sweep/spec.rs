//! The sweep file: a base configuration, fixed overrides, and axes of overrides whose
//! cartesian product is the list of runs, each with a readable folder name and its full,
//! validated [`PretrainConfig`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pretrain::PretrainConfig;
use crate::pretrain::overrides::set_key;
use ising_data::config::{self, Checked, ConfigError, Valid};

/// A sweep: every run is the base configuration with the overrides and one value of each axis
/// applied.
///
/// ```json
/// {
///   "base": {"preset": "paper"},
///   "overrides": {"training.epochs": 100},
///   "axes": [
///     {"key": "data.coupling", "values": [0.30, 0.36, 0.408, 0.42, 0.4407, 0.46, 0.50]},
///     {"key": "training.seed", "values": [1, 2]}
///   ]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// The configuration every run starts from.
    pub base: Base,
    /// Dotted keys set in every run (e.g. `"training.epochs": 100`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, Value>,
    /// The axes, outermost first: runs are ordered as nested loops over them, the last axis
    /// varying fastest.
    pub axes: Vec<Axis>,
    /// `fig3 --kl-every N` for every run: the first layer's KL per spin every N epochs, for
    /// `sweep collect`'s KL-against-time figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kl_every: Option<usize>,
}

/// Where a sweep's base configuration comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// A preset of `experiments/configs` (`paper` or `quick`), as `fig3 --preset`.
    Preset(String),
    /// A configuration file, relative to the sweep file's folder.
    Config(PathBuf),
    /// A configuration written out in the sweep file.
    Inline(Value),
}

/// One axis of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// The dotted key it sets (e.g. `data.coupling`).
    pub key: String,
    /// Its name in run folders and summaries; the key's last part by default (`coupling`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The values, one run each (times the other axes).
    pub values: Vec<Value>,
    /// Keys set together with this axis, one value per value of the axis (e.g. `layers` with
    /// `data.size`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, Vec<Value>>,
    /// A name for each value, used in run folders and summaries in place of the value's text
    /// (for values such as objects, e.g. a `training.cd` section per training method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

impl Axis {
    /// The axis's name ([`Axis::name`], or the key's last part).
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.key.rsplit('.').next().unwrap_or(&self.key).to_string())
    }

    /// Value `j` as runs and summaries name it: its label, or the value itself.
    fn shown(&self, j: usize) -> Value {
        match &self.labels {
            Some(labels) => Value::String(labels[j].clone()),
            None => self.values[j].clone(),
        }
    }

    /// The labels, if any: one per value, distinct, usable in folder names.
    fn check_labels(&self, i: usize) -> std::result::Result<(), ConfigError> {
        let Some(labels) = &self.labels else {
            return Ok(());
        };
        let field = format!("axes[{i}].labels");
        let at = format!("axes[{i}] ({})", self.key);
        if labels.len() != self.values.len() {
            return Err(ConfigError::inconsistent(
                &[&field],
                format!(
                    "{at}: {} labels for {} values; give one per value",
                    labels.len(),
                    self.values.len()
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for label in labels {
            if label.is_empty() || sanitise(label) != *label {
                return Err(ConfigError::inconsistent(
                    &[&field],
                    format!(
                        "{at}: the label '{label}' cannot be part of a folder name (use letters, digits, '.', '+' and '-')"
                    ),
                ));
            }
            if !seen.insert(label) {
                return Err(ConfigError::inconsistent(
                    &[&field],
                    format!("{at}: the label '{label}' is given twice"),
                ));
            }
        }
        Ok(())
    }
}

/// One run of an expanded sweep.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// Its position in the plan (the Slurm array index).
    pub index: usize,
    /// Its folder name, e.g. `coupling-0.408_seed-1`.
    pub name: String,
    /// Its value of each axis, by axis name.
    pub values: BTreeMap<String, Value>,
    /// Its full configuration, validated.
    pub config: Valid<PretrainConfig>,
}

/// A preset of `experiments/configs`, by the name sweep files and `fig3 --preset` give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// The paper's run: 1600-400-100-25 on 40 000 samples of the 40×40 lattice at K = 0.408.
    Paper,
    /// The same stack on 10 000 samples for 20 epochs a layer, for a first look in minutes.
    Quick,
    /// The paper's data and stack trained by the method that came closest to equilibrium in
    /// the training-methods comparison (the book's "Training to equilibrium").
    Equilibrium,
}

impl Preset {
    /// The preset's configuration file.
    pub fn text(self) -> &'static str {
        match self {
            Preset::Paper => include_str!("../../configs/paper.json"),
            Preset::Quick => include_str!("../../configs/quick.json"),
            Preset::Equilibrium => include_str!("../../configs/equilibrium.json"),
        }
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Paper => "paper",
            Preset::Quick => "quick",
            Preset::Equilibrium => "equilibrium",
        }
    }
}

/// The text of the preset called `name`.
///
/// # Errors
/// If `name` is not one of [`Preset`]'s.
pub fn preset_text(name: &str) -> Result<&'static str> {
    use clap::ValueEnum;
    match Preset::from_str(name, false) {
        Ok(preset) => Ok(preset.text()),
        Err(_) => bail!("unknown preset '{name}' (paper, quick or equilibrium)"),
    }
}

impl SweepConfig {
    /// Parses a sweep from JSON text, refusing unknown keys. Not yet checked: see
    /// [`Checked::check`] and [`SweepConfig::expand`].
    ///
    /// # Errors
    /// Naming the key at fault.
    pub fn from_json(text: &str) -> Result<Self> {
        let every_key = serde_json::json!({
            "base": {"preset": "paper"},
            "overrides": {},
            "axes": [{"key": "", "name": "", "values": [], "with": {}, "labels": []}],
            "kl_every": 1
        });
        Ok(config::from_json(text, Some(&every_key))?)
    }

    /// Reads a sweep file and expands it ([`SweepConfig::expand`]), a `config` base being
    /// relative to the file's folder.
    ///
    /// # Errors
    /// Naming the file and the fault.
    pub fn read_and_expand(path: &Path) -> Result<(Self, Vec<PlannedRun>)> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let sweep = Self::from_json(&text).with_context(|| format!("{}", path.display()))?;
        let folder = path.parent().unwrap_or(Path::new("."));
        let runs = sweep
            .expand(folder)
            .with_context(|| format!("{}", path.display()))?;
        Ok((sweep, runs))
    }

    /// The base configuration as JSON, every field present (defaults filled in).
    ///
    /// # Errors
    /// If the base cannot be read or parsed, naming it.
    pub fn base_json(&self, folder: &Path) -> Result<Value> {
        let config = match &self.base {
            Base::Preset(name) => {
                PretrainConfig::from_json(preset_text(name).context("base.preset")?)
                    .with_context(|| format!("base: the {name} preset"))?
            }
            Base::Config(path) => {
                let path = folder.join(path);
                PretrainConfig::read(&path).context("base.config")?
            }
            Base::Inline(value) => {
                PretrainConfig::from_json(&value.to_string()).context("base.inline")?
            }
        };
        Ok(serde_json::to_value(config)?)
    }

    /// The runs: the cartesian product of the axes over the base with the overrides, each
    /// with its folder name and validated configuration.
    ///
    /// # Errors
    /// As [`Checked::check`]; a key the configuration does not have (naming the
    /// nearest one), a value of the wrong type, an invalid resulting configuration or two
    /// runs with the same folder name, naming the run and the fault.
    pub fn expand(&self, folder: &Path) -> Result<Vec<PlannedRun>> {
        self.check()?;
        let mut base = self.base_json(folder)?;
        for (key, value) in &self.overrides {
            set_key(&mut base, key, value).with_context(|| format!("overrides.{key}"))?;
        }
        // The keys exist and the types fit for every value, before any run is built.
        for (i, axis) in self.axes.iter().enumerate() {
            let mut probe = base.clone();
            for (j, value) in axis.values.iter().enumerate() {
                set_key(&mut probe, &axis.key, value)
                    .with_context(|| format!("axes[{i}] ({}): values[{j}]", axis.key))?;
                for (key, list) in &axis.with {
                    set_key(&mut probe, key, &list[j])
                        .with_context(|| format!("axes[{i}] ({}): with.{key}[{j}]", axis.key))?;
                }
            }
        }
        let counts: Vec<usize> = self.axes.iter().map(|a| a.values.len()).collect();
        let total = counts.iter().product::<usize>();
        let mut runs: Vec<PlannedRun> = Vec::with_capacity(total);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for index in 0..total {
            // The mixed-radix digits of `index`, the last axis fastest.
            let mut rest = index;
            let mut picks = vec![0; counts.len()];
            for (pick, &count) in picks.iter_mut().zip(&counts).rev() {
                *pick = rest % count;
                rest /= count;
            }
            let mut json = base.clone();
            let mut parts = Vec::new();
            let mut values = BTreeMap::new();
            for (axis, &j) in self.axes.iter().zip(&picks) {
                let value = &axis.values[j];
                set_key(&mut json, &axis.key, value)?;
                for (key, list) in &axis.with {
                    set_key(&mut json, key, &list[j])?;
                }
                let shown = axis.shown(j);
                parts.push(format!(
                    "{}-{}",
                    axis.label(),
                    sanitise(&value_text(&shown))
                ));
                values.insert(axis.label(), shown);
            }
            let name = parts.join("_");
            let config = PretrainConfig::from_json(&json.to_string())
                .and_then(|c| Ok(c.validated()?))
                .with_context(|| format!("run {name}"))?;
            if let Some(&other) = seen.get(&name) {
                bail!(
                    "runs {other} and {index} have the same folder name '{name}'; give axis values whose text differs"
                );
            }
            seen.insert(name.clone(), index);
            runs.push(PlannedRun {
                index,
                name,
                values,
                config,
            });
        }
        Ok(runs)
    }
}

impl Checked for SweepConfig {
    /// At least one axis, no empty axis, `with` lists as long as their axis, axis names
    /// distinct and usable in folder names, and no key set twice (what can be checked without
    /// the base).
    fn check(&self) -> std::result::Result<(), ConfigError> {
        if self.axes.is_empty() {
            return Err(ConfigError::inconsistent(
                &["axes"],
                "axes is empty: a sweep needs at least one axis",
            ));
        }
        if self.kl_every == Some(0) {
            return Err(ConfigError::invalid("kl_every", "at least 1 (epochs)", 0));
        }
        let mut keys: BTreeSet<&str> = self.overrides.keys().map(String::as_str).collect();
        let mut names = BTreeSet::new();
        for (i, axis) in self.axes.iter().enumerate() {
            let at = format!("axes[{i}] ({})", axis.key);
            if axis.key.is_empty() {
                return Err(ConfigError::invalid(
                    &format!("axes[{i}].key"),
                    "a key",
                    "\"\"",
                ));
            }
            if axis.values.is_empty() {
                return Err(ConfigError::inconsistent(
                    &[&format!("axes[{i}].values")],
                    format!("{at}: values is empty; an axis needs at least one value"),
                ));
            }
            let label = axis.label();
            if label.is_empty() || sanitise(&label) != label {
                let fix = match &axis.name {
                    Some(_) => "change its \"name\"".to_string(),
                    None => format!(
                        "give the axis a \"name\" (e.g. \"name\": \"{}\"), since the key's last part is used by default",
                        sanitise(&label.replace('_', "-"))
                    ),
                };
                return Err(ConfigError::inconsistent(
                    &[&format!("axes[{i}].name")],
                    format!(
                        "{at}: the name '{label}' cannot be part of a folder name (use letters, digits, '.', '+' and '-'): {fix}"
                    ),
                ));
            }
            if !names.insert(label.clone()) {
                return Err(ConfigError::inconsistent(
                    &[&format!("axes[{i}].name")],
                    format!(
                        "{at}: the name '{label}' is used by another axis; give one a \"name\""
                    ),
                ));
            }
            for key in std::iter::once(&axis.key).chain(axis.with.keys()) {
                if !keys.insert(key) {
                    return Err(ConfigError::inconsistent(
                        &[&format!("axes[{i}].key")],
                        format!(
                            "{at}: the key '{key}' is set twice (by overrides or another axis)"
                        ),
                    ));
                }
            }
            axis.check_labels(i)?;
            for (key, list) in &axis.with {
                if list.len() != axis.values.len() {
                    return Err(ConfigError::inconsistent(
                        &[&format!("axes[{i}].with.{key}")],
                        format!(
                            "{at}: with.{key} has {} values, the axis {}; give one per value of the axis",
                            list.len(),
                            axis.values.len()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The text of an axis value in a folder name: numbers as JSON writes them (`0.408`, `1`),
/// strings as they are, lists joined by `-` (`64-16-4`).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join("-"),
        other => other.to_string(),
    }
}

/// `text` with every character other than ASCII letters, digits, `.`, `+` and `-` replaced by
/// `-`, and a leading `.` (a hidden folder) too.
pub fn sanitise(text: &str) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| match c {
            '.' if i == 0 => '-',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-') => c,
            _ => '-',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_equilibrium_changes_only_the_training_method() {
        use clap::ValueEnum;
        for preset in Preset::value_variants() {
            let config = PretrainConfig::from_json(preset.text()).unwrap();
            config.validated().unwrap();
            assert_eq!(preset_text(preset.name()).unwrap(), preset.text());
        }
        let json = |p: Preset| -> serde_json::Value { serde_json::from_str(p.text()).unwrap() };
        let (mut paper, mut equilibrium) = (json(Preset::Paper), json(Preset::Equilibrium));
        for key in ["cd", "learning_rate", "schedule", "epochs"] {
            paper["training"][key] = Value::Null;
            equilibrium["training"][key] = Value::Null;
        }
        assert_eq!(
            paper, equilibrium,
            "the equilibrium preset is the paper's run but for its training method"
        );
    }

    fn sweep(axes: &str) -> SweepConfig {
        SweepConfig::from_json(&format!(
            r#"{{"base": {{"preset": "quick"}}, "axes": {axes}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn runs_are_the_product_last_axis_fastest() {
        let s = sweep(
            r#"[{"key": "data.coupling", "values": [0.3, 0.408]},
                {"key": "training.seed", "values": [1, 2, 3]}]"#,
        );
        let runs = s.expand(Path::new(".")).unwrap();
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "coupling-0.3_seed-1",
                "coupling-0.3_seed-2",
                "coupling-0.3_seed-3",
                "coupling-0.408_seed-1",
                "coupling-0.408_seed-2",
                "coupling-0.408_seed-3"
            ]
        );
        assert_eq!(runs[4].config.training.seed, 2);
        assert!((runs[4].config.data.coupling - 0.408).abs() < 1e-15);
        assert_eq!(runs[4].index, 4);
        assert_eq!(runs[4].values["seed"], 2);
    }

    #[test]
    fn a_with_list_goes_with_its_axis() {
        let s = sweep(
            r#"[{"key": "data.size", "values": [8, 16], "with": {"layers": [[64, 16, 4], [256, 64, 16]]}}]"#,
        );
        let runs = s.expand(Path::new(".")).unwrap();
        assert_eq!(runs[1].name, "size-16");
        assert_eq!(runs[1].config.layers, [256, 64, 16]);
    }

    #[test]
    fn a_wrong_kind_of_value_is_refused_naming_the_key() {
        let s = sweep(r#"[{"key": "data.size", "values": [8.5]}]"#);
        let e = format!("{:#}", s.expand(Path::new(".")).unwrap_err());
        assert!(
            e.contains("data.size = 8.5 is a number, but data.size is an integer"),
            "{e}"
        );
    }

    #[test]
    fn names_are_safe_folder_names() {
        assert_eq!(sanitise("a/b c"), "a-b-c");
        assert_eq!(sanitise(".hidden"), "-hidden");
        assert_eq!(value_text(&serde_json::json!([64, 16, 4])), "64-16-4");
        assert_eq!(value_text(&serde_json::json!(0.4407)), "0.4407");
    }
}
