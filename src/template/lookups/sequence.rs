//! `lookup('sequence', ...)` and `with_sequence:`: `start=1 end=10 stride=2
//! format=web%02d`, `count=3`, or the shortcut `[start-]end[/stride][:format]`.

use super::{term_text, Call};
use crate::template::filters::fail;
use minijinja::value::{Kwargs, Value as Jinja};
use minijinja::Error;
use serde_json::{Map, Value};

const FIELDS: &[&str] = &["start", "end", "stride", "count", "format"];

pub(super) fn lookup(_: &Call, terms: &[Jinja], kwargs: &Kwargs) -> Result<Vec<Jinja>, Error> {
    let mut defaults = Map::new();
    for field in FIELDS {
        if let Some(v) = kwargs.get::<Option<Jinja>>(field)? {
            defaults.insert(field.to_string(), crate::template::filters::to_json(&v));
        }
    }
    let terms: Vec<Jinja> = match terms {
        [] if !defaults.is_empty() => vec![Jinja::from("")],
        _ => terms.to_vec(),
    };
    let mut out = Vec::new();
    for term in terms {
        let mut spec = defaults.clone();
        // stockman also takes the fields as a mapping (`with_sequence: {start: 1, end: 3}`).
        match crate::template::filters::to_json(&term) {
            Value::Object(fields) => spec.extend(fields),
            _ => spec.extend(parse_term(&term_text(&term)?).map_err(fail)?),
        }
        out.extend(sequence(&spec).map_err(fail)?.into_iter().map(Jinja::from));
    }
    Ok(out)
}

/// One term's fields: the shortcut form, else `key=value` pairs.
fn parse_term(term: &str) -> Result<Map<String, Value>, String> {
    if let Some(fields) = shortcut(term) {
        return Ok(fields);
    }
    let fields = crate::playbook::parse_kv(term, false, |_| true)?;
    let unknown: Vec<&String> = fields.keys().filter(|k| !FIELDS.contains(&k.as_str())).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "unrecognized arguments to with_sequence: {}",
            crate::template::py::to_str(&Value::from(unknown.iter().map(|k| k.as_str()).collect::<Vec<_>>()))
        ));
    }
    Ok(fields)
}

/// `[start-]end[/stride][:format]`, numbers in decimal, octal or hex.
fn shortcut(term: &str) -> Option<Map<String, Value>> {
    static SHORTCUT: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)^(?:(0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(?:/(0?x?[0-9a-f]+))?(?::(.+))?$").expect("static regex"));
    let caps = SHORTCUT.captures(term)?;
    let mut fields = Map::new();
    for (i, name) in [(1, "start"), (2, "end"), (3, "stride"), (4, "format")] {
        if let Some(m) = caps.get(i) {
            fields.insert(name.into(), Value::String(m.as_str().into()));
        }
    }
    Some(fields)
}

/// The items of one sequence, checked as Ansible checks them.
fn sequence(spec: &Map<String, Value>) -> Result<Vec<String>, String> {
    let num = |k: &str| -> Result<Option<i64>, String> {
        match spec.get(k).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(v) => parse_int(&stockman_modules::args::value_to_string(v))
                .map(Some)
                .ok_or_else(|| format!("Config '{k}' for 'sequence' lookup plugin from 'Direct' has an invalid value: Invalid value provided for 'integer': {}", crate::template::py::repr(&Value::String(stockman_modules::args::value_to_string(v))))),
        }
    };
    let start = num("start")?.unwrap_or(1);
    let stride = num("stride")?.unwrap_or(1);
    let end = match (num("end")?, num("count")?) {
        (None, None) => return Err("must specify count or end in with_sequence".into()),
        (Some(_), Some(_)) => return Err("can't specify both count and end in with_sequence".into()),
        (Some(e), None) => e,
        (None, Some(0)) => return Ok(Vec::new()),
        // Ansible's arithmetic, also for a negative stride.
        (None, Some(c)) => c.checked_mul(stride).and_then(|n| n.checked_add(start)).and_then(|n| n.checked_sub(1)).ok_or_else(|| super::too_many_items(c))?,
    };
    if stride > 0 && end < start {
        return Err("to count backwards make stride negative".into());
    }
    if stride < 0 && end > start {
        return Err("to count forward don't make stride negative".into());
    }
    if stride == 0 {
        return Ok(Vec::new());
    }
    let format = spec.get("format").map(stockman_modules::args::value_to_string).unwrap_or_else(|| "%d".into());
    if format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    // Counted before any item is made.
    let count = (i128::from(end) - i128::from(start)) / i128::from(stride) + 1;
    if count > super::max_items() as i128 {
        return Err(super::too_many_items(count));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(printf_int(&format, i));
        if out.len() > super::max_items() {
            return Err(super::too_many_items(format!("more than {}", super::max_items())));
        }
        match i.checked_add(stride) {
            Some(next) => i = next,
            None => break,
        }
    }
    Ok(out)
}

/// Decimal, `0x` hex or leading-zero octal, as the shortcut form allows.
fn parse_int(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    match lower.strip_prefix('0').filter(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_digit(8))) {
        Some(octal) => i64::from_str_radix(octal, 8).ok(),
        None => lower.parse().ok(),
    }
}

/// The `%d`/`%0Nd`/`%x`/`%o` subset of printf that with_sequence formats use.
fn printf_int(format: &str, n: i64) -> String {
    let Some(pos) = format.find('%') else {
        return format.to_string();
    };
    let rest = &format[pos + 1..];
    let spec_len = rest.find(|c: char| c.is_ascii_alphabetic()).map(|i| i + 1).unwrap_or(rest.len());
    let (spec, tail) = rest.split_at(spec_len);
    let width: usize = spec.trim_start_matches('0').trim_end_matches(char::is_alphabetic).parse().unwrap_or(0);
    let zero = spec.starts_with('0');
    let body = match spec.chars().last() {
        Some('x') => format!("{n:x}"),
        Some('X') => format!("{n:X}"),
        Some('o') => format!("{n:o}"),
        _ => n.to_string(),
    };
    let padded = if zero { format!("{body:0>width$}") } else { format!("{body:>width$}") };
    format!("{}{padded}{tail}", &format[..pos])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(term: &str) -> Result<Vec<String>, String> {
        sequence(&parse_term(term)?)
    }

    #[test]
    fn sequences_format_like_printf() {
        assert_eq!(items("start=1 end=3 format=web%02d").unwrap(), ["web01", "web02", "web03"]);
        assert_eq!(items("start=10 count=2 stride=5").unwrap(), ["10", "15"]);
        assert_eq!(items("start=0x0f00 count=2 format=%04x").unwrap(), ["0f00", "0f01"]);
    }

    #[test]
    fn shortcut_form_and_ansible_checks() {
        assert_eq!(items("5").unwrap(), ["1", "2", "3", "4", "5"]);
        assert_eq!(items("2-10/4").unwrap(), ["2", "6", "10"]);
        assert_eq!(items("4:host%02d").unwrap(), ["host01", "host02", "host03", "host04"]);
        assert_eq!(items("start=5 end=1").unwrap_err(), "to count backwards make stride negative");
        assert_eq!(items("count=3 end=1").unwrap_err(), "can't specify both count and end in with_sequence");
        assert!(items("start=1 end=2 foo=3").unwrap_err().starts_with("unrecognized arguments to with_sequence"));
    }
}
