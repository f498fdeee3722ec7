//! ansible.cfg's `callbacks_enabled = timer`: the run's duration after the recap,
//! as ansible.posix.timer prints it (`Playbook run took 0 days, 0 hours, 0 minutes, 1 seconds`).

use std::time::{Duration, Instant};

use super::human::{banner_columns, banner_text, Sink};
use super::{Event, Reporter};

pub struct Timer {
    started: Instant,
    sink: Sink,
}

impl Timer {
    /// Started when the output is set up, before the first play (Ansible's starts with the callback).
    pub fn start(sink: Sink) -> Timer {
        Timer { started: Instant::now(), sink }
    }
}

impl Reporter for Timer {
    fn event(&self, event: &Event) {
        if let Event::Recap(_) = event {
            self.sink.write_line(&banner_text("PLAYBOOK RECAP", banner_columns(self.sink)));
            self.sink.write_line(&took(self.started.elapsed()));
        }
    }
}

/// Whole seconds, split as Python's timedelta: days, then hours, minutes and seconds of the rest.
fn took(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    format!("Playbook run took {days} days, {} hours, {} minutes, {} seconds", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_timer_callback_writes_them() {
        assert_eq!(took(Duration::from_millis(1999)), "Playbook run took 0 days, 0 hours, 0 minutes, 1 seconds");
        assert_eq!(took(Duration::from_secs(90_061)), "Playbook run took 1 days, 1 hours, 1 minutes, 1 seconds");
    }
}
