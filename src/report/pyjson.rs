//! JSON as ansible-playbook prints it after `=>` (`json.dumps(sort_keys=True)`,
//! non-ASCII as it is): compact, or indented; the one writer is
//! [`stockman_modules::pyjson`].

use serde_json::Value;
use stockman_modules::pyjson::{self, JsonStyle};

pub fn dumps(value: &Value, indent: Option<usize>) -> String {
    pyjson::dumps(value, JsonStyle { indent, sort_keys: true, ensure_ascii: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_matches_python() {
        let v = json!({"msg": "x", "changed": false, "l": [1, "a"], "e": []});
        assert_eq!(dumps(&v, None), r#"{"changed": false, "e": [], "l": [1, "a"], "msg": "x"}"#);
    }

    #[test]
    fn indented_matches_python() {
        let v = json!({"msg": ["a", {"b": 1}]});
        assert_eq!(dumps(&v, Some(4)), "{\n    \"msg\": [\n        \"a\",\n        {\n            \"b\": 1\n        }\n    ]\n}");
    }
}
