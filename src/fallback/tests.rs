//! Lookup and bundling against a small fake installation (the real
//! ansible-core and collections are exercised by the tier-1 tests).

use std::path::Path;

use super::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// ansible-core with `ping`, a routed `ini_file`, an action-plugin module,
/// and one collection whose module imports module_utils relatively.
fn installation() -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    write(&site, "ansible/modules/ping.py", "from ansible.module_utils.basic import AnsibleModule\n");
    write(&site, "ansible/modules/fetch.py", "pass\n");
    write(&site, "ansible/plugins/action/fetch.py", "pass\n");
    write(&site, "ansible/module_utils/__init__.py", "");
    write(&site, "ansible/module_utils/basic.py", "from .common import (\n  text,\n)\nimport json\n");
    write(&site, "ansible/module_utils/common/__init__.py", "");
    write(&site, "ansible/module_utils/common/text.py", "from ansible.module_utils.six.moves import x\n");
    write(&site, "ansible/module_utils/six/__init__.py", "");
    write(&site, "ansible/module_utils/unused.py", "");
    write(&site, "ansible/config/ansible_builtin_runtime.yml", "plugin_routing:\n  modules:\n    ini_file:\n      redirect: community.general.ini_file\n    gone:\n      tombstone:\n        removal_version: '2.0'\n        warning_text: Use ping.\n");
    let cols = site.join("ansible_collections");
    write(&cols, "community/general/plugins/modules/ini_file.py", "from ..module_utils.ini import parse\nfrom ansible.module_utils.basic import AnsibleModule\n");
    write(&cols, "community/general/plugins/module_utils/ini.py", "");
    write(&cols, "community/general/plugins/modules/shutdown.py", "");
    write(&cols, "community/general/plugins/action/shutdown.py", "");
    write(&cols, "community/general/meta/runtime.yml", "plugin_routing:\n  modules:\n    old_ini:\n      redirect: community.general.ini_file\n      deprecation:\n        removal_version: 12.0.0\n        warning_text: Use ini_file.\n");
    let roots = Roots { core: Some(site.clone()), collections: vec![cols], looked: vec!["SITE".into()], module_utils: Vec::new() };
    (dir, Catalog::with_roots(roots))
}

fn module(resolved: Resolved) -> Arc<PyModule> {
    match resolved {
        Resolved::Module(m) => m,
        Resolved::Unavailable { message, .. } => panic!("unavailable: {message}"),
    }
}

fn unavailable(resolved: Resolved) -> (String, Option<String>) {
    match resolved {
        Resolved::Module(m) => panic!("found {}", m.fqcn),
        Resolved::Unavailable { message, hint } => (message, hint),
    }
}

#[test]
fn short_names_fqcn_and_redirects_resolve() {
    let (_dir, catalog) = installation();
    assert_eq!(module(catalog.resolve("ping", &[])).import_name, "ansible.modules.ping");
    assert_eq!(module(catalog.resolve("ansible.legacy.ping", &[])).fqcn, "ansible.builtin.ping");
    let ini = module(catalog.resolve("ini_file", &[]));
    assert_eq!(ini.fqcn, "community.general.ini_file");
    assert_eq!(ini.import_name, "ansible_collections.community.general.plugins.modules.ini_file");
    let old = module(catalog.resolve("community.general.old_ini", &[]));
    assert_eq!(old.deprecations, ["community.general.old_ini has been deprecated. Use ini_file. This feature will be removed from collection 'community.general' version 12.0.0."]);
}

#[test]
fn the_collections_keyword_is_searched_for_short_names() {
    let (_dir, catalog) = installation();
    assert!(matches!(catalog.resolve("old_ini", &[]), Resolved::Unavailable { .. }));
    assert_eq!(module(catalog.resolve("old_ini", &["community.general".into()])).fqcn, "community.general.ini_file");
}

#[test]
fn missing_modules_say_where_we_looked_and_what_provides_them() {
    let (_dir, catalog) = installation();
    let (message, hint) = unavailable(catalog.resolve("community.crypto.openssh_keypair", &[]));
    assert!(message.contains("couldn't resolve module/action `community.crypto.openssh_keypair`") && message.contains("looked in: SITE"), "{message}");
    assert_eq!(hint.as_deref(), Some("`ansible-galaxy collection install community.crypto` would provide it"));
    let (message, _) = unavailable(catalog.resolve("community.general.nope", &[]));
    assert!(message.contains("collection community.general has no module `nope`"), "{message}");
    let (message, _) = unavailable(catalog.resolve("gone", &[]));
    assert_eq!(message, "module `ansible.builtin.gone` was removed: Use ping. This feature was removed from ansible-core version 2.0.");
}

#[test]
fn modules_with_action_plugins_are_refused_naming_the_plugin() {
    let (_dir, catalog) = installation();
    for (name, plugin) in [("fetch", "ansible/plugins/action/fetch.py"), ("community.general.shutdown", "community/general/plugins/action/shutdown.py")] {
        let (message, hint) = unavailable(catalog.resolve(name, &[]));
        assert!(message.contains("controller-side action plugin") && message.contains(plugin), "{message}");
        assert!(hint.is_some());
    }
}

#[test]
fn the_bundle_holds_the_module_and_what_it_imports_only() {
    let (_dir, catalog) = installation();
    let ini = module(catalog.resolve("ini_file", &[]));
    let names = payload::file_names(&ini.payload().unwrap());
    let expected = [
        "ansible/module_utils/__init__.py",
        "ansible/module_utils/basic.py",
        "ansible/module_utils/common/__init__.py",
        "ansible/module_utils/common/text.py",
        "ansible/module_utils/six/__init__.py",
        "ansible_collections/community/general/plugins/module_utils/ini.py",
        "ansible_collections/community/general/plugins/modules/ini_file.py",
    ];
    assert_eq!(names.iter().map(String::as_str).collect::<Vec<_>>(), expected);
    assert!(Arc::ptr_eq(&ini.payload().unwrap(), &ini.payload().unwrap()), "built once");
}

#[test]
fn library_modules_shadow_built_ins_and_their_module_utils_come_first() {
    let (dir, catalog) = installation();
    let project = dir.path().join("project");
    write(&project, "library/ping.py", "from ansible.module_utils.helper import x\nfrom ansible.module_utils.basic import AnsibleModule\n");
    write(&project, "module_utils/helper.py", "");
    write(&project, "module_utils/basic.py", "# ours, not ansible-core's\n");
    write(&project, "library/tool.sh", "#!/bin/sh\n");
    let library = [project.join("library")];
    let utils = [project.join("module_utils")];
    let ping = module(catalog.resolve_local("ping", &library, &utils).expect("found in library/"));
    assert_eq!((ping.fqcn.as_str(), ping.source.as_path()), ("ping", project.join("library/ping.py").as_path()));
    assert!(Arc::ptr_eq(&ping, &module(catalog.resolve_local("ansible.legacy.ping", &library, &utils).unwrap())), "cached");
    assert!(catalog.resolve_local("ansible.builtin.ping", &library, &utils).is_none(), "an FQCN of ansible.builtin is never local");
    assert!(catalog.resolve_local("copy", &library, &utils).is_none());
    let (message, _) = unavailable(catalog.resolve_local("tool", &library, &utils).unwrap());
    assert!(message.contains("is not a Python module"), "{message}");
    let payload = ping.payload().unwrap();
    let names = payload::file_names(&payload);
    assert!(names.contains(&"ansible/modules/ping.py".to_string()) && names.contains(&"ansible/module_utils/helper.py".to_string()), "{names:?}");
    let text = payload::file_text(&payload, "ansible/module_utils/basic.py");
    assert_eq!(text, "# ours, not ansible-core's\n", "module_utils/ beside library/ wins over ansible-core's");
}

#[test]
fn a_library_module_without_ansible_core_is_refused_with_the_reason_not_a_traceback() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "library/probe.py", "from ansible.module_utils.basic import AnsibleModule\n");
    let roots = Roots { core: None, collections: Vec::new(), looked: vec!["no ansible-core here".into()], module_utils: Vec::new() };
    let catalog = Catalog::with_roots(roots);
    let probe = module(catalog.resolve_local("probe", &[dir.path().join("library")], &[]).expect("found in library/"));
    let message = probe.payload().err().expect("no payload without ansible-core's basic");
    assert!(message.contains("needs ansible-core's module_utils") && message.contains("no ansible-core here"), "{message}");
}

#[test]
fn knows_any_module_ansible_has_runnable_or_not() {
    let (_dir, catalog) = installation();
    for name in ["ping", "fetch", "ini_file", "community.general.shutdown", "community.general.old_ini"] {
        assert!(catalog.knows(name), "{name}");
    }
    for name in ["lola", "community.general.nope", "community.crypto.openssh_keypair"] {
        assert!(!catalog.knows(name), "{name}");
    }
}
