//! `debug`: show a message or a variable's value; never changes anything.

use serde_json::Value;

use crate::{Args, Controller, ModuleError, ModuleResult};
use crate::spec::{p, Param, Rules};

/// Ansible's placeholder for a variable that does not evaluate.
pub const UNDEFINED: &str = "VARIABLE IS NOT DEFINED!";

/// The debug action's spec: `msg` is any value, `var` a name.
pub const PARAMS: &[Param] = &[p("msg").default("Hello world!"), p("var").str(), p("verbosity").int().default("0")];

pub const RULES: Rules = Rules { mutually_exclusive: &[&["msg", "var"]], ..Rules::NONE };

/// `msg` (any value, default "Hello world!") lands in `data.msg`; `var: name`
/// lands in `data[name]`. `verbosity` is the engine's business.
pub fn run(args: &Args, controller: &dyn Controller) -> Result<ModuleResult, ModuleError> {
    // `msg` with `var` is refused by the validator ([`RULES`]); `var` wins here.
    match (args.get("msg"), args.str("var")) {
        (_, Some(var)) => {
            let value = match controller.eval_var(&var) {
                Ok(value) => value,
                Err(e) if e.undefined => Value::String(UNDEFINED.into()),
                // Any other error (a filter's, variables whose templates use
                // each other: the templar never marks those undefined) fails
                // the task, as in Ansible.
                Err(e) => return Err(ModuleError::BadArgs(e.message)),
            };
            Ok(ModuleResult::ok().with(&var, value))
        }
        (msg, None) => {
            let msg = msg
                .cloned()
                .unwrap_or_else(|| Value::String("Hello world!".into()));
            Ok(ModuleResult::ok().with("msg", msg))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use crate::EvalError;

    struct Vars;

    impl Controller for Vars {
        fn read_src(&self, _: &str) -> Result<Vec<u8>, String> {
            Err("no files".into())
        }
        fn render_template(&self, _: &str) -> Result<String, String> {
            Err("no templates".into())
        }
        fn eval_var(&self, expr: &str) -> Result<Value, EvalError> {
            match expr {
                "answer" => Ok(json!(42)),
                "answer | bad" => Err(EvalError { undefined: false, message: "bad: no such filter".into() }),
                _ => Err(EvalError::undefined(format!("'{expr}' is undefined"))),
            }
        }
    }

    fn debug(args: Value) -> Result<ModuleResult, ModuleError> {
        run(&Args::new(args.as_object().unwrap().clone()), &Vars)
    }

    #[test]
    fn msg_defaults_to_hello_world() {
        let r = debug(json!({})).unwrap();
        assert_eq!(r.data["msg"], json!("Hello world!"));
        assert!(!r.changed && !r.failed);
    }

    #[test]
    fn msg_can_be_any_value() {
        assert_eq!(
            debug(json!({"msg": [1, {"a": 2}]})).unwrap().data["msg"],
            json!([1, {"a": 2}])
        );
    }

    #[test]
    fn var_shows_value_or_ansible_placeholder() {
        assert_eq!(
            debug(json!({"var": "answer"})).unwrap().data["answer"],
            json!(42)
        );
        assert_eq!(
            debug(json!({"var": "nope"})).unwrap().data["nope"],
            json!(UNDEFINED)
        );
    }

    #[test]
    fn var_fails_the_task_on_errors_other_than_undefined() {
        match debug(json!({"var": "answer | bad"})) {
            Err(ModuleError::BadArgs(msg)) => assert_eq!(msg, "bad: no such filter"),
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn msg_and_var_are_exclusive() {
        let spec = crate::spec::lookup("debug").unwrap();
        let err = crate::validate::checked(spec, json!({"msg": "x", "var": "answer"}).as_object().unwrap()).unwrap_err();
        assert_eq!(err.message("debug"), "parameters are mutually exclusive: msg|var");
    }
}
