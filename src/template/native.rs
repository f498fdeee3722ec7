//! What a templated string evaluates to: ansible-core 2.19's rule, in one
//! place (every templated value goes through [`super::Templar::render_str`]).
//!
//! Jinja, as Ansible configures it, drops one trailing newline from the
//! source before rendering. The render yields output nodes: each `{{ }}`
//! result and each stretch of literal text. Then:
//! - no node at all (`"{% if false %}x{% endif %}"`): none;
//! - exactly one node: its value with its native type, so `"{{ n }}\n"` is
//!   the integer 5 and `"{% if t %}{{ l }}{% endif %}"` the list;
//! - several nodes: the text of them all, so `" {{ n }}"` is `" 5"`;
//! - a string result gets back the trailing newlines the source had and the
//!   output lacks: `"{{ x }}\n"` is `"hi\n"`, `"{{ x }}\n\n"` is `"hi\n\n"`.
//!
//! Nodes are counted by the environment's formatter, which every `{{ }}`
//! goes through; an expression inside `{% set %}...{% endset %}` counts too
//! (Ansible's does not), so such a template stays a string.

use super::filters;
use minijinja::value::Value as Jinja;
use minijinja::{Error, Output, State};

const NODES: &str = "stockman.output_nodes";
const FIRST: &str = "stockman.first_output_node";

/// The Templar's formatter: writes a `{{ }}` result as Python's `str()`
/// would and remembers, for [`value`], how many there were and the first.
pub(super) fn format_node(out: &mut Output, state: &mut State, value: &Jinja) -> Result<(), Error> {
    let seen = expression_nodes(state);
    state.set_temp(NODES, Jinja::from(seen + 1));
    if seen == 0 {
        state.set_temp(FIRST, value.clone());
    }
    filters::format_like_python(out, state, value)
}

fn expression_nodes(state: &State) -> u64 {
    state.get_temp(NODES).and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// The part of `source` that Jinja renders: all but one final newline.
pub(super) fn body(source: &str) -> &str {
    ["\r\n", "\n", "\r"].iter().find_map(|nl| source.strip_suffix(nl)).unwrap_or(source)
}

/// The value of `source` once rendered to `output` by `state`'s render.
pub(super) fn value(source: &str, output: &str, state: &State) -> Result<Jinja, Error> {
    let lone = match expression_nodes(state) {
        0 if output.is_empty() => return Ok(Jinja::from(())),
        1 => state.get_temp(FIRST).filter(|node| node.as_str().is_none()),
        _ => None,
    };
    if let Some(node) = lone {
        // Alone only if no literal text was written beside it.
        if filters::output_text(&node)? == output {
            return Ok(node);
        }
    }
    Ok(Jinja::from(with_trailing_newlines(source, output)))
}

/// `output` with the newlines that end `source` and not `output`.
fn with_trailing_newlines(source: &str, output: &str) -> String {
    let missing = trailing_newlines(source).saturating_sub(trailing_newlines(output));
    let mut text = String::with_capacity(output.len() + missing);
    text.push_str(output);
    text.extend(std::iter::repeat_n('\n', missing));
    text
}

fn trailing_newlines(text: &str) -> usize {
    text.len() - text.trim_end_matches('\n').len()
}
