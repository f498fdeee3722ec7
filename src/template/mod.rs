//! The minijinja environment, configured like Ansible's Jinja2.
//!
//! - Undefined variables are errors naming the variable (except under
//!   `default`, `is defined` and friends).
//! - A string that renders to one `{{ expression }}` alone keeps the
//!   expression's native type (`"{{ my_list }}\n"` stays a list), and text
//!   beside it keeps the result a string, as in ansible-core ([`native`]).
//! - Backslashes in string literals inside `{{ }}` of a templated value stay
//!   as written, as in ansible-core ([`backslashes`]).
//! - No HTML auto-escaping; `trim_blocks` and a kept trailing newline for
//!   template files, as Ansible's template module does.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value as Jinja};
use serde_json::Value;

mod backslashes;
pub(crate) mod budget;
mod chains;
mod filters;
mod fqcn;
pub(crate) use filters::py;
pub(crate) use filters::yaml_emit;
mod jinja_tests;
mod lookups;
mod methods;
mod native;
pub(crate) mod recursion;
mod undefined;
pub use lookups::{check_available as lookup_available, max_items, names as lookup_names, unfrack, MAX_ITEMS_VAR};

/// A template that could not be rendered.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    /// A variable was undefined: a loop defers this error past a false `when`, as Ansible does.
    pub undefined: bool,
}

/// Renders strings, values, conditions and template files.
#[derive(Debug)]
pub struct Templar {
    env: Environment<'static>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Bounds a template that would never end (a huge range loop).
        env.set_fuel(Some(50_000_000));
        let syntax = SyntaxConfig::builder().trim_blocks(true).keep_trailing_newline(true).build();
        env.set_syntax(syntax.expect("static syntax config is valid"));
        filters::register(&mut env);
        // Values inside text print as Python's str() would: True, [1, 'a'].
        env.set_formatter(native::format_node);
        // `path.startswith(dir)`, `d.items()`: Python's methods, as in Ansible.
        env.set_unknown_method_callback(methods::call);
        jinja_tests::register(&mut env);
        fqcn::register(&mut env);
        lookups::register(&mut env);
        env.add_function(chains::CHAIN_FN, chains::lookup_chain);
        // Loops over it check the bound on what a render may build.
        env.add_function("range", budget::range);
        Self { env }
    }

    /// Builds the variable context handed to every render.
    pub fn context(vars: &serde_json::Map<String, Value>) -> Jinja {
        Jinja::from(minijinja::value::Serde(vars))
    }

    /// Templates every string inside `value`, recursively.
    pub fn render_value(&self, value: &Value, ctx: &Jinja) -> Result<Value, TemplateError> {
        match value {
            Value::String(s) => self.render_str(s, ctx),
            Value::Array(items) => items.iter().map(|v| self.render_value(v, ctx)).collect::<Result<_, _>>().map(Value::Array),
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.render_value(v, ctx)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// Templates one string; its result's type follows [`native`].
    pub fn render_str(&self, text: &str, ctx: &Jinja) -> Result<Value, TemplateError> {
        self.render_native(text, ctx, Backslashes::AsWritten)
    }

    fn render_native(&self, text: &str, ctx: &Jinja, backslashes: Backslashes) -> Result<Value, TemplateError> {
        if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
            return Ok(Value::String(text.to_string()));
        }
        let body = native::body(text);
        let source = match backslashes {
            Backslashes::AsWritten => backslashes::keep_literal_backslashes(body),
            Backslashes::Jinja => body.into(),
        };
        let render = |source: &str| {
            let template = self.env.template_from_str(source)?;
            let mut out = budget::BoundedOutput(Vec::new());
            let captured = template.render_captured_to(ctx.clone(), &mut out)?;
            let output = String::from_utf8(std::mem::take(&mut out.0)).map_err(|_| minijinja::Error::new(ErrorKind::InvalidOperation, "the output is not UTF-8"))?;
            native::value(text, &output, captured.state())
        };
        let value = self.chained(&source, true, render).map_err(|e| self.explain(e, text, ctx))?;
        serde_json::to_value(&value).map_err(|e| TemplateError { undefined: false, message: format!("cannot convert the result of `{text}`: {e}") })
    }

    /// A task's name as its banner shows it, templated best-effort as
    /// ansible-core 2.19 does: each `{{ }}` that fails becomes
    /// `<< error N - why >>` (the whole name when it holds `{% %}`); the
    /// reasons come back for one warning.
    pub fn render_name(&self, name: &str, ctx: &Jinja) -> (String, Vec<String>) {
        let as_text = |v: Value| match v {
            Value::String(s) => s,
            other => py::to_str(&other),
        };
        if let Ok(value) = self.render_str(name, ctx) {
            return (as_text(value), Vec::new());
        }
        let mut errors = Vec::new();
        let mut marker = |e: TemplateError| {
            errors.push(e.message.split(" (in `").next().unwrap_or_default().to_string());
            format!("<< error {} - {} >>", errors.len(), errors[errors.len() - 1])
        };
        if name.contains("{%") || name.contains("{#") {
            let e = self.render_str(name, ctx).err().unwrap_or(TemplateError { undefined: false, message: String::new() });
            let text = marker(e);
            return (text, errors);
        }
        let mut out = String::new();
        let mut rest = name;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}").map(|end| end + 2) else { break };
            out.push_str(&rest[..start]);
            let expr = &rest[start..start + len];
            out.push_str(&match self.render_str(expr, ctx) {
                Ok(v) => as_text(v),
                Err(e) => marker(e),
            });
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        (out, errors)
    }

    /// Runs `render` on `source`; when that fails on an undefined value, runs
    /// it once more with the lookup chains under `default`/`is defined`
    /// rewritten to be lenient (see [`chains`]). The first error stands if
    /// the second run fails too.
    /// A loop of variables found during either run fails the render (see
    /// [`recursion`]), as a render over its bound does (see [`budget`]).
    fn chained<T>(&self, source: &str, template: bool, render: impl Fn(&str) -> Result<T, minijinja::Error>) -> Result<T, minijinja::Error> {
        recursion::guard(|| {
            budget::within(|| match render(source) {
                Err(e) if e.kind() == ErrorKind::UndefinedError => match chains::rewrite(source, template) {
                    Some(lenient) => render(&lenient).map_err(|_| e),
                    None => Err(e),
                },
                other => other,
            })
        })
    }

    /// Renders a template file's source (the `template` module).
    pub fn render_file(&self, name: &str, source: &str, ctx: &Jinja) -> Result<String, TemplateError> {
        self.chained(source, true, |text| self.render_bounded(name, text, ctx)).map_err(|e| self.explain(e, source, ctx))
    }

    /// Renders `source` into output of at most [`budget::limit`] bytes.
    fn render_bounded(&self, name: &str, source: &str, ctx: &Jinja) -> Result<String, minijinja::Error> {
        let template = self.env.template_from_named_str(name, source)?;
        let mut out = budget::BoundedOutput(Vec::new());
        template.render_captured_to(ctx.clone(), &mut out)?;
        String::from_utf8(out.0).map_err(|_| minijinja::Error::new(ErrorKind::InvalidOperation, "the output is not UTF-8"))
    }

    /// Evaluates a bare expression (`when:`, `debug: var=`).
    pub fn eval(&self, expr: &str, ctx: &Jinja) -> Result<Value, TemplateError> {
        let evaluate = |source: &str| self.env.compile_expression(source)?.eval(ctx);
        let value = self.chained(expr, false, evaluate).map_err(|e| self.explain(e, expr, ctx))?;
        if value.is_undefined() {
            return Err(self.undefined_error(expr, ctx));
        }
        if value.as_str().is_some_and(|text| text.len() > budget::limit()) {
            return Err(self.explain(budget::exceeded_error(), expr, ctx));
        }
        serde_json::to_value(&value).map_err(|e| TemplateError { undefined: false, message: format!("cannot convert the result of `{expr}`: {e}") })
    }

    /// The items of `with_<name>: terms` (already templated) on a task running
    /// `action`: the lookup called as Ansible's loop calls it.
    pub fn with_lookup(&self, name: &str, terms: &Value, action: &str, ctx: &Jinja) -> Result<Vec<Value>, TemplateError> {
        let locals = minijinja::context! { __with_name => name, __with_terms => Jinja::from(minijinja::value::Serde(terms)), __with_action => action };
        let scope = minijinja::value::merge_maps([locals, ctx.clone()]);
        let expr = format!("{}(__with_name, __with_terms, __with_action)", lookups::WITH_FN);
        let value = self.env.compile_expression(&expr).and_then(|e| e.eval(scope));
        let value = value.map_err(|e| TemplateError { undefined: false, message: e.detail().map(str::to_string).unwrap_or_else(|| e.to_string()) })?;
        match serde_json::to_value(&value) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(other) => Ok(vec![other]),
            Err(e) => Err(TemplateError { undefined: false, message: format!("cannot convert the items of `with_{name}`: {e}") }),
        }
    }

    /// Evaluates a `when:` condition. A condition written with `{{ }}` is
    /// templated first, as Ansible does.
    pub fn eval_condition(&self, condition: &str, ctx: &Jinja) -> Result<bool, TemplateError> {
        let expr = condition.trim();
        // A condition is an expression to Ansible: Jinja's escapes apply.
        let value = if expr.contains("{{") { self.render_native(expr, ctx, Backslashes::Jinja)? } else { self.eval(expr, ctx)? };
        Ok(truthy(&value))
    }

    /// Rewrites minijinja's error into Ansible's wording, naming the variable.
    fn explain(&self, e: minijinja::Error, source: &str, ctx: &Jinja) -> TemplateError {
        if let Some(message) = recursion::message(&e).or_else(|| budget::message(&e)) {
            return TemplateError { undefined: false, message };
        }
        if e.kind() == ErrorKind::UndefinedError {
            return self.undefined_error(source, ctx);
        }
        let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
        TemplateError { undefined: false, message: format!("template error while templating `{source}`: {}{detail}", e.kind()) }
    }

    fn undefined_error(&self, source: &str, ctx: &Jinja) -> TemplateError {
        let is_template = source.contains("{{") || source.contains("{%");
        let names = if is_template {
            self.env.template_from_str(source).map(|t| t.undeclared_variables(false))
        } else {
            self.env.compile_expression(source).map(|e| e.undeclared_variables(false))
        };
        let mut missing: Vec<String> = names
            .unwrap_or_default()
            .into_iter()
            .filter(|name| ctx.get_attr(name).map(|v| v.is_undefined()).unwrap_or(true))
            .filter(|name| self.env.globals().all(|(g, _)| g != name))
            .collect();
        missing.sort();
        let message = match missing.first() {
            Some(name) => format!("'{name}' is undefined (in `{source}`)"),
            None => match undefined::missing_attribute(source, ctx) {
                Some(missing) => format!("{missing} (in `{source}`)"),
                None => format!("an attribute or key is undefined in `{source}`"),
            },
        };
        TemplateError { undefined: true, message }
    }
}

/// Ansible's warning for the errors [`Templar::render_name`] marked, if any.
pub fn name_errors_warning(errors: &[String], origin: &impl std::fmt::Display) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let plural = if errors.len() > 1 { "s" } else { "" };
    let listed: Vec<String> = errors.iter().enumerate().map(|(i, e)| format!("error {} - {e}", i + 1)).collect();
    Some(format!("Encountered {} template error{plural}.\n{}\nOrigin: {origin}", errors.len(), listed.join("\n")))
}

/// Whether a value holds a template anywhere (a string with `{{` or `{%`).
pub fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{") || s.contains("{%"),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

/// How backslashes in string literals inside `{{ }}` read.
#[derive(Clone, Copy)]
enum Backslashes {
    /// As written, for values from YAML ([`backslashes`]).
    AsWritten,
    /// As Jinja's escapes (`'\n'` a newline), for conditions.
    Jinja,
}

/// Jinja truthiness, with Ansible's boolean strings for string results.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => stockman_modules::args::parse_bool(value).unwrap_or(!s.is_empty()),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Jinja {
        Templar::context(v.as_object().unwrap())
    }

    #[test]
    fn single_expressions_keep_native_types() {
        let t = Templar::new();
        let c = ctx(json!({"xs": [1, 2], "n": 3}));
        assert_eq!(t.render_str("{{ xs }}", &c).unwrap(), json!([1, 2]));
        assert_eq!(t.render_str("{{ n + 1 }}", &c).unwrap(), json!(4));
        assert_eq!(t.render_str("n={{ n }}", &c).unwrap(), json!("n=3"));
    }

    #[test]
    fn text_beside_a_lone_expression_keeps_the_result_a_string() {
        let t = Templar::new();
        let c = ctx(json!({"x": "hi", "n": 5, "l": [1], "z": null, "xn": "hi\n"}));
        let cases = [
            ("{{ x }}\n", json!("hi\n")),
            (" {{ x }}", json!(" hi")),
            ("{{ x }}\n\n", json!("hi\n\n")),
            ("{{ xn }}\n", json!("hi\n")),
            ("{{ n }}\n", json!(5)),
            ("{{ n }} ", json!("5 ")),
            ("{{ n }}\n\n", json!("5\n\n")),
            ("{{ l }}\n", json!([1])),
            ("{% if true %}{{ l }}{% endif %}", json!([1])),
            ("{{ '' }}{{ n }}", json!("5")),
            ("{{ z }}", json!(null)),
            ("a{{ z }}", json!("a")),
            ("{% if false %}x{% endif %}", json!(null)),
        ];
        for (text, want) in cases {
            assert_eq!(t.render_str(text, &c).unwrap(), want, "{text:?}");
        }
    }

    #[test]
    fn undefined_names_the_variable() {
        let t = Templar::new();
        let e = t.render_str("hello {{ nobody }}", &ctx(json!({}))).unwrap_err();
        assert!(e.message.contains("'nobody' is undefined"), "{}", e.message);
        let e = t.eval_condition("missing_flag", &ctx(json!({}))).unwrap_err();
        assert!(e.message.contains("'missing_flag' is undefined"), "{}", e.message);
    }

    #[test]
    fn default_and_defined_tolerate_undefined() {
        let t = Templar::new();
        let c = ctx(json!({}));
        assert_eq!(t.render_str("{{ x | default('d') }}", &c).unwrap(), json!("d"));
        assert!(!t.eval_condition("x is defined", &c).unwrap());
    }

    #[test]
    fn undefined_chains_under_default_and_defined() {
        let t = Templar::new();
        let c = ctx(json!({"a": {"x": 1}, "items": [{"k": 1}, {}]}));
        assert_eq!(t.render_str("{{ nope.attr | default('x') }}", &c).unwrap(), json!("x"));
        assert_eq!(t.render_str("v={{ a.b.c | d('y') }}", &c).unwrap(), json!("v=y"));
        assert!(!t.eval_condition("a.b.c is defined", &c).unwrap());
        assert!(t.eval_condition("nope.attr is undefined", &c).unwrap());
        let looped = t.render_file("f", "{% for i in items %}{{ i.k.z | default('-') }}{% endfor %}", &c).unwrap();
        assert_eq!(looped, "--");
        let e = t.render_str("{{ nope.attr }}", &c).unwrap_err();
        assert!(e.message.contains("'nope' is undefined"), "{}", e.message);
        let e = t.eval_condition("nope.attr", &c).unwrap_err();
        assert!(e.message.contains("'nope' is undefined"), "{}", e.message);
    }

    #[test]
    fn no_html_escaping_and_trim_blocks() {
        let t = Templar::new();
        let c = ctx(json!({"s": "<a&b>"}));
        assert_eq!(t.render_file("f.j2", "{% if true %}\n{{ s }}\n{% endif %}\n", &c).unwrap(), "<a&b>\n");
    }

    #[test]
    fn conditions_use_ansible_truthiness() {
        let t = Templar::new();
        let c = ctx(json!({"flag": "no", "n": 2}));
        assert!(!t.eval_condition("flag | bool", &c).unwrap());
        assert!(t.eval_condition("n > 1", &c).unwrap());
        assert!(t.eval_condition("{{ n == 2 }}", &c).unwrap());
    }
}
