//! What Ansible adds to any result naming a `path` or `dest` that exists
//! (its `add_path_info`): ids, names, mode and size of the path itself, and
//! its state. One shell function reads them; one parser turns its line into
//! result keys.

use serde_json::Value;

use crate::shell::Cmd;
use crate::ModuleResult;

/// `info PATH`: `UID GID OWNER GROUP MODE SIZE STATE`, NUL-terminated; one
/// empty field when the path does not exist.
pub const INFO_FN: &str = r#"info() {
  if [ -e "$1" ]; then
    s=$(stat -c '%u %g %U %G %a %s' -- "$1") || s=
    if [ -L "$1" ]; then t=link; elif [ -d "$1" ]; then t=directory; elif [ "$(stat -L -c %h -- "$1")" -gt 1 ]; then t=hard; else t=file; fi
    printf '%s %s\0' "$s" "$t"
  else printf '\0'; fi
}"#;

/// The command printing [`INFO_FN`]'s line for `path`.
pub fn info_cmd(path: &str) -> Cmd {
    Cmd::new("/bin/sh").flag("-c").arg(format!("{INFO_FN}\ninfo \"$1\"")).arg("sh").arg(path)
}

/// [`INFO_FN`]'s line as Ansible's result keys; nothing for a missing path.
pub fn fields(info: &str) -> Vec<(&'static str, Value)> {
    let f: Vec<&str> = info.trim_end_matches('\0').split(' ').collect();
    let [uid, gid, owner, group, mode, size, state] = f[..] else { return Vec::new() };
    let number = |s: &str| s.parse::<u64>().map_or(Value::Null, Value::from);
    let name = |name: &str, id: &str| if name == "UNKNOWN" { id.to_string() } else { name.to_string() };
    vec![
        ("uid", number(uid)),
        ("gid", number(gid)),
        ("owner", name(owner, uid).into()),
        ("group", name(group, gid).into()),
        ("mode", u32::from_str_radix(mode, 8).map_or(Value::Null, |m| format!("0{m:03o}").into())),
        ("state", state.into()),
        ("size", number(size)),
    ]
}

/// `result` with the keys of `info`'s line.
pub fn with_info(mut result: ModuleResult, info: &str) -> ModuleResult {
    for (key, value) in fields(info) {
        result = result.with(key, value);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_line_gives_ids_names_octal_mode_and_state() {
        let info = fields("0 0 root UNKNOWN 600 12 link\0");
        assert_eq!(info[0], ("uid", json!(0)));
        assert_eq!(info[3], ("group", json!("0")));
        assert_eq!(info[4], ("mode", json!("0600")));
        assert_eq!(info[5], ("state", json!("link")));
        assert_eq!(info[6], ("size", json!(12)));
        assert!(fields("").is_empty());
        assert!(fields("\0").is_empty());
    }
}
