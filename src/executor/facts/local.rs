//! `ansible_local`: each `*.fact` in `fact_path`, run when executable, read
//! otherwise, parsed as JSON or else as INI (Python's configparser rules:
//! keys lower-cased, `%` interpolation), failures kept as Ansible's messages.

use serde_json::{Map, Value};

use super::probe::{LocalFact, Output};

/// The local facts and the warnings Ansible prints for the failed ones.
pub fn collect(out: &Output) -> (Value, Vec<String>) {
    let mut local = Map::new();
    let mut warnings = Vec::new();
    for fact in &out.local {
        let base = fact.path.rsplit('/').next().unwrap_or_default().replace(".fact", "");
        let value = match one(fact, out.local_stderr.get(&fact.path).map(String::as_str).unwrap_or_default()) {
            Ok(v) => v,
            Err(message) => {
                warnings.push(message.clone());
                Value::String(message)
            }
        };
        local.insert(base, value);
    }
    (Value::Object(local), warnings)
}

fn one(fact: &LocalFact, stderr: &str) -> Result<Value, String> {
    let path = &fact.path;
    match fact.kind.as_str() {
        "missing" => return Err(format!("Could not stat fact ({path}): [Errno 2] No such file or directory: '{path}'")),
        "exec" if fact.rc != Some(0) => {
            let rc = fact.rc.map_or("unknown".to_string(), |r| r.to_string());
            return Err(format!("Failure executing fact script ({path}), rc: {rc}, err: {}", stderr.trim_end()));
        }
        _ => {}
    }
    if let Ok(v) = serde_json::from_str::<Value>(&fact.content) {
        return Ok(v);
    }
    ini(&fact.content).map_err(|e| match e {
        IniError::Syntax => format!("error loading facts as JSON or ini - please check content: {path}"),
        IniError::Interpolation(msg) => format!("error loading facts as ini - please check content: {path} ({msg})"),
    })
}

#[derive(Debug)]
enum IniError {
    Syntax,
    Interpolation(String),
}

/// INI text as configparser reads it: `[section]` headers, `key = value` or
/// `key: value`, `#`/`;` comment lines, indented continuation lines,
/// `[DEFAULT]` inherited by every section, `%%` and `%(name)s`.
fn ini(text: &str) -> Result<Value, IniError> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut defaults: Vec<(String, String)> = Vec::new();
    let mut in_default = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let target = if in_default { Some(&mut defaults) } else { sections.last_mut().map(|(_, k)| k) };
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = target.and_then(|t| t.last_mut()) {
                value.push('\n');
                value.push_str(trimmed);
                continue;
            }
            return Err(IniError::Syntax);
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            in_default = name == "DEFAULT";
            if !in_default {
                sections.push((name.to_string(), Vec::new()));
            }
            continue;
        }
        let Some(target) = target else { return Err(IniError::Syntax) };
        let split = trimmed.find(['=', ':']).ok_or(IniError::Syntax)?;
        let (key, value) = (trimmed[..split].trim().to_lowercase(), trimmed[split + 1..].trim().to_string());
        match target.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => target.push((key, value)),
        }
    }
    let mut out = Map::new();
    for (name, mut keys) in sections {
        for (k, v) in &defaults {
            if !keys.iter().any(|(key, _)| key == k) {
                keys.push((k.clone(), v.clone()));
            }
        }
        let mut section = Map::new();
        for (key, raw) in &keys {
            section.insert(key.clone(), Value::String(interpolate(raw, key, &name, &keys, 0)?));
        }
        out.insert(name, Value::Object(section));
    }
    Ok(Value::Object(out))
}

fn interpolate(raw: &str, key: &str, section: &str, keys: &[(String, String)], depth: usize) -> Result<String, IniError> {
    let bad = |rest: &str| IniError::Interpolation(format!("'%' must be followed by '%' or '(', found: '{rest}'"));
    if depth > 10 {
        return Err(IniError::Interpolation(format!("Recursion limit exceeded in value substitution: option '{key}' in section '{section}'")));
    }
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some(inner) = tail.strip_prefix("%(") {
            let close = inner.find(")s").ok_or_else(|| IniError::Interpolation(format!("bad interpolation variable reference '{tail}'")))?;
            let name = inner[..close].to_lowercase();
            let value = keys.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).ok_or_else(|| {
                IniError::Interpolation(format!("Bad value substitution: option '{key}' in section '{section}' contains an interpolation key '{name}' which is not a valid option name. Raw value: '{raw}'"))
            })?;
            out.push_str(&interpolate(value, &name, section, keys, depth + 1)?);
            rest = &inner[close + 2..];
        } else {
            return Err(bad(tail));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fact(kind: &str, content: &str, rc: Option<i32>) -> LocalFact {
        LocalFact { kind: kind.into(), path: "/f/x.fact".into(), content: content.into(), rc }
    }

    #[test]
    fn json_ini_and_failures_as_ansible_reports_them() {
        assert_eq!(one(&fact("file", "{\"a\": 1}", None), "").unwrap(), json!({"a": 1}));
        assert_eq!(one(&fact("file", "[general]\nBar=loaded\n", None), "").unwrap(), json!({"general": {"bar": "loaded"}}));
        assert_eq!(one(&fact("exec", "{\"script_ran\": true}\n", Some(0)), "").unwrap(), json!({"script_ran": true}));
        assert!(one(&fact("exec", "", Some(1)), "boom\n").unwrap_err().starts_with("Failure executing fact script (/f/x.fact), rc: 1, err: boom"));
        assert!(one(&fact("file", "wontbeseen=ever\n", None), "").unwrap_err().starts_with("error loading facts as JSON or ini"));
        assert!(one(&fact("file", "[bad fact]\nvalue = this is a % bad % fact\n", None), "").unwrap_err().starts_with("error loading facts as ini - please check content"));
        assert!(one(&fact("missing", "", None), "").unwrap_err().starts_with("Could not stat fact"));
        assert_eq!(ini("[DEFAULT]\nbase=/srv\n[a]\npath=%(base)s/x\npct=100%%\n").unwrap(), json!({"a": {"path": "/srv/x", "pct": "100%", "base": "/srv"}}));
    }
}
