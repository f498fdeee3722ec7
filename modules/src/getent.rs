//! `getent`: entries of a name service database (passwd, group, hosts, ...)
//! as the fact `getent_<database>`, in one `getent` command. Reads only, so
//! check mode runs it as usual.

use serde_json::{Map, Value};

use crate::shell::Cmd;
use crate::spec::{p, req, Param};

/// ansible.builtin.getent's arguments.
pub const PARAMS: &[Param] = &[req("database").str(), p("key").str(), p("service").str(), p("split").str(), p("fail_key").bool().default("true")];
use crate::{Args, ModuleError, ModuleResult, Target};

/// Databases whose fields Ansible splits on `:` by default (others on whitespace).
const COLON_DATABASES: [&str; 4] = ["passwd", "shadow", "group", "gshadow"];

pub async fn run<T: Target>(args: &Args, target: &T) -> Result<ModuleResult, ModuleError> {
    let database = args.required_str("database")?;
    let key = args.str("key");
    let cmd = match args.str("service") {
        Some(service) => Cmd::new("getent").flag("-s").arg(service),
        None => Cmd::new("getent"),
    };
    let cmd = cmd.flag("--").arg(&database).args(key.iter());
    let split = args
        .str("split")
        .or_else(|| COLON_DATABASES.contains(&database.as_str()).then(|| ":".to_string()));
    let out = target.exec(cmd.as_str(), None).await?;
    let fact = format!("getent_{database}");
    let facts = |tree: Map<String, Value>| {
        let mut f = Map::new();
        f.insert(fact.clone(), Value::Object(tree));
        Value::Object(f)
    };
    match out.rc {
        0 => Ok(ModuleResult::ok().with("ansible_facts", facts(parse(&out.stdout_str(), split.as_deref())))),
        2 if !args.bool("fail_key", true)? => {
            let mut tree = Map::new();
            tree.insert(key.unwrap_or_default(), Value::Null);
            let mut r = ModuleResult::ok().with("ansible_facts", facts(tree));
            r.msg = Some(MISSING_KEY.into());
            Ok(r)
        }
        rc => Ok(ModuleResult::failed(match rc {
            1 => "Missing arguments, or database unknown.",
            2 => MISSING_KEY,
            3 => "Enumeration not supported on this database.",
            _ => "Unexpected failure!",
        })),
    }
}

const MISSING_KEY: &str = "One or more supplied key could not be found in the database.";

/// Lines to `{first field: [other fields]}`; a repeated key collects a list of such lists.
pub fn parse(output: &str, split: Option<&str>) -> Map<String, Value> {
    let mut tree = Map::new();
    let mut seen: Map<String, Value> = Map::new();
    for line in output.lines() {
        let mut fields: Vec<Value> = match split {
            Some(sep) => line.split(sep).map(|s| Value::from(s.to_string())).collect(),
            None => line.split_whitespace().map(|s| Value::from(s.to_string())).collect(),
        };
        if fields.is_empty() {
            continue;
        }
        let Value::String(name) = fields.remove(0) else { continue };
        let rest = Value::Array(fields);
        match tree.get_mut(&name) {
            Some(existing) if seen.contains_key(&name) => {
                if let Value::Array(list) = existing {
                    list.push(rest);
                }
            }
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, rest]);
                seen.insert(name, Value::Bool(true));
            }
            None => {
                tree.insert(name, rest);
            }
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn passwd_lines_split_on_colons() {
        let tree = parse("root:x:0:0:root:/root:/bin/bash\n", Some(":"));
        assert_eq!(Value::Object(tree), json!({"root": ["x", "0", "0", "root", "/root", "/bin/bash"]}));
    }

    #[test]
    fn repeated_keys_become_a_list_and_whitespace_splits_runs() {
        let tree = parse("127.0.0.1  localhost\n127.0.0.1 other\n127.0.0.1 third\n", None);
        assert_eq!(Value::Object(tree), json!({"127.0.0.1": [["localhost"], ["other"], ["third"]]}));
    }
}
