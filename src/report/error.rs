//! Errors that stop a run before it starts, printed with their source line.

use std::io::{IsTerminal, Write};

use super::palette;
use crate::playbook::LoadError;

fn stderr_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// `text` in `code` when stderr is a terminal that wants colour.
fn painted(text: &str, code: &str) -> String {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if color { palette::paint(text, code) } else { text.to_string() }
}

/// Prints `ERROR! message` and returns `code`.
pub fn fatal(message: &str, code: u8) -> u8 {
    stderr_line(&painted(&format!("ERROR! {message}"), &palette::get().error));
    code
}

/// `[WARNING]: message` on stderr, for what is noticed before the run's reporter exists.
pub fn warning(message: &str) {
    stderr_line(&painted(&format!("[WARNING]: {message}"), &palette::get().warn));
}

/// `[DEPRECATION WARNING]: message` on stderr, before the run's reporter exists.
pub fn deprecation(message: &str) {
    stderr_line(&painted(&format!("[DEPRECATION WARNING]: {message}"), &palette::get().deprecate));
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
        let start = window_start(e.span.col);
        text.push_str(&format!(
            "\n{pad} |\n{n} | {shown}\n{pad} | {caret}^",
            pad = " ".repeat(width),
            n = e.span.line,
            shown = window(&line, start),
            caret = " ".repeat(caret_offset(&line, start, e.span.col))
        ));
    }
    if let Some(hint) = &e.hint {
        text.push_str(&format!("\n  = hint: {hint}"));
    }
    stderr_line(&painted(&text, &palette::get().error));
    4
}

/// Characters of a source line shown on each side of the error's column: a
/// minified 20 MB line must not become a 40 MB message.
const EXCERPT_SIDE: usize = 80;

/// The first character (0-based) of the window shown around 1-based `col`.
pub(crate) fn window_start(col: usize) -> usize {
    col.saturating_sub(1).saturating_sub(EXCERPT_SIDE)
}

/// `line` from character `start`, at most twice [`EXCERPT_SIDE`] long, with
/// `...` where it was cut.
pub(crate) fn window(line: &str, start: usize) -> String {
    let mut chars = line.chars().skip(start);
    let shown: String = chars.by_ref().take(2 * EXCERPT_SIDE).collect();
    let before = if start > 0 { "..." } else { "" };
    let after = if chars.next().is_some() { "..." } else { "" };
    format!("{before}{shown}{after}")
}

/// Where the caret for 1-based `col` goes under [`window`]`(line, start)`.
pub(crate) fn caret_offset(line: &str, start: usize, col: usize) -> usize {
    let marker = if start > 0 && !line.is_empty() { 3 } else { 0 };
    col.saturating_sub(1).saturating_sub(start) + marker
}

/// The 1-based `line` of `file`; bytes that are not UTF-8 shown as U+FFFD, so
/// an encoding error can still be pointed at.
fn source_line(file: &str, line: usize) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    text.lines().nth(line.checked_sub(1)?).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_around_the_column() {
        let line = format!("{}X{}", "a".repeat(10_000), "b".repeat(10_000));
        let start = window_start(10_001);
        let shown = window(&line, start);
        assert!(shown.len() < 200 && shown.starts_with("...") && shown.ends_with("..."), "{shown}");
        assert_eq!(shown.chars().nth(caret_offset(&line, start, 10_001)), Some('X'));
        assert_eq!((window("short", 0), caret_offset("short", 0, 3)), ("short".to_string(), 2));
    }
}
