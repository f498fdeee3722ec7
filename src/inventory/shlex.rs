//! Splits an INI host line into words the way Python's `shlex.split(line,
//! comments=True)` does (POSIX mode), which is what Ansible's INI plugin uses.

/// One word and the 0-based character offset where it starts in the line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    pub text: String,
    pub start: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Between,
    Word,
    Single,
    Double,
}

/// Words of `line`; `#` outside quotes starts a comment, even inside a word.
pub(crate) fn split(line: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    let mut state = State::Between;
    let mut current = Word { text: String::new(), start: 0 };
    let mut chars = line.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        match state {
            State::Between | State::Word => {
                if matches!(c, ' ' | '\t' | '\r' | '\n') {
                    if state == State::Word {
                        words.push(std::mem::replace(&mut current, Word { text: String::new(), start: 0 }));
                    }
                    state = State::Between;
                    continue;
                }
                if c == '#' {
                    break;
                }
                if state == State::Between {
                    current.start = i;
                    state = State::Word;
                }
                match c {
                    '\'' => state = State::Single,
                    '"' => state = State::Double,
                    '\\' => match chars.next() {
                        Some((_, escaped)) => current.text.push(escaped),
                        None => return Err("No escaped character".into()),
                    },
                    _ => current.text.push(c),
                }
            }
            State::Single => match c {
                '\'' => state = State::Word,
                _ => current.text.push(c),
            },
            State::Double => match c {
                '"' => state = State::Word,
                // Inside double quotes a backslash escapes only `"` and itself.
                '\\' if matches!(chars.peek(), Some((_, '"' | '\\'))) => {
                    current.text.push(chars.next().map(|(_, c)| c).unwrap_or('\\'));
                }
                _ => current.text.push(c),
            },
        }
    }
    match state {
        State::Single | State::Double => Err("No closing quotation".into()),
        State::Word => {
            words.push(current);
            Ok(words)
        }
        State::Between => Ok(words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split(line).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn quotes_escapes_and_comments_like_python_shlex() {
        assert_eq!(texts("h x=a#b y=2"), ["h", "x=a"]);
        assert_eq!(texts(r#"h x="a b" y='c d'"#), ["h", "x=a b", "y=c d"]);
        assert_eq!(texts(r#"h x="a\"b" z=a\ b"#), ["h", r#"x=a"b"#, "z=a b"]);
        assert_eq!(texts(r#"h x="" y='#'"#), ["h", "x=", "y=#"]);
        assert_eq!(texts(r#"h x="a\nb""#), ["h", r"x=a\nb"]);
        assert_eq!(texts("  # only a comment"), Vec::<String>::new());
    }

    #[test]
    fn word_offsets_and_errors() {
        let words = split("web1  ansible_host=1.2.3.4").unwrap();
        assert_eq!(words[1].start, 6);
        assert_eq!(split("h x='open").unwrap_err(), "No closing quotation");
        assert_eq!(split("h x=\\").unwrap_err(), "No escaped character");
    }
}
