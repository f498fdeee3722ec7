//! `environment:` variables set for every command a module runs on the host.
//!
//! The play's, then the enclosing blocks', then the task's mapping (later
//! names win), templated per host. Each command becomes
//! `env 'NAME=value'... /bin/sh -c '<command>'`, built with the one quoting
//! builder, so values stay data and the whole command (a `cd && ...` chain,
//! a script) sees them. Inside `become`, the wrapper runs as the become user.

use serde_json::{Map, Value};
use stockman_modules::shell::Cmd;
use stockman_modules::{ExecOutput, Target, TargetError};

use crate::playbook::{Play, Task};
use crate::template::Templar;

/// `NAME=value` assignments, in order, names already validated.
pub(super) type Assignments = Vec<String>;

/// The task's environment for this host; an error names the bad entry.
pub(super) fn task_environment(templar: &Templar, play: &Play, task: &Task, ctx: &minijinja::Value) -> Result<Assignments, String> {
    let mut merged = Map::new();
    for layer in play.environment.iter().chain(&task.environment) {
        let rendered = templar.render_value(layer, ctx).map_err(|e| format!("environment: {}", e.message))?;
        match rendered {
            Value::Object(vars) => merged.extend(vars),
            Value::Null => {}
            other => return Err(format!("environment must be a mapping of variable names to values, got {}", crate::playbook::value_kind(&other))),
        }
    }
    merged.into_iter().map(|(name, value)| assignment(&name, &value)).collect()
}

fn assignment(name: &str, value: &Value) -> Result<String, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("environment variable name `{name}` is not valid (use letters, digits and `_`, not starting with a digit)"));
    }
    let text = match value {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => stockman_modules::args::value_to_string(other),
    };
    Ok(format!("{name}={text}"))
}

/// A target whose commands run with the task's environment.
pub(super) struct WithEnv<'a, T> {
    pub inner: &'a T,
    pub vars: &'a [String],
}

impl<T: Target> Target for WithEnv<'_, T> {
    async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, TargetError> {
        if self.vars.is_empty() {
            return self.inner.exec(command, stdin).await;
        }
        self.inner.exec(&wrap(self.vars, command), stdin).await
    }

    async fn exec_file_stdin(&self, command: &str, source: &std::path::Path) -> Result<Option<ExecOutput>, TargetError> {
        if self.vars.is_empty() {
            return self.inner.exec_file_stdin(command, source).await;
        }
        self.inner.exec_file_stdin(&wrap(self.vars, command), source).await
    }
}

fn wrap(vars: &[String], command: &str) -> String {
    // Each assignment is one quoted word; `env` splits it at the first `=`.
    Cmd::new("env").args(vars).flag("/bin/sh").flag("-c").arg(command).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_quoted_and_the_command_kept_whole() {
        let vars = vec![assignment("GREETING", &json!("it's $(id) `x`; y")).unwrap(), assignment("N", &json!(3)).unwrap()];
        assert_eq!(wrap(&vars, "cd /tmp && echo \"$GREETING\""), r#"env 'GREETING=it'\''s $(id) `x`; y' N=3 /bin/sh -c 'cd /tmp && echo "$GREETING"'"#);
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["1A", "A-B", "", "A B", "A=B", "$(x)"] {
            assert!(assignment(bad, &json!("v")).is_err(), "{bad}");
        }
        assert_eq!(assignment("_ok9", &json!(true)).unwrap(), "_ok9=True");
    }
}
