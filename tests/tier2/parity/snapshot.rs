//! The state of one host, as `key → value` lines that two hosts can be compared by.
//!
//! One shell script runs inside the host through `fleet exec` (no SSH, nothing of
//! either tool involved) and prints tab-separated `kind<TAB>name<TAB>value` lines;
//! [`Snapshot::parse`] then takes out what legitimately differs between two hosts:
//! the host name, timestamps close to the host's clock, backup-file timestamps and
//! the contents of files that are random by design (generated keys).

use std::collections::BTreeMap;

use regex::Regex;

use crate::fleet::Fleet;

/// What a scenario wants compared on its hosts.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// Packages: dpkg status and version.
    pub packages: &'static [&'static str],
    /// Users: passwd and shadow entries (password hash and expiry included).
    pub users: &'static [&'static str],
    /// Groups: group entries.
    pub groups: &'static [&'static str],
    /// Directories walked recursively: type, mode, owner, group, size, links, sha256,
    /// link target, times (`.git` directories are left to `repos`).
    pub roots: &'static [&'static str],
    /// systemd units: is-active and is-enabled.
    pub units: &'static [&'static str],
    /// git checkouts (or bare repositories): HEAD, branch, cleanliness, refs, remotes.
    pub repos: &'static [&'static str],
    /// Paths whose content is random by design (compared by type and mode only).
    pub volatile: &'static [&'static str],
    /// Shell commands whose output (stdout and stderr, lines joined by `;`) is
    /// state no file shows as well: the mount table, a crontab as cron lists it.
    pub commands: &'static [&'static str],
}

impl Watch {
    /// Nothing watched; scenarios fill in what they touch.
    pub const EMPTY: Watch =
        Watch { packages: &[], users: &[], groups: &[], roots: &[], units: &[], repos: &[], volatile: &[], commands: &[] };
}

/// A host's state: one value per key, host-specific parts normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(pub BTreeMap<String, String>);

impl Snapshot {
    /// Runs the snapshot script on `host` and parses its output.
    pub fn take(fleet: &Fleet, host: &str, watch: &Watch) -> Snapshot {
        let out = fleet.exec(host, &["sh", "-c", &script(watch)]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "snapshot script failed on {host} ({}):\n{}\n{text}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        Snapshot::parse(&text, host, watch)
    }

    /// Parses the script's lines; `host` is the fleet name to replace by `HOST`.
    pub fn parse(text: &str, host: &str, watch: &Watch) -> Snapshot {
        let mut lines = text.lines();
        let now: f64 = lines
            .next()
            .and_then(|l| l.strip_prefix("now\t"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("snapshot of {host} does not start with `now`:\n{text}"));
        let mut map = BTreeMap::new();
        let mut sums = BTreeMap::new();
        for line in lines {
            let line = line.replace(host, "HOST");
            let mut parts = line.splitn(3, '\t');
            let (kind, name, value) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            match kind {
                "sha" => {
                    sums.insert(name.to_string(), value.to_string());
                }
                "path" => {
                    map.insert(format!("path {}", normalise_backup(name)), path_value(value, now));
                }
                _ => {
                    map.insert(format!("{kind} {name}"), value.trim().to_string());
                }
            }
        }
        // Contents: appended to each regular file's line, unless random by design.
        for (name, sum) in sums {
            let key = format!("path {}", normalise_backup(&name));
            let volatile = watch.volatile.iter().any(|v| name.contains(v));
            if let Some(value) = map.get_mut(&key) {
                value.push_str(if volatile { " sha256=(volatile)" } else { " sha256=" });
                if !volatile {
                    value.push_str(&sum[..sum.len().min(16)]);
                }
            }
        }
        Snapshot(map)
    }
}

/// `TYPE MODE OWNER:GROUP SIZE NLINK -> TARGET<TAB>MTIME ATIME`, with directory sizes
/// dropped (they depend on the file system's history) and times near `now` as `recent`.
fn path_value(value: &str, now: f64) -> String {
    let (attrs, times) = value.split_once('\t').unwrap_or((value, ""));
    // `-> ` with nothing after it: not a link.
    let attrs = attrs.strip_suffix(" -> ").unwrap_or(attrs);
    let mut words: Vec<&str> = attrs.split(' ').collect();
    if words.first() == Some(&"d") && words.len() > 3 {
        words[3] = "-";
    }
    let mut times: Vec<String> = times.split_whitespace().map(|t| time_word(t, now)).collect();
    // Reading a directory moves its atime (relatime), and stockman reads each
    // destination directory to sweep its own orphaned temp files: a
    // directory's atime says nothing about what either tool changed.
    if words.first() == Some(&"d") && times.len() > 1 {
        times[1] = "-".into();
    }
    format!("{} mtime={} atime={}", words.join(" "), times.first().map_or("?", |s| s), times.get(1).map_or("?", |s| s))
}

fn time_word(t: &str, now: f64) -> String {
    match t.parse::<f64>() {
        Ok(t) if (now - t).abs() < 3600.0 => "recent".to_string(),
        Ok(t) => format!("{}", t as i64),
        Err(_) => t.to_string(),
    }
}

/// `file.1234.2024-01-01@12:00:00~` (Ansible's backup name) → `file.(backup)~`.
fn normalise_backup(path: &str) -> String {
    let backup = Regex::new(r"\.[0-9]+\.[0-9]{4}-[0-9]{2}-[0-9]{2}@[0-9]{2}:[0-9]{2}:[0-9]{2}~$").unwrap();
    backup.replace(path, ".(backup)~").into_owned()
}

/// The script: each list becomes a `for` over single-quoted words (the lists are the
/// test's own constants; a quote in one is a bug in the test).
fn script(watch: &Watch) -> String {
    let words = |list: &[&str]| -> String {
        list.iter()
            .map(|w| {
                assert!(!w.contains('\''), "watch list entry with a quote: {w}");
                format!("'{w}'")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        r#"
set -u
T="$(printf '\t')"
printf 'now\t%s\n' "$(date +%s)"
for p in {packages}; do
  s=$(dpkg-query -W -f='${{db:Status-Abbrev}} ${{Version}}' "$p" 2>/dev/null) || s=absent
  printf 'package\t%s\t%s\n' "$p" "$s"
done
for u in {users}; do
  printf 'passwd\t%s\t%s\n' "$u" "$(getent passwd "$u" || echo absent)"
  printf 'shadow\t%s\t%s\n' "$u" "$(getent shadow "$u" || echo absent)"
  printf 'groups-of\t%s\t%s\n' "$u" "$(id -Gn "$u" 2>/dev/null || echo absent)"
done
for g in {groups}; do
  printf 'group\t%s\t%s\n' "$g" "$(getent group "$g" || echo absent)"
done
for r in {roots}; do
  [ -e "$r" ] || [ -L "$r" ] || {{ printf 'path\t%s\tabsent\t\n' "$r"; continue; }}
  find "$r" -name .git -prune -o -printf "path$T%p$T%y %m %u:%g %s %n -> %l$T%T@ %A@\n"
  find "$r" -name .git -prune -o -type f -exec sha256sum {{}} + | while read -r sum name; do
    printf 'sha\t%s\t%s\n' "$name" "$sum"
  done
done
for u in {units}; do
  printf 'unit\t%s\tactive=%s enabled=%s\n' "$u" "$(systemctl is-active "$u" 2>/dev/null)" "$(systemctl is-enabled "$u" 2>/dev/null)"
done
for d in {repos}; do
  if ! git -C "$d" rev-parse --git-dir >/dev/null 2>&1; then printf 'git\t%s\tabsent\n' "$d"; continue; fi
  printf 'git\t%s\thead=%s branch=%s bare=%s shallow=%s\n' "$d" \
    "$(git -C "$d" rev-parse -q --verify HEAD)" "$(git -C "$d" symbolic-ref -q --short HEAD || echo '(detached)')" \
    "$(git -C "$d" rev-parse --is-bare-repository)" "$(git -C "$d" rev-parse --is-shallow-repository)"
  if [ "$(git -C "$d" rev-parse --is-bare-repository)" = false ]; then
    printf 'git-status\t%s\t%s\n' "$d" "$(git -C "$d" status --porcelain | tr '\n' ';')"
  fi
  printf 'git-refs\t%s\t%s\n' "$d" "$(git -C "$d" for-each-ref --format='%(refname)' | tr '\n' ' ')"
  printf 'git-remotes\t%s\t%s\n' "$d" "$(git -C "$d" config --get-regexp '^remote\.' | tr '\n' ';')"
done
for c in {commands}; do
  printf 'command\t%s\t%s\n' "$c" "$(sh -c "$c" 2>&1 | tr '\n' ';')"
done
printf 'hostile\t/tmp/pwned\t%s\n' "$(ls /tmp/pwned /tmp/pwned2 /root/pwned /pwned 2>/dev/null | tr '\n' ' ')"
"#,
        packages = words(watch.packages),
        users = words(watch.users),
        groups = words(watch.groups),
        roots = words(watch.roots),
        units = words(watch.units),
        repos = words(watch.repos),
        commands = words(watch.commands),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_host_times_backups_and_volatile_content() {
        let watch = Watch { volatile: &["/.ssh/id_"], ..Watch::EMPTY };
        let text = "now\t1000000\n\
            path\t/r\td 755 root:root 4096 2 -> \t999990.5 999999.1\n\
            path\t/r/f.123.2024-01-01@12:00:00~\tf 644 root:root 3 1 -> \t1577880000.0 999999\n\
            path\t/r/.ssh/id_x\tf 600 fleet07:root 3 1 -> \t999999 999999\n\
            sha\t/r/f.123.2024-01-01@12:00:00~\tabcdef0123456789abcdef\n\
            sha\t/r/.ssh/id_x\t0123\n\
            unit\tx.service\tactive=active enabled=enabled\n";
        let snap = Snapshot::parse(text, "fleet07", &watch).0;
        assert_eq!(snap["path /r"], "d 755 root:root - 2 mtime=recent atime=-");
        assert_eq!(snap["path /r/f.(backup)~"], "f 644 root:root 3 1 mtime=1577880000 atime=recent sha256=abcdef0123456789");
        assert_eq!(snap["path /r/.ssh/id_x"], "f 600 HOST:root 3 1 mtime=recent atime=recent sha256=(volatile)");
        assert_eq!(snap["unit x.service"], "active=active enabled=enabled");
    }
}
