//! Splitting a line into words like Python's `shlex.split` (POSIX mode):
//! how Ansible's `command` module reads a free-form command, and (with
//! `comments=True`) how its INI inventory plugin reads a host line.

/// The line cannot be split; messages are Python's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("No closing quotation")]
    NoClosingQuotation,
    #[error("No escaped character")]
    NoEscapedCharacter,
}

/// One word and the 0-based character offset where it starts in the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub start: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Word,
    Single,
    Double,
}

/// Splits `line` into words: whitespace separates, quotes group, backslash escapes.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    Ok(split_words(line, false)?.into_iter().map(|w| w.text).collect())
}

/// Like [`split`], with each word's offset; with `comments`, a `#` outside
/// quotes ends the line, even inside a word (Python's `comments=True`).
pub fn split_words(line: &str, comments: bool) -> Result<Vec<Word>, SplitError> {
    let mut words = Vec::new();
    let mut word = Word { text: String::new(), start: 0 };
    let mut state = State::Between;
    let mut chars = line.chars().enumerate();
    while let Some((i, c)) = chars.next() {
        if state == State::Between && !matches!(c, ' ' | '\t' | '\r' | '\n') {
            word.start = i;
        }
        state = match state {
            State::Between | State::Word => match c {
                ' ' | '\t' | '\r' | '\n' => {
                    if state == State::Word {
                        words.push(std::mem::replace(&mut word, Word { text: String::new(), start: 0 }));
                    }
                    State::Between
                }
                '#' if comments => break,
                '\'' => State::Single,
                '"' => State::Double,
                '\\' => {
                    word.text.push(chars.next().ok_or(SplitError::NoEscapedCharacter)?.1);
                    State::Word
                }
                other => {
                    word.text.push(other);
                    State::Word
                }
            },
            State::Single => match c {
                '\'' => State::Word,
                other => {
                    word.text.push(other);
                    State::Single
                }
            },
            State::Double => match c {
                '"' => State::Word,
                '\\' => {
                    // Inside double quotes only `"` and `\` are escapable; otherwise the
                    // backslash stays.
                    let next = chars.next().ok_or(SplitError::NoClosingQuotation)?.1;
                    if next != '"' && next != '\\' {
                        word.text.push('\\');
                    }
                    word.text.push(next);
                    State::Double
                }
                other => {
                    word.text.push(other);
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

    fn commented(line: &str) -> Vec<String> {
        split_words(line, true).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn comments_like_python_shlex_with_comments() {
        assert_eq!(commented("h x=a#b y=2"), ["h", "x=a"]);
        assert_eq!(commented(r#"h x="" y='#'"#), ["h", "x=", "y=#"]);
        assert_eq!(commented(r#"h x="a\nb""#), ["h", r"x=a\nb"]);
        assert_eq!(commented("  # only a comment"), Vec::<String>::new());
        assert_eq!(s("a#b"), ["a#b"]);
    }

    #[test]
    fn words_know_where_they_start() {
        let words = split_words("web1  ansible_host=1.2.3.4 'q'", true).unwrap();
        assert_eq!(words.iter().map(|w| w.start).collect::<Vec<_>>(), [0, 6, 27]);
    }
}
