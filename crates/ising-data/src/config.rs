//! The workspace's one configuration discipline: a configuration is a plain serde type that
//! [`Checked::validated`] turns into a [`Valid`] one (the only form the code that runs it
//! accepts), its faults are a [`ConfigError`] naming the field, and configuration files are
//! read by [`from_json`], which refuses unknown keys naming the nearest valid one.
//!
//! ```
//! use ising_data::config::{Checked, ConfigError};
//! use ising_data::{GenerateConfig, Lattice};
//!
//! let config = GenerateConfig::new(Lattice::Square { l: 8 }, -0.3, 100, 1);
//! let e = config.validated().unwrap_err();
//! assert_eq!(e.field(), Some("coupling"));
//! ```

use std::fmt;
use std::ops::Deref;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What is wrong with a configuration, naming the field (its dotted path) at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// A field's value is outside what the field accepts.
    #[error("{field} must be {expected}, got {got}{}", why.as_ref().map(|w| format!(": {w}")).unwrap_or_default())]
    Invalid {
        /// The field's dotted path (e.g. `training.learning_rate`).
        field: String,
        /// What it accepts (e.g. `in (0, 1]`).
        expected: String,
        /// The value given.
        got: String,
        /// Why the limit is there, when it is not obvious.
        why: Option<String>,
    },
    /// Fields that are valid one by one but not together.
    #[error("{reason}")]
    Inconsistent {
        /// The fields involved, by dotted path; the first is the one to change.
        fields: Vec<String>,
        /// What is wrong and how to mend it, naming the fields.
        reason: String,
    },
    /// A key that the configuration does not have.
    #[error("unknown key '{key}'{}", nearest.as_ref().map(|n| format!(" (did you mean '{n}'?)")).unwrap_or_default())]
    UnknownKey {
        /// The key's dotted path.
        key: String,
        /// The nearest key that exists at that place.
        nearest: Option<String>,
    },
    /// A value of the wrong type or form (or a missing required key).
    #[error("key '{key}' (line {line}, column {column}): {reason}")]
    Malformed {
        /// The key's dotted path (`.` for the whole document).
        key: String,
        /// Where the value at fault stands.
        line: usize,
        /// Where the value at fault stands.
        column: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// A configuration whose run could not fit in the machine's memory.
    #[error("{0}")]
    TooLarge(String),
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] field.
    pub fn invalid(field: &str, expected: impl Into<String>, got: impl fmt::Display) -> Self {
        Self::Invalid {
            field: field.to_string(),
            expected: expected.into(),
            got: got.to_string(),
            why: None,
        }
    }

    /// An [`ConfigError::Inconsistent`] set of fields.
    pub fn inconsistent(fields: &[&str], reason: impl Into<String>) -> Self {
        Self::Inconsistent {
            fields: fields.iter().map(|f| f.to_string()).collect(),
            reason: reason.into(),
        }
    }

    /// The error with the reason for the limit added (for [`ConfigError::Invalid`]; others
    /// are returned unchanged).
    pub fn because(self, reason: impl Into<String>) -> Self {
        match self {
            Self::Invalid {
                field,
                expected,
                got,
                ..
            } => Self::Invalid {
                field,
                expected,
                got,
                why: Some(reason.into()),
            },
            other => other,
        }
    }

    /// The dotted path of the field at fault (the first of inconsistent ones), if one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Inconsistent { fields, .. } => fields.first().map(String::as_str),
            Self::UnknownKey { key, .. } | Self::Malformed { key, .. } => Some(key),
            Self::NotJson(_) | Self::TooLarge(_) => None,
        }
    }

    /// The error of a part of a larger configuration, its field paths under `prefix` (e.g.
    /// a [`ConfigError`] of `cd` becomes one of `training.cd`).
    pub fn within(self, prefix: &str) -> Self {
        self.renamed(|f| format!("{prefix}.{f}"))
    }

    /// The error with the field of [`ConfigError::Invalid`] (and the fields of the others)
    /// named by `name`: e.g. the command-line flag that set it (`burn_in_sweeps` →
    /// `--burn-in`).
    pub fn renamed(self, name: impl Fn(&str) -> String) -> Self {
        let under = |f: String| name(&f);
        match self {
            Self::Invalid {
                field,
                expected,
                got,
                why,
            } => Self::Invalid {
                field: under(field),
                expected,
                got,
                why,
            },
            Self::Inconsistent { fields, reason } => Self::Inconsistent {
                fields: fields.into_iter().map(under).collect(),
                reason,
            },
            Self::UnknownKey { key, nearest } => Self::UnknownKey {
                key: under(key),
                nearest,
            },
            other => other,
        }
    }
}

/// A configuration that can check itself: the one way to a [`Valid`] one.
pub trait Checked: Sized {
    /// Checks every field and the fields together.
    ///
    /// # Errors
    /// The first fault found, naming the field.
    fn check(&self) -> Result<(), ConfigError>;

    /// The configuration, checked.
    ///
    /// # Errors
    /// The first fault found ([`Checked::check`]).
    fn validated(self) -> Result<Valid<Self>, ConfigError> {
        self.check()?;
        Ok(Valid(self))
    }
}

/// A configuration whose check includes the whole check of a nested part `U` (a field checked
/// with `U::check`), so that the part of a [`Valid`] one is valid too ([`Valid::part`]).
pub trait Contains<U>: Checked {
    /// The part.
    fn part(&self) -> &U;
}

/// A configuration that passed its [`Checked::check`]: what the code that runs it takes, so
/// that it never meets an unchecked value. Read through `Deref`; change it by taking it apart
/// ([`Valid::into_inner`]) and validating again.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    /// The configuration itself, to change it (and validate it again).
    pub fn into_inner(self) -> T {
        self.0
    }

    /// A copy of the part `U`, valid without a second check since `T`'s check includes it.
    pub fn part<U: Clone>(&self) -> Valid<U>
    where
        T: Contains<U>,
    {
        Valid(self.0.part().clone())
    }
}

impl<T> Deref for Valid<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> AsRef<T> for Valid<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

/// Reads a configuration from JSON text, refusing any key it does not know (naming the nearest
/// key that exists at that place) and naming the key, line and column of a value of the wrong
/// type. The keys known are those of the configuration read, serialised back, and those of
/// `reference`, a configuration of the same type with every optional key present (a preset):
/// a misspelt required key shows up as a missing field, and the reference names it; an
/// optional key that serialises to nothing is still known. The result is not yet
/// [checked](Checked), since callers may apply overrides first.
///
/// # Errors
/// [`ConfigError::NotJson`], [`ConfigError::UnknownKey`] or [`ConfigError::Malformed`].
pub fn from_json<T: DeserializeOwned + Serialize>(
    text: &str,
    reference: Option<&Value>,
) -> Result<T, ConfigError> {
    let given: Value =
        serde_json::from_str(text).map_err(|e| ConfigError::NotJson(e.to_string()))?;
    let config: T = match serde_json::from_value(given.clone()) {
        Ok(config) => config,
        Err(_) => {
            if let Some(reference) = reference {
                unknown_keys("", &given, reference)?;
            }
            return Err(locate_error::<T>(text));
        }
    };
    let mut known =
        serde_json::to_value(&config).map_err(|e| ConfigError::NotJson(e.to_string()))?;
    if let Some(reference) = reference {
        add_keys(&mut known, reference);
    }
    unknown_keys("", &given, &known)?;
    Ok(config)
}

/// Adds to the objects of `known` the keys of `extra`'s objects at the same places that they
/// lack (the elements of `extra`'s arrays stand for every element).
fn add_keys(known: &mut Value, extra: &Value) {
    match (known, extra) {
        (Value::Object(k), Value::Object(e)) => {
            for (key, value) in e {
                match k.get_mut(key) {
                    Some(sub) => add_keys(sub, value),
                    None => {
                        k.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(k), Value::Array(e)) => {
            if let Some(first) = e.first() {
                for item in k {
                    add_keys(item, first);
                }
            }
        }
        _ => {}
    }
}

/// The error of reading `text` as a `T`, naming the key and where its value stands.
fn locate_error<T: DeserializeOwned>(text: &str) -> ConfigError {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let key = e.path().to_string();
            let inner = e.into_inner();
            ConfigError::Malformed {
                key,
                line: inner.line(),
                column: inner.column(),
                reason: strip_position(&inner.to_string()).to_string(),
            }
        }
        Ok(_) => ConfigError::NotJson("the text does not read the same twice".into()),
    }
}

/// A serde_json message without its trailing " at line L column C".
fn strip_position(message: &str) -> &str {
    message.rsplit_once(" at line ").map_or(message, |(m, _)| m)
}

/// Refuses the first key of `given` that `known` (the same configuration serialised back)
/// lacks, naming the nearest key that exists at that place.
fn unknown_keys(path: &str, given: &Value, known: &Value) -> Result<(), ConfigError> {
    match (given, known) {
        // Variants of a tagged enum (e.g. a schedule's kind) have different keys.
        (Value::Object(g), Value::Object(k))
            if g.get("kind")
                .is_some_and(|kind| Some(kind) != k.get("kind")) =>
        {
            Ok(())
        }
        (Value::Object(g), Value::Object(k)) => {
            for (key, value) in g {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match k.get(key) {
                    Some(sub) => unknown_keys(&here, value, sub)?,
                    None => {
                        return Err(ConfigError::UnknownKey {
                            key: here,
                            nearest: nearest(key, k.keys()).map(str::to_string),
                        });
                    }
                }
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(k)) => {
            // An element beyond the known ones is checked against the first (a reference's
            // one element stands for all).
            for (i, a) in g.iter().enumerate() {
                if let Some(b) = k.get(i).or(k.first()) {
                    unknown_keys(&format!("{path}[{i}]"), a, b)?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The candidate nearest to `word` by [`edit_distance`] (the first of equals), if any.
pub fn nearest<'a, S: AsRef<str> + ?Sized + 'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a S>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(AsRef::as_ref)
        .min_by_key(|candidate| edit_distance(word, candidate))
}

/// Levenshtein distance between two strings (in chars), for "did you mean" suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Inner {
        rate: f64,
        #[serde(default)]
        steps: usize,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Outer {
        inner: Inner,
        name: String,
    }

    impl Checked for Outer {
        fn check(&self) -> Result<(), ConfigError> {
            if self.inner.rate <= 0.0 || self.inner.rate.is_nan() {
                return Err(ConfigError::invalid("rate", "> 0", self.inner.rate).within("inner"));
            }
            Ok(())
        }
    }

    #[test]
    fn unknown_keys_name_the_nearest_key_at_their_place() {
        let e = from_json::<Outer>(r#"{"inner": {"rate": 1, "stesp": 2}, "name": "a"}"#, None)
            .unwrap_err();
        assert_eq!(
            e,
            ConfigError::UnknownKey {
                key: "inner.stesp".into(),
                nearest: Some("steps".into())
            }
        );
        assert_eq!(
            e.to_string(),
            "unknown key 'inner.stesp' (did you mean 'steps'?)"
        );
    }

    #[test]
    fn a_misspelt_required_key_is_named_through_the_reference() {
        let reference = serde_json::json!({"inner": {"rate": 1.0, "steps": 0}, "name": "a"});
        let text = r#"{"inner": {"rtae": 1}, "name": "a"}"#;
        let e = from_json::<Outer>(text, Some(&reference)).unwrap_err();
        assert_eq!(e.field(), Some("inner.rtae"));
        // Without a reference it is a missing field, located.
        let e = from_json::<Outer>(text, None).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Malformed { key, .. } if key == "inner"),
            "{e:?}"
        );
    }

    #[test]
    fn optional_keys_of_the_reference_are_known_in_every_element() {
        #[derive(Debug, Serialize, Deserialize)]
        struct List {
            items: Vec<Inner>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            note: Option<String>,
        }
        let reference = serde_json::json!({"items": [{"rate": 1.0, "steps": 0}], "note": ""});
        let text = r#"{"items": [{"rate": 1}, {"rate": 2, "steps": 3}], "note": null}"#;
        let list: List = from_json(text, Some(&reference)).unwrap();
        assert_eq!(list.items[1].steps, 3);
        let e = from_json::<List>(
            r#"{"items": [{"rate": 1}, {"rate": 2, "step": 3}]}"#,
            Some(&reference),
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("items[1].step"));
        // Without the reference, the null note does not serialise back: refused.
        assert!(from_json::<List>(text, None).is_err());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_located() {
        let text = "{\"inner\": {\"rate\": 1},\n \"name\": 3}";
        let e = from_json::<Outer>(text, None).unwrap_err();
        assert_eq!(
            e,
            ConfigError::Malformed {
                key: "name".into(),
                line: 2,
                column: 10,
                reason: "invalid type: integer `3`, expected a string".into()
            }
        );
        assert!(matches!(
            from_json::<Outer>("{", None),
            Err(ConfigError::NotJson(_))
        ));
    }

    #[test]
    fn only_a_checked_configuration_becomes_valid() {
        let bad = Outer {
            inner: Inner {
                rate: 0.0,
                steps: 1,
            },
            name: "a".into(),
        };
        let e = bad.validated().unwrap_err();
        assert_eq!(e.field(), Some("inner.rate"));
        assert_eq!(e.to_string(), "inner.rate must be > 0, got 0");
        assert_eq!(
            e.because("a rate of 0 never moves").to_string(),
            "inner.rate must be > 0, got 0: a rate of 0 never moves"
        );
        let good = from_json::<Outer>(r#"{"inner": {"rate": 2}, "name": "b"}"#, None)
            .unwrap()
            .validated()
            .unwrap();
        assert_eq!(good.inner.steps, 0);
        assert_eq!(
            serde_json::to_string(&good).unwrap(),
            r#"{"inner":{"rate":2.0,"steps":0},"name":"b"}"#
        );
    }

    #[test]
    fn edit_distance_and_nearest() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(nearest("epochz", ["seed", "epochs"]), Some("epochs"));
        assert_eq!(nearest::<str>("x", []), None);
    }
}
