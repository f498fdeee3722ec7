//! The one way to build a remote command line.
//!
//! Every value that reaches a remote shell goes through [`quote`], which wraps it
//! in single quotes (the only POSIX quoting with no special characters inside),
//! so quotes, `$()`, backticks, `;`, newlines and spaces stay data.

use std::fmt::Write;

/// Quotes one word for a POSIX shell. The empty string becomes `''`.
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    // A leading '-' is kept as is: option injection is prevented by `--` in the
    // commands that take paths, not by quoting.
    if safe {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A command line built word by word: the program and fixed options are
/// trusted literals, every argument is quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    line: String,
}

impl Cmd {
    /// Starts a command with a trusted program name (never user input).
    pub fn new(program: &'static str) -> Self {
        Self { line: program.to_string() }
    }

    /// Adds a trusted literal (an option such as `-c` or `--`), unquoted.
    pub fn flag(mut self, flag: &'static str) -> Self {
        self.line.push(' ');
        self.line.push_str(flag);
        self
    }

    /// Adds an argument, quoted.
    pub fn arg(mut self, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(&quote(value.as_ref()));
        self
    }

    /// Adds several arguments, each quoted.
    pub fn args<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for v in values {
            self = self.arg(v);
        }
        self
    }

    /// Joins another command with a trusted shell operator (`&&`, `||`, `;`, `|`).
    pub fn then(mut self, op: &'static str, next: Cmd) -> Self {
        let _ = write!(self.line, " {op} {}", next.line);
        self
    }

    /// Redirects stdout to a quoted path (`>` truncates).
    pub fn stdout_to(mut self, path: impl AsRef<str>) -> Self {
        let _ = write!(self.line, " > {}", quote(path.as_ref()));
        self
    }

    /// Silences stderr.
    pub fn quiet(mut self) -> Self {
        self.line.push_str(" 2>/dev/null");
        self
    }

    /// Runs the command in a directory (`cd DIR && ...`).
    pub fn in_dir(self, dir: impl AsRef<str>) -> Self {
        Cmd { line: format!("cd {} && {}", quote(dir.as_ref()), self.line) }
    }

    /// Adds an environment variable assignment in front (`NAME=value cmd`).
    pub fn env(self, name: &'static str, value: impl AsRef<str>) -> Self {
        Cmd { line: format!("{name}={} {}", quote(value.as_ref()), self.line) }
    }

    /// A whole user-written shell script (the `shell` module) run by `sh -c`,
    /// quoted as one word so the outer login shell never interprets it.
    pub fn sh(script: &str) -> Self {
        Cmd::new("/bin/sh").flag("-c").arg(script)
    }

    pub fn as_str(&self) -> &str {
        &self.line
    }

    pub fn into_string(self) -> String {
        self.line
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_readable() {
        assert_eq!(quote("/etc/motd"), "/etc/motd");
        assert_eq!(quote("a=b"), "a=b");
    }

    #[test]
    fn hostile_words_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(reboot)"), "'$(reboot)'");
        assert_eq!(quote("`id`;ls\n"), "'`id`;ls\n'");
    }

    #[test]
    fn builder_quotes_args_not_flags() {
        let c = Cmd::new("stat").flag("-c").arg("%a %U").flag("--").arg("x;y");
        assert_eq!(c.as_str(), "stat -c '%a %U' -- 'x;y'");
    }

    #[test]
    fn quoted_words_round_trip_through_a_real_shell() {
        let hostile = ["a b", "it's", "$(echo pwned)", "`id`", "x;y", "l1\nl2", "-n", "\\", "*", "~"];
        for word in hostile {
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(Cmd::new("printf").arg("%s").arg(word).as_str())
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), word, "for {word:?}");
        }
    }
}
