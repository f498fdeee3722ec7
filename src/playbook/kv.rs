//! Ansible's `key=value` argument strings (`copy: src=a dest="b c"`, `-e k=v`).

use serde_json::{Map, Value};

/// Splits on unquoted whitespace, keeping quotes and `{{ }}` / `{% %}` blocks
/// intact (so `msg="{{ a }} b"` stays one word).
pub fn split_args(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote.is_some() => {
                word.push(c);
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                continue;
            }
            '\'' | '"' if depth == 0 => match quote {
                None => quote = Some(c),
                Some(q) if q == c => quote = None,
                Some(_) => {}
            },
            '{' if matches!(chars.peek(), Some('{' | '%' | '#')) => depth += 1,
            '}' | '%' | '#' if depth > 0 && chars.peek() == Some(&'}') && c != '{' => {
                depth -= 1;
                word.push(c);
                word.push(chars.next().unwrap_or('}'));
                continue;
            }
            c if c.is_whitespace() && quote.is_none() && depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if let Some(q) = quote {
        return Err(format!("unbalanced quote {q} in: {text}"));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// Removes one pair of matching outer quotes, as Ansible's `unquote` does
/// (escapes are already decoded by then).
fn unquote(value: &str) -> &str {
    let bytes = value.as_bytes();
    let quoted = bytes.len() >= 2
        && matches!(bytes[0], b'"' | b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
        && bytes[bytes.len() - 2] != b'\\';
    if quoted {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Python's `unicode-escape` for the sequences Ansible's `_decode_escapes`
/// matches in a `k=v` word: `\\ \' \" \a \b \f \n \r \t \v`, `\xHH`,
/// `\uHHHH` and `\UHHHHHHHH` (no octal, as in ansible-core 2.19). Anything else stays as written.
fn decode_escapes(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('\\', Some(&next)) => match decode_one(next, &chars[i + 2..]) {
                Some((decoded, used)) => {
                    out.push(decoded);
                    i += 2 + used;
                }
                None => {
                    out.push('\\');
                    i += 1;
                }
            },
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The character `\{letter}{rest...}` stands for and how many chars of `rest` it used.
fn decode_one(letter: char, rest: &[char]) -> Option<(char, usize)> {
    let simple = match letter {
        '\\' | '\'' | '"' => Some(letter),
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c, 0));
    }
    let hex = |n: usize| {
        let digits: String = rest.get(..n)?.iter().collect();
        let code = u32::from_str_radix(&digits, 16).ok().filter(|_| digits.chars().all(|c| c.is_ascii_hexdigit()))?;
        Some((char::from_u32(code)?, n))
    };
    match letter {
        'x' => hex(2),
        'u' => hex(4),
        'U' => hex(8),
        _ => None,
    }
}

/// Parses `k=v` words into a map. Words that are not `k=v` (or whose key is
/// not accepted by `is_param`) are joined into `_raw_params` when `free_form`,
/// else they are an error. Without free-form words a key is whatever precedes
/// the first unescaped `=`, as in Ansible (`set_fact: "{{ item }}=moo"` names
/// its variable with a template): `is_param` judges it.
pub fn parse_kv(text: &str, free_form: bool, is_param: impl Fn(&str) -> bool) -> Result<Map<String, Value>, String> {
    let mut map = Map::new();
    let mut raw = Vec::new();
    for word in split_args(text)? {
        let decoded = decode_escapes(&word);
        match split_key(&decoded) {
            Some((key, value)) if is_param(key) && (!free_form || is_identifier(key)) => {
                map.insert(key.to_string(), Value::String(unquote(value).to_string()));
            }
            _ if free_form => raw.push(word),
            _ => return Err(format!("`{word}` is not of the form key=value")),
        }
    }
    if !raw.is_empty() {
        map.insert("_raw_params".into(), Value::String(raw.join(" ")));
    }
    Ok(map)
}

/// `key` and `value` around the first `=` that is neither the first character
/// nor escaped by a backslash.
fn split_key(word: &str) -> Option<(&str, &str)> {
    let at = word.char_indices().skip(1).find(|&(i, c)| c == '=' && !word[..i].ends_with('\\'))?.0;
    Some((word[..at].trim(), word[at + 1..].trim()))
}

/// A Python identifier in ASCII: what Ansible accepts as a variable or argument name.
pub fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_respecting_quotes_and_jinja() {
        let words = split_args(r#"dest=/tmp/x content="a b" msg={{ x | default('y z') }}"#).unwrap();
        assert_eq!(words, vec!["dest=/tmp/x", "content=\"a b\"", "msg={{ x | default('y z') }}"]);
    }

    #[test]
    fn kv_unquotes_values() {
        let map = parse_kv(r#"src=a dest="b c" mode='0644'"#, false, |_| true).unwrap();
        assert_eq!(map["dest"], "b c");
        assert_eq!(map["mode"], "0644");
    }

    #[test]
    fn free_form_keeps_unknown_words_raw() {
        let map = parse_kv("echo a=b creates=/tmp/x", true, |k| k == "creates").unwrap();
        assert_eq!(map["_raw_params"], "echo a=b");
        assert_eq!(map["creates"], "/tmp/x");
    }

    #[test]
    fn escapes_are_decoded_like_ansible() {
        let map = parse_kv(r#"content="v2\n" a=x\ty b='it\'s' c=\x41\u00e9\101 d=a\qb e="q\"" f=\\n"#, false, |_| true).unwrap();
        assert_eq!(map["content"], "v2\n");
        assert_eq!(map["a"], "x\ty");
        assert_eq!(map["b"], "it's");
        assert_eq!(map["c"], "A\u{e9}\\101");
        assert_eq!(map["d"], "a\\qb");
        assert_eq!(map["e"], "q\"");
        assert_eq!(map["f"], "\\n");
        let raw = parse_kv(r#"printf 'a\nb' creates=/x"#, true, |k| k == "creates").unwrap();
        assert_eq!(raw["_raw_params"], r"printf 'a\nb'");
    }

    #[test]
    fn keys_may_be_templates_unless_free_form() {
        let map = parse_kv(r#"{{ item }}=moo {{ a }}_b="x y" c=d=e"#, false, |_| true).unwrap();
        assert_eq!(map["{{ item }}"], "moo");
        assert_eq!(map["{{ a }}_b"], "x y");
        assert_eq!(map["c"], "d=e");
        let raw = parse_kv("echo {{ x }}=1 creates=/x", true, |_| true).unwrap();
        assert_eq!(raw["_raw_params"], "echo {{ x }}=1");
        assert!(parse_kv("a-b=1", false, is_identifier).is_err());
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert!(split_args("a='b").is_err());
    }
}
