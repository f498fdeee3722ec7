//! File modes as Ansible takes them: an integer from YAML (`0755` is 493), an
//! octal string (`"0755"`, `"755"`, `"01777"`), or a symbolic chmod string
//! (`"u=rw,g=r,o="`, `"a+x"`, `"+t"`) resolved against the current mode.
//!
//! Resolving is a pure function so idempotence is decided before anything runs.

use serde_json::Value;

const PERM_BITS: u32 = 0o7777;
const EXEC_BITS: u32 = 0o111;

/// A requested mode, parsed but not yet resolved against a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeSpec {
    Octal(u32),
    Symbolic(Vec<Clause>),
}

/// One comma-separated part of a symbolic mode: who, then operator/perms pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Subset of "ugo"; empty means "all, masked by the umask" (like chmod).
    who: String,
    ops: Vec<(char, String)>,
}

/// The mode argument could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModeError {
    #[error("mode must be in octal or symbolic form: `{0}` (e.g. \"0644\" or \"u=rw,g=r,o=r\")")]
    Unparsable(String),
    #[error("Invalid mode supplied, only permission info is allowed: `{0}`")]
    OutOfRange(String),
}

impl ModeSpec {
    /// Parses a `mode` argument as Ansible does (an integer is taken as is).
    pub fn from_value(value: &Value) -> Result<Self, ModeError> {
        match value {
            Value::Number(n) => {
                let raw = n
                    .as_u64()
                    .ok_or_else(|| ModeError::Unparsable(n.to_string()))?;
                in_range(raw, &n.to_string()).map(ModeSpec::Octal)
            }
            Value::String(s) => Self::parse(s),
            other => Err(ModeError::Unparsable(other.to_string())),
        }
    }

    /// Parses an octal or symbolic mode string.
    pub fn parse(text: &str) -> Result<Self, ModeError> {
        let trimmed = text.trim();
        let digits = trimmed.strip_prefix("0o").unwrap_or(trimmed);
        if !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            let raw =
                u64::from_str_radix(digits, 8).map_err(|_| ModeError::OutOfRange(text.into()))?;
            return in_range(raw, text).map(ModeSpec::Octal);
        }
        let clauses = trimmed
            .split(',')
            .map(|c| parse_clause(c).ok_or_else(|| ModeError::Unparsable(text.into())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ModeSpec::Symbolic(clauses))
    }

    /// The mode a file ends up with, given its current permission bits, whether it
    /// is a directory, and the umask (which masks clauses without a "who").
    pub fn resolve(&self, current: u32, is_dir: bool, umask: u32) -> u32 {
        match self {
            ModeSpec::Octal(m) => *m,
            ModeSpec::Symbolic(clauses) => clauses
                .iter()
                .fold(current & PERM_BITS, |mode, c| c.apply(mode, is_dir, umask)),
        }
    }

    /// Whether the same result applies to every file (no need to know the current mode).
    pub fn is_absolute(&self) -> bool {
        matches!(self, ModeSpec::Octal(_))
    }
}

fn in_range(raw: u64, text: &str) -> Result<u32, ModeError> {
    u32::try_from(raw)
        .ok()
        .filter(|m| m & !PERM_BITS == 0)
        .ok_or_else(|| ModeError::OutOfRange(text.into()))
}

fn parse_clause(text: &str) -> Option<Clause> {
    let split = text.find(['+', '-', '='])?;
    let (who, rest) = text.split_at(split);
    // `a` stands alone, as in Ansible's USERS_RE (`ao=r` is refused there).
    if who != "a" && !who.chars().all(|c| "ugo".contains(c)) {
        return None;
    }
    let who = if who.contains('a') {
        "ugo".to_string()
    } else {
        who.to_string()
    };
    let mut ops = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(op) = chars.next() {
        let mut perms = String::new();
        while let Some(&c) = chars.peek() {
            if "+-=".contains(c) {
                break;
            }
            if !"rwxXstugo".contains(c) {
                return None;
            }
            perms.push(c);
            chars.next();
        }
        ops.push((op, perms));
    }
    Some(Clause { who, ops })
}

impl Clause {
    fn apply(&self, mut mode: u32, is_dir: bool, umask: u32) -> u32 {
        let use_umask = self.who.is_empty();
        let who = if use_umask { "ugo" } else { self.who.as_str() };
        for (op, perms) in &self.ops {
            for user in who.chars() {
                let bits = perms.chars().fold(0, |acc, p| {
                    acc | perm_bits(user, p, mode, is_dir, use_umask, umask)
                });
                mode = apply_op(user, *op, bits, mode);
            }
        }
        mode
    }
}

/// The bits that permission letter `perm` means for `user` (u, g or o).
fn perm_bits(user: char, perm: char, mode: u32, is_dir: bool, use_umask: bool, umask: u32) -> u32 {
    let shift = match user {
        'u' => 6,
        'g' => 3,
        _ => 0,
    };
    let masked = |bits: u32| if use_umask { bits & !umask } else { bits };
    match perm {
        'r' => masked(0o4 << shift),
        'w' => masked(0o2 << shift),
        'x' => masked(0o1 << shift),
        'X' if is_dir || mode & EXEC_BITS != 0 => 0o1 << shift,
        'X' => 0,
        's' if user == 'u' => 0o4000,
        's' if user == 'g' => 0o2000,
        't' if user == 'o' => 0o1000,
        's' | 't' => 0,
        // Copy another class's bits: u, g or o.
        src => {
            let from = match src {
                'u' => 6,
                'g' => 3,
                _ => 0,
            };
            ((mode >> from) & 0o7) << shift
        }
    }
}

fn apply_op(user: char, op: char, bits: u32, mode: u32) -> u32 {
    match op {
        '+' => mode | bits,
        '-' => mode & !bits,
        _ => {
            let class = match user {
                'u' => 0o4700,
                'g' => 0o2070,
                _ => 0o1007,
            };
            (mode & !class) | bits
        }
    }
}

/// Ansible's rendering of a mode in results (`'0%03o'`): "0644", "01777".
pub fn format_mode(mode: u32) -> String {
    format!("0{:03o}", mode & PERM_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sym(s: &str, current: u32, is_dir: bool) -> u32 {
        ModeSpec::parse(s).unwrap().resolve(current, is_dir, 0o022)
    }

    #[test]
    fn yaml_integers_are_taken_as_is() {
        assert_eq!(
            ModeSpec::from_value(&json!(493)).unwrap(),
            ModeSpec::Octal(0o755)
        );
        // `mode: 644` in YAML is decimal 644, as in Ansible (0o1204).
        assert_eq!(
            ModeSpec::from_value(&json!(644)).unwrap(),
            ModeSpec::Octal(644)
        );
        assert!(ModeSpec::from_value(&json!(70000)).is_err());
    }

    #[test]
    fn octal_strings() {
        assert_eq!(ModeSpec::parse("0755").unwrap(), ModeSpec::Octal(0o755));
        assert_eq!(ModeSpec::parse("755").unwrap(), ModeSpec::Octal(0o755));
        assert_eq!(ModeSpec::parse("01777").unwrap(), ModeSpec::Octal(0o1777));
        assert_eq!(ModeSpec::parse("0o644").unwrap(), ModeSpec::Octal(0o644));
        assert!(matches!(
            ModeSpec::parse("017777"),
            Err(ModeError::OutOfRange(_))
        ));
    }

    #[test]
    fn symbolic_set_and_clear() {
        assert_eq!(sym("u=rw,g=r,o=", 0o777, false), 0o640);
        assert_eq!(sym("a+x", 0o644, false), 0o755);
        assert_eq!(sym("u+rwx,g-w", 0o664, false), 0o744);
        assert_eq!(sym("+t", 0o777, true), 0o1777);
        assert_eq!(sym("o-rwx", 0o755, false), 0o750);
        assert_eq!(sym("u=rwx,go=rx", 0o600, false), 0o755);
    }

    #[test]
    fn symbolic_special_bits() {
        assert_eq!(sym("u+s", 0o755, false), 0o4755);
        assert_eq!(sym("g+s", 0o755, true), 0o2755);
        assert_eq!(sym("u=rwx", 0o4755, false), 0o755, "= clears setuid too");
        assert_eq!(sym("o-t", 0o1777, true), 0o777);
    }

    #[test]
    fn capital_x_depends_on_type_and_existing_exec() {
        assert_eq!(sym("a+X", 0o644, false), 0o644);
        assert_eq!(sym("a+X", 0o644, true), 0o755);
        assert_eq!(sym("a+X", 0o744, false), 0o755);
    }

    #[test]
    fn missing_who_is_masked_by_umask() {
        assert_eq!(sym("+w", 0o444, false), 0o644);
        assert_eq!(sym("a+w", 0o444, false), 0o666);
    }

    #[test]
    fn copying_classes() {
        assert_eq!(sym("g=u", 0o700, false), 0o770);
        assert_eq!(sym("o=g", 0o750, false), 0o755);
    }

    #[test]
    fn garbage_is_rejected() {
        for bad in ["", "rw", "u=rwz", "z+x", "0999", "u+x;rm"] {
            assert!(ModeSpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formats_like_ansible() {
        assert_eq!(format_mode(0o644), "0644");
        assert_eq!(format_mode(0o1777), "01777");
        assert_eq!(format_mode(0o7), "0007");
    }
}
