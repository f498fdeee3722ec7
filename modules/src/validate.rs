//! One validator for every module's arguments: given its [`ModuleSpec`] and
//! the task's arguments, every violation, each with Ansible's message. Pure,
//! so load time (literal values) and run time (templated values, per host)
//! share it.

use serde_json::{Map, Value};

use crate::args::{parse_bool, value_to_string};
use crate::spec::{ModuleSpec, Param, ParamType};
use crate::suggest::did_you_mean;

/// One way the arguments break the spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// A name the module does not take; `hint` is the closest spelling.
    Unknown { name: String, hint: Option<&'static str> },
    /// Required parameters absent (canonical names).
    Missing { names: Vec<&'static str> },
    /// A value outside the parameter's choices; `hint` is the closest choice.
    Choice { name: &'static str, value: String, choices: &'static [&'static str], hint: Option<&'static str> },
    /// A value that does not convert to the parameter's type.
    Type { name: &'static str, ty: ParamType, value: String },
    MutuallyExclusive { names: &'static [&'static str] },
    RequiredOneOf { names: &'static [&'static str] },
    RequiredTogether { names: &'static [&'static str] },
    /// `param` is `value`, so `missing` (all of `then`, or one of them) are required.
    RequiredIf { param: &'static str, value: &'static str, missing: Vec<&'static str>, any: bool },
}

impl Violation {
    /// The argument the violation is about, for a location (the first one for rules).
    pub fn argument(&self) -> Option<&str> {
        match self {
            Violation::Unknown { name, .. } => Some(name),
            Violation::Choice { name, .. } | Violation::Type { name, .. } => Some(name),
            Violation::RequiredIf { param, .. } => Some(param),
            Violation::Missing { .. } | Violation::MutuallyExclusive { .. } | Violation::RequiredOneOf { .. } | Violation::RequiredTogether { .. } => None,
        }
    }

    /// Ansible's message for it (module_utils' argument checks).
    pub fn message(&self, module: &str) -> String {
        match self {
            Violation::Unknown { name, .. } => format!("Unsupported parameters for ({module}) module: {name}."),
            Violation::Missing { names } => format!("missing required arguments: {}", names.join(", ")),
            Violation::Choice { name, value, choices, .. } => {
                format!("value of {name} must be one of: {}, got: {value}", choices.join(", "))
            }
            Violation::Type { name, ty, value } => {
                format!("argument '{name}' is of type str and we were unable to convert to {}: {value}", ty.name())
            }
            Violation::MutuallyExclusive { names } => format!("parameters are mutually exclusive: {}", names.join("|")),
            Violation::RequiredOneOf { names } => format!("one of the following is required: {}", names.join(", ")),
            Violation::RequiredTogether { names } => format!("parameters are required together: {}", names.join(", ")),
            Violation::RequiredIf { param, value, missing, any } => {
                let which = if *any { "any" } else { "all" };
                format!("{param} is {value} but {which} of the following are missing: {}", missing.join(", "))
            }
        }
    }

    /// "did you mean `x`?", when there is a close spelling.
    pub fn hint(&self) -> Option<String> {
        match self {
            Violation::Unknown { hint: Some(h), .. } | Violation::Choice { hint: Some(h), .. } => Some(format!("did you mean `{h}`?")),
            _ => None,
        }
    }
}

/// Every violation of `spec` by `args` (names as written, aliases allowed;
/// a null value counts as absent). Modules taking any name skip the name check.
pub fn validate(spec: &ModuleSpec, args: &Map<String, Value>) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut given: Vec<(&'static Param, &Value)> = Vec::new();
    for (name, value) in args {
        match spec.params.iter().find(|p| p.name == name || p.aliases.contains(&name.as_str())) {
            Some(param) if !value.is_null() => given.push((param, value)),
            Some(_) => {}
            None if spec.any_params || name.starts_with("_ansible") => {}
            None => found.push(Violation::Unknown { name: name.clone(), hint: did_you_mean(name, spec.spellings()) }),
        }
    }
    let present = |name: &str| given.iter().any(|(p, _)| p.name == name);
    let rules = spec.rules;
    for &names in rules.mutually_exclusive {
        if names.iter().filter(|n| present(n)).count() > 1 {
            found.push(Violation::MutuallyExclusive { names });
        }
    }
    let missing: Vec<&'static str> = spec.params.iter().filter(|p| p.required && !present(p.name)).map(|p| p.name).collect();
    if !missing.is_empty() {
        found.push(Violation::Missing { names: missing });
    }
    for (param, value) in &given {
        found.extend(check_value(param, value));
    }
    for &names in rules.required_together {
        let count = names.iter().filter(|n| present(n)).count();
        if count > 0 && count < names.len() {
            found.push(Violation::RequiredTogether { names });
        }
    }
    for &names in rules.required_one_of {
        if !names.iter().any(|n| present(n)) {
            found.push(Violation::RequiredOneOf { names });
        }
    }
    for rule in rules.required_if {
        let value = given.iter().find(|(p, _)| p.name == rule.param).map(|(_, v)| value_to_string(v));
        let value = value.or_else(|| spec.params.iter().find(|p| p.name == rule.param).and_then(|p| p.default.map(String::from)));
        if value.as_deref() != Some(rule.value) {
            continue;
        }
        let missing: Vec<&'static str> = rule.then.iter().copied().filter(|n| !present(n)).collect();
        let broken = if rule.any { missing.len() == rule.then.len() } else { !missing.is_empty() };
        if broken {
            found.push(Violation::RequiredIf { param: rule.param, value: rule.value, missing, any: rule.any });
        }
    }
    found
}

/// The type and choices of one given value.
fn check_value(param: &'static Param, value: &Value) -> Option<Violation> {
    if !converts(param.ty, value) {
        let shown = if param.no_log { "********".to_string() } else { value_to_string(value) };
        return Some(Violation::Type { name: param.name, ty: param.ty, value: shown });
    }
    choice_violation(param, value)
}

/// The first value outside its parameter's choices: what load and run time
/// enforce so far. Cheaper than [`validate`]: only parameters with choices
/// are looked at (run time calls it for every task on every host).
pub fn bad_choice(spec: &ModuleSpec, args: &Map<String, Value>) -> Option<Violation> {
    args.iter().filter(|(_, value)| !value.is_null()).find_map(|(name, value)| {
        let param = spec.params.iter().find(|p| !p.choices.is_empty() && (p.name == name || p.aliases.contains(&name.as_str())))?;
        if !converts(param.ty, value) {
            return None;
        }
        choice_violation(param, value)
    })
}

/// `value` outside `param`'s choices (none when it has no choices).
fn choice_violation(param: &'static Param, value: &Value) -> Option<Violation> {
    if param.choices.is_empty() {
        return None;
    }
    // A list parameter with choices checks each element, as Ansible does.
    let items: Vec<String> = match value {
        Value::Array(items) => items.iter().map(value_to_string).collect(),
        other => vec![value_to_string(other)],
    };
    let bad = items.into_iter().find(|item| !param.choices.contains(&item.as_str()))?;
    let hint = did_you_mean(&bad, param.choices.iter().copied());
    Some(Violation::Choice { name: param.name, value: bad, choices: param.choices, hint })
}

/// Whether Ansible's conversion to `ty` accepts `value` (strings, lists and
/// dicts take their usual string spellings too).
fn converts(ty: ParamType, value: &Value) -> bool {
    match ty {
        ParamType::Raw | ParamType::Str | ParamType::Path => true,
        ParamType::Bool => parse_bool(value).is_some(),
        ParamType::Int => match value {
            Value::Number(n) => n.is_i64() || n.is_u64(),
            Value::String(s) => s.trim().parse::<i64>().is_ok(),
            _ => false,
        },
        ParamType::Float => match value {
            Value::Number(_) => true,
            Value::String(s) => s.trim().parse::<f64>().is_ok(),
            _ => false,
        },
        ParamType::List => !value.is_object(),
        ParamType::Dict => value.is_object() || value.is_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::lookup;
    use serde_json::json;

    fn check(module: &str, args: Value) -> Vec<String> {
        let spec = lookup(module).unwrap();
        validate(spec, args.as_object().unwrap()).iter().map(|v| v.message(spec.name)).collect()
    }

    #[test]
    fn valid_arguments_pass_with_aliases() {
        assert!(check("file", json!({"dest": "/tmp/x", "state": "directory", "recurse": "yes"})).is_empty());
        assert!(check("command", json!({"_raw_params": "echo hi", "chdir": "/"})).is_empty());
    }

    #[test]
    fn a_bad_choice_names_the_argument_and_suggests() {
        let spec = lookup("file").unwrap();
        let found = validate(spec, json!({"path": "/x", "state": "directroy"}).as_object().unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].argument(), Some("state"));
        assert_eq!(found[0].message("file"), "value of state must be one of: absent, directory, file, hard, link, touch, got: directroy");
        assert_eq!(found[0].hint().as_deref(), Some("did you mean `directory`?"));
    }

    #[test]
    fn bad_choice_finds_what_validate_finds_and_only_that() {
        let spec = lookup("file").unwrap();
        let args = json!({"path": "/x", "state": "directroy", "recures": true});
        let choice = validate(spec, args.as_object().unwrap()).into_iter().find(|v| matches!(v, Violation::Choice { .. }));
        assert_eq!(bad_choice(spec, args.as_object().unwrap()), choice);
        assert_eq!(bad_choice(spec, json!({"dest": "/x", "state": "touch"}).as_object().unwrap()), None);
        assert_eq!(bad_choice(lookup("copy").unwrap(), json!({"dest": "/x", "state": "nonsense"}).as_object().unwrap()), None, "copy has no state");
    }

    #[test]
    fn missing_required_and_required_one_of_use_ansible_texts() {
        assert_eq!(check("slurp", json!({})), ["missing required arguments: src"]);
        assert_eq!(check("command", json!({"chdir": "/"})), ["one of the following is required: _raw_params, cmd, argv"]);
    }

    #[test]
    fn mutually_exclusive_and_types_are_found_together() {
        let found = check("command", json!({"cmd": "a", "argv": ["a"], "strip_empty_ends": "maybe"}));
        assert_eq!(found, [
            "parameters are mutually exclusive: _raw_params|cmd|argv",
            "argument 'strip_empty_ends' is of type str and we were unable to convert to bool: maybe",
        ]);
    }

    #[test]
    fn unknown_names_get_a_spelling_hint_and_nulls_are_absent() {
        let spec = lookup("file").unwrap();
        let found = validate(spec, json!({"path": "/x", "recures": true, "state": null}).as_object().unwrap());
        assert_eq!(found, [Violation::Unknown { name: "recures".into(), hint: Some("recurse") }]);
    }
}
