//! The open-files limit (RLIMIT_NOFILE). Every host keeps its SSH connection
//! open for the whole run, so a run needs about one descriptor per host, and
//! the usual soft limit of 1024 is too small for a thousand hosts: the limit
//! is raised at startup as far as the hard limit allows, and a run that still
//! cannot fit fails before connecting, naming the limit and `ulimit -n`.

/// Descriptors each host holds for the run: its TCP connection.
const PER_HOST: u64 = 1;
/// The controller's own: stdio, the runtime's epoll and wakers, files read
/// while running (playbooks, templates, known_hosts), the local connection's
/// pipes, with room to spare.
const RESERVE: u64 = 64;
/// Linux refuses a limit above fs.nr_open even when the hard limit is infinite.
const NR_OPEN_DEFAULT: u64 = 1 << 20;

/// The soft and hard limits on open files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitError {
    #[error(
        "{hosts} hosts need about {needed} open files (each host keeps one SSH connection open for the run), \
         but the open-files limit (RLIMIT_NOFILE) is {soft} and its hard limit {hard}; \
         raise it with `ulimit -n {needed}` before running stockman (past the hard limit: as root, \
         or with `nofile` in /etc/security/limits.conf or LimitNOFILE= in a systemd unit), \
         or select fewer hosts with --limit"
    )]
    TooManyHosts { hosts: usize, needed: u64, soft: u64, hard: u64 },
}

/// Raises the soft limit to the hard limit (bounded by the kernel's
/// fs.nr_open) and returns the limits in force afterwards. Best effort: if
/// the limit cannot be read or raised, the run goes on with what there is and
/// [`check_open_files`] reports a shortfall.
pub fn raise_open_files() -> Option<OpenFiles> {
    let current = get()?;
    let target = current.hard.min(nr_open());
    if target > current.soft {
        set(OpenFiles { soft: target, hard: current.hard });
    }
    get()
}

/// Fails when `hosts` connections cannot fit under the current limit.
pub fn check_open_files(hosts: usize) -> Result<(), LimitError> {
    match get() {
        Some(limits) => fits(limits, hosts),
        None => Ok(()),
    }
}

/// Descriptors a run over `hosts` hosts needs.
pub fn needed_for(hosts: usize) -> u64 {
    (hosts as u64).saturating_mul(PER_HOST).saturating_add(RESERVE)
}

fn fits(limits: OpenFiles, hosts: usize) -> Result<(), LimitError> {
    let needed = needed_for(hosts);
    if needed <= limits.soft {
        return Ok(());
    }
    Err(LimitError::TooManyHosts { hosts, needed, soft: limits.soft, hard: limits.hard })
}

fn nr_open() -> u64 {
    std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|t| t.trim().parse().ok()).unwrap_or(NR_OPEN_DEFAULT)
}

fn get() -> Option<OpenFiles> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes into the struct we own.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0).then_some(OpenFiles { soft: limit.rlim_cur, hard: limit.rlim_max })
}

fn set(limits: OpenFiles) -> bool {
    let limit = libc::rlimit { rlim_cur: limits.soft, rlim_max: limits.hard };
    // SAFETY: setrlimit only reads the struct we pass.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_fits_when_its_hosts_and_the_reserve_fit() {
        let limits = OpenFiles { soft: 1024, hard: 4096 };
        assert_eq!(fits(limits, 960), Ok(()));
        let err = fits(limits, 1000).unwrap_err();
        assert_eq!(err, LimitError::TooManyHosts { hosts: 1000, needed: 1064, soft: 1024, hard: 4096 });
        let message = err.to_string();
        for needle in ["1000 hosts", "RLIMIT_NOFILE", "is 1024", "hard limit 4096", "`ulimit -n 1064`", "--limit"] {
            assert!(message.contains(needle), "{needle} in {message}");
        }
    }

    #[test]
    fn raising_reaches_the_hard_limit_and_never_lowers_it() {
        let before = get().expect("getrlimit");
        let after = raise_open_files().expect("limits after raising");
        assert_eq!(after.hard, before.hard);
        assert_eq!(after.soft, before.hard.min(nr_open()).max(before.soft));
    }
}
