//! Lookups that read values from data files on the controller: `ini` (and
//! Java `properties`), `csvfile`. Options come as keywords, then as
//! `name=value` words after the key in a term (Ansible's inline form).

use super::{find_file, read, term_text, Call};
use crate::template::filters::{fail, to_json};
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::Error;
use std::collections::BTreeMap;

type Options = BTreeMap<&'static str, String>;

/// The lookup's options: defaults, then keywords.
fn options(kwargs: &Kwargs, defaults: &[(&'static str, &str)]) -> Result<Options, Error> {
    let mut out = Options::new();
    for (name, default) in defaults {
        let given = kwargs.get::<Option<Jinja>>(name)?.map(|v| stockman_modules::args::value_to_string(&to_json(&v)));
        out.insert(name, given.unwrap_or_else(|| default.to_string()));
    }
    Ok(out)
}

/// Splits `key opt=value opt2=two words` into the key and the options set
/// inline (a word without `=` continues the previous value, as Ansible's ini does).
fn inline(term: &str, options: &mut Options) -> Result<Option<String>, Error> {
    let mut key: Option<String> = None;
    let mut current: Option<&'static str> = None;
    for word in term.split_whitespace() {
        if let Some((name, value)) = word.split_once('=') {
            let known = options.keys().copied().find(|k| *k == name).ok_or_else(|| fail(format!("'{name}' is not a valid option.")))?;
            options.insert(known, value.to_string());
            current = Some(known);
        } else if let Some(name) = current {
            let joined = format!("{} {word}", options[name]);
            options.insert(name, joined);
        } else {
            key = Some(match key {
                Some(k) => format!("{k} {word}"),
                None => word.to_string(),
            });
        }
    }
    Ok(key)
}

fn flag(options: &Options, name: &str) -> Result<bool, Error> {
    stockman_modules::args::parse_bool(&serde_json::Value::String(options[name].clone())).ok_or_else(|| fail(format!("`{name}` must be a boolean, got '{}'", options[name])))
}

/// `lookup('ini', 'key', section=, file=, type=ini|properties, re=, default=,
/// case_sensitive=, allow_no_value=, interpolation=)`.
pub(super) fn ini(call: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let defaults = [
        ("type", "ini"),
        ("file", "ansible.ini"),
        ("section", "global"),
        ("re", "False"),
        ("encoding", "utf-8"),
        ("default", ""),
        ("case_sensitive", "False"),
        ("allow_no_value", "False"),
        ("allow_none", "False"),
        ("interpolation", "True"),
    ];
    let mut options = options(kwargs, &defaults)?;
    let mut out = Vec::new();
    for term in terms {
        let term = term_text(term)?;
        let key = match term.contains('=') || term.trim().contains(' ') {
            true => inline(&term, &mut options)?.ok_or_else(|| fail(format!("No key to look up was provided as first term within string inline options: {term}")))?,
            false => term.clone(),
        };
        let path = find_file(call.state, "files", &options["file"])?;
        let mut text = read(&path, &options["file"])?;
        let mut section = options["section"].clone();
        if options["type"] == "properties" {
            text = format!("[java_properties]\n{text}");
            section = "java_properties".into();
        }
        let parser = IniParser {
            case_sensitive: flag(&options, "case_sensitive")?,
            allow_no_value: flag(&options, "allow_no_value")? || flag(&options, "allow_none")?,
        };
        let sections = parser.parse(&text).map_err(|e| fail(format!("{e} in '{}'.", options["file"])))?;
        let Some(entries) = sections.get(&section) else {
            return Err(fail(format!("No section '{section}' in '{}'.", options["file"])));
        };
        let interpolate = flag(&options, "interpolation")?;
        let value_of = |v: &Option<String>| -> Result<Jinja, Error> {
            match v {
                None => Ok(Jinja::from(())),
                Some(v) if interpolate => interpolated(v, entries, sections.get("DEFAULT"), 0).map(Jinja::from),
                Some(v) => Ok(Jinja::from(v.as_str())),
            }
        };
        if flag(&options, "re")? {
            let re = regex::Regex::new(&format!("^(?:{key})")).map_err(|e| fail(format!("invalid regular expression '{key}': {e}")))?;
            for (k, v) in entries {
                if re.is_match(k) {
                    out.push(value_of(v)?);
                }
            }
        } else {
            let wanted = if parser.case_sensitive { key.clone() } else { key.to_lowercase() };
            match entries.iter().find(|(k, _)| *k == wanted) {
                Some((_, v)) => out.push(value_of(v)?),
                None => out.push(Jinja::from(options["default"].as_str())),
            }
        }
    }
    Ok(out)
}

/// Section name → its entries in file order (`DEFAULT`'s merged into every
/// other section, as configparser shows them); `None` is a key without a value.
type Sections = BTreeMap<String, Vec<(String, Option<String>)>>;

/// The part of Python's configparser the ini lookup relies on: `[section]`,
/// `key = value` / `key: value`, `#`/`;` comment lines, indented continuation
/// lines, keys lowercased unless case-sensitive, duplicates refused.
struct IniParser {
    case_sensitive: bool,
    allow_no_value: bool,
}

impl IniParser {
    fn parse(&self, text: &str) -> Result<Sections, String> {
        let mut sections = Sections::new();
        let mut current: Option<String> = None;
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let continuation = line.len() != trimmed.len();
            if continuation {
                if let Some(Some((_, Some(value)))) = current.as_ref().map(|s| sections.get_mut(s).and_then(|e| e.last_mut())) {
                    value.push('\n');
                    value.push_str(trimmed);
                    continue;
                }
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                if sections.contains_key(name) {
                    return Err(format!("Duplicate section '{name}'"));
                }
                sections.insert(name.to_string(), Vec::new());
                current = Some(name.to_string());
                continue;
            }
            let section = current.as_ref().ok_or_else(|| format!("File contains no section headers (line {})", number + 1))?;
            let (key, value) = match trimmed.find(['=', ':']) {
                Some(i) => (trimmed[..i].trim(), Some(trimmed[i + 1..].trim().to_string())),
                None if self.allow_no_value => (trimmed, None),
                None => return Err(format!("Source contains parsing errors: line {}: {trimmed}", number + 1)),
            };
            let key = if self.case_sensitive { key.to_string() } else { key.to_lowercase() };
            let entries = sections.get_mut(section).ok_or("section vanished")?;
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(format!("Duplicate option '{key}' in section '{section}'"));
            }
            entries.push((key, value));
        }
        if let Some(defaults) = sections.get("DEFAULT").cloned() {
            for (name, entries) in sections.iter_mut().filter(|(n, _)| n.as_str() != "DEFAULT") {
                let _ = name;
                for (k, v) in &defaults {
                    if !entries.iter().any(|(e, _)| e == k) {
                        entries.push((k.clone(), v.clone()));
                    }
                }
            }
        }
        Ok(sections)
    }
}

/// configparser's BasicInterpolation: `%(name)s` from the same section (or
/// DEFAULT), `%%` a percent sign.
fn interpolated(value: &str, entries: &[(String, Option<String>)], defaults: Option<&Vec<(String, Option<String>)>>, depth: usize) -> Result<String, Error> {
    if depth > 10 {
        return Err(fail(format!("Recursion limit exceeded in value substitution: '{value}'")));
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('%') {
            out.push('%');
            rest = after;
        } else if let Some((name, after)) = rest.strip_prefix('(').and_then(|r| r.split_once(")s")) {
            let lookup = |list: &[(String, Option<String>)]| list.iter().find(|(k, _)| *k == name.to_lowercase()).map(|(_, v)| v.clone().unwrap_or_default());
            let found = lookup(entries).or_else(|| defaults.and_then(|d| lookup(d))).ok_or_else(|| fail(format!("Bad value substitution: option '{name}' references a missing key")))?;
            out.push_str(&interpolated(&found, entries, defaults, depth + 1)?);
            rest = after;
        } else {
            return Err(fail(format!("'%' must be followed by '%' or '(', found: '%{rest}'")));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `lookup('csvfile', 'key file=f.csv delimiter=, col=1 keycol=0 default=x')`:
/// the `col` field of the first row whose `keycol` field is the key.
pub(super) fn csvfile(call: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let defaults = [("file", "ansible.csv"), ("delimiter", "TAB"), ("col", "1"), ("keycol", "0"), ("default", ""), ("encoding", "utf-8")];
    let given_default = kwargs.get::<Option<Jinja>>("default")?;
    let base = options(kwargs, &defaults)?;
    if terms.is_empty() {
        return Err(fail("Search key is required but was not found"));
    }
    let mut out = Vec::new();
    for term in terms {
        let mut options = base.clone();
        // csvfile reads its inline options with Ansible's parse_kv: quotes and escapes count.
        let mut kv = crate::playbook::parse_kv(&term_text(term)?, true, |_| true).map_err(fail)?;
        let key = match kv.shift_remove("_raw_params") {
            Some(serde_json::Value::String(key)) => key,
            _ => return Err(fail("Search key is required but was not found")),
        };
        let inline_default = kv.contains_key("default");
        for (name, value) in kv {
            let known = options.keys().copied().find(|k| *k == name).ok_or_else(|| fail(format!("'{name}' is not a valid option")))?;
            options.insert(known, stockman_modules::args::value_to_string(&value));
        }
        let delimiter = match options["delimiter"].as_str() {
            "TAB" | "\\t" => '\t',
            d => d.chars().next().ok_or_else(|| fail("`delimiter` must be one character"))?,
        };
        let index = |name: &str| options[name].parse::<usize>().map_err(|_| fail(format!("option '{name}' has an invalid value '{}': it must be an integer", options[name])));
        let (col, keycol) = (index("col")?, index("keycol")?);
        let path = find_file(call.state, "files", &options["file"])?;
        let text = read(&path, &options["file"])?;
        let row = text.lines().map(|l| csv_fields(l, delimiter)).find(|row| row.get(keycol) == Some(&key));
        match row {
            Some(row) => out.push(Jinja::from(row.get(col).cloned().ok_or_else(|| fail(format!("list index out of range: column {col} of the row for '{key}'")))?)),
            None if inline_default => out.push(Jinja::from(options["default"].as_str())),
            None => match &given_default {
                Some(d) if d.kind() == minijinja::value::ValueKind::Seq => out.extend(d.try_iter()?),
                Some(d) if !d.is_none() => out.push(d.clone()),
                // Ansible's default is None, which the lookup leaves out.
                _ => {}
            },
        }
    }
    Ok(out)
}

/// One CSV record in Excel's dialect: `"` quotes, `""` inside quotes.
fn csv_fields(line: &str, delimiter: char) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("never empty");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            c if c == delimiter && !quoted => fields.push(String::new()),
            c => field.push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_continuations_defaults_and_duplicates() {
        let parser = IniParser { case_sensitive: false, allow_no_value: false };
        let s = parser.parse("[DEFAULT]\nd = 1\n[global]\nUser = alice\nmulti = a\n  b\n; c\n").unwrap();
        assert_eq!(s["global"], vec![("user".into(), Some("alice".into())), ("multi".into(), Some("a\nb".into())), ("d".into(), Some("1".into()))]);
        assert!(parser.parse("[a]\nk=1\nK=2\n").unwrap_err().contains("Duplicate option 'k'"));
        assert!(IniParser { case_sensitive: true, allow_no_value: false }.parse("[a]\nk=1\nK=2\n").is_ok());
        assert_eq!(interpolated("%(d)s%%", &s["global"], None, 0).unwrap(), "1%");
    }

    #[test]
    fn csv_fields_like_excel() {
        assert_eq!(csv_fields(r#"a,"b,c","d""e""#, ','), ["a", "b,c", "d\"e"]);
    }
}
