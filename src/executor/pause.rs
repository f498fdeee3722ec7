//! `pause`: waits on the controller, once for all the play's hosts (Ansible
//! bypasses the host loop; the result is every host's), for some seconds or
//! minutes, or until Enter is pressed on the terminal.
//!
//! As in ansible-core 2.19: a timed pause shows "Pausing for N seconds" and
//! waits whether or not there is a terminal; an untimed one with no terminal
//! warns and goes on at once. Differences: typing during a timed pause does
//! nothing (Ansible's Ctrl+C then C/A is not offered: Ctrl+C stops stockman).

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use stockman_modules::{args::value_to_string, Args, ModuleResult};

use super::prompt::{interactive, read_answer};
use crate::report::{Event, Reporter};

const INTERRUPT_HELP: &str = "(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r";

/// How long to pause, as Ansible reads `seconds`/`minutes`.
#[derive(Debug, PartialEq)]
struct Length {
    seconds: Option<u64>,
    /// The unit of the "Paused for" summary.
    unit: &'static str,
}

pub(super) async fn run(args: &Args, task_name: &str, reporter: &dyn Reporter) -> ModuleResult {
    let length = match length(args) {
        Ok(length) => length,
        Err(message) => return ModuleResult::failed(message),
    };
    let echo = match args.bool("echo", true) {
        Ok(echo) => echo,
        Err(e) => return ModuleResult::failed(e.to_string()),
    };
    let echo_note = if echo { "" } else { " (output is hidden)" };
    let custom = args.str("prompt").filter(|p| !p.is_empty());
    let mut question = format!("[{}]\n{}{echo_note}:", task_name.trim(), custom.as_deref().unwrap_or("Press enter to continue, Ctrl+C to interrupt"));
    let show = |text: String| reporter.event(&Event::Display(text));
    let started_at = SystemTime::now();
    let start = Instant::now();
    if let Some(seconds) = length.seconds {
        show(format!("Pausing for {seconds} seconds{echo_note}"));
        if custom.is_some() {
            show(INTERRUPT_HELP.into());
        } else {
            question = INTERRUPT_HELP.into();
        }
    }
    let mut user_input = String::new();
    match (interactive(), length.seconds) {
        (true, Some(seconds)) => {
            show(question);
            tokio::time::sleep(Duration::from_secs(seconds)).await;
        }
        (true, None) => {
            show(question);
            match tokio::task::spawn_blocking(move || read_answer("", !echo)).await {
                Ok(Ok(line)) => user_input = line,
                Ok(Err(e)) => return ModuleResult::failed(format!("pause: cannot read the terminal: {e}")),
                Err(e) => return ModuleResult::failed(format!("pause: {e}")),
            }
        }
        (false, Some(seconds)) => tokio::time::sleep(Duration::from_secs(seconds)).await,
        (false, None) => reporter.event(&Event::Warning("Not waiting for response to prompt as stdin is not interactive".into())),
    }
    let elapsed = start.elapsed().as_secs_f64();
    let shown = if length.unit == "minutes" { elapsed / 60.0 } else { elapsed };
    ModuleResult::ok()
        .with("rc", 0)
        .with("stderr", "")
        .with("stdout", format!("Paused for {} {}", python_float(round2(shown)), length.unit))
        .with("start", stockman_modules::clock::format_timestamp(started_at))
        .with("stop", stockman_modules::clock::format_timestamp(SystemTime::now()))
        .with("delta", elapsed as u64)
        .with("echo", echo)
        .with("user_input", user_input)
}

/// `seconds` or `minutes` (not both; at least 1 second), else an untimed pause.
fn length(args: &Args) -> Result<Length, String> {
    if args.get("seconds").is_some() && args.get("minutes").is_some() {
        return Err("parameters are mutually exclusive: minutes|seconds".into());
    }
    let (seconds, unit) = match (args.get("minutes"), args.get("seconds")) {
        (Some(m), _) => (Some(whole(m, "minutes")? * 60), "minutes"),
        (None, Some(s)) => (Some(whole(s, "seconds")?), "seconds"),
        (None, None) => (None, "minutes"),
    };
    Ok(Length { seconds: seconds.map(|s| s.max(1) as u64), unit })
}

/// Python's `int()` of the value: numbers are truncated, strings must be whole.
fn whole(value: &Value, name: &str) -> Result<i64, String> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        other => value_to_string(other).trim().parse().ok(),
    }
    .ok_or_else(|| format!("argument '{name}' is of type {} and we were unable to convert to int", python_type(value)))
}

fn python_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "str",
        Value::Bool(_) => "bool",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
        _ => "float",
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A float as Python prints it: `2.0`, `2.01`.
fn python_float(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        Args::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn minutes_become_seconds_and_short_pauses_last_a_second() {
        assert_eq!(length(&args(json!({"minutes": 2}))).unwrap(), Length { seconds: Some(120), unit: "minutes" });
        assert_eq!(length(&args(json!({"seconds": "0"}))).unwrap(), Length { seconds: Some(1), unit: "seconds" });
        assert_eq!(length(&args(json!({"seconds": 2.7}))).unwrap(), Length { seconds: Some(2), unit: "seconds" });
        assert_eq!(length(&args(json!({}))).unwrap(), Length { seconds: None, unit: "minutes" });
    }

    #[test]
    fn refusals_match_ansible() {
        assert_eq!(length(&args(json!({"minutes": 1, "seconds": 1}))).unwrap_err(), "parameters are mutually exclusive: minutes|seconds");
        assert!(length(&args(json!({"seconds": "soon"}))).unwrap_err().contains("unable to convert to int"));
    }

    #[test]
    fn summaries_print_floats_as_python() {
        assert_eq!(python_float(round2(2.004)), "2.0");
        assert_eq!(python_float(round2(0.034)), "0.03");
    }
}
