//! Host names as written in inventories: an optional `:port` suffix and
//! `[a:b]` / `[a:b:step]` ranges, as Ansible's `parse_address` and
//! `expand_hostname_range` read them.

/// Splits `host:port` / `[v6addr]:port` into name and port, Ansible-style:
/// when the remainder is not a valid host name (ranges allowed) the whole text
/// is kept as the name and there is no port.
pub(crate) fn split_port(pattern: &str) -> (String, Option<u16>) {
    let (host, port) = match strip_port(pattern) {
        Some((host, port)) => (host, Some(port)),
        None => (pattern, None),
    };
    if is_valid_address(host) {
        (host.to_string(), port)
    } else {
        (pattern.to_string(), None)
    }
}

/// Whether `text` is a host name, an IPv4 or an IPv6 address (ranges allowed).
pub(crate) fn is_valid_address(text: &str) -> bool {
    !text.is_empty() && (is_hostname(text) || text.parse::<std::net::Ipv6Addr>().is_ok())
}

fn strip_port(text: &str) -> Option<(&str, u16)> {
    if let Some(rest) = text.strip_prefix('[') {
        // `[host]:port`, the only way to give an IPv6 address a port.
        let (inner, port) = rest.rsplit_once("]:")?;
        if !inner.is_empty() {
            return Some((inner, parse_port(port)?));
        }
    }
    let (host, port) = text.rsplit_once(':')?;
    // The host part may not contain a colon outside a bracketed range.
    if has_colon_outside_brackets(host) {
        return None;
    }
    Some((host, parse_port(port)?))
}

fn parse_port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn has_colon_outside_brackets(text: &str) -> bool {
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '[' if depth == 0 => depth = 1,
            '[' => return true,
            ']' if depth == 1 => depth = 0,
            ']' => return true,
            ':' if depth == 0 => return true,
            _ => {}
        }
    }
    depth != 0
}

/// Dot-separated labels of word characters and `-`, each starting with a word
/// character or a range and not ending with `-` or `_`.
fn is_hostname(text: &str) -> bool {
    text.split('.').all(is_label)
}

fn is_label(label: &str) -> bool {
    let mut chars = label.chars().peekable();
    let mut first = true;
    let mut last = None;
    while let Some(c) = chars.next() {
        if c == '[' {
            let mut range = String::new();
            loop {
                match chars.next() {
                    Some(']') => break,
                    Some(c) => range.push(c),
                    None => return false,
                }
            }
            if !is_label_range(&range) {
                return false;
            }
            last = Some(']');
        } else if c.is_alphanumeric() || c == '_' || (c == '-' && !first) {
            last = Some(c);
        } else {
            return false;
        }
        first = false;
    }
    !matches!(last, None | Some('-') | Some('_'))
}

/// `a:z` (one letter each) or `1:10`, with an optional numeric `:step`.
fn is_label_range(range: &str) -> bool {
    let parts: Vec<&str> = range.split(':').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let letter = |s: &str| s.len() == 1 && s.bytes().all(|b| b.is_ascii_alphabetic());
    let bounds_ok = parts.len() >= 2
        && ((digits(parts[0]) && digits(parts[1])) || (letter(parts[0]) && letter(parts[1])));
    match parts.len() {
        2 => bounds_ok,
        3 => bounds_ok && digits(parts[2]),
        _ => false,
    }
}

/// Expands every `[begin:end(:step)]` in a host name, left to right.
///
/// Numeric ranges keep the zero padding of `begin` (`[01:10]` → `01`…`10`);
/// single letters count through `a-zA-Z`.
pub(crate) fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![pattern.to_string()]);
    };
    let close = pattern.find(']').filter(|&c| c > open).ok_or_else(|| {
        format!("host range in `{pattern}` has no closing `]`")
    })?;
    let (head, range, tail) = (&pattern[..open], &pattern[open + 1..close], &pattern[close + 1..]);
    let mut names = Vec::new();
    for item in range_items(range)? {
        names.extend(expand(&format!("{head}{item}{tail}"))?);
    }
    Ok(names)
}

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn range_items(range: &str) -> Result<Vec<String>, String> {
    let bounds: Vec<&str> = range.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err(format!("host range `[{range}]` must be begin:end or begin:end:step"));
    }
    let begin = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    if end.is_empty() {
        return Err(format!("host range `[{range}]` must specify an end value"));
    }
    let step: usize = match bounds.get(2) {
        None => 1,
        Some(s) => s.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            format!("host range `[{range}]` has an invalid step `{s}` (expected a positive number)")
        })?,
    };
    if let (Some(b), Some(e)) = (letter_index(begin), letter_index(end)) {
        if b > e {
            return Err(format!("host range `[{range}]` must have begin <= end"));
        }
        return Ok(LETTERS[b..=e].chars().step_by(step).map(String::from).collect());
    }
    let number = |s: &str| {
        s.parse::<u64>().map_err(|_| {
            format!("host range `[{range}]` must use numbers or single letters, not `{s}`")
        })
    };
    let (b, e) = (number(begin)?, number(end)?);
    let width = if begin.len() > 1 && begin.starts_with('0') {
        if begin.len() != end.len() {
            return Err(format!("host range `[{range}]` must specify equal-length begin and end formats"));
        }
        begin.len()
    } else {
        0
    };
    Ok((b..=e).step_by(step).map(|n| format!("{n:0width$}")).collect())
}

fn letter_index(text: &str) -> Option<usize> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => LETTERS.find(c),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_split_only_from_valid_names() {
        assert_eq!(split_port("web1:2222"), ("web1".into(), Some(2222)));
        assert_eq!(split_port("10.0.0.1:22"), ("10.0.0.1".into(), Some(22)));
        assert_eq!(split_port("[::1]:2200"), ("::1".into(), Some(2200)));
        assert_eq!(split_port("web[01:03]:22"), ("web[01:03]".into(), Some(22)));
        assert_eq!(split_port("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(split_port("web1"), ("web1".into(), None));
        // Not a valid host name: kept whole, as Ansible does.
        assert_eq!(split_port("we$b:22"), ("we$b:22".into(), None));
        assert_eq!(split_port("web:"), ("web:".into(), None));
    }

    #[test]
    fn numeric_ranges_keep_padding() {
        assert_eq!(expand("web[01:03].example.com").unwrap(), ["web01.example.com", "web02.example.com", "web03.example.com"]);
        assert_eq!(expand("n[8:10]").unwrap(), ["n8", "n9", "n10"]);
        assert_eq!(expand("n[:2]").unwrap(), ["n0", "n1", "n2"]);
    }

    #[test]
    fn steps_letters_and_several_ranges() {
        assert_eq!(expand("h[1:10:3]").unwrap(), ["h1", "h4", "h7", "h10"]);
        assert_eq!(expand("db-[a:c]").unwrap(), ["db-a", "db-b", "db-c"]);
        assert_eq!(expand("[a:b][1:2]").unwrap(), ["a1", "a2", "b1", "b2"]);
    }

    #[test]
    fn bad_ranges_are_explained() {
        assert!(expand("h[3:1]").unwrap().is_empty());
        assert!(expand("h[c:a]").unwrap_err().contains("begin <= end"));
        assert!(expand("h[1:]").unwrap_err().contains("end value"));
        assert!(expand("h[01:100]").unwrap_err().contains("equal-length"));
        assert!(expand("h[1:2:0]").unwrap_err().contains("step"));
        assert!(expand("h[1]").unwrap_err().contains("begin:end"));
        assert!(expand("h[1:x]").unwrap_err().contains("numbers or single letters"));
        assert!(expand("h[1:2").unwrap_err().contains("closing"));
    }
}
