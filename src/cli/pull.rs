//! `stockman pull` (Ansible's `ansible-pull`): bring a git checkout of the
//! playbooks up to date on this host, then run the host's playbook on itself over
//! the local connection, through the same path as `stockman playbook`.
//!
//! Steps: flags → (sleep) → lock the checkout → git sync → `--only-if-changed`
//! → pick the playbooks → load them all, then run → remember the applied revision → purge.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::{run_playbook_as, PlaybookArgs, RunContext};
use crate::pull::{self, git, host_names::HostNames, lock::PullLock, units};
use crate::report;
use crate::transport::ConnectionKind;

pub(super) const EXAMPLES: &str = "\
Examples:
  stockman pull -U https://git.example.com/ops/site.git
  stockman pull -U git@git.example.com:ops/site.git --accept-host-key -C production site.yml
  stockman pull -U file:///srv/site.git -o -s 60 --lock-wait 600
  stockman pull -U file:///srv/site.git --check --diff --detailed-exitcode   # 2 = drift
  stockman pull -U file:///srv/site.git --systemd-units > units.txt";

/// ansible-pull's flags; the playbook run's flags are `stockman playbook`'s
/// (flattened), except that `-C` and `-f` mean checkout and force, as in ansible-pull.
#[derive(Args, Debug)]
pub(super) struct PullArgs {
    /// URL of the playbook repository (anything `git fetch` takes: https, ssh, file://, a path).
    #[arg(short = 'U', long = "url", value_name = "URL", required = true)]
    url: String,
    /// Branch, tag or commit to check out (default: the repository's HEAD).
    #[arg(short = 'C', long = "checkout", value_name = "VERSION")]
    checkout: Option<String>,
    /// The checkout directory (default `$XDG_STATE_HOME/stockman/pull/<fqdn>`).
    #[arg(short = 'd', long = "directory", value_name = "DIR")]
    directory: Option<PathBuf>,
    /// Run only if the checked-out revision differs from the last one applied.
    #[arg(short = 'o', long = "only-if-changed")]
    only_if_changed: bool,
    /// Sleep a random time between 0 and SECONDS first (spreads a fleet's git requests).
    #[arg(short = 's', long = "sleep", value_name = "SECONDS")]
    sleep: Option<u64>,
    /// Fetch the whole history instead of a shallow (depth 1) fetch.
    #[arg(long = "full")]
    full: bool,
    /// Discard modified files in the checkout.
    #[arg(long = "clean")]
    clean: bool,
    /// Delete the checkout after the run.
    #[arg(long = "purge")]
    purge: bool,
    /// Accept the git server's SSH host key if it is not known yet (a changed key still fails).
    #[arg(long = "accept-host-key")]
    accept_host_key: bool,
    /// Refuse to run unless the commit's GPG signature verifies (`git verify-commit`).
    #[arg(long = "verify-commit")]
    verify_commit: bool,
    /// Run the playbook even if the repository could not be updated.
    #[arg(short = 'f', long = "force")]
    force: bool,
    /// Submodules track their branch's latest commit (`git submodule update --remote`).
    #[arg(long = "track-subs")]
    track_subs: bool,
    /// The repository type; only `git` is supported.
    #[arg(short = 'm', long = "module-name", value_name = "MODULE", default_value = "git")]
    module_name: String,
    /// Wait up to SECONDS for another pull on the same checkout to finish (default: give up at once).
    #[arg(long = "lock-wait", value_name = "SECONDS", default_value_t = 0)]
    lock_wait: u64,
    /// Print a systemd service and timer running this command line, then stop.
    #[arg(long = "systemd-units")]
    systemd_units: bool,
    /// With --systemd-units: the timer's OnCalendar= (default every 30 minutes).
    #[arg(long = "on-calendar", value_name = "SPEC", default_value = "*:0/30", requires = "systemd_units")]
    on_calendar: String,
    /// With --systemd-units: the timer's RandomizedDelaySec=.
    #[arg(long = "randomized-delay", value_name = "SECONDS", default_value_t = 300, requires = "systemd_units")]
    randomized_delay: u64,
    #[command(flatten)]
    run: PlaybookArgs,
}

/// Flags that shape the units rather than the pull they run.
const UNIT_FLAGS: &[&str] = &["--systemd-units"];
const UNIT_OPTIONS: &[&str] = &["--on-calendar", "--randomized-delay"];

pub(super) fn run(args: PullArgs) -> u8 {
    if let Err(message) = validate(&args) {
        return report::error::fatal(&message, 5);
    }
    if let Some(password) = url_password(&args.url) {
        // Censored like a vault value in everything printed from here on.
        crate::vault::keyring::remember_secret(password);
    }
    if args.systemd_units {
        return print_units(&args);
    }
    let names = HostNames::of_this_host();
    let dest = match checkout_dir(&args, &names) {
        Ok(d) => d,
        Err(message) => return report::error::fatal(&message, 5),
    };
    report::error::note(&format!("Starting stockman pull at {}", now_text()));
    let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    report::error::note(&censored(&argv.join(" ")));
    nap(args.sleep);
    let _lock = match PullLock::acquire(&dest, Duration::from_secs(args.lock_wait), |holder| {
        report::error::note(&format!("Waiting up to {}s for the other stockman pull ({holder}) on {}", args.lock_wait, dest.display()));
    }) {
        Ok(lock) => lock,
        Err(e) => return report::error::fatal(&e.to_string(), 1),
    };
    pull_locked(args, &dest, &names)
}

/// Everything done while holding the lock.
fn pull_locked(mut args: PullArgs, dest: &Path, names: &HostNames) -> u8 {
    let revision = match git::sync(&git_request(&args, dest)) {
        Ok(synced) => {
            announce(&args.url, &synced);
            Some(synced.after)
        }
        Err(e) if args.force && dest.join(".git").is_dir() => {
            report::error::warning(&censored(&format!("Unable to update the repository ({e}). Continuing with (forced) run of the playbook.")));
            None
        }
        Err(e) => return report::error::fatal(&censored(&format!("{e}\nNothing was run: the host was left as it was.")), failed_code(&args)),
    };
    if let (true, Some(rev)) = (args.only_if_changed, &revision) {
        if pull::last_applied(dest).as_deref() == Some(rev.as_str()) {
            report::error::note(&format!("Repository has not changed (revision {rev} was applied already), quitting."));
            return 0;
        }
    }
    // As ansible-pull: the run happens in the checkout, so its ansible.cfg, inventory and roles are found.
    if let Err(e) = std::env::set_current_dir(dest) {
        return report::error::fatal(&format!("cannot enter the checkout `{}`: {e}", dest.display()), 1);
    }
    let playbooks = match pull::select_playbooks(dest, &args.run.playbooks, &names.fqdn) {
        Ok(p) => p,
        Err(message) => return report::error::fatal(&message, 5),
    };
    let check = args.run.common.check;
    let purge = args.purge;
    args.run.playbooks = playbooks;
    // No -i: as ansible-pull's playbook step, the configured inventory (ansible.cfg in the
    // checkout, else none): `hosts: localhost` matches the implicit localhost, `all` does not.
    args.run.common.limit = Some(args.run.common.limit.take().unwrap_or_else(|| names.limit()));
    // Every playbook loads before anything runs: a commit that does not load changes nothing.
    let revision_text = revision.as_deref().map_or_else(|| "the checked-out revision".to_string(), |r| format!("revision {r}"));
    let context = RunContext {
        connection: Some(ConnectionKind::Local),
        load_failure_note: Some(format!("{revision_text} was not applied: a playbook does not load. Nothing was run: the host was left as it was.")),
    };
    let code = run_playbook_as(args.run, &context);
    if let (0, false, Some(rev)) = (code, check, &revision) {
        if let Err(e) = pull::record_applied(dest, rev) {
            report::error::warning(&format!("cannot record revision {rev} as applied in {}: {e}", pull::applied_marker(dest).display()));
        }
    }
    if purge {
        purge_checkout(dest);
    }
    code
}

/// The password of a `scheme://user:password@host/...` URL.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, password)| password).filter(|p| !p.is_empty())
}

/// A message with every remembered secret (the URL's password) censored.
fn censored(text: &str) -> String {
    crate::vault::keyring::redact(text).into_owned()
}

fn validate(args: &PullArgs) -> Result<(), String> {
    if args.module_name != "git" {
        return Err(format!("-m/--module-name `{}`: stockman pull supports git only", args.module_name));
    }
    if args.url.starts_with('-') || args.url.trim().is_empty() {
        return Err(format!("-U/--url `{}` is not a repository URL", args.url));
    }
    if !units::valid_calendar(&args.on_calendar) {
        return Err("--on-calendar must be one line of systemd calendar syntax (e.g. `*:0/30`)".into());
    }
    Ok(())
}

fn checkout_dir(args: &PullArgs, names: &HostNames) -> Result<PathBuf, String> {
    let dir = args.directory.clone().unwrap_or_else(|| pull::default_directory(&names.fqdn));
    let dir = std::path::absolute(&dir).map_err(|e| format!("-d/--directory `{}`: {e}", dir.display()))?;
    if dir.exists() && !dir.is_dir() {
        return Err(format!("`{}` is not a valid or accessible directory.", dir.display()));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the checkout directory `{}`: {e}", dir.display()))?;
    Ok(dir)
}

fn git_request(args: &PullArgs, dest: &Path) -> git::Request {
    git::Request {
        url: args.url.clone(),
        dest: dest.to_path_buf(),
        version: args.checkout.clone(),
        full: args.full,
        clean: args.clean,
        verify_commit: args.verify_commit,
        track_subs: args.track_subs,
        accept_host_key: args.accept_host_key,
        key_file: args.run.common.private_key.clone(),
    }
}

fn announce(url: &str, synced: &git::Synced) {
    let text = match &synced.before {
        Some(before) if *before == synced.after => format!("{url} is at {}, unchanged", synced.after),
        Some(before) => format!("{url} moved from {before} to {}", synced.after),
        None => format!("{url} checked out at {}", synced.after),
    };
    report::error::note(&censored(&text));
}

/// A failure before the playbook ran counts as a failed host: 2, or 1 under
/// --detailed-exitcode (where 2 means drift).
fn failed_code(args: &PullArgs) -> u8 {
    if args.run.output.detailed_exitcode { 1 } else { 2 }
}

fn nap(sleep: Option<u64>) {
    let Some(max) = sleep.filter(|s| *s > 0) else { return };
    let secs = rand::random_range(0..max);
    report::error::note(&format!("Sleeping for {secs} seconds..."));
    std::thread::sleep(Duration::from_secs(secs));
}

fn purge_checkout(dest: &Path) {
    let _ = std::env::set_current_dir("/");
    if let Err(e) = std::fs::remove_dir_all(dest) {
        report::error::fatal(&format!("Failed to remove {}: {e}", dest.display()), 1);
    }
}

fn print_units(args: &PullArgs) -> u8 {
    let program = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "/usr/local/bin/stockman".into());
    let schedule = units::Schedule { on_calendar: args.on_calendar.clone(), randomized_delay: args.randomized_delay };
    report::listing::print(&units::render(&program, &pull_words(std::env::args_os()), &schedule));
    0
}

/// The command line after the program name, without the flags that only shape the units.
fn pull_words(argv: impl Iterator<Item = OsString>) -> Vec<String> {
    let mut words = Vec::new();
    let mut skip_value = false;
    for word in argv.skip(1).map(|w| w.to_string_lossy().into_owned()) {
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if UNIT_FLAGS.contains(&word.as_str()) || UNIT_OPTIONS.iter().any(|o| word.starts_with(&format!("{o}="))) {
            continue;
        }
        if UNIT_OPTIONS.contains(&word.as_str()) {
            skip_value = true;
            continue;
        }
        words.push(word);
    }
    words
}

/// ansible-pull's `%F %T`, in UTC with microseconds.
fn now_text() -> String {
    format!("{} UTC", stockman_modules::clock::format_timestamp(std::time::SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_urls_password_is_a_secret() {
        assert_eq!(url_password("https://bob:s3cret@git.example.com/site.git"), Some("s3cret"));
        assert_eq!(url_password("ssh://git@git.example.com/site.git"), None);
        assert_eq!(url_password("file:///srv/a:b@c/site.git"), None);
    }

    #[test]
    fn unit_flags_are_left_out_of_the_units_command_line() {
        let argv = ["stockman", "pull", "--systemd-units", "-U", "u", "--on-calendar", "hourly", "--randomized-delay=5", "-o"].map(OsString::from);
        assert_eq!(pull_words(argv.into_iter()), ["pull", "-U", "u", "-o"]);
    }
}
