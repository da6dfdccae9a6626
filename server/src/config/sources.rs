//! Where settings come from: the environment (which wins), the optional TOML file and `*_FILE`
//! secrets, and the kinds of value a setting can be (how a variable's text becomes what the
//! file would hold).

use super::OAuthApp;
use crate::secret::SecretString;
use anyhow::{bail, Context};
use ipnet::IpNet;
use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::time::Duration;

/// `data_dir` → `CODESOURCE_DATA_DIR`.
pub(super) fn env_name(key: &str) -> String {
    format!("CODESOURCE_{}", key.to_ascii_uppercase())
}

/// The environment's `CODESOURCE_*` variables over the optional TOML file.
pub(super) struct Layers<'a> {
    vars: &'a HashMap<String, String>,
    /// The file's text (empty without one), read anew for each key: a key's type comes from
    /// its row, and reading it with `toml`'s own deserializer locates a wrong value.
    text: String,
    path: String,
}

impl<'a> Layers<'a> {
    /// Reads the file `CODESOURCE_CONFIG` names, if any; a key not in `known` stops here,
    /// before any value is judged.
    pub(super) fn new(
        vars: &'a HashMap<String, String>,
        known: &[String],
    ) -> anyhow::Result<Layers<'a>> {
        let mut layers = Layers {
            vars,
            text: String::new(),
            path: String::new(),
        };
        if let Some(path) = vars.get("CODESOURCE_CONFIG") {
            layers.text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {path}"))?;
            layers.path = path.clone();
            toml::Deserializer::new(&layers.text)
                .deserialize_map(OnlyKnown(known))
                .map_err(|e| layers.error(e))?;
        }
        Ok(layers)
    }

    /// A variable, trimmed; blank counts as unset.
    pub(super) fn var(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A key of the file, as the type it must have.
    pub(super) fn file<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        if self.text.is_empty() {
            return Ok(None);
        }
        toml::Deserializer::new(&self.text)
            .deserialize_map(Pick(key, PhantomData))
            .map_err(|e| self.error(e))
    }

    /// An error in the file, named by line, column and key and by what kind of mistake it is,
    /// but never showing the file's text: `toml`'s own message quotes the line and the
    /// offending value, which may be a secret.
    fn error(&self, e: toml::de::Error) -> anyhow::Error {
        let text = &self.text;
        // Where: a span within one line is a value or a key; a longer one is a whole table
        // (fields unknown to a table are reported at the table), which says nothing.
        let place = e
            .span()
            .filter(|s| text.get(s.clone()).is_some_and(|t| !t.contains('\n')))
            .map(|s| {
                let before = &text[..s.start];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                let key = text
                    .lines()
                    .nth(line - 1)
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| format!(" (key {})", k.trim()))
                    .unwrap_or_default();
                format!("line {line}, column {column}{key}: ")
            })
            .unwrap_or_default();
        // What: the message up to its first quoted value (serde quotes a string value with
        // `"`, others with backticks), except for an unknown field, whose quoted name is no
        // secret and is the point.
        let message = e.message();
        let kind = match message.strip_prefix("unknown field `") {
            Some(rest) => format!("unknown field `{}`", rest.split('`').next().unwrap_or("")),
            None => message
                .split(['`', '"'])
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        let kind = kind.trim().trim_end_matches([':', ',']);
        anyhow::anyhow!("parsing config file {}: {place}{kind}", self.path)
    }
}

/// Visits the file's top level, checking that each key is known.
struct OnlyKnown<'k>(&'k [String]);

impl<'de> Visitor<'de> for OnlyKnown<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table of settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if !self.0.contains(&key) {
                return Err(de::Error::unknown_field(&key, &[]));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// Visits the file's top level for one key's value, as a `T`.
struct Pick<'k, T>(&'k str, PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Pick<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a table of settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.0 {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// What a setting's value is: its type in the TOML file, how a variable's text becomes that,
/// and whether a `*_FILE` twin may give it.
pub(super) trait Kind {
    type Value: DeserializeOwned;
    const SECRET: bool = false;

    fn from_env(text: &str, name: &str) -> anyhow::Result<Self::Value>;

    /// The variable, or else the file's key.
    fn get(layers: &Layers, key: &str, name: &str) -> anyhow::Result<Option<Self::Value>> {
        match layers.var(name) {
            Some(v) => Self::from_env(&v, name).map(Some),
            None => layers.file(key),
        }
    }
}

/// A string.
pub(super) struct Text;

impl Kind for Text {
    type Value = String;

    fn from_env(text: &str, _: &str) -> anyhow::Result<String> {
        Ok(text.to_string())
    }
}

/// A string that may instead be read from the file `*_FILE` (or `<key>_file`) names.
pub(super) struct Secret;

impl Kind for Secret {
    type Value = String;
    const SECRET: bool = true;

    fn from_env(text: &str, _: &str) -> anyhow::Result<String> {
        Ok(text.to_string())
    }

    fn get(layers: &Layers, key: &str, name: &str) -> anyhow::Result<Option<String>> {
        let value = layers
            .var(name)
            .map(Ok)
            .or_else(|| layers.file(key).transpose());
        let file_name = format!("{name}_FILE");
        let file = layers
            .var(&file_name)
            .map(Ok)
            .or_else(|| layers.file(&format!("{key}_file")).transpose());
        secret(value.transpose()?, file.transpose()?, name)
    }
}

/// A list: comma-separated in a variable, an array in the file.
pub(super) struct List;

impl Kind for List {
    type Value = Vec<String>;

    fn from_env(text: &str, _: &str) -> anyhow::Result<Vec<String>> {
        Ok(split(text, &[',']))
    }
}

/// A list of words: separated by commas or spaces in a variable, an array in the file.
pub(super) struct Words;

impl Kind for Words {
    type Value = Vec<String>;

    fn from_env(text: &str, _: &str) -> anyhow::Result<Vec<String>> {
        Ok(split(text, &[',', ' ']))
    }
}

fn split(text: &str, by: &[char]) -> Vec<String> {
    text.split(by)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off` in a variable).
pub(super) struct Flag;

impl Kind for Flag {
    type Value = bool;

    fn from_env(text: &str, name: &str) -> anyhow::Result<bool> {
        match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => bail!("{name} must be true or false"),
        }
    }
}

/// A whole number of type `T`.
pub(super) struct Number<T>(PhantomData<T>);

impl<T: DeserializeOwned + std::str::FromStr> Kind for Number<T> {
    type Value = T;

    fn from_env(text: &str, name: &str) -> anyhow::Result<T> {
        text.parse::<T>()
            .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not {text:?}"))
    }
}

/// Both halves of an OAuth app, or neither.
pub(super) fn oauth_app(
    id: Option<String>,
    secret: Option<String>,
    prefix: &str,
) -> anyhow::Result<Option<OAuthApp>> {
    match (id, secret) {
        (Some(client_id), Some(s)) => Ok(Some(OAuthApp {
            client_id,
            client_secret: SecretString::new(s),
        })),
        (None, None) => Ok(None),
        _ => bail!("set both {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET (or _FILE), or neither"),
    }
}

/// A secret from its variable or from the file `*_FILE` names (not both).
pub(super) fn secret(
    value: Option<String>,
    file: Option<String>,
    name: &str,
) -> anyhow::Result<Option<String>> {
    match (value, file) {
        (Some(_), Some(_)) => bail!("set either {name} or {name}_FILE, not both"),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let v = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {name}_FILE {path}"))?;
            Ok(Some(v.trim().to_string()))
        }
        (None, None) => Ok(None),
    }
}

pub fn parse_cidrs(items: &[String]) -> anyhow::Result<Vec<IpNet>> {
    items
        .iter()
        .map(|s| {
            s.parse::<IpNet>().map(|n| n.trunc()).with_context(|| {
                format!("CODESOURCE_BUILD_NODE_CIDRS: {s:?} is not a CIDR such as 10.0.0.0/24")
            })
        })
        .collect()
}

/// A whole number of seconds within `range`.
pub(super) fn seconds(s: u64, name: &str, range: RangeInclusive<u64>) -> anyhow::Result<Duration> {
    if !range.contains(&s) {
        bail!(
            "{name} must be between {} and {} seconds",
            range.start(),
            range.end()
        );
    }
    Ok(Duration::from_secs(s))
}

/// A period in whole seconds: `0` is off, anything else at least `min`.
pub(super) fn interval(secs: u64, min: u64) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_secs(secs.max(min)))
}

/// A base URL without its trailing `/`.
pub(super) fn base_url(u: &str) -> String {
    u.trim_end_matches('/').to_string()
}
