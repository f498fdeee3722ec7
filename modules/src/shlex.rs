//! Splitting a command line into words like Python's `shlex.split` (POSIX mode),
//! which is how Ansible's `command` module reads a free-form command.

/// The line cannot be split; messages are Python's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("No closing quotation")]
    NoClosingQuotation,
    #[error("No escaped character")]
    NoEscapedCharacter,
}

enum State {
    Between,
    Word,
    Single,
    Double,
}

/// Splits `line` into words: whitespace separates, quotes group, backslash escapes.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Between;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        state = match state {
            State::Between | State::Word => match c {
                ' ' | '\t' | '\r' | '\n' => {
                    if matches!(state, State::Word) {
                        words.push(std::mem::take(&mut word));
                    }
                    State::Between
                }
                '\'' => State::Single,
                '"' => State::Double,
                '\\' => {
                    word.push(chars.next().ok_or(SplitError::NoEscapedCharacter)?);
                    State::Word
                }
                other => {
                    word.push(other);
                    State::Word
                }
            },
            State::Single => match c {
                '\'' => State::Word,
                other => {
                    word.push(other);
                    State::Single
                }
            },
            State::Double => match c {
                '"' => State::Word,
                '\\' => {
                    // Inside double quotes only `"` and `\` are escapable; otherwise the
                    // backslash stays.
                    let next = chars.next().ok_or(SplitError::NoClosingQuotation)?;
                    if next != '"' && next != '\\' {
                        word.push('\\');
                    }
                    word.push(next);
                    State::Double
                }
                other => {
                    word.push(other);
                    State::Double
                }
            },
        };
    }
    match state {
        State::Single | State::Double => Err(SplitError::NoClosingQuotation),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Between => Ok(words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn splits_on_whitespace() {
        assert_eq!(s("  echo  hi\tthere\n"), ["echo", "hi", "there"]);
        assert!(s("   ").is_empty());
    }

    #[test]
    fn quotes_group_and_disappear() {
        assert_eq!(
            s(r#"echo 'a b' "c d" e'f'g"#),
            ["echo", "a b", "c d", "efg"]
        );
        assert_eq!(s("echo '' \"\""), ["echo", "", ""]);
        assert_eq!(s(r#"echo 'it"s' "it's""#), ["echo", "it\"s", "it's"]);
    }

    #[test]
    fn backslashes_like_python() {
        assert_eq!(s(r"echo a\ b \$HOME"), ["echo", "a b", "$HOME"]);
        assert_eq!(
            s(r#"echo "a\"b" "c\d" "e\\f""#),
            ["echo", "a\"b", "c\\d", "e\\f"]
        );
        assert_eq!(s(r"echo 'a\b'"), ["echo", "a\\b"]);
    }

    #[test]
    fn shell_operators_are_plain_words() {
        assert_eq!(
            s("echo $HOME ; ls | wc"),
            ["echo", "$HOME", ";", "ls", "|", "wc"]
        );
    }

    #[test]
    fn errors_like_python() {
        assert_eq!(split("echo 'a"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("echo \"a"), Err(SplitError::NoClosingQuotation));
        assert_eq!(split("echo a\\"), Err(SplitError::NoEscapedCharacter));
    }
}
