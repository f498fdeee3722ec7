//! `group`: a local group present (with a gid) or absent.
//!
//! One probe (`getent group`), one `groupadd`/`groupmod`/`groupdel`.

use crate::listarg::{choice, int};
use crate::shell::Cmd;
use crate::{Args, FileDiff, ModuleError, ModuleResult, RunMode, Target};
use crate::spec::{p, req, Param};

/// The arguments of `group`, typed as ansible.builtin.group's docs.
pub const PARAMS: &[Param] = &[
    req("name").str(),
    p("state").choices(&["absent", "present"]).default("present"),
    p("gid").int(),
    p("system").bool(),
    p("non_unique").bool(),
];

/// One `/etc/group` entry as `getent group` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parses `name:x:gid:member,member` lines.
pub fn parse_group_lines(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            let [name, _, gid, members] = f.as_slice() else { return None };
            Some(GroupEntry {
                name: name.to_string(),
                gid: gid.parse().ok()?,
                members: members.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect(),
            })
        })
        .collect()
}

#[derive(Debug)]
struct Request {
    name: String,
    present: bool,
    gid: Option<i64>,
    system: bool,
    non_unique: bool,
}

pub async fn run<T: Target>(args: &Args, target: &T, mode: RunMode) -> Result<ModuleResult, ModuleError> {
    let request = Request {
        name: args.required_str("name")?,
        present: choice(args, "state", &["present", "absent"])? != Some("absent"),
        gid: int(args, "gid")?,
        system: args.bool("system", false)?,
        non_unique: args.bool("non_unique", false)?,
    };
    let found = probe(target, &request.name).await?;
    let Some(cmd) = plan(&request, found.as_ref()) else {
        return Ok(result(&request, found.as_ref()));
    };
    let mut res = result(&request, found.as_ref());
    res.changed = true;
    if mode.diff {
        res.diff = vec![diff(&request, found.as_ref())];
    }
    if mode.check {
        return Ok(res);
    }
    let out = target.exec(cmd.as_str(), None).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!("{}: {}", cmd_name(&request, found.as_ref()), out.stderr_str().trim()))
            .with("name", request.name.clone())
            .with("rc", out.rc));
    }
    let after = probe(target, &request.name).await?;
    let mut done = result(&request, after.as_ref());
    done.changed = true;
    done.diff = res.diff;
    Ok(done)
}

async fn probe<T: Target>(target: &T, name: &str) -> Result<Option<GroupEntry>, ModuleError> {
    let out = target.exec(Cmd::new("getent").flag("group --").arg(name).as_str(), None).await?;
    Ok(parse_group_lines(&out.stdout_str()).into_iter().find(|g| g.name == name))
}

fn plan(request: &Request, found: Option<&GroupEntry>) -> Option<Cmd> {
    match (request.present, found) {
        (false, None) => None,
        (false, Some(_)) => Some(Cmd::new("groupdel").flag("--").arg(&request.name)),
        (true, None) => {
            let mut cmd = Cmd::new("groupadd");
            if let Some(gid) = request.gid {
                cmd = cmd.flag("-g").arg(gid.to_string());
                if request.non_unique {
                    cmd = cmd.flag("-o");
                }
            }
            if request.system {
                cmd = cmd.flag("-r");
            }
            Some(cmd.flag("--").arg(&request.name))
        }
        (true, Some(g)) => {
            let gid = request.gid.filter(|gid| *gid != i64::from(g.gid))?;
            let mut cmd = Cmd::new("groupmod").flag("-g").arg(gid.to_string());
            if request.non_unique {
                cmd = cmd.flag("-o");
            }
            Some(cmd.flag("--").arg(&request.name))
        }
    }
}

fn cmd_name(request: &Request, found: Option<&GroupEntry>) -> &'static str {
    match (request.present, found) {
        (false, _) => "groupdel failed",
        (true, None) => "groupadd failed",
        (true, Some(_)) => "groupmod failed",
    }
}

fn result(request: &Request, found: Option<&GroupEntry>) -> ModuleResult {
    let res = ModuleResult::ok()
        .with("name", request.name.clone())
        .with("state", if request.present { "present" } else { "absent" });
    match (request.present, found, request.gid) {
        (true, Some(g), _) => res.with("gid", g.gid).with("system", request.system),
        (true, None, Some(gid)) => res.with("gid", gid).with("system", request.system),
        (true, None, None) => res.with("system", request.system),
        (false, ..) => res,
    }
}

fn diff(request: &Request, found: Option<&GroupEntry>) -> FileDiff {
    let before = found.map(|g| format!("gid: {}\n", g.gid)).unwrap_or_default();
    let after = match (request.present, found, request.gid) {
        (false, ..) => String::new(),
        (true, _, Some(gid)) => format!("gid: {gid}\n"),
        (true, Some(g), None) => format!("gid: {}\n", g.gid),
        (true, None, None) => "gid: (assigned)\n".into(),
    };
    FileDiff { before_header: format!("group {}", request.name), after_header: format!("group {}", request.name), before, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(present: bool, gid: Option<i64>) -> Request {
        Request { name: "we b;$(x)".into(), present, gid, system: false, non_unique: false }
    }

    #[test]
    fn getent_lines_parse() {
        let g = parse_group_lines("sudo:x:27:alice,bob\nstaff:x:50:\nbroken\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].members, ["alice", "bob"]);
        assert_eq!(g[1].gid, 50);
    }

    #[test]
    fn plans_quote_names_and_skip_when_in_state() {
        let found = GroupEntry { name: "we b;$(x)".into(), gid: 7, members: vec![] };
        assert_eq!(plan(&req(true, None), None).unwrap().as_str(), "groupadd -- 'we b;$(x)'");
        assert_eq!(plan(&req(true, Some(9)), Some(&found)).unwrap().as_str(), "groupmod -g 9 -- 'we b;$(x)'");
        assert!(plan(&req(true, Some(7)), Some(&found)).is_none());
        assert!(plan(&req(false, None), None).is_none());
    }
}
