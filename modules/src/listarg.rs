//! Ansible's `list`-typed arguments: a YAML list, or a string split on commas.

use serde_json::Value;

use crate::args::value_to_string;
use crate::{Args, ModuleError};

/// The items of a list argument (empty when absent). A string is split on
/// commas and each item trimmed, as Ansible's `type='list'` does.
pub fn list(args: &Args, name: &str) -> Result<Vec<String>, ModuleError> {
    let items = match args.get(name) {
        None => Vec::new(),
        Some(Value::Array(values)) => values.iter().map(value_to_string).collect(),
        Some(Value::Object(_)) => {
            return Err(ModuleError::BadArgs(format!(
                "argument '{name}' is of type dict and we were unable to convert to list"
            )))
        }
        Some(other) => value_to_string(other).split(',').map(str::to_string).collect(),
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// An integer argument (a number or a numeric string).
pub fn int(args: &Args, name: &str) -> Result<Option<i64>, ModuleError> {
    match args.get(name) {
        None => Ok(None),
        Some(v) => {
            let text = value_to_string(v);
            text.trim().parse().map(Some).map_err(|_| {
                ModuleError::BadArgs(format!(
                    "argument '{name}' is of type str and we were unable to convert to int: \
                     '{text}' cannot be converted to an int"
                ))
            })
        }
    }
}

/// A string argument restricted to `choices`.
pub fn choice(
    args: &Args,
    name: &str,
    choices: &[&'static str],
) -> Result<Option<&'static str>, ModuleError> {
    let Some(text) = args.str(name) else { return Ok(None) };
    choices.iter().find(|c| **c == text).copied().map(Some).ok_or_else(|| {
        ModuleError::BadArgs(format!(
            "value of {name} must be one of: {}, got: {text}",
            choices.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn strings_split_on_commas_lists_stay() {
        let a = args(json!({"a": "x, y,z", "b": ["p", "q,r"], "c": 5}));
        assert_eq!(list(&a, "a").unwrap(), ["x", "y", "z"]);
        assert_eq!(list(&a, "b").unwrap(), ["p", "q,r"]);
        assert_eq!(list(&a, "c").unwrap(), ["5"]);
        assert!(list(&a, "missing").unwrap().is_empty());
    }

    #[test]
    fn ints_and_choices() {
        let a = args(json!({"n": "3600", "m": 7, "bad": "soon", "s": "latest"}));
        assert_eq!(int(&a, "n").unwrap(), Some(3600));
        assert_eq!(int(&a, "m").unwrap(), Some(7));
        assert!(int(&a, "bad").is_err());
        assert_eq!(choice(&a, "s", &["present", "latest"]).unwrap(), Some("latest"));
        assert!(choice(&a, "s", &["present"]).is_err());
    }
}
