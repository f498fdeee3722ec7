//! Values in INI inventories, read as Ansible's INI plugin reads them: through
//! Python's `ast.literal_eval`, keeping the text when it is not a literal.
//!
//! So `3` is an integer, `True` a boolean, `[1, 'a']` a list, `'x'` a string,
//! while `yes`, `true`, `0755` (invalid in Python 3) and `a b` stay text.

use serde_json::{Map, Number, Value};

/// The value of `text` in an INI inventory (Ansible's `_parse_value`).
pub(crate) fn parse_value(text: &str) -> Value {
    literal_eval(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// A Python literal expression, or None when `text` is not one.
fn literal_eval(text: &str) -> Option<Value> {
    let mut parser = Parser { chars: text.trim_start_matches([' ', '\t']).chars().collect(), pos: 0 };
    let value = parser.expression_list()?;
    parser.skip_space();
    (parser.pos == parser.chars.len()).then_some(value)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    /// Skips blanks and a trailing `# comment`.
    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\x0c' => self.pos += 1,
                '#' => self.pos = self.chars.len(),
                _ => break,
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `a` or a bare tuple `a, b,` (as at the top level of `literal_eval`).
    fn expression_list(&mut self) -> Option<Value> {
        let first = self.expression()?;
        if !self.eat(',') {
            return Some(first);
        }
        let mut items = vec![first];
        loop {
            self.skip_space();
            if self.peek().is_none_or(|c| c == ')') {
                break;
            }
            items.push(self.expression()?);
            if !self.eat(',') {
                break;
            }
        }
        Some(Value::Array(items))
    }

    fn expression(&mut self) -> Option<Value> {
        self.skip_space();
        match self.peek()? {
            '-' | '+' => {
                let negative = self.peek() == Some('-');
                self.pos += 1;
                self.skip_space();
                let number = self.number()?;
                if negative { negate(number) } else { Some(number) }
            }
            '[' => self.sequence('[', ']').map(Value::Array),
            '(' => self.parenthesized(),
            '{' => self.braces(),
            c if c.is_ascii_digit() || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => self.number(),
            _ => self.string_or_name(),
        }
    }

    /// Items up to `close`, with an optional trailing comma.
    fn sequence(&mut self, open: char, close: char) -> Option<Vec<Value>> {
        debug_assert_eq!(self.peek(), Some(open));
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expression()?);
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    fn parenthesized(&mut self) -> Option<Value> {
        self.pos += 1;
        if self.eat(')') {
            return Some(Value::Array(Vec::new()));
        }
        let value = self.expression_list()?;
        self.eat(')').then_some(value)
    }

    /// `{}` and `{k: v}` are dicts, `{a, b}` is a set (a list here).
    fn braces(&mut self) -> Option<Value> {
        self.pos += 1;
        if self.eat('}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.expression()?;
        if !self.eat(':') {
            let mut items = vec![first];
            while self.eat(',') {
                if self.eat('}') {
                    return Some(Value::Array(items));
                }
                items.push(self.expression()?);
            }
            return self.eat('}').then_some(Value::Array(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let value = self.expression()?;
            map.insert(key_text(&key)?, value);
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            if !self.eat(',') {
                return None;
            }
            if self.eat('}') {
                return Some(Value::Object(map));
            }
            key = self.expression()?;
            if !self.eat(':') {
                return None;
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string_or_name(&mut self) -> Option<Value> {
        let start = self.pos;
        let word = self.word();
        if matches!(self.peek(), Some('\'' | '"')) && is_string_prefix(&word) {
            self.pos = start;
            return self.strings().map(Value::String);
        }
        match word.as_str() {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            _ => None,
        }
    }

    /// One or more adjacent string literals, concatenated as Python does.
    fn strings(&mut self) -> Option<String> {
        let mut text = self.string()?;
        loop {
            let save = self.pos;
            self.skip_space();
            let start = self.pos;
            let prefix = self.word();
            if matches!(self.peek(), Some('\'' | '"')) && is_string_prefix(&prefix) {
                self.pos = start;
                text.push_str(&self.string()?);
            } else {
                self.pos = save;
                return Some(text);
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        let prefix = self.word().to_ascii_lowercase();
        let raw = prefix.contains('r');
        let quote = self.peek()?;
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        let mut text = String::new();
        loop {
            let c = self.peek()?;
            if c == quote && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote))) {
                self.pos += if triple { 3 } else { 1 };
                return Some(text);
            }
            self.pos += 1;
            if c != '\\' {
                text.push(c);
            } else if raw {
                text.push('\\');
                text.push(self.peek()?);
                self.pos += 1;
            } else {
                self.escape(&mut text, prefix.contains('b'))?;
            }
        }
    }

    fn escape(&mut self, text: &mut String, bytes: bool) -> Option<()> {
        let c = self.peek()?;
        self.pos += 1;
        let simple = match c {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(s) = simple {
            text.push(s);
            return Some(());
        }
        match c {
            '0'..='7' => {
                let mut value = c.to_digit(8)?;
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                text.push(char::from_u32(value)?);
            }
            'x' => text.push(self.hex_escape(2)?),
            'u' if !bytes => text.push(self.hex_escape(4)?),
            'U' if !bytes => text.push(self.hex_escape(8)?),
            // `\N{NAME}` needs the Unicode name table; not a literal we support.
            'N' if !bytes => return None,
            other => {
                // Python keeps unknown escapes as they are.
                text.push('\\');
                text.push(other);
            }
        }
        Some(())
    }

    fn hex_escape(&mut self, digits: usize) -> Option<char> {
        let hex: String = self.chars.get(self.pos..self.pos + digits)?.iter().collect();
        self.pos += digits;
        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.'
            || ((c == '+' || c == '-') && matches!(self.chars.get(self.pos - 1), Some('e' | 'E')) && !self.is_prefixed(start)))
        {
            self.pos += 1;
        }
        let token: String = self.chars[start..self.pos].iter().collect();
        number_value(&token)
    }

    fn is_prefixed(&self, start: usize) -> bool {
        self.chars.get(start) == Some(&'0') && matches!(self.chars.get(start + 1), Some('x' | 'X' | 'o' | 'O' | 'b' | 'B'))
    }
}

fn is_string_prefix(word: &str) -> bool {
    matches!(word.to_ascii_lowercase().as_str(), "" | "r" | "u" | "b" | "br" | "rb")
}

fn negate(value: Value) -> Option<Value> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        return Some(Value::Number(i.checked_neg()?.into()));
    }
    Number::from_f64(-n.as_f64()?).map(Value::Number)
}

/// A Python number token: ints in any base (underscores between digits),
/// floats; complex numbers are left as text.
fn number_value(token: &str) -> Option<Value> {
    let lower = token.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            let digits = digits.strip_prefix('_').unwrap_or(digits);
            return int_value(digits, radix);
        }
    }
    if lower.contains(['.', 'e']) {
        return float_value(&lower);
    }
    let zeros_only = lower.bytes().all(|b| b == b'0' || b == b'_');
    if lower.starts_with('0') && !zeros_only {
        return None; // Python 3 rejects leading zeros such as 0755.
    }
    int_value(&lower, 10)
}

fn valid_underscores(digits: &str) -> bool {
    !digits.is_empty() && !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__")
}

fn int_value(digits: &str, radix: u32) -> Option<Value> {
    if !valid_underscores(digits) {
        return None;
    }
    let value = i64::from_str_radix(&digits.replace('_', ""), radix).ok()?;
    Some(Value::Number(value.into()))
}

fn float_value(token: &str) -> Option<Value> {
    let (mantissa, exponent) = match token.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (token, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, f),
        None => (mantissa, ""),
    };
    let parts_ok = (whole.is_empty() || valid_underscores(whole))
        && (fraction.is_empty() || valid_underscores(fraction))
        && !(whole.is_empty() && fraction.is_empty())
        && [whole, fraction].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit() || b == b'_'));
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.trim_start_matches(['+', '-']);
        e.len() - digits.len() <= 1 && valid_underscores(digits) && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    });
    if !parts_ok || !exponent_ok {
        return None;
    }
    let value: f64 = token.replace('_', "").parse().ok()?;
    Number::from_f64(value).filter(|_| value.is_finite()).map(Value::Number)
}

/// A dict key as JSON object key text (what `json.dumps` would write).
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".into()),
        // Lists and dicts are unhashable in Python.
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_literals_become_data() {
        assert_eq!(parse_value("3"), json!(3));
        assert_eq!(parse_value("-3"), json!(-3));
        assert_eq!(parse_value("1_000"), json!(1000));
        assert_eq!(parse_value("0x1f"), json!(31));
        assert_eq!(parse_value("1.5"), json!(1.5));
        assert_eq!(parse_value("-1.5e3"), json!(-1500.0));
        assert_eq!(parse_value(".5"), json!(0.5));
        assert_eq!(parse_value("True"), json!(true));
        assert_eq!(parse_value("None"), json!(null));
        assert_eq!(parse_value("'quoted'"), json!("quoted"));
        assert_eq!(parse_value(r#""a" 'b'"#), json!("ab"));
        assert_eq!(parse_value(r"'tab\there'"), json!("tab\there"));
        assert_eq!(parse_value(r"r'raw\t'"), json!(r"raw\t"));
        assert_eq!(parse_value("[1, 'a', [True]]"), json!([1, "a", [true]]));
        assert_eq!(parse_value("{'a': 1, 2: [3,]}"), json!({"a": 1, "2": [3]}));
        assert_eq!(parse_value("(1, 2)"), json!([1, 2]));
        assert_eq!(parse_value("1,2"), json!([1, 2]));
        assert_eq!(parse_value("(1)"), json!(1));
        assert_eq!(parse_value("(1,)"), json!([1]));
        assert_eq!(parse_value("1,"), json!([1]));
        assert_eq!(parse_value("{1, 2}"), json!([1, 2]));
        assert_eq!(parse_value("{}"), json!({}));
        assert_eq!(parse_value(" 1 # comment"), json!(1));
    }

    #[test]
    fn everything_else_stays_text() {
        for text in ["yes", "true", "FALSE", "0755", "007", "a b", "1.2.3.4", "web01", "", "1abc", "--1",
            "-True", "[1, 2", "'open", "f'x'", "1j", "{[1]: 2}", "$HOME", "a=b"]
        {
            assert_eq!(parse_value(text), json!(text), "{text}");
        }
        assert_eq!(parse_value("00"), json!(0));
    }
}
