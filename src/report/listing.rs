//! `--list-hosts`, `--list-tasks` and `--list-tags`, laid out byte for byte as
//! ansible-playbook 2.19 prints them.

use std::io::Write;

use crate::playbook::PlayListing;

/// What to show for each play.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListWhat {
    pub hosts: bool,
    pub tasks: bool,
    pub tags: bool,
}

/// One play to list, with its hosts when `--list-hosts` was asked for.
pub struct ListedPlay {
    pub listing: PlayListing,
    pub hosts: Vec<String>,
}

/// The text for one playbook.
pub fn render(playbook: &str, plays: &[ListedPlay], what: ListWhat) -> String {
    let mut out = format!("\nplaybook: {playbook}\n");
    for play in plays {
        let l = &play.listing;
        out.push_str(&format!("\n  play #{} ({}): {}\tTAGS: [{}]", l.number, l.hosts, l.name, l.play_tags.join(",")));
        if what.hosts {
            out.push_str(&format!("\n    pattern: ['{}']\n    hosts ({}):", l.hosts, play.hosts.len()));
            for host in &play.hosts {
                out.push_str(&format!("\n      {host}"));
            }
        }
        out.push('\n');
        if what.tasks || what.tags {
            if what.tasks {
                out.push_str("    tasks:\n");
                for (name, tags) in &l.tasks {
                    out.push_str(&format!("      {name}\tTAGS: [{}]\n", tags.join(", ")));
                }
            }
            if what.tags {
                out.push_str(&format!("      TASK TAGS: [{}]\n", l.all_tags.join(", ")));
            }
        }
    }
    out
}

/// `stockman modules`: one line per task, where its module comes from.
pub fn render_modules(playbook: &str, uses: &[crate::playbook::ModuleUse]) -> String {
    let mut out = format!("playbook: {playbook}\n");
    for u in uses {
        out.push_str(&format!("  {}\t{}\t{}\t{}\n", u.at, u.task, u.module, u.source));
    }
    out
}

/// Prints a listing on stdout (a closed stdout is not an error).
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush());
}
