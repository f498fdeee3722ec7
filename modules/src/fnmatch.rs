//! Python's `fnmatch.fnmatchcase`, the one implementation for every place
//! Ansible matches shell-style patterns (find's `patterns`, host patterns,
//! `--start-at-task`, the fileglob lookup, setup's `filter`). Translated to a
//! regex as Python does, so a match is linear in the name: a backtracking
//! matcher is exponential on patterns such as `*a*a*a*a*b`.

use regex::Regex;

/// Whether `name` matches `pattern` (case-sensitive). A pattern whose class
/// is not a valid set (`[z-a]`) matches nothing.
pub fn matches(pattern: &str, name: &str) -> bool {
    regex(pattern).is_ok_and(|re| re.is_match(name))
}

/// The compiled form of `pattern`, for matching many names.
pub fn regex(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&translate(pattern))
}

/// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; the rest literal.
pub fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from(r"(?s)\A");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str(r"\[");
                    continue;
                }
                let body: String = chars[i..j].iter().collect();
                i = j + 1;
                let (negate, body) = match body.strip_prefix('!') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, body),
                };
                let escaped: String = body.chars().flat_map(|c| if matches!(c, '\\' | '[' | ']' | '^' | '&' | '~') { vec!['\\', c] } else { vec![c] }).collect();
                out.push('[');
                if negate {
                    out.push('^');
                }
                out.push_str(&escaped);
                out.push(']');
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push_str(r"\z");
    out
}


#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn like_pythons_fnmatchcase() {
        assert!(matches("*.conf", "a.conf"));
        assert!(matches("*.conf", ".hidden.conf"), "no dot rule: that is glob's, not fnmatch's");
        assert!(matches("file?.[ab]", "file1.b"));
        assert!(!matches("file?.[!ab]", "file1.b"));
        assert!(matches("[]x]", "]"), "a `]` first in a class is part of it");
        assert!(matches("a[", "a["), "an unclosed `[` is a literal");
        assert!(matches("[a-c]x", "bx") && !matches("[a-c]x", "dx"));
        assert!(!matches("Install*", "install nginx"), "case-sensitive");
        assert!(matches("*", "line\nbreak"));
        assert!(matches("web : *nginx", "web : Install nginx"));
        assert!(matches("a[0-9]", "a1") && matches("x?y", "x?y"));
        assert!(matches("a.b", "a.b") && !matches("a.b", "axb"), "regex characters are literal");
    }

    #[test]
    fn pathological_patterns_stay_linear() {
        let name = "a".repeat(5_000);
        assert!(!matches(&"*a".repeat(30).chars().chain("*b".chars()).collect::<String>(), &name));
    }
}
