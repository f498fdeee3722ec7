//! Patterns written for Python's `re`, as lineinfile's `regexp`,
//! `insertafter` and `insertbefore` are: Rust's `regex` (on bytes, linear
//! time) where the pattern fits it, else `fancy-regex` for what only Python's
//! backtracking engine has, backreferences (`\1`) and look-around. A
//! backtracking pattern matches UTF-8 text only: a line that is not UTF-8
//! does not match it.

use regex::bytes::Regex;

/// One compiled pattern.
#[derive(Debug, Clone)]
pub enum PyRegex {
    Linear(Regex),
    Backtracking(fancy_regex::Regex),
}

/// The groups of one match: by number (0 is the whole match), and names.
pub struct Groups {
    by_number: Vec<Option<Vec<u8>>>,
    names: Vec<(String, usize)>,
}

impl Groups {
    pub fn get(&self, number: usize) -> Option<&[u8]> {
        self.by_number.get(number)?.as_deref()
    }

    pub fn name(&self, name: &str) -> Option<&[u8]> {
        let (_, number) = self.names.iter().find(|(n, _)| n == name)?;
        self.get(*number)
    }
}

impl crate::text_edit::MatchGroups for Groups {
    fn number(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
    fn named(&self, name: &str) -> Option<&[u8]> {
        self.name(name)
    }
}

impl PyRegex {
    pub fn new(pattern: &str) -> Result<PyRegex, String> {
        match Regex::new(pattern) {
            Ok(re) => Ok(PyRegex::Linear(re)),
            Err(linear) => fancy_regex::Regex::new(pattern).map(PyRegex::Backtracking).map_err(|_| linear.to_string()),
        }
    }

    pub fn is_match(&self, text: &[u8]) -> bool {
        match self {
            PyRegex::Linear(re) => re.is_match(text),
            // A pattern that backtracks without end fails to match rather than hang.
            PyRegex::Backtracking(re) => std::str::from_utf8(text).is_ok_and(|t| re.is_match(t).unwrap_or(false)),
        }
    }

    pub fn captures(&self, text: &[u8]) -> Option<Groups> {
        match self {
            PyRegex::Linear(re) => {
                let caps = re.captures(text)?;
                let by_number = (0..caps.len()).map(|i| caps.get(i).map(|m| m.as_bytes().to_vec())).collect();
                let names = re.capture_names().enumerate().filter_map(|(i, n)| Some((n?.to_string(), i))).collect();
                Some(Groups { by_number, names })
            }
            PyRegex::Backtracking(re) => {
                let caps = re.captures(std::str::from_utf8(text).ok()?).ok()??;
                let by_number = (0..caps.len()).map(|i| caps.get(i).map(|m| m.as_str().as_bytes().to_vec())).collect();
                let names = re.capture_names().enumerate().filter_map(|(i, n)| Some((n?.to_string(), i))).collect();
                Some(Groups { by_number, names })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backreferences_and_look_around_match_as_in_python() {
        let re = PyRegex::new(r"^(REF) .* \1$").unwrap();
        assert!(matches!(re, PyRegex::Backtracking(_)));
        assert!(re.is_match(b"REF this is a line for backrefs REF"));
        assert!(!re.is_match(b"REF this is a line for backrefs FER"));
        let caps = re.captures(b"REF x REF").unwrap();
        assert_eq!(caps.get(1), Some(&b"REF"[..]));
        assert!(PyRegex::new(r"^a(?=b)").unwrap().is_match(b"ab"));
        assert!(!PyRegex::new(r"^(a)\1").unwrap().is_match(b"aa\xff"), "not UTF-8: no match");
    }

    #[test]
    fn plain_patterns_stay_linear_and_bad_ones_fail_with_regex_words() {
        let re = PyRegex::new(r"^(?P<k>\w+)=").unwrap();
        assert!(matches!(re, PyRegex::Linear(_)));
        assert_eq!(re.captures(b"port=1").unwrap().name("k"), Some(&b"port"[..]));
        assert!(PyRegex::new("(unclosed").unwrap_err().contains("unclosed"));
    }
}
