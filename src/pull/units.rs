//! `stockman pull --systemd-units`: a oneshot service that runs the pull with the
//! command line given, and a timer that starts it on a calendar with a random
//! delay (so a fleet does not hit the git server at the same second) and
//! catches up after downtime (`Persistent=true`).

/// The unit files' names; the README's install playbook uses them.
pub const SERVICE: &str = "stockman-pull.service";
pub const TIMER: &str = "stockman-pull.timer";

/// What the units say besides the command.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// systemd's `OnCalendar=` (e.g. `*:0/30`, every half hour).
    pub on_calendar: String,
    /// `RandomizedDelaySec=`, seconds.
    pub randomized_delay: u64,
}

/// Both units, each preceded by a `# FILE` comment line naming where it goes.
pub fn render(program: &str, args: &[String], schedule: &Schedule) -> String {
    let exec: Vec<String> = std::iter::once(program.to_string()).chain(args.iter().cloned()).map(|w| quote(&w)).collect();
    format!(
        "# /etc/systemd/system/{SERVICE}\n\
         [Unit]\n\
         Description=stockman pull: converge this host to its git repository\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         # The default checkout (and state) then lives under /var/lib/stockman.\n\
         StateDirectory=stockman\n\
         Environment=XDG_STATE_HOME=%S\n\
         ExecStart={exec}\n\
         \n\
         # /etc/systemd/system/{TIMER}\n\
         [Unit]\n\
         Description=Run stockman pull on a schedule\n\
         \n\
         [Timer]\n\
         OnCalendar={calendar}\n\
         RandomizedDelaySec={delay}\n\
         Persistent=true\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        exec = exec.join(" "),
        calendar = schedule.on_calendar,
        delay = schedule.randomized_delay,
    )
}

/// One word of `ExecStart=` as systemd splits it: double quotes where needed,
/// `\` and `"` escaped, and `%` and `$` doubled so systemd expands neither.
fn quote(word: &str) -> String {
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !escaped.is_empty() && escaped.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%$".contains(&b));
    if plain {
        return escaped;
    }
    let mut out = String::from("\"");
    for c in escaped.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `spec` can go on an `OnCalendar=` line: one line, no control characters.
pub fn valid_calendar(spec: &str) -> bool {
    !spec.trim().is_empty() && !spec.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_start_words_keep_spaces_quotes_and_specifiers_as_data() {
        assert_eq!(quote("-U"), "-U");
        assert_eq!(quote("a b\"c"), "\"a b\\\"c\"");
        assert_eq!(quote("100%$HOME"), "100%%$$HOME");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn the_timer_catches_up_and_spreads_the_fleet() {
        let text = render("/usr/local/bin/stockman", &["pull".into(), "-U".into(), "file:///srv/repo".into()], &Schedule { on_calendar: "*:0/30".into(), randomized_delay: 300 });
        assert!(text.contains("ExecStart=/usr/local/bin/stockman pull -U file:///srv/repo\n"), "{text}");
        assert!(text.contains("Persistent=true\n") && text.contains("RandomizedDelaySec=300\n") && text.contains("OnCalendar=*:0/30\n"), "{text}");
    }
}
