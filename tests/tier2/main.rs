//! Tier 2: the real binary against a fleet of systemd-nspawn Debian hosts (root only).
//!
//! Run with `cargo test --test tier2 -- --test-threads=1` after `tests/fleet/fleet prepare`
//! (`bash tests/run-all.sh` does both). [`fleet::Fleet`] boots the hosts; tests that use
//! it run one at a time.

// Parts of the wrapper are used only by some tests.
#[allow(dead_code)]
mod adhoc;
mod facts;
mod fleet;
mod ansible_targets;
mod faults_hosts;
mod faults_network;
#[allow(dead_code)]
mod faults_support;
mod faults_target;
mod config;
mod inventory_sources;
mod parity;
mod playbook;
mod pull;
mod shard;
mod smoke;
mod modules_apt;
#[allow(dead_code)]
mod modules_support;
mod modules_user;
mod modules_systemd;
mod modules_git;
mod ssh_access;
mod ssh_become;
mod ssh_robust;
