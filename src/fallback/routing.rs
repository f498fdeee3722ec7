//! `plugin_routing.modules` of ansible-core's `ansible_builtin_runtime.yml`
//! and of a collection's `meta/runtime.yml`.

use std::collections::HashMap;
use std::path::Path;

use crate::yaml::{self, Node};

/// What the routing says of one module name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    pub redirect: Option<String>,
    pub deprecation: Option<String>,
    /// Removed: the text saying so.
    pub tombstone: Option<String>,
}

pub type Routing = HashMap<String, Route>;

/// The module routes of a runtime file; a missing or unreadable file routes
/// nothing. `owner` names who removes things in notices (`ansible-core`,
/// `collection 'community.general'`).
pub fn read(path: &Path, owner: &str) -> Routing {
    match yaml::parse_file(path) {
        Ok(doc) => from_doc(&doc, owner),
        Err(_) => Routing::new(),
    }
}

fn from_doc(doc: &Node, owner: &str) -> Routing {
    let Some(entries) = doc.get("plugin_routing").and_then(|r| r.get("modules")).and_then(Node::as_map) else { return Routing::new() };
    entries.iter().map(|(name, entry)| (name.display_key(), route(entry, owner))).collect()
}

fn route(entry: &Node, owner: &str) -> Route {
    Route {
        redirect: entry.get("redirect").and_then(Node::as_str).map(str::to_string),
        deprecation: entry.get("deprecation").map(|d| notice(d, "will be removed", owner)),
        tombstone: entry.get("tombstone").map(|t| notice(t, "was removed", owner)),
    }
}

/// `action_groups` of a runtime file: each group's member module names as
/// written (short or fully qualified). A group's `metadata.extend_group`
/// (ansible.builtin's `aws`, ... extend collections' groups) is not followed.
pub type ActionGroups = HashMap<String, Vec<String>>;

pub fn action_groups(path: &Path) -> ActionGroups {
    let Ok(doc) = yaml::parse_file(path) else { return ActionGroups::new() };
    groups_from_doc(&doc)
}

fn groups_from_doc(doc: &Node) -> ActionGroups {
    let Some(groups) = doc.get("action_groups").and_then(Node::as_map) else { return ActionGroups::new() };
    groups
        .iter()
        .map(|(name, members)| {
            let names = members.as_seq().unwrap_or_default().iter().filter_map(Node::as_str).map(str::to_string).collect();
            (name.display_key(), names)
        })
        .collect()
}

/// `warning_text` with the version or date of removal, as Ansible words it.
fn notice(entry: &Node, verb: &str, owner: &str) -> String {
    let text = entry.get("warning_text").and_then(Node::as_str).unwrap_or_default().trim().to_string();
    let text_of = |key: &str| entry.get(key).map(|v| stockman_modules::args::value_to_string(&v.to_json()));
    match (text_of("removal_version"), text_of("removal_date")) {
        (Some(version), _) => format!("{text} This feature {verb} from {owner} version {version}.").trim().to_string(),
        (None, Some(date)) => format!("{text} This feature {verb} from {owner} in a release after {date}.").trim().to_string(),
        (None, None) => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_groups_list_their_modules() {
        let doc = yaml::parse_str("action_groups:\n  testgroup:\n    - metadata:\n        extend_group: [a.b.g]\n    - ping\n    - a.b.other\n", "runtime.yml".into()).unwrap();
        assert_eq!(groups_from_doc(&doc)["testgroup"], ["ping", "a.b.other"]);
    }

    #[test]
    fn redirects_deprecations_and_tombstones_are_read() {
        let doc = yaml::parse_str(
            "plugin_routing:\n  modules:\n    ini_file:\n      redirect: community.general.ini_file\n    old:\n      tombstone:\n        removal_version: 2.0.0\n        warning_text: Use new.\n    dep:\n      deprecation:\n        removal_version: 12.0.0\n        warning_text: Use other.\n      redirect: a.b.dep\n",
            "runtime.yml".into(),
        )
        .unwrap();
        let routes = from_doc(&doc, "collection 'a.b'");
        assert_eq!(routes["ini_file"].redirect.as_deref(), Some("community.general.ini_file"));
        assert_eq!(routes["old"].tombstone.as_deref(), Some("Use new. This feature was removed from collection 'a.b' version 2.0.0."));
        assert_eq!(routes["dep"].deprecation.as_deref(), Some("Use other. This feature will be removed from collection 'a.b' version 12.0.0."));
    }
}
