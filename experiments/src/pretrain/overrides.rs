//! Overrides of a configuration by dotted keys (`training.cd.k=2`): what sweep files' axes and
//! `fig3`'s flags set. A key must exist, and its value must be of the key's kind.

use std::str::FromStr;

use anyhow::{Result, bail};
use ising_data::config;
use serde_json::Value;

use super::config::PretrainConfig;

/// One override: a dotted key of the configuration and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The dotted key, e.g. `training.momentum`.
    pub key: String,
    /// Its value.
    pub value: Value,
}

impl Override {
    /// The override of `key` by `value`.
    pub fn new(key: &str, value: impl Into<Value>) -> Self {
        Self {
            key: key.to_string(),
            value: value.into(),
        }
    }
}

impl FromStr for Override {
    type Err = String;

    /// `KEY=VALUE`, the value read as JSON (`0.9`, `true`, `[256, 64]`, `"sample"`) or, when
    /// it is not JSON, as a string (`mean`).
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("'{text}' is not KEY=VALUE (e.g. training.momentum=0.9)"))?;
        if key.trim().is_empty() {
            return Err(format!("'{text}' has no key before '='"));
        }
        let value = serde_json::from_str(value.trim())
            .unwrap_or_else(|_| Value::String(value.trim().to_string()));
        Ok(Self {
            key: key.trim().to_string(),
            value,
        })
    }
}

/// `config` with `overrides` applied in order (a later one wins), read back as a
/// configuration (not yet checked).
///
/// # Errors
/// A key the configuration lacks (naming the nearest one), or a value not of its key's kind.
pub fn apply(config: &PretrainConfig, overrides: &[Override]) -> Result<PretrainConfig> {
    let mut json = serde_json::to_value(config)?;
    for o in overrides {
        set_key(&mut json, &o.key, &o.value)?;
    }
    PretrainConfig::from_json(&json.to_string())
}

/// The JSON kind of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Sets the dotted `key` of `json` to `value`; the key must exist, and the value must be of
/// its kind (an integer where the configuration has one, a number for a number, …), except
/// for an optional setting, null on one side (unset, or unsetting it): the configuration's
/// own reading then checks the value.
///
/// # Errors
/// Naming the key (and the nearest existing one) or the kinds.
pub fn set_key(json: &mut Value, key: &str, value: &Value) -> Result<()> {
    let all = dotted_keys(json);
    let mut at = &mut *json;
    for part in key.split('.') {
        match at.get_mut(part) {
            Some(next) => at = next,
            None => {
                let nearest = config::nearest(key, &all)
                    .map(|k| format!(" (did you mean '{k}'?)"))
                    .unwrap_or_default();
                bail!("unknown key '{key}': the configuration has no such field{nearest}");
            }
        }
    }
    let fits = match (&*at, value) {
        (Value::Number(old), Value::Number(new)) => {
            !(old.is_u64() || old.is_i64()) || new.is_u64() || new.is_i64()
        }
        (Value::Null, _) | (_, Value::Null) => true,
        (old, new) => std::mem::discriminant(old) == std::mem::discriminant(new),
    };
    if !fits {
        bail!(
            "{key} = {value} is {}, but {key} is {} (as {at} in the base)",
            kind(value),
            kind(at)
        );
    }
    *at = value.clone();
    Ok(())
}

/// Every dotted key of a JSON object (objects and leaves), for suggestions.
fn dotted_keys(json: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    if let Value::Object(map) = json {
        for (k, v) in map {
            keys.push(k.clone());
            keys.extend(dotted_keys(v).into_iter().map(|sub| format!("{k}.{sub}")));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_read_json_or_text_and_check_key_and_kind() {
        let o: Override = "training.cd.k=2".parse().unwrap();
        assert_eq!(o, Override::new("training.cd.k", 2));
        let o: Override = "propagation = sample".parse().unwrap();
        assert_eq!(o, Override::new("propagation", "sample"));
        assert!("training.cd.k".parse::<Override>().is_err());
        let paper = PretrainConfig::from_json(include_str!("../../configs/paper.json")).unwrap();
        let set = |o: &[Override]| apply(&paper, o).map_err(|e| e.to_string());
        let c = set(&[
            Override::new("layers", serde_json::json!([1600, 100])),
            "training.momentum=0.9".parse().unwrap(),
            "propagation=sample".parse().unwrap(),
        ])
        .unwrap();
        assert_eq!(c.layers, [1600, 100]);
        assert_eq!(c.training.momentum, 0.9);
        assert_eq!(c.propagation, rbm::Propagation::Sample);
        let e = set(&["training.momentun=0.9".parse().unwrap()]).unwrap_err();
        assert!(e.contains("did you mean 'training.momentum'"), "{e}");
        let e = set(&["data.size=8.5".parse().unwrap()]).unwrap_err();
        assert!(
            e.contains("is a number, but data.size is an integer"),
            "{e}"
        );
        // An optional setting, absent (null) in the base, takes an object; the
        // configuration's reading checks it, naming what is wrong.
        let pcd = set(&["training.cd.persistent=true".parse().unwrap()]).unwrap();
        let ladder = serde_json::json!({"replicas": 4, "beta_min": 0.3});
        let c = apply(&pcd, &[Override::new("training.cd.tempering", ladder)]).unwrap();
        assert_eq!(c.training.cd.tempering.map(|t| t.replicas), Some(4));
        let bad = serde_json::json!({"replicas": 4, "beta_low": 0.3});
        let e = apply(&pcd, &[Override::new("training.cd.tempering", bad)]).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("beta_low") && e.contains("beta_min"), "{e}");
    }
}
