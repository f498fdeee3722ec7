//! Ansible's undefined values chain: `missing.attr` and `a.b.c` (where `a`
//! lacks `b`) are undefined, not errors, so `| default(...)`, `is defined`
//! and `is undefined` see through a whole chain of lookups.
//!
//! minijinja's strict mode fails on a lookup on an undefined value, and its
//! chainable mode would also print undefined as "" and treat it as false.
//! So templates run strict; only when that fails on an undefined value is a
//! chain feeding `default`/`d`/`defined`/`undefined` rewritten into a call of
//! [`CHAIN_FN`], which walks the lookups and gives undefined when one is
//! missing, and the template run again. Anything else stays an error naming
//! the variable.

use minijinja::value::{Rest, Value as Jinja};

/// The global function the rewritten chains call.
pub(super) const CHAIN_FN: &str = "__stockman_undefined_chain";

/// `root` followed by `keys` (attributes and subscripts), undefined at the
/// first one that is missing.
pub(super) fn lookup_chain(root: &Jinja, keys: Rest<Jinja>) -> Jinja {
    let mut value = root.clone();
    for key in keys.iter() {
        if value.is_undefined() || value.is_none() {
            return Jinja::UNDEFINED;
        }
        value = match key.as_str() {
            Some(name) => value.get_attr(name),
            None => value.get_item(key),
        }
        .unwrap_or(Jinja::UNDEFINED);
    }
    value
}

/// `source` with every lookup chain that feeds `default`, `d`, `defined` or
/// `undefined` turned into a [`CHAIN_FN`] call; None when there is none.
/// `template`: only the text inside `{{ }}` and `{% %}` is code.
pub(super) fn rewrite(source: &str, template: bool) -> Option<String> {
    let code = if template { code_regions(source) } else { vec![(0, source.len())] };
    let ops = regex::Regex::new(r"\|\s*(?:default|d)\b|\bis\s+(?:not\s+)?(?:defined|undefined)\b").expect("static regex");
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (start, end) in code {
        for m in ops.find_iter(&source[start..end]) {
            let at = start + m.start();
            if let Some(edit) = chain_before(source, start, at) {
                edits.push(edit);
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = source.to_string();
    for (from, to, call) in edits.into_iter().rev() {
        out.replace_range(from..to, &call);
    }
    Some(out)
}

/// The byte ranges of code in a template: inside `{{ }}` and `{% %}`.
fn code_regions(source: &str) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    let mut rest = 0;
    while let Some(open) = source[rest..].find(['{']).map(|i| rest + i) {
        let close = match source[open..].get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            _ => {
                rest = open + 1;
                continue;
            }
        };
        let Some(end) = source[open + 2..].find(close).map(|i| open + 2 + i) else { break };
        regions.push((open + 2, end));
        rest = end + 2;
    }
    regions
}

/// The lookup chain ending just before `at` (spaces skipped), at least one
/// lookup past its root name: where it starts and ends, and the call replacing it.
fn chain_before(source: &str, floor: usize, at: usize) -> Option<(usize, usize, String)> {
    let bytes = source.as_bytes();
    let mut end = at;
    while end > floor && bytes[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    let mut keys: Vec<String> = Vec::new();
    let mut pos = end;
    loop {
        if pos > floor && bytes[pos - 1] == b']' {
            let open = matching_open(bytes, floor, pos - 1)?;
            keys.push(source[open + 1..pos - 1].trim().to_string());
            pos = open;
            continue;
        }
        let start = identifier_start(bytes, floor, pos)?;
        let name = &source[start..pos];
        if start > floor && bytes[start - 1] == b'.' {
            keys.push(format!("'{name}'"));
            pos = start - 1;
            continue;
        }
        let before = if start > floor { bytes[start - 1] } else { b' ' };
        if keys.is_empty() || before == b')' || before == b'\'' || before == b'"' || name.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        keys.reverse();
        return Some((start, end, format!("{CHAIN_FN}({name}, {})", keys.join(", "))));
    }
}

/// The start of the identifier ending at `end`, if one does.
fn identifier_start(bytes: &[u8], floor: usize, end: usize) -> Option<usize> {
    let mut start = end;
    while start > floor && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        start -= 1;
    }
    (start < end).then_some(start)
}

/// The `[` matching the `]` at `close`, skipping nested brackets.
fn matching_open(bytes: &[u8], floor: usize, close: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = close + 1;
    while i > floor {
        i -= 1;
        match bytes[i] {
            b']' => depth += 1,
            b'[' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_chains_before_default_and_defined() {
        let r = |s: &str| rewrite(s, false).unwrap_or_default();
        assert_eq!(r("a.b.c | default('x')"), format!("{CHAIN_FN}(a, 'b', 'c') | default('x')"));
        assert_eq!(r("hostvars[item]['x'].y is not defined"), format!("{CHAIN_FN}(hostvars, item, 'x', 'y') is not defined"));
        assert_eq!(r("a[b[0]].c|d(1)"), format!("{CHAIN_FN}(a, b[0], 'c')|d(1)"));
        assert_eq!(rewrite("x | default(1)", false), None);
        assert_eq!(rewrite("f(a).b | default(1)", false), None);
    }

    #[test]
    fn only_code_is_rewritten_in_templates() {
        let out = rewrite("a.b | default(1) {{ a.b | default(1) }}", true).unwrap();
        assert_eq!(out, format!("a.b | default(1) {{{{ {CHAIN_FN}(a, 'b') | default(1) }}}}"));
    }
}
