//! `validate_argument_spec`: values checked against an argument spec written
//! in YAML (a role's `meta/argument_specs.yml` entry point, or the task's own
//! `argument_spec:`), with the messages of Ansible's ArgumentSpecValidator.
//!
//! The spec is data read at run time, so the modules' validator
//! (`stockman_modules::validate`, over the `&'static` specs compiled into
//! each module) does not fit it; this one walks the YAML spec. As in Ansible,
//! nothing it converts or defaults is kept: only the errors matter.

use serde_json::{Map, Value};
use stockman_modules::{Args, ModuleResult};

use crate::template::py;

/// The action: the spec's names taken from the task's variables (`from_vars`),
/// `provided_arguments` on top, every error in one failure.
pub(super) fn run(args: &Args, from_vars: impl Fn(&str) -> Option<Value>) -> ModuleResult {
    let Some(spec) = args.get("argument_spec") else {
        return ModuleResult::failed(format!("\"argument_spec\" arg is required in args: {}", py::repr(&Value::Object(args.0.clone()))));
    };
    let Value::Object(spec) = spec else {
        return ModuleResult::failed(format!("Incorrect type for argument_spec, expected dict and got {}", class(spec)));
    };
    let provided = match args.get("provided_arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(provided)) => provided.clone(),
        Some(other) => return ModuleResult::failed(format!("Incorrect type for provided_arguments, expected dict and got {}", class(other))),
    };
    let mut params: Map<String, Value> = spec.keys().filter_map(|name| Some((name.clone(), from_vars(name)?))).collect();
    params.extend(provided);
    let errors = validate(spec, params);
    let context = args.get("validate_args_context").cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let mut result = if errors.is_empty() {
        ModuleResult::ok().with("msg", "The arg spec validation passed")
    } else {
        let mut r = ModuleResult::failed(format!("Validation of arguments failed:\n{}", errors.join("\n")));
        r.data.insert("argument_spec_data".into(), Value::Object(spec.clone()));
        r.data.insert("argument_errors".into(), errors.into());
        r
    };
    result.data.insert("validate_args_context".into(), context);
    result
}

/// Every error of `params` against `spec`, in the order Ansible finds them.
pub(super) fn validate(spec: &Map<String, Value>, mut params: Map<String, Value>) -> Vec<String> {
    let mut found = Found::default();
    found.level(spec, &mut params, &[], None);
    let mut errors = found.errors;
    if !found.unsupported.is_empty() {
        found.unsupported.sort();
        errors.push(format!("{}. Supported parameters include: {}.", found.unsupported.join(", "), found.supported));
    }
    // Values of `no_log` options never reach the output (Ansible's action leaves them in).
    let secrets: Vec<&String> = found.secrets.iter().filter(|s| !s.is_empty()).collect();
    errors.into_iter().map(|e| secrets.iter().fold(e, |e, secret| e.replace(secret.as_str(), "********"))).collect()
}

#[derive(Default)]
struct Found {
    errors: Vec<String>,
    /// Names no spec level takes, dotted from the top (`a.b.c`).
    unsupported: Vec<String>,
    /// What the level of the last unsupported name takes, as Ansible lists it.
    supported: String,
    /// The values of options marked `no_log`, as messages would show them.
    secrets: Vec<String>,
}

/// One option's spec, read leniently (a spec is the user's YAML).
struct Opt<'a>(&'a Map<String, Value>);

impl<'a> Opt<'a> {
    fn of(value: &'a Value) -> Opt<'a> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        Opt(value.as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new)))
    }

    fn ty(&self) -> &str {
        self.0.get("type").and_then(Value::as_str).unwrap_or("str")
    }

    fn required(&self) -> bool {
        self.0.get("required").is_some_and(truthy)
    }

    fn default(&self) -> Option<&Value> {
        self.0.get("default").filter(|v| !v.is_null())
    }

    fn aliases(&self) -> Vec<&str> {
        self.0.get("aliases").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    fn list(&self, key: &str) -> Vec<&Value> {
        self.0.get(key).and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default()
    }

    fn options(&self) -> Option<&Map<String, Value>> {
        self.0.get("options").and_then(Value::as_object)
    }
}

impl Found {
    /// One level of options: aliases, unknown names, mutual exclusion (of the
    /// enclosing option), defaults, required, types, choices, the enclosing
    /// option's other rules, then the levels below.
    fn level(&mut self, spec: &Map<String, Value>, params: &mut Map<String, Value>, context: &[String], parent: Option<&Opt<'_>>) {
        let suffix = |msg: String| if context.is_empty() { msg } else { format!("{msg} found in {}", context.join(" -> ")) };
        let mut legal: Vec<String> = spec.keys().cloned().collect();
        let mut aliases = Vec::new();
        for (name, opt) in spec {
            for alias in Opt::of(opt).aliases() {
                aliases.push(alias.to_string());
                if let Some(value) = params.get(alias).cloned() {
                    params.insert(name.clone(), value);
                }
            }
        }
        legal.extend(aliases.iter().cloned());
        for key in params.keys().filter(|k| !legal.contains(k)) {
            self.unsupported.push(context.iter().chain([key]).cloned().collect::<Vec<_>>().join("."));
            let mut names: Vec<&String> = spec.keys().collect();
            names.sort();
            self.supported = names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            if !aliases.is_empty() {
                let mut sorted = aliases.clone();
                sorted.sort();
                self.supported.push_str(&format!(" ({})", sorted.join(", ")));
            }
        }
        if let Some(parent) = parent {
            for group in parent.list("mutually_exclusive") {
                let names = names_of(group);
                if names.iter().filter(|n| params.contains_key(**n)).count() > 1 {
                    self.errors.push(suffix(format!("parameters are mutually exclusive: {}", names.join("|"))));
                }
            }
        }
        for (name, opt) in spec {
            if let Some(value) = params.get(name).filter(|_| Opt::of(opt).0.get("no_log").is_some_and(truthy)) {
                self.secrets.push(py::to_str(value));
                self.secrets.push(py::repr(value));
            }
        }
        for (name, opt) in spec {
            if let Some(default) = Opt::of(opt).default().filter(|_| !params.contains_key(name)) {
                params.insert(name.clone(), default.clone());
            }
        }
        let mut missing: Vec<&str> = spec.iter().filter(|(name, opt)| Opt::of(opt).required() && !params.contains_key(*name)).map(|(n, _)| n.as_str()).collect();
        if !missing.is_empty() {
            missing.sort_unstable();
            self.errors.push(suffix(format!("missing required arguments: {}", missing.join(", "))));
        }
        for (name, opt) in spec {
            self.check_type(name, &Opt::of(opt), params, context);
        }
        for (name, opt) in spec {
            self.check_choices(name, &Opt::of(opt), params, &suffix);
        }
        if let Some(parent) = parent {
            self.check_rules(parent, params, &suffix);
        }
        for (name, opt) in spec {
            self.sub_level(name, &Opt::of(opt), params, context);
        }
    }

    fn check_type(&mut self, name: &str, opt: &Opt<'_>, params: &mut Map<String, Value>, context: &[String]) {
        let Some(value) = params.get(name) else { return };
        if value.is_null() && !opt.required() && opt.default().is_none() {
            return;
        }
        let found_in = if context.is_empty() { String::new() } else { format!(" found in '{}'.", context.join(" -> ")) };
        match convert(opt.ty(), value) {
            Ok(converted) => {
                if let Some(elements) = opt.0.get("elements").and_then(Value::as_str) {
                    let items = converted.as_array().cloned().unwrap_or_default();
                    let where_ = if context.is_empty() { String::new() } else { format!(" found in '{}'", context.join(" -> ")) };
                    for item in &items {
                        if let Err(why) = convert(elements, item) {
                            self.errors.push(format!("Elements value for option '{name}'{where_} is of type {} and we were unable to convert to {elements}: {why}", py::type_name(item)));
                        }
                    }
                }
                params.insert(name.to_string(), converted);
            }
            Err(why) => self.errors.push(format!("argument '{name}' is of type {}{found_in} and we were unable to convert to {}: {why}", py::type_name(value), opt.ty())),
        }
    }

    fn check_choices(&mut self, name: &str, opt: &Opt<'_>, params: &Map<String, Value>, suffix: &dyn Fn(String) -> String) {
        let (Some(Value::Array(choices)), Some(value)) = (opt.0.get("choices"), params.get(name)) else { return };
        let shown = choices.iter().map(py::to_str).collect::<Vec<_>>().join(", ");
        let within = |v: &Value| choices.iter().any(|c| same(c, v));
        match value {
            Value::Array(items) => {
                let off: Vec<String> = items.iter().filter(|i| !within(i)).map(py::to_str).collect();
                if !off.is_empty() {
                    self.errors.push(suffix(format!("value of {name} must be one or more of: {shown}. Got no match for: {}", off.join(", "))));
                }
            }
            v if !within(v) => self.errors.push(suffix(format!("value of {name} must be one of: {shown}, got: {}", py::to_str(v)))),
            _ => {}
        }
    }

    /// The enclosing option's `required_together`, `required_one_of`,
    /// `required_if` and `required_by`, for this level's values.
    fn check_rules(&mut self, parent: &Opt<'_>, params: &Map<String, Value>, suffix: &dyn Fn(String) -> String) {
        let present = |n: &str| params.contains_key(n);
        for group in parent.list("required_together") {
            let names = names_of(group);
            let count = names.iter().filter(|n| present(n)).count();
            if count > 0 && count < names.len() {
                self.errors.push(suffix(format!("parameters are required together: {}", names.join(", "))));
            }
        }
        for group in parent.list("required_one_of") {
            let names = names_of(group);
            if !names.iter().any(|n| present(n)) {
                self.errors.push(suffix(format!("one of the following is required: {}", names.join(", "))));
            }
        }
        for rule in parent.list("required_if") {
            let Some(parts) = rule.as_array().filter(|p| p.len() >= 3) else { continue };
            let (Some(key), value, needed) = (parts[0].as_str(), &parts[1], names_of(&parts[2])) else { continue };
            let any = parts.get(3).is_some_and(truthy);
            if !params.get(key).is_some_and(|v| same(v, value)) {
                continue;
            }
            let missing: Vec<&str> = needed.iter().copied().filter(|n| !present(n)).collect();
            if (any && missing.len() == needed.len()) || (!any && !missing.is_empty()) {
                let which = if any { "any" } else { "all" };
                self.errors.push(suffix(format!("{key} is {} but {which} of the following are missing: {}", py::to_str(value), missing.join(", "))));
            }
        }
        if let Some(Value::Object(by)) = parent.0.get("required_by") {
            for (key, needed) in by.iter().filter(|(k, _)| present(k)) {
                let needed = if needed.is_string() { vec![needed.as_str().unwrap_or_default()] } else { names_of(needed) };
                let missing: Vec<&str> = needed.into_iter().filter(|n| !present(n)).collect();
                if !missing.is_empty() {
                    self.errors.push(suffix(format!("missing parameter(s) required by '{key}': {}", missing.join(", "))));
                }
            }
        }
    }

    /// A dict option (or a list of dicts) with `options`: each value checked as a level.
    fn sub_level(&mut self, name: &str, opt: &Opt<'_>, params: &mut Map<String, Value>, context: &[String]) {
        let nested = opt.ty() == "dict" || (opt.ty() == "list" && opt.0.get("elements").and_then(Value::as_str) == Some("dict"));
        let Some(sub) = opt.options().filter(|_| nested) else { return };
        if opt.0.get("apply_defaults").is_some_and(truthy) && params.get(name).is_none_or(Value::is_null) {
            params.insert(name.to_string(), Value::Object(Map::new()));
        }
        let Some(value) = params.get(name).filter(|v| !v.is_null()).cloned() else { return };
        let elements = match value {
            Value::Array(items) => items,
            single => vec![single],
        };
        let inner: Vec<String> = context.iter().cloned().chain([name.to_string()]).collect();
        for element in elements {
            match element {
                Value::Object(mut values) => self.level(sub, &mut values, &inner, Some(opt)),
                _ => self.errors.push(format!("value of '{name}' must be of type dict or list of dicts")),
            }
        }
    }
}

/// Ansible's conversion to `ty` (module_utils' check_type_*), or why not.
fn convert(ty: &str, value: &Value) -> Result<Value, String> {
    let cannot = |what: &str| format!("{} cannot be converted to {what}", class(value));
    match (ty, value) {
        ("str" | "path", Value::Null) => Ok(Value::String(String::new())),
        ("str" | "path", v) => Ok(Value::String(py::to_str(v))),
        ("raw", v) => Ok(v.clone()),
        ("bool", Value::Bool(_)) => Ok(value.clone()),
        ("bool", Value::String(_) | Value::Number(_)) => boolean(value).map(Value::Bool),
        ("bool", _) => Err(cannot("a bool")),
        ("int", v) => int(v).map(Value::from).ok_or_else(|| format!("\"{}\" cannot be converted to an int", py::repr(v))),
        ("float", v) => float(v).and_then(serde_json::Number::from_f64).map(Value::Number).ok_or_else(|| cannot("a float")),
        ("list", Value::Array(_)) => Ok(value.clone()),
        ("list", Value::String(s)) => Ok(Value::Array(s.split(',').map(|p| Value::String(p.into())).collect())),
        ("list", Value::Number(_) | Value::Bool(_)) => Ok(Value::Array(vec![Value::String(py::to_str(value))])),
        ("list", _) => Err(cannot("a list")),
        ("dict", Value::Object(_)) => Ok(value.clone()),
        ("dict", Value::String(s)) => dict_from_str(s),
        ("dict", _) => Err(cannot("a dict")),
        ("json" | "jsonarg", Value::String(s)) => Ok(Value::String(s.trim().to_string())),
        ("json" | "jsonarg", Value::Array(_) | Value::Object(_)) => Ok(Value::String(crate::report::pyjson::dumps(value, None))),
        ("json" | "jsonarg", _) => Err(cannot("a json string")),
        ("bytes", v) => human_to_bytes(v, false).map(Value::from).ok_or_else(|| cannot("a Byte value")),
        ("bits", v) => human_to_bytes(v, true).map(Value::from).ok_or_else(|| cannot("a Bit value")),
        (_, v) => Ok(v.clone()),
    }
}

/// Python's `type(value)` as Ansible 2.19 prints it: values read from YAML
/// are its tagged types.
fn class(value: &Value) -> String {
    let tagged = |name: &str| format!("<class 'ansible.module_utils.datatag._AnsibleTagged{name}'>");
    match value {
        Value::Null => "<class 'NoneType'>".into(),
        Value::Bool(_) => "<class 'bool'>".into(),
        Value::Number(n) if n.is_f64() => tagged("Float"),
        Value::Number(_) => tagged("Int"),
        Value::String(_) => tagged("Str"),
        Value::Array(_) => tagged("List"),
        Value::Object(_) => tagged("Dict"),
    }
}

const TRUE: &[&str] = &["y", "yes", "on", "1", "true", "t"];
const FALSE: &[&str] = &["n", "no", "off", "0", "false", "f"];

/// module_utils' `boolean()`: its words, 1 and 0.
fn boolean(value: &Value) -> Result<bool, String> {
    let word = match value {
        Value::Bool(b) => return Ok(*b),
        Value::String(s) => s.trim().to_lowercase(),
        Value::Number(n) if n.as_f64() == Some(1.0) => return Ok(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => return Ok(false),
        other => py::to_str(other),
    };
    if TRUE.contains(&word.as_str()) {
        return Ok(true);
    }
    if FALSE.contains(&word.as_str()) {
        return Ok(false);
    }
    // Python's set of them, whose order changes from run to run: 1 == 1.0 == True there.
    let valid: Vec<String> = ["0", "1"].map(String::from).into_iter().chain(TRUE.iter().chain(FALSE).map(|w| format!("'{w}'"))).collect();
    Err(format!("The value '{}' is not a valid boolean. Valid booleans include: {}", py::to_str(value), valid.join(", ")))
}

/// check_type_int: an integer, or a string or float of a whole number.
fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.is_finite()).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.is_finite()).map(|f| f as i64))
        }
        _ => None,
    }
}

fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// check_type_dict for a string: JSON when it starts with `{`, else `k=v` pairs.
fn dict_from_str(s: &str) -> Result<Value, String> {
    if s.starts_with('{') {
        return serde_json::from_str::<Value>(s).ok().filter(Value::is_object).ok_or_else(|| "unable to evaluate string as dictionary".into());
    }
    if !s.contains('=') {
        return Err("dictionary requested, could not parse JSON or key=value".into());
    }
    let mut map = Map::new();
    for field in split_fields(s.trim()) {
        let (k, v) = field.split_once('=').ok_or("unable to evaluate string in the \"key=value\" format as dictionary")?;
        map.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(Value::Object(map))
}

/// Fields split at commas and spaces outside quotes, backslash escaping a character.
fn split_fields(s: &str) -> Vec<String> {
    let (mut fields, mut field) = (Vec::new(), String::new());
    let (mut quote, mut escaped) = (None, false);
    for c in s.chars() {
        match c {
            _ if escaped => {
                field.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '\'' | '"' if quote.is_none() => quote = Some(c),
            _ if quote == Some(c) => quote = None,
            ',' | ' ' if quote.is_none() => fields.extend((!field.is_empty()).then(|| std::mem::take(&mut field))),
            _ => field.push(c),
        }
    }
    fields.extend((!field.is_empty()).then_some(field));
    fields
}

/// module_utils' human_to_bytes: `10M`, `1.5 KB`, `8Mb` (bits), or a plain number.
fn human_to_bytes(value: &Value, bits: bool) -> Option<i64> {
    let text = py::to_str(value);
    let re = regex::Regex::new(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$").ok()?;
    let caps = re.captures(&text)?;
    let number: f64 = caps[1].parse().ok()?;
    let Some(unit) = caps.get(2).map(|m| m.as_str()) else { return Some(number.round() as i64) };
    let power = "BKMGTPEZY".find(unit[..1].to_ascii_uppercase().as_str())?;
    let letter = if bits { 'b' } else { 'B' };
    // One letter names the unit alone (`K`); longer ones end with B (bytes) or b (bits).
    let fits = unit.len() == 1 && (unit != "b" || bits) && (unit != "B" || !bits) || unit.len() > 1 && unit.ends_with(letter) && unit.len() == 2;
    fits.then(|| (number * 1024f64.powi(power as i32)) as i64)
}

fn names_of(group: &Value) -> Vec<&str> {
    group.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn truthy(value: &Value) -> bool {
    boolean(value).unwrap_or(false)
}

/// Python's `==` between plain values (1 == 1.0 == True).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Bool(x), Value::Number(n)) | (Value::Number(n), Value::Bool(x)) => n.as_f64() == Some(f64::from(u8::from(*x))),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(spec: Value, params: Value) -> Vec<String> {
        validate(spec.as_object().unwrap(), params.as_object().unwrap().clone())
    }

    #[test]
    fn required_types_choices_and_nested_options_as_ansible_words_them() {
        let spec = json!({
            "a": {"type": "int", "required": true},
            "b": {"type": "int", "required": true},
            "c": {"type": "bool"},
            "d": {"choices": ["x", "y"]},
            "e": {"type": "dict", "options": {"f": {"type": "int", "required": true}}},
        });
        let found = errors(spec, json!({"c": "maybe", "d": "z", "e": {"g": 1}}));
        assert_eq!(found[0], "missing required arguments: a, b");
        assert!(found[1].starts_with("argument 'c' is of type str and we were unable to convert to bool: The value 'maybe' is not a valid boolean."), "{found:?}");
        assert_eq!(found[2], "value of d must be one of: x, y, got: z");
        assert_eq!(found[3], "missing required arguments: f found in e");
        assert_eq!(found[4], "e.g. Supported parameters include: f.");
        assert_eq!(found.len(), 5);
    }

    #[test]
    fn no_log_values_are_masked_in_messages() {
        let found = errors(json!({"token": {"type": "int", "no_log": true}}), json!({"token": "s3cret-value"}));
        assert_eq!(found.len(), 1);
        assert!(!found[0].contains("s3cret-value") && found[0].contains("********"), "{found:?}");
    }

    #[test]
    fn conversions_follow_module_utils() {
        assert_eq!(convert("int", &json!("42")), Ok(json!(42)));
        assert_eq!(convert("int", &json!(37.0)), Ok(json!(37)));
        assert_eq!(convert("int", &json!("x")), Err("\"'x'\" cannot be converted to an int".to_string()));
        assert_eq!(convert("list", &json!("a,b")), Ok(json!(["a", "b"])));
        assert_eq!(convert("dict", &json!("a=1 b=2")), Ok(json!({"a": "1", "b": "2"})));
        assert!(convert("dict", &json!(["x"])).unwrap_err().ends_with("_AnsibleTaggedList'> cannot be converted to a dict"));
        assert_eq!(convert("bytes", &json!("1K")), Ok(json!(1024)));
        assert_eq!(convert("bits", &json!("1Mb")), Ok(json!(1048576)));
        assert!(convert("bits", &json!("foo")).is_err());
        assert_eq!(convert("str", &json!(37.5)), Ok(json!("37.5")));
    }
}
