//! `ansible.builtin.NAME` and `ansible.legacy.NAME` for every filter and test
//! that ansible-core 2.19 lists under those names (`ansible-doc -t filter -l`,
//! `-t test -l`; Jinja's own under `ansible.builtin.` only): roles written to ansible-lint's fqcn
//! rule call `x | ansible.builtin.to_json`. Each alias calls the short name, so
//! a filter is still declared once; one stockman lacks fails as unknown when a
//! template reaches it, as the short name does.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

const BUILTIN: &str = "ansible.builtin.";
/// `ansible.legacy.` names Ansible's own plugins only, not Jinja's: there
/// `ansible.legacy.join` is "No filter named", as in Ansible.
const LEGACY: &str = "ansible.legacy.";

const FILTERS: &[&str] = &[
    "abs",
    "attr",
    "b64decode",
    "b64encode",
    "basename",
    "batch",
    "bool",
    "capitalize",
    "center",
    "checksum",
    "combinations",
    "combine",
    "comment",
    "commonpath",
    "count",
    "d",
    "default",
    "dict2items",
    "dictsort",
    "difference",
    "dirname",
    "e",
    "escape",
    "expanduser",
    "expandvars",
    "extract",
    "fileglob",
    "filesizeformat",
    "first",
    "flatten",
    "float",
    "forceescape",
    "format",
    "from_json",
    "from_yaml",
    "from_yaml_all",
    "groupby",
    "hash",
    "human_readable",
    "human_to_bytes",
    "indent",
    "int",
    "intersect",
    "items",
    "items2dict",
    "join",
    "last",
    "length",
    "list",
    "log",
    "lower",
    "mandatory",
    "map",
    "max",
    "md5",
    "min",
    "normpath",
    "password_hash",
    "path_join",
    "permutations",
    "pow",
    "pprint",
    "product",
    "quote",
    "random",
    "realpath",
    "regex_escape",
    "regex_findall",
    "regex_replace",
    "regex_search",
    "reject",
    "rejectattr",
    "rekey_on_member",
    "relpath",
    "replace",
    "reverse",
    "root",
    "round",
    "safe",
    "select",
    "selectattr",
    "sha1",
    "shuffle",
    "slice",
    "sort",
    "split",
    "splitext",
    "strftime",
    "string",
    "striptags",
    "subelements",
    "sum",
    "symmetric_difference",
    "ternary",
    "title",
    "to_datetime",
    "to_json",
    "to_nice_json",
    "to_nice_yaml",
    "to_uuid",
    "to_yaml",
    "tojson",
    "trim",
    "truncate",
    "type_debug",
    "union",
    "unique",
    "unvault",
    "upper",
    "urldecode",
    "urlencode",
    "urlize",
    "urlsplit",
    "vault",
    "win_basename",
    "win_dirname",
    "win_splitdrive",
    "wordcount",
    "wordwrap",
    "xmlattr",
    "zip",
    "zip_longest",
];

const TESTS: &[&str] = &[
    "abs",
    "all",
    "any",
    "boolean",
    "callable",
    "change",
    "changed",
    "contains",
    "defined",
    "directory",
    "divisibleby",
    "eq",
    "equalto",
    "escaped",
    "even",
    "exists",
    "failed",
    "failure",
    "false",
    "falsy",
    "file",
    "filter",
    "finished",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "integer",
    "is_abs",
    "is_dir",
    "is_file",
    "is_link",
    "is_mount",
    "is_same_file",
    "isnan",
    "issubset",
    "issuperset",
    "iterable",
    "le",
    "lessthan",
    "link",
    "link_exists",
    "lower",
    "lt",
    "mapping",
    "match",
    "mount",
    "nan",
    "ne",
    "none",
    "number",
    "odd",
    "reachable",
    "regex",
    "same_file",
    "sameas",
    "search",
    "sequence",
    "skip",
    "skipped",
    "started",
    "string",
    "subset",
    "succeeded",
    "success",
    "successful",
    "superset",
    "test",
    "timedout",
    "true",
    "truthy",
    "undefined",
    "unreachable",
    "upper",
    "uri",
    "url",
    "urn",
    "vault_encrypted",
    "vaulted_file",
    "version",
    "version_compare",
];

/// Jinja's own filters and tests: under `ansible.builtin.` only.
const JINJA_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "capitalize",
    "center",
    "count",
    "dictsort",
    "e",
    "escape",
    "filesizeformat",
    "first",
    "float",
    "forceescape",
    "format",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "pprint",
    "replace",
    "reverse",
    "round",
    "safe",
    "slice",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "upper",
    "urlencode",
    "urlize",
    "wordcount",
    "wordwrap",
    "xmlattr",
];
const JINJA_TESTS: &[&str] = &[
    "boolean",
    "callable",
    "divisibleby",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "sameas",
    "sequence",
    "string",
    "test",
    "true",
    "upper",
];

pub fn register(env: &mut Environment<'static>) {
    for namespace in [BUILTIN, LEGACY] {
        let in_namespace = |name: &&str, jinja: &[&str]| namespace == BUILTIN || !jinja.contains(name);
        for &name in FILTERS.iter().filter(|n| in_namespace(n, JINJA_FILTERS)) {
            env.add_filter(format!("{namespace}{name}"), move |state: &mut State, args: Rest<Value>, kwargs: Kwargs| {
                state.apply_filter(name, &forwarded(args, kwargs)).map_err(|e| unknown_as(e, namespace, name, "filter"))
            });
        }
        for &name in TESTS.iter().filter(|n| in_namespace(n, JINJA_TESTS)) {
            env.add_test(format!("{namespace}{name}"), move |state: &mut State, args: Rest<Value>, kwargs: Kwargs| {
                state.perform_test(name, &forwarded(args, kwargs)).map_err(|e| unknown_as(e, namespace, name, "test"))
            });
        }
    }
}

/// The arguments as the short name receives them: keyword arguments last.
fn forwarded(args: Rest<Value>, kwargs: Kwargs) -> Vec<Value> {
    let mut all = args.0;
    if kwargs.args().next().is_some() {
        all.push(Value::from(kwargs));
    }
    all
}

/// The short name's "unknown" error says which name the template used.
fn unknown_as(e: Error, namespace: &str, name: &str, kind: &str) -> Error {
    match e.kind() {
        ErrorKind::UnknownFilter | ErrorKind::UnknownTest => Error::new(e.kind(), format!("{kind} {namespace}{name} is unknown")),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Templar;

    fn render(text: &str) -> Result<String, String> {
        let templar = Templar::new();
        let ctx = Templar::context(&serde_json::Map::new());
        templar.render_str(text, &ctx).map(|v| crate::template::filters::py_str(&crate::template::filters::from_json(&v))).map_err(|e| e.message)
    }

    #[test]
    fn long_names_call_the_short_ones_with_their_arguments() {
        assert_eq!(render("{{ [1, 2] | ansible.builtin.to_json }}").unwrap(), "[1, 2]");
        assert_eq!(render("{{ 'a-b' | ansible.builtin.regex_replace('-', '+') }}").unwrap(), "a+b");
        assert_eq!(render("{{ {'a': 1} | ansible.legacy.combine({'b': 2}, recursive=true) | ansible.builtin.to_json }}").unwrap(), r#"{"a": 1, "b": 2}"#);
        assert_eq!(render("{{ 'x' is ansible.builtin.string }}").unwrap(), "True");
        assert_eq!(render("{{ '1.2' is ansible.builtin.version('1.10', '<') }}").unwrap(), "True");
        assert_eq!(render("{{ 3 is ansible.builtin.divisibleby(2) }}").unwrap(), "False");
    }

    #[test]
    fn a_name_outside_the_list_stays_unknown() {
        let e = render("{{ 1 | ansible.builtin.no_such_filter }}").unwrap_err();
        assert!(e.contains("no_such_filter"), "{e}");
        let e = render("{{ [1] | ansible.legacy.join(',') }}").unwrap_err();
        assert!(e.contains("ansible.legacy.join"), "{e}");
        assert_eq!(render("{{ [1] | ansible.builtin.join(',') }}").unwrap(), "1");
    }
}
