//! One validator for every module's arguments: given its [`ModuleSpec`] and
//! the task's arguments, every violation, each with Ansible's message. Pure,
//! so load time (literal values) and run time (templated values, per host)
//! share it.

use serde_json::{Map, Value};

use crate::args::value_to_string;
use crate::convert::{to_type, type_name};
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
    /// A value (of Python type `given`) that does not convert to the
    /// parameter's type, and Ansible's `reason`.
    Type { name: &'static str, ty: ParamType, given: &'static str, reason: String },
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
            Violation::Type { name, ty, given, reason } => {
                format!("argument '{name}' is of type {given} and we were unable to convert to {}: {reason}", ty.name())
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
/// a null value counts as absent), in the order Ansible checks them, so the
/// first is the one it reports. Modules taking any name skip the name check.
pub fn validate(spec: &ModuleSpec, args: &Map<String, Value>) -> Vec<Violation> {
    violations(spec, args, &|_| false)
}

/// What is wrong whatever the values `unknown` picks (templates, known only
/// per host) turn out to be: those count as given, are not type-checked,
/// and never make a rule fail by being there. For load time.
pub fn validate_known(spec: &ModuleSpec, args: &Map<String, Value>, unknown: &dyn Fn(&Value) -> bool) -> Vec<Violation> {
    violations(spec, args, unknown)
}

/// The arguments after Ansible's type conversions (what the module then
/// receives), or the first violation: Ansible reports one.
pub fn checked(spec: &ModuleSpec, args: &Map<String, Value>) -> Result<Map<String, Value>, Violation> {
    if let Some(first) = validate(spec, args).into_iter().next() {
        return Err(first);
    }
    Ok(args
        .iter()
        .map(|(name, value)| {
            let param = find(spec, name).filter(|_| !value.is_null());
            let converted = param.and_then(|p| to_type(p.ty, value).ok()).unwrap_or_else(|| value.clone());
            (name.clone(), converted)
        })
        .collect())
}

fn find(spec: &ModuleSpec, name: &str) -> Option<&'static Param> {
    spec.params.iter().find(|p| p.name == name || p.aliases.contains(&name))
}

fn violations(spec: &ModuleSpec, args: &Map<String, Value>, unknown: &dyn Fn(&Value) -> bool) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut unsupported = Vec::new();
    let mut given: Vec<(&'static Param, &Value)> = Vec::new();
    for (name, value) in args {
        match find(spec, name) {
            Some(param) if !value.is_null() => given.push((param, value)),
            Some(_) => {}
            None if spec.any_params || name.starts_with("_ansible") => {}
            None => unsupported.push(Violation::Unknown { name: name.clone(), hint: did_you_mean(name, spec.spellings()) }),
        }
    }
    // `present`: given, maybe as a template; `known`: given as a literal.
    let present = |name: &str| given.iter().any(|(p, _)| p.name == name);
    let known = |name: &str| given.iter().any(|(p, v)| p.name == name && !unknown(v));
    let rules = spec.rules;
    for &names in rules.mutually_exclusive {
        if names.iter().filter(|n| known(n)).count() > 1 {
            found.push(Violation::MutuallyExclusive { names });
        }
    }
    let missing: Vec<&'static str> = spec.params.iter().filter(|p| p.required && !present(p.name)).map(|p| p.name).collect();
    if !missing.is_empty() {
        found.push(Violation::Missing { names: missing });
    }
    found.extend(given.iter().filter(|(_, v)| !unknown(v)).filter_map(|(param, value)| check_value(param, value)));
    for &names in rules.required_together {
        if names.iter().any(|n| known(n)) && !names.iter().all(|n| present(n)) {
            found.push(Violation::RequiredTogether { names });
        }
    }
    for &names in rules.required_one_of {
        if !names.iter().any(|n| present(n)) {
            found.push(Violation::RequiredOneOf { names });
        }
    }
    for rule in rules.required_if {
        let value = given.iter().find(|(p, v)| p.name == rule.param && !unknown(v)).map(|(_, v)| value_to_string(v));
        let value = value.or_else(|| (!present(rule.param)).then(|| find(spec, rule.param).and_then(|p| p.default.map(String::from))).flatten());
        if value.as_deref() != Some(rule.value) {
            continue;
        }
        let missing: Vec<&'static str> = rule.then.iter().copied().filter(|n| !present(n)).collect();
        let broken = if rule.any { missing.len() == rule.then.len() } else { !missing.is_empty() };
        if broken {
            found.push(Violation::RequiredIf { param: rule.param, value: rule.value, missing, any: rule.any });
        }
    }
    // Ansible reports unsupported names after every other check.
    found.extend(unsupported);
    found
}

/// The type and choices of one given value.
fn check_value(param: &'static Param, value: &Value) -> Option<Violation> {
    match to_type(param.ty, value) {
        Ok(converted) => choice_violation(param, &converted),
        Err(reason) => {
            let reason = if param.no_log { reason.replace(&value_to_string(value), "********") } else { reason };
            Some(Violation::Type { name: param.name, ty: param.ty, given: type_name(value), reason })
        }
    }
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
    fn checked_gives_converted_values_and_the_first_violation() {
        let spec = lookup("file").unwrap();
        let args = json!({"path": "/x", "state": "directory", "recurse": "yes"});
        let converted = checked(spec, args.as_object().unwrap()).unwrap();
        assert_eq!(converted["recurse"], json!(true));
        assert_eq!(converted["path"], json!("/x"));
        let bad = checked(spec, json!({"path": "/x", "state": "directroy", "recures": 1}).as_object().unwrap()).unwrap_err();
        assert_eq!(bad.argument(), Some("state"), "unsupported names come last, as in Ansible");
    }

    #[test]
    fn templates_count_as_given_but_are_not_checked() {
        let spec = lookup("command").unwrap();
        let templated = |v: &Value| v.as_str().is_some_and(|s| s.contains("{{"));
        let args = json!({"cmd": "{{ c }}", "argv": "{{ a }}", "strip_empty_ends": "{{ s }}"});
        assert!(validate_known(spec, args.as_object().unwrap(), &templated).is_empty());
        let args = json!({"chdir": "{{ d }}"});
        let found = validate_known(spec, args.as_object().unwrap(), &templated);
        assert_eq!(found.iter().map(|v| v.message("command")).collect::<Vec<_>>(), ["one of the following is required: _raw_params, cmd, argv"]);
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
            "argument 'strip_empty_ends' is of type str and we were unable to convert to bool: The value 'maybe' is not a valid boolean. Valid booleans include: 'y', 'yes', 'on', '1', 'true', 't', 1, 'n', 'no', 'off', '0', 'false', 'f', 0",
        ]);
    }

    #[test]
    fn unknown_names_get_a_spelling_hint_and_nulls_are_absent() {
        let spec = lookup("file").unwrap();
        let found = validate(spec, json!({"path": "/x", "recures": true, "state": null}).as_object().unwrap());
        assert_eq!(found, [Violation::Unknown { name: "recures".into(), hint: Some("recurse") }]);
    }

    /// No shipped module uses these two rules yet: a spec made for the test.
    static RULED: ModuleSpec = ModuleSpec {
        name: "ruled",
        kind: crate::spec::ModuleKind::Command,
        free_form: false,
        any_params: false,
        params: &[
            crate::spec::p("state").choices(&["present", "absent"]).default("present"),
            crate::spec::p("key").str(),
            crate::spec::p("user").str(),
            crate::spec::p("password").str().no_log(),
            crate::spec::p("port").int(),
            crate::spec::p("pin").int().no_log(),
        ],
        rules: &crate::spec::Rules {
            required_together: &[&["user", "password"]],
            required_if: &[crate::spec::RequiredIf { param: "state", value: "present", then: &["key"], any: false }],
            ..crate::spec::Rules::NONE
        },
    };

    fn ruled(args: Value) -> Vec<String> {
        validate(&RULED, args.as_object().unwrap()).iter().map(|v| v.message("ruled")).collect()
    }

    #[test]
    fn required_together_and_required_if_with_the_default() {
        assert_eq!(ruled(json!({"key": "k", "user": "u"})), ["parameters are required together: user, password"]);
        assert_eq!(ruled(json!({})), ["state is present but all of the following are missing: key"], "state's default is present");
        assert!(ruled(json!({"state": "absent"})).is_empty());
        let templated = |v: &Value| v.as_str().is_some_and(|s| s.contains("{{"));
        let args = json!({"state": "{{ s }}", "user": "{{ u }}"});
        assert_eq!(validate_known(&RULED, args.as_object().unwrap(), &templated), [], "a templated user may be omitted; a templated state may be absent");
    }

    #[test]
    fn a_secret_that_does_not_convert_is_not_shown() {
        let found = ruled(json!({"state": "absent", "port": "s3cret"}));
        assert_eq!(found, ["argument 'port' is of type str and we were unable to convert to int: \"'s3cret'\" cannot be converted to an int"]);
        let shown = ruled(json!({"state": "absent", "pin": "s3cret"})).join("");
        assert!(!shown.contains("s3cret") && shown.contains("********"), "{shown}");
    }
}
