//! `slurp`: a file of the host, base64-encoded, in one read-only command (so
//! it runs in check mode too). The bytes travel as they are and are encoded
//! here; only `cat` is needed on the host. Failures carry Ansible's wording.

use base64::Engine as _;

use crate::shell::Cmd;
use crate::spec::{alias, Param};

/// ansible.builtin.slurp's one argument.
pub const PARAMS: &[Param] = &[alias("src", &["path"], true).path()];
use crate::{Args, ModuleError, ModuleResult, Target};

/// `~` is the login user's home, as Ansible's `path` type expands it. The exit
/// status names the reason a file cannot be read, as Python's errno would:
/// a file under a directory the user cannot enter is EACCES (not readable),
/// not ENOENT, which only opening it tells (C locale for the error text);
/// a path through a file is ENOTDIR (exit 5, Ansible's "Unable to slurp").
const SCRIPT: &str = r#"p=$1
case $p in "~"|"~/"*) p=$HOME${p#"~"} ;; esac
printf '%s\0' "$p"
[ -d "$p" ] && { [ -r "$p" ] && exit 3; exit 4; }
if [ ! -e "$p" ]; then
  case $(LC_ALL=C cat -- "$p" 2>&1 >/dev/null) in *"Permission denied"*) exit 4 ;; *"Not a directory"*) exit 5 ;; esac
  exit 2
fi
[ -r "$p" ] || exit 4
exec cat -- "$p""#;

pub fn plan(src: &str) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(SCRIPT).arg("sh").arg(src)
}

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let src = args.required_str("src")?;
    let out = target.exec(plan(&src).as_str(), None).await?;
    let (source, content) = match out.stdout.iter().position(|&b| b == 0) {
        Some(end) => (String::from_utf8_lossy(&out.stdout[..end]).into_owned(), &out.stdout[end + 1..]),
        None => (src.clone(), &[][..]),
    };
    let failure = match out.rc {
        0 => None,
        2 => Some(format!("File not found: {source}")),
        3 => Some(format!("Source is a directory and must be a file: {source}")),
        // cat refused it: a permission the test above could not see (ACLs, NFS).
        4 => Some(format!("File is not readable: {source}")),
        _ if out.stderr_str().contains("Permission denied") => Some(format!("File is not readable: {source}")),
        // Ansible's own message has the braces, its f-string prefix missing.
        _ => Some("Unable to slurp file: {source}".to_string()),
    };
    if let Some(msg) = failure {
        return Ok(ModuleResult::failed(msg));
    }
    Ok(ModuleResult::ok()
        .with("content", base64::engine::general_purpose::STANDARD.encode(content))
        .with("source", source)
        .with("encoding", "base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_paths_are_one_word() {
        let line = plan("/tmp/$(touch x)'; `id`").into_string();
        assert!(line.ends_with(r#" sh '/tmp/$(touch x)'\''; `id`'"#), "{line}");
    }
}
