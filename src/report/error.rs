//! Errors that stop a run before it starts, printed with their source line.

use std::io::{IsTerminal, Write};

use crate::playbook::LoadError;

fn stderr_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

fn red(text: &str) -> String {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if color { format!("\x1b[0;31m{text}\x1b[0m") } else { text.to_string() }
}

/// Prints `ERROR! message` and returns `code`.
pub fn fatal(message: &str, code: u8) -> u8 {
    stderr_line(&red(&format!("ERROR! {message}")));
    code
}

/// `[WARNING]: text` on stderr, as Ansible warns before a run.
pub fn warning(text: &str) {
    stderr_line(&format!("[WARNING]: {text}"));
}

/// A plain line on stdout (e.g. --syntax-check's summary).
pub fn note(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// A playbook that failed to load: message, position, the offending line with
/// a caret, and the hint. Exit code 4, as ansible-playbook's parser errors.
pub fn load_error(e: &LoadError) -> u8 {
    let mut text = format!("ERROR! {}\n  --> {}", e.message, e.span);
    if let Some(line) = source_line(&e.span.file, e.span.line) {
        let width = e.span.line.to_string().len();
        text.push_str(&format!(
            "\n{pad} |\n{n} | {line}\n{pad} | {caret}^",
            pad = " ".repeat(width),
            n = e.span.line,
            caret = " ".repeat(e.span.col.saturating_sub(1))
        ));
    }
    if let Some(hint) = &e.hint {
        text.push_str(&format!("\n  = hint: {hint}"));
    }
    stderr_line(&red(&text));
    4
}

fn source_line(file: &str, line: usize) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().nth(line.checked_sub(1)?).map(str::to_string)
}
