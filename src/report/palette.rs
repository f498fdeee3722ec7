//! The colours the terminal reporters paint with: ansible.cfg's `[colors]` section and
//! its ANSIBLE_COLOR_* variables, declared in config/table.rs.
//!
//! One palette per process: warnings and fatal errors are printed before any reporter
//! exists, so it is set once when the settings are loaded and read by every reporter.

use std::sync::OnceLock;

use crate::config::{Id, Loaded};

/// Ansible's colour names and their SGR parameters (its constants' table).
const NAMED: &[(&str, &str)] = &[
    ("black", "0;30"),
    ("red", "0;31"),
    ("green", "0;32"),
    ("yellow", "0;33"),
    ("blue", "0;34"),
    ("purple", "0;35"),
    ("magenta", "0;35"),
    ("cyan", "0;36"),
    ("bright gray", "0;37"),
    ("dark gray", "1;30"),
    ("bright red", "1;31"),
    ("bright green", "1;32"),
    ("bright yellow", "1;33"),
    ("bright blue", "1;34"),
    ("bright purple", "1;35"),
    ("bright magenta", "1;35"),
    ("bright cyan", "1;36"),
    ("white", "1;37"),
    ("normal", "0"),
];

/// The SGR parameters of a colour name: a named colour, `colorN` (256-colour index),
/// `rgbRGB` (each 0-5, the 6x6x6 cube) or `grayN` (the grey ramp from 232). As in
/// Ansible, the three patterns need only match the start of the name; None when
/// nothing matches (Ansible's callback then fails on every line in that colour).
pub fn sgr(name: &str) -> Option<String> {
    let index = |rest: &str| -> Option<u64> {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    if let Some(n) = name.strip_prefix("color").and_then(index) {
        return Some(format!("38;5;{n}"));
    }
    if let Some(rgb) = name.strip_prefix("rgb").map(|r| r.as_bytes()).filter(|r| r.len() >= 3 && r[..3].iter().all(|b| (b'0'..=b'5').contains(b))) {
        let [r, g, b] = [rgb[0], rgb[1], rgb[2]].map(|c| u64::from(c - b'0'));
        return Some(format!("38;5;{}", 16 + 36 * r + 6 * g + b));
    }
    if let Some(n) = name.strip_prefix("gray").and_then(index) {
        return Some(format!("38;5;{}", 232 + u128::from(n)));
    }
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, code)| code.to_string())
}

/// What a bad colour name's error says can be written instead.
pub fn hint() -> String {
    let names: Vec<&str> = NAMED.iter().map(|(n, _)| *n).collect();
    format!("a colour is one of {}, or colorN, rgbRGB (each 0-5) or grayN", names.join(", "))
}

/// SGR parameters for each role Ansible's reporters paint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    pub ok: String,
    pub changed: String,
    pub skip: String,
    pub error: String,
    pub unreachable: String,
    pub warn: String,
    pub deprecate: String,
    pub debug: String,
    pub verbose: String,
    pub highlight: String,
    pub included: String,
    pub diff_add: String,
    pub diff_remove: String,
    pub diff_lines: String,
}

impl Palette {
    /// The palette the loaded settings give (each value was checked by [`sgr`] when read).
    pub fn from_config(loaded: &Loaded) -> Palette {
        Palette::build(|id| loaded.string(id).as_deref().and_then(sgr).unwrap_or_else(|| default_code(id)))
    }

    /// Ansible's default colours (the table's defaults).
    fn defaults() -> Palette {
        Palette::build(default_code)
    }

    fn build(code: impl Fn(Id) -> String) -> Palette {
        Palette {
            ok: code(Id::ColorOk),
            changed: code(Id::ColorChanged),
            skip: code(Id::ColorSkip),
            error: code(Id::ColorError),
            unreachable: code(Id::ColorUnreachable),
            warn: code(Id::ColorWarn),
            deprecate: code(Id::ColorDeprecate),
            debug: code(Id::ColorDebug),
            verbose: code(Id::ColorVerbose),
            highlight: code(Id::ColorHighlight),
            included: code(Id::ColorIncluded),
            diff_add: code(Id::ColorDiffAdd),
            diff_remove: code(Id::ColorDiffRemove),
            diff_lines: code(Id::ColorDiffLines),
        }
    }

    /// The colour a diff line is painted in: by its first characters, as Ansible's callbacks do.
    pub fn diff_line(&self, line: &str) -> Option<&str> {
        if line.starts_with('+') {
            Some(&self.diff_add)
        } else if line.starts_with('-') {
            Some(&self.diff_remove)
        } else if line.starts_with("@@") {
            Some(&self.diff_lines)
        } else {
            None
        }
    }
}

fn default_code(id: Id) -> String {
    crate::config::table::def(id).default.and_then(sgr).unwrap_or_else(|| unreachable!("every colour row has a valid default"))
}

static PALETTE: OnceLock<Palette> = OnceLock::new();

/// Makes `palette` the process's palette; the first call wins (settings are loaded once).
pub fn set(palette: Palette) {
    let _ = PALETTE.set(palette);
}

/// The process's palette: Ansible's defaults until the settings are loaded.
pub fn get() -> &'static Palette {
    PALETTE.get_or_init(Palette::defaults)
}

/// `text` in colour `code`, each line on its own, as Ansible's stringc paints it.
pub fn paint(text: &str, code: &str) -> String {
    text.split('\n').map(|line| format!("\x1b[{code}m{line}\x1b[0m")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_names_become_ansibles_codes() {
        assert_eq!(sgr("bright purple").as_deref(), Some("1;35"));
        assert_eq!(sgr("color208").as_deref(), Some("38;5;208"));
        assert_eq!(sgr("rgb520").as_deref(), Some("38;5;208"));
        assert_eq!(sgr("gray7").as_deref(), Some("38;5;239"));
        assert_eq!(sgr("color12x").as_deref(), Some("38;5;12"), "a prefix is enough, as in Ansible");
        for bad in ["blurple", "rgb600", "colorx", "Green", "rgb12", ""] {
            assert_eq!(sgr(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_default_palette_is_ansibles() {
        let p = Palette::defaults();
        assert_eq!((p.ok.as_str(), p.changed.as_str(), p.skip.as_str(), p.unreachable.as_str(), p.warn.as_str(), p.deprecate.as_str()), ("0;32", "0;33", "0;36", "1;31", "1;35", "0;35"));
        assert_eq!(p.diff_line("+a"), Some("0;32"));
        assert_eq!(p.diff_line("@@ -1 +1 @@"), Some("0;36"));
        assert_eq!(p.diff_line(" a"), None);
    }
}
