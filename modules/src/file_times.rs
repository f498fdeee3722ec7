//! `file` `access_time` / `modification_time`: `preserve`, `now`, or a time
//! written in `access_time_format` / `modification_time_format` (Python
//! strftime, default `%Y%m%d%H%M.%S`), read in the host's time zone as
//! Ansible does. Only the directives `%Y %m %d %H %M %S %%` are understood.

use crate::shell::Cmd;
use crate::{Args, ModuleError, Target};

/// One requested time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpec {
    Preserve,
    Now,
    /// `YYYY-MM-DD HH:MM:SS`, for `date -d` on the host.
    At(String),
}

/// Both requested times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Times {
    pub access: TimeSpec,
    pub modification: TimeSpec,
}

const DEFAULT_FORMAT: &str = "%Y%m%d%H%M.%S";

impl Times {
    /// Defaults: `now` for `state: touch`, `preserve` otherwise.
    pub fn from_args(args: &Args, touch: bool) -> Result<Times, ModuleError> {
        Ok(Times {
            access: spec(args, "access_time", touch)?,
            modification: spec(args, "modification_time", touch)?,
        })
    }

    pub fn preserve_both(&self) -> bool {
        self.access == TimeSpec::Preserve && self.modification == TimeSpec::Preserve
    }
}

fn spec(args: &Args, name: &str, touch: bool) -> Result<TimeSpec, ModuleError> {
    let format = args.str(&format!("{name}_format")).unwrap_or_else(|| DEFAULT_FORMAT.into());
    match args.str(name).as_deref() {
        None if touch => Ok(TimeSpec::Now),
        None | Some("preserve") => Ok(TimeSpec::Preserve),
        Some("now") => Ok(TimeSpec::Now),
        Some(text) => parse(text, &format)
            .map(TimeSpec::At)
            .ok_or_else(|| ModuleError::BadArgs(format!("Error while obtaining timestamp for time {text} using format {format}: `{name}` must match `{name}_format`, or be `now` or `preserve`"))),
    }
}

/// `text` read with a strftime `format` → `YYYY-MM-DD HH:MM:SS`.
fn parse(text: &str, format: &str) -> Option<String> {
    let mut fields = [1970u32, 1, 1, 0, 0, 0];
    let (mut rest, mut fmt) = (text, format.chars());
    while let Some(c) = fmt.next() {
        if c != '%' {
            rest = rest.strip_prefix(c)?;
            continue;
        }
        let (slot, width) = match fmt.next()? {
            'Y' => (0, 4),
            'm' => (1, 2),
            'd' => (2, 2),
            'H' => (3, 2),
            'M' => (4, 2),
            'S' => (5, 2),
            '%' => {
                rest = rest.strip_prefix('%')?;
                continue;
            }
            _ => return None,
        };
        let digits = rest.get(..width).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
        fields[slot] = digits.parse().ok()?;
        rest = &rest[width..];
    }
    let [y, mo, d, h, mi, s] = fields;
    let valid = rest.is_empty() && (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 62;
    valid.then(|| format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
}

/// The `touch` commands that bring `path`'s times to `times`, after reading
/// the current ones (one command). Empty when nothing needs to change.
pub async fn steps<T: Target>(target: &T, path: &str, follow: bool, times: &Times, exists: bool) -> Result<Vec<Cmd>, ModuleError> {
    if times.preserve_both() {
        return Ok(Vec::new());
    }
    let wanted = epochs(target, path, times, exists).await?;
    let mut steps = Vec::new();
    for (spec, flag, current, want) in [
        (&times.access, "-a", wanted.0, wanted.2),
        (&times.modification, "-m", wanted.1, wanted.3),
    ] {
        let touch = |cmd: Cmd| if follow { cmd.flag("--") } else { cmd.flag("-h --") };
        match spec {
            TimeSpec::Preserve => {}
            TimeSpec::Now => steps.push(touch(Cmd::new("touch").flag(flag)).arg(path)),
            TimeSpec::At(_) if exists && current == want => {}
            TimeSpec::At(_) => steps.push(touch(Cmd::new("touch").flag(flag).flag("-d").arg(format!("@{want}"))).arg(path)),
        }
    }
    Ok(steps)
}

/// (current atime, current mtime, wanted atime, wanted mtime) as epochs; the
/// wanted ones through the host's `date` (its time zone, as Ansible's mktime).
async fn epochs<T: Target>(target: &T, path: &str, times: &Times, exists: bool) -> Result<(i64, i64, i64, i64), ModuleError> {
    let date = |spec: &TimeSpec| match spec {
        TimeSpec::At(at) => Cmd::new("date").flag("-d").arg(at).flag("+%s"),
        _ => Cmd::new("echo").arg("0"),
    };
    let stat = if exists { Cmd::new("stat").flag("-c '%X %Y' --").arg(path) } else { Cmd::new("echo").arg("0 0") };
    let cmd = stat.then("&&", date(&times.access)).then("&&", date(&times.modification));
    let out = target.exec(cmd.as_str(), None).await?;
    let numbers: Vec<i64> = out.stdout_str().split_whitespace().filter_map(|n| n.parse().ok()).collect();
    match (out.rc, numbers.as_slice()) {
        (0, [a, m, wa, wm]) => Ok((*a, *m, *wa, *wm)),
        _ => Err(ModuleError::BadArgs(format!("could not read or convert the times of `{path}` on the host: {}", out.stderr_str().trim()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_and_custom_formats() {
        assert_eq!(parse("202401021530.45", DEFAULT_FORMAT).as_deref(), Some("2024-01-02 15:30:45"));
        assert_eq!(parse("2024-01-02 03:04", "%Y-%m-%d %H:%M").as_deref(), Some("2024-01-02 03:04:00"));
        assert_eq!(parse("202413021530.45", DEFAULT_FORMAT), None);
        assert_eq!(parse("2024-01-02x", "%Y-%m-%d"), None);
        assert_eq!(parse("2024", "%Y %j"), None);
    }
}
