//! Typed access to a module's arguments once they have been templated.

use serde_json::{Map, Value};

use crate::ModuleError;

/// A module's arguments: canonical names (aliases already resolved) to values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args(pub Map<String, Value>);

impl Args {
    pub fn new(map: Map<String, Value>) -> Self {
        Self(map)
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string argument; numbers and booleans are rendered as Ansible does.
    pub fn str(&self, name: &str) -> Option<String> {
        self.get(name).map(value_to_string)
    }

    pub fn required_str(&self, name: &str) -> Result<String, ModuleError> {
        self.str(name)
            .ok_or_else(|| ModuleError::BadArgs(format!("missing required arguments: {name}")))
    }

    /// A boolean with Ansible's spellings (yes/no, on/off, true/false, 1/0).
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ModuleError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ModuleError::BadArgs(format!(
                    "argument '{name}' is of type {} and we were unable to convert to bool: \
                     {} could not be converted to a bool",
                    type_name(v),
                    value_to_string(v)
                ))
            }),
        }
    }
}

/// Renders a scalar as Ansible would when it expects a string.
pub fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Ansible's boolean conversion.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" => Some(true),
            "no" | "off" | "0" | "false" | "n" | "f" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "str",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
        Value::Null => "NoneType",
    }
}
