//! `user` `generate_ssh_key`: an SSH key pair for the user, made once with
//! `ssh-keygen` on the target (an existing key file is never replaced), as
//! Ansible does. Returns `ssh_key_file`, `ssh_public_key`, `ssh_fingerprint`.
//!
//! The passphrase never appears on a command line: it travels on the
//! command's stdin and reaches ssh-keygen through a throw-away askpass script
//! that prints it from the environment (`SSH_ASKPASS_REQUIRE=force`).

use crate::remote_file::Fields;
use crate::shell::Cmd;
use crate::{Args, ModuleError, ModuleResult, Target};

/// What `generate_ssh_key` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRequest {
    pub kind: String,
    pub bits: Option<u32>,
    /// As given (relative paths are under the user's home).
    pub file: String,
    pub comment: String,
    pub passphrase: Option<String>,
}

impl KeyRequest {
    /// None unless `generate_ssh_key` is true.
    pub fn from_args(args: &Args) -> Result<Option<KeyRequest>, ModuleError> {
        if !args.bool("generate_ssh_key", false)? {
            return Ok(None);
        }
        let kind = args.str("ssh_key_type").unwrap_or_else(|| "rsa".into());
        let bits = match args.str("ssh_key_bits") {
            None => None,
            Some(text) => Some(text.trim().parse::<u32>().map_err(|_| ModuleError::BadArgs(format!("ssh_key_bits must be a number, got `{text}`")))?),
        };
        let passphrase = args.str("ssh_key_passphrase").filter(|p| !p.is_empty());
        if passphrase.as_deref().is_some_and(|p| p.contains('\n')) {
            return Err(ModuleError::BadArgs("ssh_key_passphrase may not contain a newline".into()));
        }
        Ok(Some(KeyRequest {
            file: args.str("ssh_key_file").unwrap_or_else(|| format!(".ssh/id_{kind}")),
            kind,
            bits: bits.filter(|&b| b != 0),
            comment: args.str("ssh_key_comment").unwrap_or_else(|| "ansible-generated on $HOSTNAME".into()),
            passphrase,
        }))
    }

    /// The key file's absolute path for a user whose home is `home`.
    pub fn path(&self, home: &str) -> String {
        if self.file.starts_with('/') {
            self.file.clone()
        } else {
            format!("{}/{}", home.trim_end_matches('/'), self.file)
        }
    }
}

/// `$1` op (`probe` or `make`), `$2` key file, `$3` owner, `$4` type, `$5`
/// bits (or empty), `$6` comment (`$HOSTNAME` expanded as Ansible does), `$7`
/// 1 when the passphrase comes on stdin. Prints `absent`, or `present`, the
/// public key and the fingerprint line, NUL-terminated.
const KEY_SCRIPT: &str = r#"op=$1 file=$2 owner=$3 type=$4 bits=$5 comment=$6 haspp=$7
show() { printf 'present\0'; cat -- "$file.pub" || exit 1; printf '\0'; ssh-keygen -l -f "$file.pub" || exit 1; printf '\0'; }
if [ -e "$file" ]; then show; exit 0; fi
if [ "$op" = probe ]; then printf 'absent\0'; exit 0; fi
command -v ssh-keygen >/dev/null || { echo "ssh-keygen is not installed on the host (package openssh-client)" >&2; exit 1; }
h=$(hostname 2>/dev/null || uname -n); case $comment in *'$HOSTNAME'*) comment="${comment%%\$HOSTNAME*}$h${comment#*\$HOSTNAME}";; esac
dir=$(dirname -- "$file")
if [ ! -d "$dir" ]; then mkdir -p -- "$dir" && chmod 0700 -- "$dir" && chown -- "$owner:" "$dir" || exit 1; fi
set -- -q -t "$type" -C "$comment" -f "$file"
if [ -n "$bits" ]; then set -- "$@" -b "$bits"; fi
if [ "$haspp" = 1 ]; then
  IFS= read -r STOCKMAN_KEY_PASSPHRASE || [ -n "$STOCKMAN_KEY_PASSPHRASE" ] || exit 1
  export STOCKMAN_KEY_PASSPHRASE
  d=$(mktemp -d) || exit 1; trap 'rm -rf -- "$d"' EXIT
  printf '#!/bin/sh\nprintf "%%s\\n" "$STOCKMAN_KEY_PASSPHRASE"\n' > "$d/askpass" && chmod 0700 -- "$d/askpass" || exit 1
  SSH_ASKPASS="$d/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=${DISPLAY:-:0} ssh-keygen "$@" </dev/null >/dev/null || exit 1
else
  ssh-keygen "$@" -N '' </dev/null >/dev/null || exit 1
fi
chown -- "$owner:" "$file" "$file.pub" || exit 1
show"#;

/// Makes sure the key exists (unless `check`); adds Ansible's `ssh_*` fields
/// to `result` and marks it changed when a key was (or would be) made.
pub async fn ensure<T: Target>(
    target: &T,
    request: &KeyRequest,
    owner: &str,
    home: &str,
    check: bool,
    mut result: ModuleResult,
) -> Result<ModuleResult, ModuleError> {
    let path = request.path(home);
    let before = target.exec(key_cmd("probe", request, &path, owner).as_str(), None).await?;
    let existed = Fields::new(&before.stdout).next_field().as_deref() == Some("present");
    let out = if existed || check {
        before
    } else {
        let stdin = request.passphrase.as_ref().map(|p| format!("{p}\n").into_bytes());
        target.exec(key_cmd("make", request, &path, owner).as_str(), stdin.as_deref()).await?
    };
    result = result.with("ssh_key_file", path.clone());
    if out.rc != 0 {
        let mut failed = ModuleResult::failed(format!("could not generate the SSH key `{path}`: {}", out.stderr_str().trim()));
        failed.data = result.data;
        return Ok(failed);
    }
    let mut fields = Fields::new(&out.stdout);
    if fields.next_field().as_deref() == Some("present") {
        let public = fields.next_field().unwrap_or_default();
        let fingerprint = fields.next_field().unwrap_or_default();
        result = result.with("ssh_public_key", public.trim_end().to_string()).with("ssh_fingerprint", fingerprint.trim_end().to_string());
    }
    if !existed {
        result.changed = true;
        if check {
            result = result.with("ssh_key", "key would be generated");
        }
    } else {
        result = result.with("ssh_key", format!("Skipped, key file {path} already exists"));
    }
    Ok(result)
}

fn key_cmd(op: &str, request: &KeyRequest, path: &str, owner: &str) -> Cmd {
    Cmd::new("/bin/sh")
        .flag("-c")
        .arg(KEY_SCRIPT)
        .arg("sh")
        .arg(op)
        .arg(path)
        .arg(owner)
        .arg(&request.kind)
        .arg(request.bits.map(|b| b.to_string()).unwrap_or_default())
        .arg(&request.comment)
        .arg(if request.passphrase.is_some() { "1" } else { "0" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: serde_json::Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn defaults_follow_ansible() {
        let req = KeyRequest::from_args(&args(json!({"name": "u", "generate_ssh_key": true}))).unwrap().unwrap();
        assert_eq!((req.kind.as_str(), req.file.as_str(), req.bits), ("rsa", ".ssh/id_rsa", None));
        assert_eq!(req.path("/home/u/"), "/home/u/.ssh/id_rsa");
        assert!(KeyRequest::from_args(&args(json!({"name": "u"}))).unwrap().is_none());
    }

    #[test]
    fn a_passphrase_with_a_newline_is_refused() {
        let err = KeyRequest::from_args(&args(json!({"name": "u", "generate_ssh_key": true, "ssh_key_passphrase": "a\nb"}))).unwrap_err();
        assert!(err.to_string().contains("newline"));
    }
}
