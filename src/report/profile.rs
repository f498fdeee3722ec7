//! `--profile`: how long each task took, like Ansible's profile_tasks
//! callback: a timing line under each task banner (the previous task's time,
//! then the total so far) and the slowest tasks after the recap.

use std::time::{Duration, Instant};

/// How many tasks the summary lists, as profile_tasks does by default.
const SLOWEST: usize = 20;

/// Task timings of one run.
pub struct Clock {
    run_started: Instant,
    current: Option<(String, Instant)>,
    done: Vec<(String, Duration)>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { run_started: Instant::now(), current: None, done: Vec::new() }
    }
}

impl Clock {
    /// Closes the running task (if any) and starts timing `name`; returns the
    /// line to print under its banner.
    pub fn start(&mut self, name: &str) -> String {
        let previous = self.stop().unwrap_or_default();
        self.current = Some((name.to_string(), Instant::now()));
        timing_line(previous, self.run_started.elapsed())
    }

    /// Ends the running task; returns its time.
    pub fn stop(&mut self) -> Option<Duration> {
        let (name, started) = self.current.take()?;
        let took = started.elapsed();
        self.done.push((name, took));
        Some(took)
    }

    /// The closing timing line and the slowest tasks, `columns` wide.
    pub fn summary(&mut self, columns: usize) -> String {
        let last = self.stop().unwrap_or_default();
        let mut lines = vec![timing_line(last, self.run_started.elapsed()), "=".repeat(columns)];
        let mut slowest = self.done.clone();
        slowest.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
        for (name, took) in slowest.into_iter().take(SLOWEST) {
            lines.push(dotted(&name, took, columns));
        }
        lines.join("\n")
    }
}

/// `(0:00:01.505)       0:00:03.021`: the previous task, then the run so far.
fn timing_line(previous: Duration, total: Duration) -> String {
    format!("({})       {}", clock(previous), clock(total))
}

fn clock(d: Duration) -> String {
    let ms = d.as_millis();
    format!("{}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// `name ----------- 1.23s`, right-aligned to `columns`.
fn dotted(name: &str, took: Duration, columns: usize) -> String {
    let time = format!(" {:.2}s", took.as_secs_f64());
    let fill = columns.saturating_sub(time.len() + name.chars().count() + 1).max(3);
    format!("{name} {}{time}", "-".repeat(fill))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_profile_tasks() {
        assert_eq!(clock(Duration::from_millis(3_723_045)), "1:02:03.045");
        let line = dotted("copy", Duration::from_millis(1234), 20);
        assert_eq!(line.len(), 20);
        assert_eq!(line, "copy --------- 1.23s");
    }

    #[test]
    fn summary_lists_the_slowest_first() {
        let mut c = Clock { done: vec![("fast".into(), Duration::from_millis(10)), ("slow".into(), Duration::from_millis(900))], ..Clock::default() };
        let text = c.summary(30);
        let slow = text.find("slow ").unwrap();
        let fast = text.find("fast ").unwrap();
        assert!(slow < fast, "{text}");
    }
}
