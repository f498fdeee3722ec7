//! The items of `loop:` and `with_*:`, and the variables each item sees.

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

/// The task's variables plus the loop variable, `index_var` and `ansible_loop`.
pub(super) fn item_vars(lp: &Loop, vars: &TaskVars, items: &[Value], index: usize) -> TaskVars {
    let mut out = vars.clone();
    out.set(&lp.loop_var, items[index].clone());
    if let Some(index_var) = &lp.index_var {
        out.set(index_var, index.into());
    }
    if lp.extended {
        let len = items.len();
        let info = serde_json::json!({
            "index": index + 1, "index0": index, "revindex": len - index, "revindex0": len - index - 1,
            "first": index == 0, "last": index + 1 == len, "length": len,
            "previtem": if index > 0 { items[index - 1].clone() } else { Value::Null },
            "nextitem": items.get(index + 1).cloned().unwrap_or(Value::Null),
            "allitems": items,
        });
        out.set("ansible_loop", info);
    }
    out
}
