//! Host patterns (a play's `hosts:`, `--limit`), evaluated as Ansible's
//! `InventoryManager.get_hosts` does.
//!
//! A pattern is a list separated by `,` (or `:` when no `,` is present):
//! names of groups or hosts, shell wildcards (`web*`), regexes (`~web\d+`,
//! anchored at the start only, as Python's `re.match`), `&` intersections and
//! `!` exclusions, and subscripts `web[0]`, `web[1:3]`, `web[-1]`. Plain
//! terms are applied first, in order, then intersections, then exclusions;
//! with only `&`/`!` terms, `all` is implied.

use std::collections::HashSet;
use std::path::Path;

use super::host_range;
use super::model::{HostId, Model};
use super::InventoryError;

/// Names that mean this machine; naming one that is not in the inventory
/// gives Ansible's implicit localhost.
pub(crate) const LOCALHOST_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Host(HostId),
    /// The implicit localhost, under the name the pattern used.
    ImplicitLocalhost(String),
}

/// Splits a pattern into terms, as Ansible's `split_host_pattern`.
pub(crate) fn split(pattern: &str) -> Vec<String> {
    let terms: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if single_address(pattern) {
        vec![pattern.to_string()]
    } else {
        colon_terms(pattern)
    };
    terms.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

/// An IPv6 address or `host:port` is one term even though it has colons.
fn single_address(pattern: &str) -> bool {
    let (name, port) = host_range::split_port(pattern);
    port.is_some() || host_range::is_valid_address(&name)
}

/// Terms separated by `:` or whitespace, keeping `[x:y]` together.
fn colon_terms(pattern: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                let rest: String = chars.clone().collect();
                match rest.find(']') {
                    Some(close) => {
                        current.push('[');
                        current.push_str(&rest[..=close]);
                        for _ in 0..rest[..=close].chars().count() {
                            chars.next();
                        }
                    }
                    // An unclosed `[` cannot be part of a term.
                    None => terms.push(std::mem::take(&mut current)),
                }
            }
            ':' | ']' => terms.push(std::mem::take(&mut current)),
            c if c.is_whitespace() => terms.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    terms.push(current);
    terms
}

/// Plain terms first, then `&`, then `!`; `all` when there is no plain term.
fn ordered(terms: &[String]) -> Vec<&str> {
    let plain = terms.iter().filter(|t| !t.starts_with(['&', '!'])).map(String::as_str);
    let and = terms.iter().filter(|t| t.starts_with('&')).map(String::as_str);
    let not = terms.iter().filter(|t| t.starts_with('!')).map(String::as_str);
    let mut ordered: Vec<&str> = plain.collect();
    if ordered.is_empty() {
        ordered.push("all");
    }
    ordered.extend(and);
    ordered.extend(not);
    ordered
}

/// Resolves terms against the inventory; unmatched terms add Ansible's warning.
pub(crate) fn evaluate(model: &Model, terms: &[String], warnings: &mut Vec<String>) -> Result<Vec<Target>, InventoryError> {
    let mut targets: Vec<Target> = Vec::new();
    for term in ordered(terms) {
        if let Some(id) = model.host_id(term) {
            targets.push(Target::Host(id));
            continue;
        }
        let bare = if term.starts_with(['&', '!']) { &term[1..] } else { term };
        let matched = match_term(model, bare, warnings)?;
        match term.chars().next() {
            Some('!') => {
                let matched: HashSet<Target> = matched.into_iter().collect();
                targets.retain(|t| !matched.contains(t));
            }
            Some('&') => {
                let matched: HashSet<Target> = matched.into_iter().collect();
                targets.retain(|t| matched.contains(t));
            }
            _ => targets.extend(matched),
        }
    }
    Ok(unique(targets))
}

/// Keeps the first occurrence of each target.
pub(crate) fn unique(targets: Vec<Target>) -> Vec<Target> {
    let mut seen = HashSet::new();
    targets.into_iter().filter(|t| seen.insert(t.clone())).collect()
}

fn match_term(model: &Model, term: &str, warnings: &mut Vec<String>) -> Result<Vec<Target>, InventoryError> {
    if term.is_empty() {
        return Ok(Vec::new());
    }
    let (expr, subscript) = split_subscript(term);
    let targets = enumerate(model, expr, warnings)?;
    apply_subscript(targets, subscript)
        .ok_or_else(|| InventoryError::Pattern(format!("No hosts matched the subscripted pattern '{term}'")))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Subscript {
    Index(i64),
    /// `[start:end]` inclusive; `end` None means to the last host.
    Range(usize, Option<usize>),
}

/// `web[1]`, `web[-1]`, `web[0:2]`, `web[2:]` (not for `~regex` terms).
fn split_subscript(term: &str) -> (&str, Option<Subscript>) {
    if term.starts_with('~') || !term.ends_with(']') {
        return (term, None);
    }
    let Some(open) = term.rfind('[').filter(|&i| i > 0) else { return (term, None) };
    let inside = &term[open + 1..term.len() - 1];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let subscript = if let Some((start, end)) = inside.split_once([':', '-']).filter(|(s, _)| digits(s)) {
        if !(end.is_empty() || digits(end)) {
            return (term, None);
        }
        Subscript::Range(start.parse().unwrap_or(usize::MAX), end.parse().ok())
    } else if digits(inside.trim_start_matches('-')) && inside.matches('-').count() <= 1 {
        match inside.parse() {
            Ok(i) => Subscript::Index(i),
            Err(_) => return (term, None),
        }
    } else {
        return (term, None);
    };
    (&term[..open], Some(subscript))
}

/// None when an index is out of range (a range past the end is just shorter).
fn apply_subscript(targets: Vec<Target>, subscript: Option<Subscript>) -> Option<Vec<Target>> {
    let Some(subscript) = subscript.filter(|_| !targets.is_empty()) else { return Some(targets) };
    let len = targets.len();
    match subscript {
        Subscript::Index(i) => {
            let index = if i < 0 { len.checked_sub(i.unsigned_abs() as usize)? } else { i as usize };
            targets.get(index).cloned().map(|t| vec![t])
        }
        // Ansible treats an end of 0 as "just the start".
        Subscript::Range(start, Some(0)) => targets.get(start).cloned().map(|t| vec![t]),
        Subscript::Range(start, end) => {
            let end = end.unwrap_or(len - 1).min(len - 1);
            Some(targets.get(start..=end).map(<[Target]>::to_vec).unwrap_or_default())
        }
    }
}

/// Groups whose name matches contribute all their hosts; host names are
/// tried when no group matched or the term is a wildcard/regex.
fn enumerate(model: &Model, term: &str, warnings: &mut Vec<String>) -> Result<Vec<Target>, InventoryError> {
    let matcher = NameMatcher::new(term)?;
    let mut targets = Vec::new();
    let groups: Vec<usize> = (0..model.groups.len()).filter(|&g| matcher.matches(&model.groups[g].name)).collect();
    for &g in &groups {
        targets.extend(model.group_hosts(g).into_iter().map(Target::Host));
    }
    if groups.is_empty() || term.starts_with('~') || term.contains(['.', '?', '*', '[']) {
        let hosts = (0..model.hosts.len()).filter(|&h| matcher.matches(&model.hosts[h].name));
        targets.extend(hosts.map(Target::Host));
    }
    if targets.is_empty() && LOCALHOST_NAMES.contains(&term) {
        targets.push(localhost_target(model, term));
    }
    if targets.is_empty() && groups.is_empty() && term != "all" {
        warnings.push(format!("Could not match supplied host pattern, ignoring: {term}"));
    }
    Ok(targets)
}

/// An inventory host named like localhost stands for all such names.
fn localhost_target(model: &Model, term: &str) -> Target {
    match model.hosts.iter().position(|h| LOCALHOST_NAMES.contains(&h.name.as_str())) {
        Some(id) => Target::Host(id),
        None => Target::ImplicitLocalhost(term.to_string()),
    }
}

/// A host pattern term: `~regex`, or fnmatch's shell-style glob.
struct NameMatcher(regex::Regex);

impl NameMatcher {
    fn new(term: &str) -> Result<NameMatcher, InventoryError> {
        match term.strip_prefix('~') {
            Some(re) => regex::Regex::new(&format!("^(?:{re})")),
            None => stockman_modules::fnmatch::regex(term),
        }
        .map(NameMatcher)
        .map_err(|e| InventoryError::Pattern(format!("Invalid host list pattern: {term}: {e}")))
    }

    fn matches(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// `--limit` terms, with `@file` expanded to the names listed in the file.
pub(crate) fn limit_terms(limit: &str) -> Result<Vec<String>, InventoryError> {
    let mut terms = Vec::new();
    for term in split(limit) {
        let Some(file) = term.strip_prefix('@') else {
            terms.push(term);
            continue;
        };
        let path = Path::new(file);
        if !path.is_file() {
            let what = if path.exists() { "is a directory, not a file" } else { "does not exist" };
            return Err(InventoryError::Pattern(format!("limit file `{file}` {what}")));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| InventoryError::Read { path: path.to_path_buf(), message: e.to_string() })?;
        terms.extend(text.split('\n').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting_like_ansible() {
        assert_eq!(split("web, db ,"), ["web", "db"]);
        assert_eq!(split("web:&prod:!web3"), ["web", "&prod", "!web3"]);
        assert_eq!(split("web[1:3]:db"), ["web[1:3]", "db"]);
        assert_eq!(split("fe80::1"), ["fe80::1"]);
        assert_eq!(split("host:22"), ["host:22"]);
        assert_eq!(split("all"), ["all"]);
    }

    #[test]
    fn subscripts() {
        assert_eq!(split_subscript("web[1]"), ("web", Some(Subscript::Index(1))));
        assert_eq!(split_subscript("web[-1]"), ("web", Some(Subscript::Index(-1))));
        assert_eq!(split_subscript("web[0:2]"), ("web", Some(Subscript::Range(0, Some(2)))));
        assert_eq!(split_subscript("web[1:]"), ("web", Some(Subscript::Range(1, None))));
        assert_eq!(split_subscript("db-[a:c]"), ("db-[a:c]", None));
        assert_eq!(split_subscript("~web[1]"), ("~web[1]", None));
    }

    #[test]
    fn globs_like_fnmatch() {
        let m = |g: &str, n: &str| NameMatcher::new(g).unwrap().matches(n);
        assert!(m("web*", "web1.example.com"));
        assert!(m("*.example.com", "db.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(m("web?", "web1") && !m("web?", "web10"));
        assert!(m("db[0-9]", "db3") && !m("db[!0-9]", "db3"));
        assert!(m("a[b", "a[b"));
        assert!(!m("Web*", "web1"));
    }
}
