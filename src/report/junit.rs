//! `--junit FILE`: a JUnit XML report, one `<testsuite>` per playbook and one
//! `<testcase>` per task and host. Failed and unreachable hosts are
//! `<failure>`s carrying the (censored) message; skipped hosts are `<skipped/>`.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use super::{pyjson, Event, HostResult, Reporter, Status, TaskHeader, TaskKind};

/// Collects results during the run; [`Junit::xml`] renders them at the end.
#[derive(Default)]
pub struct Junit {
    state: Mutex<Suites>,
}

#[derive(Default)]
struct Suites {
    suites: Vec<Suite>,
    play: String,
    task: Option<TaskHeader>,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    line: Option<usize>,
    time: Duration,
    outcome: Outcome,
}

enum Outcome {
    Passed,
    Skipped(String),
    Failure { kind: &'static str, message: String, detail: String },
}

impl Reporter for Junit {
    fn event(&self, event: &Event) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::PlaybookStart { path } => s.suites.push(Suite { name: path.clone(), cases: Vec::new() }),
            Event::PlayStart { name, .. } => s.play = name.clone(),
            Event::TaskStart(header) => s.task = Some(header.clone()),
            Event::HostResult(r) => {
                let case = case_for(&s.play, s.task.as_ref(), r);
                if s.suites.is_empty() {
                    s.suites.push(Suite { name: "stockman".into(), cases: Vec::new() });
                }
                if let Some(suite) = s.suites.last_mut() {
                    suite.cases.push(case);
                }
            }
            _ => {}
        }
    }
}

fn case_for(play: &str, task: Option<&TaskHeader>, r: &HostResult) -> Case {
    let task_name = task.map(|t| t.name.as_str()).unwrap_or("");
    let prefix = if task.is_some_and(|t| t.kind == TaskKind::Handler) { "handler " } else { "" };
    let span = task.and_then(|t| t.span.as_ref());
    Case {
        name: format!("[{}] {play}: {prefix}{task_name}", r.host),
        classname: span.map(|s| s.file.to_string()).unwrap_or_else(|| play.to_string()),
        file: span.map(|s| s.file.to_string()),
        line: span.map(|s| s.line),
        time: r.duration.unwrap_or_default(),
        outcome: outcome_of(r),
    }
}

/// Only the censored view of the result reaches the report.
fn outcome_of(r: &HostResult) -> Outcome {
    let visible = r.visible();
    let text = |key: &str| visible.get(key).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let message = || text("msg").or_else(|| text("censored")).unwrap_or_default();
    match r.status {
        Status::Failed if r.ignored => Outcome::Passed,
        Status::Failed | Status::Unreachable => Outcome::Failure {
            kind: if r.status == Status::Failed { "failed" } else { "unreachable" },
            message: message(),
            detail: pyjson::dumps(&Value::Object(visible.iter().filter(|(k, _)| k.as_str() != "diff").map(|(k, v)| (k.clone(), v.clone())).collect()), Some(4)),
        },
        Status::Skipped => Outcome::Skipped(text("skip_reason").or_else(|| text("skipped_reason")).unwrap_or_default()),
        Status::Ok | Status::Changed => Outcome::Passed,
    }
}

impl Junit {
    /// The whole report as an XML document.
    pub fn xml(&self) -> String {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let all: Vec<&Case> = s.suites.iter().flat_map(|suite| &suite.cases).collect();
        let _ = writeln!(out, "<testsuites name=\"stockman\" {}>", counts(&all));
        for suite in &s.suites {
            let cases: Vec<&Case> = suite.cases.iter().collect();
            let _ = writeln!(out, "  <testsuite name=\"{}\" {}>", escape(&suite.name), counts(&cases));
            for case in &suite.cases {
                write_case(&mut out, case);
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }
}

fn counts(cases: &[&Case]) -> String {
    let failures = cases.iter().filter(|c| matches!(c.outcome, Outcome::Failure { .. })).count();
    let skipped = cases.iter().filter(|c| matches!(c.outcome, Outcome::Skipped(_))).count();
    let time: Duration = cases.iter().map(|c| c.time).sum();
    format!("tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{}\"", cases.len(), seconds(time))
}

fn write_case(out: &mut String, case: &Case) {
    let mut attrs = format!("name=\"{}\" classname=\"{}\"", escape(&case.name), escape(&case.classname));
    if let (Some(file), Some(line)) = (&case.file, case.line) {
        let _ = write!(attrs, " file=\"{}\" line=\"{line}\"", escape(file));
    }
    let _ = write!(attrs, " time=\"{}\"", seconds(case.time));
    match &case.outcome {
        Outcome::Passed => {
            let _ = writeln!(out, "    <testcase {attrs}/>");
        }
        Outcome::Skipped(reason) => {
            let _ = writeln!(out, "    <testcase {attrs}>\n      <skipped message=\"{}\"/>\n    </testcase>", escape(reason));
        }
        Outcome::Failure { kind, message, detail } => {
            let _ = writeln!(
                out,
                "    <testcase {attrs}>\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                escape(message),
                escape(detail)
            );
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes text for both attributes and element content. Characters XML 1.0
/// cannot carry at all (most control characters) become U+FFFD; newlines and
/// tabs are written as references so attribute values keep them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(escape("a<b>&\"c'\n\u{1b}[0m"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{FFFD}[0m");
    }
}
