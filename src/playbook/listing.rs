//! What `--list-tasks`, `--list-tags` and `--start-at-task` see of a play:
//! its tasks in order as ansible-playbook lists them, tag selection, and
//! Ansible's fnmatch task patterns.

use super::{Action, Include, IncludeKind, Play, Playbook, Step, Task};

/// `--tags` / `--skip-tags` as Ansible applies them, with the special tags
/// `always`, `never`, `tagged`, `untagged` and `all`.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    /// Empty: Ansible's default, `all`.
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

/// Whether a task with `tags` runs under `filter` (Ansible's `evaluate_tags`).
pub fn tags_selected(tags: &[String], filter: &TagFilter) -> bool {
    let has = |t: &str| tags.iter().any(|x| x == t);
    let untagged = tags.is_empty();
    let named = |list: &[String], w: &str| list.iter().any(|x| x == w);
    let default_only = [String::from("all")];
    let only: &[String] = if filter.only.is_empty() { &default_only } else { &filter.only };
    let runs = has("always")
        || (named(only, "all") && !has("never"))
        || only.iter().any(|w| has(w) || (w == "untagged" && untagged))
        || (named(only, "tagged") && !untagged && !has("never"));
    let skip = &filter.skip;
    if !runs || skip.is_empty() {
        return runs;
    }
    if named(skip, "all") {
        return has("always") && !named(skip, "always");
    }
    !(skip.iter().any(|s| has(s) || (s == "untagged" && untagged)) || (named(skip, "tagged") && !untagged))
}

/// One play as `--list-tasks`/`--list-tags` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayListing {
    /// 1-based, counted across the playbook (imported plays included).
    pub number: usize,
    pub hosts: String,
    pub name: String,
    pub play_tags: Vec<String>,
    /// Each selected task's listed name and its tags with the play's, sorted.
    pub tasks: Vec<(String, Vec<String>)>,
    /// Every tag of the selected tasks and of the play, sorted.
    pub all_tags: Vec<String>,
}

/// The play's tasks that `filter` selects, as ansible-playbook lists them:
/// pre_tasks, roles, tasks, post_tasks; the `block:` part of blocks (not
/// rescue/always); dynamic includes as one entry; handlers left out.
pub fn list_play(play: &Play, number: usize, filter: &TagFilter) -> PlayListing {
    let mut tasks = Vec::new();
    for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
        collect(section, filter, &mut tasks);
    }
    let with_play_tags = |tags: &[String]| {
        let mut all: Vec<String> = play.tags.iter().chain(tags).cloned().collect();
        all.sort();
        all.dedup();
        all
    };
    let tasks: Vec<(String, Vec<String>)> = tasks.into_iter().map(|(name, tags)| (name, with_play_tags(&tags))).collect();
    let all_tags = with_play_tags(&tasks.iter().flat_map(|(_, t)| t.iter().cloned()).collect::<Vec<_>>());
    let mut play_tags = play.tags.clone();
    play_tags.sort();
    play_tags.dedup();
    PlayListing { number, hosts: play.hosts.clone(), name: play.display_name().to_string(), play_tags, tasks, all_tags }
}

fn collect(steps: &[Step], filter: &TagFilter, out: &mut Vec<(String, Vec<String>)>) {
    for step in steps {
        match step {
            Step::Task(task) if tags_selected(&task.tags, filter) => out.push((listed_name(task), task.tags.clone())),
            Step::Task(_) => {}
            Step::Block(block) => collect(&block.block, filter, out),
            Step::Include(inc) if tags_selected(&inc.tags, filter) => out.push((include_listed_name(inc), inc.tags.clone())),
            Step::Include(_) => {}
        }
    }
}

/// A named task as its banner shows it (`role : name`), an unnamed one by its action.
fn listed_name(task: &Task) -> String {
    match (&task.name, &task.action) {
        (Some(_), _) => task.display_name(),
        (None, Action::Module { written_as, .. }) => written_as.clone(),
        (None, Action::Meta(_)) => "meta".into(),
    }
}

fn include_listed_name(inc: &Include) -> String {
    match (&inc.name, &inc.kind) {
        (Some(_), _) => inc.display_name(),
        (None, IncludeKind::Tasks { .. }) => "include_tasks".into(),
        (None, IncludeKind::Role(_)) => "include_role".into(),
        (None, IncludeKind::Vars { .. }) => "include_vars".into(),
    }
}

/// Where one task's module comes from, for `stockman modules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleUse {
    /// `file:line:column` of the task.
    pub at: String,
    pub task: String,
    /// The module as written.
    pub module: String,
    /// `native`, `fallback FQCN (FILE)` or `missing: why`.
    pub source: String,
}

/// Every task of the playbook known at load time (handlers, rescue and
/// always sections included; dynamic includes are read only when they run)
/// with where its module comes from.
pub fn module_uses(playbook: &Playbook) -> Vec<ModuleUse> {
    let mut out = Vec::new();
    for play in &playbook.plays {
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            collect_uses(section, &mut out);
        }
        for handler in &play.handlers {
            if let super::Handler::Task(task) = handler {
                out.extend(module_use(task));
            }
        }
    }
    out
}

fn collect_uses(steps: &[Step], out: &mut Vec<ModuleUse>) {
    for step in steps {
        match step {
            Step::Task(task) => out.extend(module_use(task)),
            Step::Block(block) => {
                for part in [&block.block, &block.rescue, &block.always] {
                    collect_uses(part, out);
                }
            }
            Step::Include(_) => {}
        }
    }
}

fn module_use(task: &Task) -> Option<ModuleUse> {
    let Action::Module { written_as, python, .. } = &task.action else { return None };
    let source = match python {
        None => "native".to_string(),
        Some(crate::fallback::Resolved::Module(m)) => format!("fallback {} ({})", m.fqcn, m.source.display()),
        Some(crate::fallback::Resolved::Unavailable { message, .. }) => format!("missing: {message}"),
    };
    Some(ModuleUse { at: task.span.to_string(), task: task.display_name(), module: written_as.clone(), source })
}

/// `--start-at-task PATTERN`: drops every task before the first one whose
/// name (or `role : name`) equals or fnmatches the pattern, as Ansible's play
/// iterator skips them; plays before it keep only their banner (no fact
/// gathering either); the matching play gathers facts as usual. Only tasks known at load time can
/// match (not those inside `include_tasks`), as in Ansible. False when none matched.
pub fn start_at_task(playbooks: &mut [Playbook], pattern: &str) -> bool {
    let pattern = TaskPattern::new(pattern);
    for play in playbooks.iter_mut().flat_map(|pb| pb.plays.iter_mut()) {
        let mut found = false;
        for section in [&mut play.pre_tasks, &mut play.tasks, &mut play.post_tasks] {
            if found {
                break;
            }
            found = drop_before(section, &pattern);
        }
        if found {
            return true;
        }
        play.gather_facts = Some(false);
    }
    false
}

/// Removes the steps before the match; true when the match is in `steps`.
fn drop_before(steps: &mut Vec<Step>, pattern: &TaskPattern) -> bool {
    while !steps.is_empty() {
        let found = match &mut steps[0] {
            Step::Task(task) => pattern.matches(task.name.as_deref(), &task.display_name()),
            Step::Include(inc) => pattern.matches(inc.name.as_deref(), &inc.display_name()),
            Step::Block(block) => {
                if drop_before(&mut block.block, pattern) {
                    return true;
                }
                false
            }
        };
        if found {
            return true;
        }
        steps.remove(0);
    }
    false
}

/// `--start-at-task`'s pattern, compiled once for every task it is tried on.
struct TaskPattern<'p> {
    text: &'p str,
    /// None: not a valid fnmatch pattern; then only an equal name matches.
    regex: Option<regex::Regex>,
}

impl<'p> TaskPattern<'p> {
    fn new(text: &'p str) -> Self {
        TaskPattern { text, regex: stockman_modules::fnmatch::regex(text).ok() }
    }

    /// The task's own name or its `role : name` equals or fnmatches the pattern.
    fn matches(&self, name: Option<&str>, full_name: &str) -> bool {
        let is = |text: &str| text == self.text || self.regex.as_ref().is_some_and(|re| re.is_match(text));
        name.is_some_and(is) || is(full_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_selection_follows_ansible() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let only = |o: &[&str]| TagFilter { only: tags(o), skip: Vec::new() };
        assert!(tags_selected(&[], &TagFilter::default()));
        assert!(!tags_selected(&tags(&["never"]), &TagFilter::default()));
        assert!(tags_selected(&tags(&["never"]), &only(&["never", "all"])));
        assert!(tags_selected(&tags(&["always"]), &only(&["web"])));
        assert!(!tags_selected(&tags(&["db"]), &only(&["web"])));
        assert!(tags_selected(&tags(&["db"]), &only(&["tagged"])));
        assert!(!tags_selected(&tags(&["web"]), &TagFilter { only: Vec::new(), skip: tags(&["web"]) }));
    }
}
