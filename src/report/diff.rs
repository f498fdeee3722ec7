//! `--diff` text: a [`FileDiff`] as the unified diff Ansible's callbacks print.

use stockman_modules::FileDiff;

/// The unified diff of one before/after pair; None when nothing differs.
pub fn unified(diff: &FileDiff) -> Option<String> {
    if diff.before == diff.after {
        return None;
    }
    let header = |prefix: &str, h: &str| if h.is_empty() { prefix.to_string() } else { format!("{prefix}: {h}") };
    let text = similar::TextDiff::from_lines(&diff.before, &diff.after)
        .unified_diff()
        .context_radius(3)
        .header(&header("before", &diff.before_header), &header("after", &diff.after_header))
        .to_string();
    Some(text.trim_end_matches('\n').to_string())
}
