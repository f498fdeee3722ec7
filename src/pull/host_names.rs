//! The names this host answers to, as ansible-pull finds them: the node name
//! (uname), the fully qualified name (the resolver's canonical name for it, like
//! Python's `socket.getfqdn()`), and the short form of each.

use std::ffi::{CStr, CString};

/// The host's names for `--limit` and playbook selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostNames {
    pub node: String,
    pub fqdn: String,
}

impl HostNames {
    /// Reads the names from the kernel and the resolver; the fqdn falls back to
    /// the node name when the resolver knows no better (as getfqdn does).
    pub fn of_this_host() -> HostNames {
        let node = node_name().unwrap_or_else(|| "localhost".into());
        let fqdn = canonical_name(&node).unwrap_or_else(|| node.clone());
        HostNames { node, fqdn }
    }

    /// ansible-pull's limit: `localhost`, every name of the host, `127.0.0.1`.
    pub fn limit(&self) -> String {
        let mut names = vec!["localhost".to_string()];
        for name in [&self.fqdn, &self.node, &short(&self.fqdn), &short(&self.node)] {
            if !name.is_empty() && !names.contains(name) {
                names.push(name.clone());
            }
        }
        names.push("127.0.0.1".into());
        names.join(",")
    }
}

fn short(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

fn node_name() -> Option<String> {
    // SAFETY: uname fills the zeroed struct it is given; its fields are NUL-terminated.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let name = unsafe { CStr::from_ptr(uts.nodename.as_ptr()) };
    Some(name.to_string_lossy().into_owned()).filter(|n| !n.is_empty())
}

/// The resolver's canonical name for `node` (getaddrinfo with AI_CANONNAME).
fn canonical_name(node: &str) -> Option<String> {
    let c_node = CString::new(node).ok()?;
    // SAFETY: hints is zeroed then set; the result list is freed once, after its
    // first entry's name has been copied out.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_flags = libc::AI_CANONNAME;
        hints.ai_socktype = libc::SOCK_STREAM;
        let mut found: *mut libc::addrinfo = std::ptr::null_mut();
        if libc::getaddrinfo(c_node.as_ptr(), std::ptr::null(), &hints, &mut found) != 0 || found.is_null() {
            return None;
        }
        let name = (*found).ai_canonname;
        let canonical = (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
        libc::freeaddrinfo(found);
        canonical.filter(|n| !n.is_empty() && n != "localhost")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_names_each_form_once() {
        let names = HostNames { node: "web1".into(), fqdn: "web1.example.com".into() };
        assert_eq!(names.limit(), "localhost,web1.example.com,web1,127.0.0.1");
    }
}
