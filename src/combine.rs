//! How two layers of variables combine when both set a name: Ansible's
//! `hash_behaviour` (`DEFAULT_HASH_BEHAVIOUR`). `replace` (the default) lets
//! the higher layer's value win whole; `merge` merges two dictionaries key by
//! key, recursively, the higher layer winning wherever the two disagree on
//! anything but a dictionary (lists are replaced, not joined), as Ansible's
//! `combine_vars`/`merge_hash` do.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashBehaviour {
    #[default]
    Replace,
    Merge,
}

impl HashBehaviour {
    pub fn parse(word: &str) -> Option<HashBehaviour> {
        match word {
            "replace" => Some(HashBehaviour::Replace),
            "merge" => Some(HashBehaviour::Merge),
            _ => None,
        }
    }

    /// Lays `higher` over `vars`.
    pub fn overlay(self, vars: &mut Map<String, Value>, higher: &Map<String, Value>) {
        for (key, value) in higher {
            self.set(vars, key, value);
        }
    }

    /// Sets `key` to `value` over what `vars` holds.
    pub fn set(self, vars: &mut Map<String, Value>, key: &str, value: &Value) {
        match (self, vars.get_mut(key), value) {
            (HashBehaviour::Merge, Some(Value::Object(low)), Value::Object(high)) => self.overlay(low, high),
            _ => {
                vars.insert(key.to_string(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn combined(how: HashBehaviour, low: Value, high: Value) -> Value {
        let (Value::Object(mut low), Value::Object(high)) = (low, high) else { unreachable!() };
        how.overlay(&mut low, &high);
        Value::Object(low)
    }

    #[test]
    fn merge_is_recursive_and_replaces_lists_and_scalars() {
        let low = json!({"d": {"a": 1, "n": {"x": 1, "y": 1}, "l": [1, 2]}, "s": "low", "k": {"a": 1}});
        let high = json!({"d": {"b": 2, "n": {"y": 2}, "l": [3]}, "s": "high", "k": "scalar"});
        assert_eq!(
            combined(HashBehaviour::Merge, low.clone(), high.clone()),
            json!({"d": {"a": 1, "b": 2, "n": {"x": 1, "y": 2}, "l": [3]}, "s": "high", "k": "scalar"})
        );
        assert_eq!(combined(HashBehaviour::Replace, low, high.clone()), high);
    }
}
