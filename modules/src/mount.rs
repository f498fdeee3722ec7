//! `ansible.posix.mount`, first part: the fstab edit, as pure functions.
//! Which lines Ansible's module (ansible.posix 1.x/2.x on Linux) counts as
//! an entry, which one is "the" entry of a mount point, how it rewrites a
//! changed entry and what it drops on removal. Not yet registered as a
//! module: the mount/umount/remount half, the probe of /proc/self/mountinfo
//! and the atomic write are still to come; until then `mount` tasks use the
//! Python fallback. Each case below was checked against the module's own
//! `set_mount`/`unset_mount` on the same input.

/// One entry as written to fstab: the six Linux fields, already escaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub src: String,
    pub name: String,
    pub fstype: String,
    pub opts: String,
    pub dump: String,
    pub passno: String,
}

impl Entry {
    /// Ansible's line: fields separated by one space.
    fn line(&self) -> String {
        format!("{} {} {} {} {} {}\n", self.src, self.name, self.fstype, self.opts, self.dump, self.passno)
    }
}

/// fstab's octal escapes for the characters a field cannot hold as is
/// (backslash first, so the others' escapes stay intact).
pub fn escape(field: &str) -> String {
    field.replace('\\', "\\134").replace(' ', "\\040").replace('&', "\\046")
}

/// A blank line or a comment: kept as is.
fn is_text(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Whether a parsed line is the entry of mount point `name`: same point,
/// except that swap lines (`none` ... `swap`) are told apart by their source.
fn same_point(fields: &[&str], name: &str, src: Option<&str>) -> bool {
    let (line_src, line_name, line_type) = (fields[0], fields[1], fields[2]);
    line_name == name && !(line_name == "none" && line_type == "swap" && src.is_some_and(|s| s != line_src))
}

/// The new fstab with `want` set, and whether it changed. As Ansible: lines
/// with 4 to 6 fields (before a `#`) are entries, missing dump/passno count
/// as different (so such an entry is rewritten whole), and once a change is
/// seen every later entry of the point is rewritten too. `src` is the
/// unescaped source (Ansible compares swap sources unescaped).
pub fn set(fstab: &str, want: &Entry, src: &str) -> (String, bool) {
    let mut out = String::new();
    let (mut exists, mut changed) = (false, false);
    for raw in fstab.split_inclusive('\n') {
        let line = if raw.ends_with('\n') { raw.to_string() } else { format!("{raw}\n") };
        let fields: Vec<&str> = line.split('#').next().unwrap_or_default().split_whitespace().collect();
        if is_text(&line) || !(4..=6).contains(&fields.len()) || !same_point(&fields, &want.name, Some(src)) {
            out.push_str(&line);
            continue;
        }
        exists = true;
        let have = [fields[0], fields[2], fields[3], fields.get(4).copied().unwrap_or(""), fields.get(5).copied().unwrap_or("")];
        let wanted = [&want.src, &want.fstype, &want.opts, &want.dump, &want.passno];
        changed |= have.iter().zip(wanted).any(|(h, w)| h != w);
        if changed {
            out.push_str(&Entry { name: fields[1].to_string(), ..want.clone() }.line());
        } else {
            out.push_str(&line);
        }
    }
    if !exists {
        out.push_str(&want.line());
        changed = true;
    }
    (out, changed)
}

/// The new fstab without mount point `name` (escaped), and whether it
/// changed. As Ansible: only lines of exactly six whitespace-separated
/// words count (a trailing comment makes a line not an entry), and the
/// kept lines are left byte for byte.
pub fn unset(fstab: &str, name: &str, src: Option<&str>) -> (String, bool) {
    let mut out = String::new();
    let mut changed = false;
    for line in fstab.split_inclusive('\n') {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !is_text(line) && fields.len() == 6 && same_point(&fields, name, src) {
            changed = true;
        } else {
            out.push_str(line);
        }
    }
    (out, changed)
}

/// What /proc/self/mountinfo says is mounted at one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The device, or for a mount whose parent is not the root mount (a
    /// bind mount), the source path worked out as Ansible does.
    pub src: String,
    pub opts: String,
    pub fstype: String,
}

/// Ansible's reading of mountinfo: mount point -> what is mounted there
/// (the last line of a point wins). Malformed lines are skipped.
pub fn mounts(mountinfo: &str) -> std::collections::HashMap<String, Mounted> {
    struct Line<'a> { id: u64, parent: u64, root: &'a str, dst: &'a str, opts: &'a str, fs: &'a str, src: &'a str }
    let lines: Vec<Line> = mountinfo
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            Some(Line { id: f[0].parse().ok()?, parent: f[1].parse().ok()?, root: f[3], dst: f[4], opts: f[5], fs: f[f.len() - 3], src: f[f.len() - 2] })
        })
        .collect();
    let by_id: std::collections::HashMap<u64, &Line> = lines.iter().map(|l| (l.id, l)).collect();
    let mut out = std::collections::HashMap::new();
    for line in &lines {
        let src = match by_id.get(&line.parent).filter(|_| line.parent != 1) {
            Some(parent) => {
                let prefix = format!("{}/", parent.root);
                let root = if parent.root.len() > 1 && line.root.starts_with(&prefix) { &line.root[parent.root.len()..] } else { line.root };
                if parent.dst == "/" { root.to_string() } else { format!("{}{root}", parent.dst) }
            }
            None => line.src.to_string(),
        };
        out.insert(line.dst.to_string(), Mounted { src, opts: line.opts.to_string(), fstype: line.fs.to_string() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpfs(opts: &str) -> Entry {
        Entry { src: "tmpfs".into(), name: "/mnt/t".into(), fstype: "tmpfs".into(), opts: opts.into(), dump: "0".into(), passno: "0".into() }
    }

    #[test]
    fn set_appends_keeps_and_rewrites_as_ansible() {
        let (out, changed) = set("# c\n\nUUID=1 / ext4 defaults 0 1", &tmpfs("size=1m"), "tmpfs");
        assert_eq!(out, "# c\n\nUUID=1 / ext4 defaults 0 1\ntmpfs /mnt/t tmpfs size=1m 0 0\n");
        assert!(changed);
        assert_eq!(set(&out, &tmpfs("size=1m"), "tmpfs"), (out.clone(), false), "idempotent, spacing kept");
        let (edited, changed) = set("tmpfs   /mnt/t  tmpfs size=1m 0 0 # note\n", &tmpfs("size=2m"), "tmpfs");
        assert_eq!((edited.as_str(), changed), ("tmpfs /mnt/t tmpfs size=2m 0 0\n", true));
        // Four fields: dump and passno are missing, so the entry is rewritten.
        assert_eq!(set("tmpfs /mnt/t tmpfs size=1m\n", &tmpfs("size=1m"), "tmpfs"), ("tmpfs /mnt/t tmpfs size=1m 0 0\n".into(), true));
        // Three fields are not an entry.
        assert_eq!(set("tmpfs /mnt/t tmpfs\n", &tmpfs("a"), "tmpfs").0, "tmpfs /mnt/t tmpfs\ntmpfs /mnt/t tmpfs a 0 0\n");
    }

    #[test]
    fn swap_lines_are_told_apart_by_source() {
        let swap = |src: &str| Entry { src: src.into(), name: "none".into(), fstype: "swap".into(), opts: "sw".into(), dump: "0".into(), passno: "0".into() };
        let (out, changed) = set("/dev/a none swap sw 0 0\n", &swap("/dev/b"), "/dev/b");
        assert_eq!((out.as_str(), changed), ("/dev/a none swap sw 0 0\n/dev/b none swap sw 0 0\n", true));
        assert_eq!(unset(&out, "none", Some("/dev/a")), ("/dev/b none swap sw 0 0\n".into(), true));
    }

    #[test]
    fn unset_drops_only_six_field_entries() {
        let fstab = "# tmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a\ntmpfs /mnt/t tmpfs a 0 0 #c\n/x /y ext4 a 0 0";
        assert_eq!(unset(fstab, "/mnt/t", None), ("# tmpfs /mnt/t tmpfs a 0 0\ntmpfs /mnt/t tmpfs a\ntmpfs /mnt/t tmpfs a 0 0 #c\n/x /y ext4 a 0 0".into(), true));
        assert_eq!(unset("/x /y ext4 a 0 0\n", "/mnt/t", None), ("/x /y ext4 a 0 0\n".into(), false));
    }

    #[test]
    fn fields_are_escaped_as_fstab_wants() {
        assert_eq!(escape(r"/mnt/a b&c\d"), r"/mnt/a\040b\046c\134d");
        let spaced = Entry { name: escape("/mnt/a b"), ..tmpfs("defaults") };
        assert_eq!(set("", &spaced, "tmpfs").0, "tmpfs /mnt/a\\040b tmpfs defaults 0 0\n");
        assert!(unset("tmpfs /mnt/a\\040b tmpfs defaults 0 0\n", &escape("/mnt/a b"), None).1);
    }

    #[test]
    fn mountinfo_sources_as_ansible_reads_them() {
        let info = "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n42 60 0:35 / /tmp rw - tmpfs tmpfs rw\n60 1 8:1 / /x rw - ext4 /dev/sda2 rw\n78 42 0:35 /aaa /tmp/bbb rw - tmpfs tmpfs rw\n140 136 253:2 /rootfs / rw - ext4 /dev/sdb2 rw\n141 140 253:2 /rootfs/tmp/aaa /tmp/ccc rw - ext4 /dev/sdb2 rw\n230 110 0:57 / /mnt/t rw,relatime shared:63 - tmpfs tmpfs rw,size=2048k\nbad\n";
        let m = mounts(info);
        assert_eq!(m["/tmp/bbb"].src, "/tmp/aaa");
        assert_eq!(m["/tmp/ccc"].src, "/tmp/aaa");
        assert_eq!(m["/x"].src, "/dev/sda2", "parent 1: the device");
        assert_eq!(m["/tmp"].src, "/x/", "parent 60 is known and not mount 1: its dst + root, as Ansible");
        assert_eq!(m["/"].src, "/dev/sdb2", "the last line of a point wins");
        assert_eq!(m["/mnt/t"], Mounted { src: "tmpfs".into(), opts: "rw,relatime".into(), fstype: "tmpfs".into() });
        assert_eq!(m.len(), 6, "a malformed line is skipped (Ansible would crash on it)");
    }
}
