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

/// A word as Ansible's `command` expands its arguments on the host (Python's
/// `expanduser(expandvars(word))`): `$NAME` and `${NAME}` become the
/// variable's value where it is set and stay as written where it is not, a
/// leading `~` or `~user` becomes that home. Only the expansions are left to
/// the shell, inside double quotes (a value is never split, globbed or run);
/// everything else is [`quote`]d.
pub fn expanding(word: &str) -> String {
    let (tilde, rest) = tilde_prefix(word);
    let mut out = String::from(tilde);
    let mut literal = String::new();
    let mut chars = rest;
    while let Some(at) = chars.find('$') {
        literal.push_str(&chars[..at]);
        let after = &chars[at + 1..];
        match variable_at(after) {
            Some((name, braced, used)) => {
                flush_quoted(&mut out, &mut literal);
                let written = if braced { format!("\\${{{name}\\}}") } else { format!("\\${name}") };
                let _ = write!(out, "\"${{{name}-{written}}}\"");
                chars = &after[used..];
            }
            None => {
                literal.push('$');
                chars = after;
            }
        }
    }
    literal.push_str(chars);
    if !literal.is_empty() || out.is_empty() {
        out.push_str(&quote(&literal));
    }
    out
}

fn flush_quoted(out: &mut String, literal: &mut String) {
    if !literal.is_empty() {
        out.push_str(&quote(literal));
        literal.clear();
    }
}

/// A leading `~` or `~user` the shell expands as Python's `expanduser` does
/// (up to the first `/`); a user name with other characters stays literal.
fn tilde_prefix(word: &str) -> (&str, &str) {
    match split_tilde(word) {
        Some((user, rest)) if user.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) && !user.starts_with('-') => (&word[..word.len() - rest.len()], rest),
        _ => ("", word),
    }
}

/// `~user/rest` as `(user, rest)` (`user` empty for a bare `~`); `rest` is empty or starts with `/`.
pub(crate) fn split_tilde(path: &str) -> Option<(&str, &str)> {
    let after = path.strip_prefix('~')?;
    let end = after.find('/').unwrap_or(after.len());
    Some((&after[..end], &after[end..]))
}

/// Variables a shell sets for itself without exporting them: Python's
/// `expandvars` reads the environment, where they are not, so they stay as
/// written (`$IFS` never becomes whitespace).
const SHELL_OWN: &[&str] = &["IFS", "PS1", "PS2", "PS3", "PS4", "PPID", "OPTIND", "OPTARG", "LINENO", "RANDOM", "SECONDS", "EUID", "UID", "GROUPS", "HOSTNAME", "HOSTTYPE", "MACHTYPE", "OSTYPE", "FUNCNAME", "PIPESTATUS", "REPLY", "SRANDOM", "EPOCHSECONDS", "EPOCHREALTIME", "HISTCMD", "DIRSTACK", "COLUMNS", "LINES"];

/// The variable named right after a `$` (`NAME` or `{NAME}`) as Python's
/// `expandvars` finds it, when its name is one a shell can hold: the name,
/// whether braced, and the bytes it takes.
fn variable_at(after: &str) -> Option<(&str, bool, usize)> {
    let valid = |name: &str| {
        name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !SHELL_OWN.contains(&name)
            && !name.starts_with("BASH")
    };
    if let Some(inner) = after.strip_prefix('{') {
        let close = inner.find('}')?;
        let name = &inner[..close];
        return valid(name).then_some((name, true, close + 2));
    }
    // Python's `\w+` takes digits too: `$1x` names `1x`, never set, so it stays.
    let len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    let name = &after[..len];
    valid(name).then_some((name, false, len))
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

    /// Adds an argument whose `$VARS` and leading `~` the host expands (see [`expanding`]).
    pub fn arg_expanding(mut self, value: impl AsRef<str>) -> Self {
        self.line.push(' ');
        self.line.push_str(&expanding(value.as_ref()));
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

    #[test]
    fn expanding_words_leave_only_variables_and_homes_to_the_shell() {
        assert_eq!(expanding("plain"), "plain");
        assert_eq!(expanding(""), "''");
        assert_eq!(expanding("$HOME/a b"), r#""${HOME-\$HOME}"'/a b'"#);
        assert_eq!(expanding("x${USER}y"), r#"x"${USER-\${USER\}}"y"#);
        assert_eq!(expanding("~/.ssh"), "~/.ssh");
        assert_eq!(expanding("~deploy"), "~deploy");
        assert_eq!(expanding("~a b/x"), "'~a b/x'");
        assert_eq!(expanding("$1 $ ${} ${a b} $IFS ${PPID}"), "'$1 $ ${} ${a b} $IFS ${PPID}'");
        assert_eq!(expanding("$(id)`id`;${X$(id)}"), "'$(id)`id`;${X$(id)}'");
        assert_eq!(expanding("it's $A"), r#"'it'\''s '"${A-\$A}""#);
    }

    /// What the host makes of expanding words, through a real POSIX shell.
    #[test]
    fn expanding_words_read_back_as_python_expands_them() {
        let words = ["$SET/x", "${SET}", "$UNSET", "${UNSET}", "a$SET.b", "$(touch /tmp/stockman-pwned)", "~/k", "'\"$SET_2"];
        let line = words.iter().map(|w| expanding(w)).collect::<Vec<_>>().join(" ");
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf '[%s]' {line}"))
            .env_remove("UNSET")
            .env("SET", "v *;$(id)")
            .env("HOME", "/home/h")
            .output()
            .unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        assert_eq!(got, "[v *;$(id)/x][v *;$(id)][$UNSET][${UNSET}][av *;$(id).b][$(touch /tmp/stockman-pwned)][/home/h/k]['\"$SET_2]");
    }
}
