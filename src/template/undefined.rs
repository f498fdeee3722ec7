//! Which attribute of a template was missing, in ansible-core 2.19's words
//! (`object of type 'dict' has no attribute 'stdout'`): minijinja's error
//! does not say, so the expression's attribute chains (`a.b['c'][0]`) are
//! walked over the context until one step is missing.

use std::sync::LazyLock;

use minijinja::value::{Value as Jinja, ValueKind};

static CHAIN: LazyLock<regex::Regex> = LazyLock::new(|| {
    let step = r#"\.[A-Za-z_][A-Za-z0-9_]*|\[\s*(?:'[^']*'|"[^"]*"|-?\d+)\s*\]"#;
    regex::Regex::new(&format!(r#"[A-Za-z_][A-Za-z0-9_]*(?:\s*(?:{step}))+"#)).expect("static regex")
});
static STEP: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r#"\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\]"#).expect("static regex"));
/// What follows a chain that may be undefined on purpose.
static GUARDED: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^\s*(?:\|\s*(?:default|d)\b|is\s+(?:not\s+)?(?:defined|undefined|none)\b|\()").expect("static regex"));

/// The missing attribute, when exactly one chain in `source` reaches one
/// over `ctx` (more than one, or none, and the caller keeps its generic message).
pub(super) fn missing_attribute(source: &str, ctx: &Jinja) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    for m in CHAIN.find_iter(source) {
        let before = source[..m.start()].chars().next_back();
        if before.is_some_and(|c| c == '.' || c.is_alphanumeric() || c == '_') || GUARDED.is_match(&source[m.end()..]) {
            continue;
        }
        if let Some(message) = first_missing_step(m.as_str(), ctx).filter(|msg| !found.contains(msg)) {
            found.push(message);
        }
    }
    match found.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

fn first_missing_step(chain: &str, ctx: &Jinja) -> Option<String> {
    let base_len = chain.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(chain.len());
    let mut value = ctx.get_attr(&chain[..base_len]).ok().filter(|v| !v.is_undefined())?;
    for step in STEP.captures_iter(&chain[base_len..]) {
        let (next, shown) = if let Some(name) = step.get(1).or(step.get(2)).or(step.get(3)) {
            (value.get_attr(name.as_str()).ok(), format!("'{}'", name.as_str()))
        } else {
            let index: i64 = step.get(4)?.as_str().parse().ok()?;
            (value.get_item(&Jinja::from(index)).ok(), index.to_string())
        };
        match next.filter(|v| !v.is_undefined()) {
            Some(v) => value = v,
            None => return Some(format!("object of type '{}' has no attribute {shown}", python_type(&value)?)),
        }
    }
    None
}

fn python_type(v: &Jinja) -> Option<&'static str> {
    Some(match v.kind() {
        ValueKind::Map => "dict",
        ValueKind::Seq => "list",
        ValueKind::String => "str",
        ValueKind::Bool => "bool",
        ValueKind::None => "NoneType",
        ValueKind::Number if v.as_i64().is_some() => "int",
        ValueKind::Number => "float",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::missing_attribute;

    fn ctx() -> minijinja::Value {
        minijinja::Value::from(minijinja::value::Serde(serde_json::json!({"d": {"a": {"b": 1}}, "l": [1, 2], "s": "text"})))
    }

    #[test]
    fn names_the_first_missing_step_with_its_parent_type() {
        assert_eq!(missing_attribute("{{ d.a.c }}", &ctx()).unwrap(), "object of type 'dict' has no attribute 'c'");
        assert_eq!(missing_attribute("{{ d['a'][\"zz\"] }}", &ctx()).unwrap(), "object of type 'dict' has no attribute 'zz'");
        assert_eq!(missing_attribute("{{ l[5] }}", &ctx()).unwrap(), "object of type 'list' has no attribute 5");
        assert_eq!(missing_attribute("{{ s.foo }}", &ctx()).unwrap(), "object of type 'str' has no attribute 'foo'");
        assert_eq!(missing_attribute("{{ d.a.b.c }}", &ctx()).unwrap(), "object of type 'int' has no attribute 'c'");
    }

    #[test]
    fn guarded_chains_and_ambiguity_keep_the_generic_message() {
        assert_eq!(missing_attribute("{{ d.nope | default(1) }} {{ d.x.y }}", &ctx()).unwrap(), "object of type 'dict' has no attribute 'x'");
        assert_eq!(missing_attribute("{{ d.p if d.q is defined else d.a.r }}", &ctx()), None, "two missing: which one failed is not known");
        assert_eq!(missing_attribute("{{ nope.x }}", &ctx()), None);
        assert_eq!(missing_attribute("{{ d.a.b }}", &ctx()), None);
    }
}
