//! `stockman merge`: one recap, exit code and JUnit report from the shards of a `--shard` run.

use std::path::PathBuf;

use clap::Args;

use crate::report::{self, human::{Human, Sink}, junit::Junit, merge, Event, Reporter as _};

pub const EXAMPLES: &str = "\
Examples:
  stockman merge events-*.jsonl
  stockman merge --junit report.xml --detailed-exitcode shard-0.jsonl shard-1.jsonl shard-2.jsonl";

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' `stockman playbook --shard I/N --output json` streams (all N of them).
    #[arg(required = true, value_name = "EVENTS")]
    streams: Vec<PathBuf>,
    /// Write one JUnit XML report of the whole run to FILE.
    #[arg(long = "junit", value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Exit as `playbook --check --detailed-exitcode` would: 0 no drift, 2 drift, 1 a host failed, 4 one was unreachable.
    #[arg(long = "detailed-exitcode")]
    detailed_exitcode: bool,
    /// No colour, even on a terminal (NO_COLOR works too).
    #[arg(long = "no-color")]
    no_color: bool,
}

/// Prints the whole run's recap as `playbook` does and returns its exit code.
pub fn run(args: MergeArgs) -> u8 {
    let merged = match merge::merge(&args.streams, args.detailed_exitcode) {
        Ok(m) => m,
        Err(e) => return report::error::fatal(&e.to_string(), 1),
    };
    for host in &merged.overlapping {
        report::error::warning(&format!("host `{host}` is in the recaps of more than one shard (added by add_host under --shard-unsafe?): its counters are summed"));
    }
    Human::to(Sink::Stdout, 0, args.no_color, false).event(&Event::Recap(merged.stats.clone()));
    if let Some(path) = &args.junit {
        let junit = Junit::default();
        for event in &merged.events {
            junit.event(event);
        }
        if let Err(e) = std::fs::write(path, junit.xml()) {
            return report::error::fatal(&format!("cannot write the JUnit report `{}`: {e}", path.display()), 1);
        }
    }
    u8::try_from(merged.code).unwrap_or(1)
}
