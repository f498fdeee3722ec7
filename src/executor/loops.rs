//! The items of `loop:` and `with_*:`, and the variables each item sees.

use std::borrow::Cow;

use serde_json::Value;

use super::host::TaskVars;
use crate::playbook::{Loop, LoopKind};
use crate::template::{py, Templar, TemplateError};

use crate::template::{max_items, MAX_ITEMS_VAR};

fn too_many(count: impl std::fmt::Display) -> String {
    format!("the loop has {count} items, more than the limit of {} (raise it with {MAX_ITEMS_VAR}=N)", max_items())
}

/// The loop's items: `loop:`'s list, or what `with_<lookup>:` gives for the
/// templated terms on a task running `action`; no more than [`max_items`].
pub(super) fn items(lp: &Loop, templar: &Templar, ctx: &minijinja::Value, action: &str) -> Result<Vec<Value>, TemplateError> {
    let items = shaped(lp, templar, ctx, action)?;
    if items.len() > max_items() {
        return Err(TemplateError { undefined: false, message: too_many(items.len()) });
    }
    Ok(items)
}

fn shaped(lp: &Loop, templar: &Templar, ctx: &minijinja::Value, action: &str) -> Result<Vec<Value>, TemplateError> {
    let value = templar.render_value(&lp.items, ctx)?;
    match &lp.kind {
        LoopKind::List => match value {
            Value::Array(items) => Ok(items),
            other => Err(TemplateError { undefined: false, message: format!("Invalid data passed to 'loop', it requires a list, got this instead: {}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup.", py::to_str(&other)) }),
        },
        LoopKind::With(lookup) => templar.with_lookup(lookup, &value, action, ctx),
    }
}

/// The loop with `loop_var` and `index_var` templated, as Ansible allows
/// (`loop_var: "{{ name }}"`); borrowed when neither is a template.
pub(super) fn with_names<'l>(lp: &'l Loop, templar: &Templar, ctx: &minijinja::Value) -> Result<Cow<'l, Loop>, TemplateError> {
    let templated = |name: &str| name.contains("{{") || name.contains("{%");
    if !templated(&lp.loop_var) && !lp.index_var.as_deref().is_some_and(templated) {
        return Ok(Cow::Borrowed(lp));
    }
    let render = |name: &str| templar.render_str(name, ctx).map(|v| py::to_str(&v));
    let mut named = lp.clone();
    named.loop_var = render(&lp.loop_var)?;
    named.index_var = lp.index_var.as_deref().map(render).transpose()?;
    Ok(Cow::Owned(named))
}

/// The task's variables plus the loop variable, `index_var`, their names
/// (`ansible_loop_var`, `ansible_index_var`) and `ansible_loop`.
pub(super) fn item_vars(lp: &Loop, vars: &TaskVars, items: &[Value], index: usize) -> TaskVars {
    let mut out = vars.clone();
    out.set(&lp.loop_var, items[index].clone());
    out.set("ansible_loop_var", lp.loop_var.clone().into());
    if let Some(index_var) = &lp.index_var {
        out.set(index_var, index.into());
        out.set("ansible_index_var", index_var.clone().into());
    }
    if lp.extended {
        let len = items.len();
        let mut info = serde_json::json!({
            "index": index + 1, "index0": index, "revindex": len - index, "revindex0": len - index - 1,
            "first": index == 0, "last": index + 1 == len, "length": len,
        });
        // As in Ansible, the first item has no `previtem` and the last no `nextitem`: they are undefined, not null.
        if index > 0 {
            info["previtem"] = items[index - 1].clone();
        }
        if let Some(next) = items.get(index + 1) {
            info["nextitem"] = next.clone();
        }
        if lp.extended_allitems {
            info["allitems"] = items.into();
        }
        out.set("ansible_loop", info);
    }
    out
}
