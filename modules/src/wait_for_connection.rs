//! `wait_for_connection`: its arguments and settled waits. The engine does
//! the waiting (a new connection per attempt, which no module can open): see
//! the executor's `reboot` action file. The round trip is `ping`'s command.

use std::time::Duration;

use crate::spec::{p, Param};
use crate::{Args, ModuleError};

/// ansible.builtin.wait_for_connection's arguments (seconds, Ansible's defaults).
pub const PARAMS: &[Param] = &[
    p("connect_timeout").int().default("5"),
    p("delay").int().default("0"),
    p("sleep").int().default("1"),
    p("timeout").int().default("600"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Each connection attempt may take this long.
    pub connect_timeout: Duration,
    /// Waited once before the first attempt.
    pub delay: Duration,
    /// Between attempts.
    pub sleep: Duration,
    /// All attempts together.
    pub timeout: Duration,
}

impl Plan {
    pub fn from_args(args: &Args) -> Result<Plan, ModuleError> {
        let secs = |name: &str, default: u64| -> Result<Duration, ModuleError> {
            Ok(Duration::from_secs(crate::listarg::int(args, name)?.map_or(default, |n| n.max(0) as u64)))
        };
        // At least a second: a zero timeout could never connect.
        Ok(Plan { connect_timeout: secs("connect_timeout", 5)?.max(Duration::from_secs(1)), delay: secs("delay", 0)?, sleep: secs("sleep", 1)?, timeout: secs("timeout", 600)? })
    }
}

/// Ansible's message when the time is up, with the last attempt's error.
pub fn timed_out(error: &str) -> String {
    format!("timed out waiting for ping module test: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_given_values() {
        let plan = |v: serde_json::Value| Plan::from_args(&Args::new(v.as_object().cloned().unwrap())).unwrap();
        assert_eq!(plan(json!({})), Plan { connect_timeout: Duration::from_secs(5), delay: Duration::ZERO, sleep: Duration::from_secs(1), timeout: Duration::from_secs(600) });
        let p = plan(json!({"delay": 3, "sleep": "2", "timeout": 10, "connect_timeout": -1}));
        assert_eq!((p.delay, p.sleep, p.timeout, p.connect_timeout), (Duration::from_secs(3), Duration::from_secs(2), Duration::from_secs(10), Duration::from_secs(1)));
    }
}
