//! `--step`: ansible-playbook's question before each task.

use crate::playbook::Task;
use crate::report::Event;

use super::{prompt, Executor};

impl Executor<'_> {
    /// Whether to run `task`: always without `--step`; else the terminal's
    /// answer (y/yes runs it, c/continue runs it and stops asking, anything
    /// else, or no answer, skips it), echoed as a banner as Ansible does.
    pub(super) fn take_step(&mut self, task: &Task) -> bool {
        if !self.stepping {
            return true;
        }
        let question = format!("Perform task: TASK: {} (N)o/(y)es/(c)ontinue: ", task.display_name());
        let answer = prompt::read_answer(&question, false).unwrap_or_default().trim().to_lowercase();
        let run = match answer.as_str() {
            "y" | "yes" => true,
            "c" | "continue" => {
                self.stepping = false;
                true
            }
            _ => false,
        };
        self.emit(Event::Banner(question.trim_end().to_string()));
        run
    }
}
