//! Questions on the terminal: a play's `vars_prompt` (asked just before the
//! play runs) and the input `pause` waits for.
//!
//! As in Ansible, there is a terminal to ask on when stdin is one; questions
//! and answers then go through `/dev/tty`, so stdout can still be piped. A
//! `vars_prompt` variable given with `-e` is never asked. Without a terminal,
//! Ansible silently uses the default (or None); stockman uses the default and
//! refuses to start when there is none, naming the variable and the fix.

use std::io::{BufRead, BufReader, IsTerminal, Write};

use serde_json::{Map, Value};

use super::Executor;
use crate::playbook::{Play, Playbook, VarPrompt};
use crate::report::Event;
use crate::template::Templar;

/// `encrypt:` schemes stockman can compute (as `password_hash` does).
const SCHEMES: &[(&str, &str)] = &[("sha512_crypt", "sha512"), ("sha256_crypt", "sha256")];

const SALT_CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Whether questions can be asked: stdin is a terminal, as Ansible checks.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Refuses, before anything runs, prompts that could never be answered: no
/// terminal, no default and no `-e`, or an `encrypt` scheme stockman lacks.
pub fn check_answerable(playbooks: &[Playbook], extra_vars: &Map<String, Value>) -> Result<(), String> {
    let entries = playbooks.iter().flat_map(|pb| pb.plays.iter()).flat_map(|play| play.vars_prompt.iter());
    for entry in entries.filter(|e| !extra_vars.contains_key(&e.name)) {
        if let Some(scheme) = entry.encrypt.as_deref().filter(|s| scheme(s).is_none()) {
            return Err(format!(
                "{}: vars_prompt `{}`: encrypt `{scheme}` is not supported by stockman; use sha512_crypt or sha256_crypt",
                entry.span, entry.name
            ));
        }
        if entry.default.is_none() && !interactive() {
            return Err(format!(
                "{}: vars_prompt `{}` needs an answer, but there is no terminal to ask on (stdin is not a terminal). \
                 Pass it with `-e {}=VALUE`, or give the prompt a `default:`",
                entry.span, entry.name, entry.name
            ));
        }
    }
    Ok(())
}

fn scheme(encrypt: &str) -> Option<&'static str> {
    SCHEMES.iter().find(|(name, _)| *name == encrypt).map(|(_, hash)| *hash)
}

impl Executor<'_> {
    /// The answers to the play's `vars_prompt`, skipping variables given with `-e`.
    pub(super) fn answer_prompts(&self, play: &Play) -> Map<String, Value> {
        let mut answers = Map::new();
        let mut known = play.vars.clone();
        known.extend(self.settings.extra_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        for entry in play.vars_prompt.iter().filter(|e| !self.settings.extra_vars.contains_key(&e.name)) {
            let ctx = Templar::context(&known);
            match self.answer(entry, &ctx) {
                Ok(value) => {
                    known.insert(entry.name.clone(), value.clone());
                    answers.insert(entry.name.clone(), value);
                }
                Err(message) => self.emit(Event::Warning(format!("vars_prompt `{}`: {message}; the variable is not set", entry.name))),
            }
        }
        answers
    }

    fn answer(&self, entry: &VarPrompt, ctx: &minijinja::Value) -> Result<Value, String> {
        let render = |text: &str| self.templar.render_str(text, ctx).map(|v| stockman_modules::args::value_to_string(&v)).map_err(|e| e.message);
        let default = entry.default.as_ref().map(|d| self.templar.render_value(d, ctx).map_err(|e| e.message)).transpose()?;
        let default_text = default.as_ref().map(stockman_modules::args::value_to_string);
        let typed = if interactive() {
            let question = match (&entry.prompt, &default_text) {
                (Some(p), Some(d)) => format!("{} [{d}]: ", render(p)?),
                (Some(p), None) => format!("{}: ", render(p)?),
                (None, _) => format!("input for {}: ", entry.name),
            };
            // Blocks the (single-threaded) runtime while the user types, as
            // ansible-playbook's prompt holds its whole run.
            self.ask(&question, entry.private, entry.confirm)?
        } else {
            self.emit(Event::Warning("Not prompting as we are not in interactive mode".into()));
            String::new()
        };
        let answer = match default_text {
            Some(d) if typed.is_empty() => d,
            _ => typed,
        };
        match entry.encrypt.as_deref() {
            Some(encrypt) => self.encrypt(&answer, encrypt, entry),
            None => Ok(Value::String(answer)),
        }
    }

    /// Asks once, or twice until both answers match under `confirm`.
    fn ask(&self, question: &str, private: bool, confirm: bool) -> Result<String, String> {
        loop {
            let first = read_answer(question, private).map_err(|e| format!("cannot read the terminal: {e}"))?;
            if !confirm {
                return Ok(first);
            }
            let second = read_answer(&format!("confirm {question}"), private).map_err(|e| format!("cannot read the terminal: {e}"))?;
            if first == second {
                return Ok(first);
            }
            self.emit(Event::Display("***** VALUES ENTERED DO NOT MATCH ****".into()));
        }
    }

    /// A crypt(3) hash of the answer, through the `password_hash` filter.
    fn encrypt(&self, answer: &str, encrypt: &str, entry: &VarPrompt) -> Result<Value, String> {
        let hash = scheme(encrypt).ok_or_else(|| format!("encrypt `{encrypt}` is not supported; use sha512_crypt or sha256_crypt"))?;
        let salt = entry.salt.clone().unwrap_or_else(|| random_salt(entry.salt_size.unwrap_or(16)));
        let mut vars = Map::new();
        vars.insert("answer".into(), answer.into());
        vars.insert("scheme".into(), hash.into());
        vars.insert("salt".into(), salt.into());
        self.templar
            .render_str("{{ answer | password_hash(scheme, salt) }}", &Templar::context(&vars))
            .map_err(|e| e.message)
    }
}

fn random_salt(size: usize) -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..size).map(|_| SALT_CHARS[rng.random_range(0..SALT_CHARS.len())] as char).collect()
}

/// Writes `question` to the terminal and reads one line back (not echoed when private).
pub fn read_answer(question: &str, private: bool) -> std::io::Result<String> {
    if private {
        return rpassword::prompt_password(question);
    }
    let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    tty.write_all(question.as_bytes())?;
    tty.flush()?;
    let mut line = String::new();
    BufReader::new(tty).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_map_to_password_hash_types() {
        assert_eq!(scheme("sha512_crypt"), Some("sha512"));
        assert_eq!(scheme("md5_crypt"), None);
    }

    #[test]
    fn salts_have_the_asked_size_and_alphabet() {
        let salt = random_salt(8);
        assert_eq!(salt.len(), 8);
        assert!(salt.bytes().all(|b| SALT_CHARS.contains(&b)));
    }
}
