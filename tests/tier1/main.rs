//! Tier 1: the real binary and transport against a real OpenSSH sshd on 127.0.0.1.
mod adhoc;
mod bounds_input;
mod bounds_timeout;
mod differential;
mod filters_differential;
mod hostile_args;
mod interrupt;
mod inventory_sources;
mod lang_async;
mod lang_exec;
mod lang_gaps;
mod lang_reuse;
mod lang_wait_for;
mod lang_wait_prompt;
mod load;
mod load_fleet;
#[allow(dead_code)] // the fleet benchmark's wait4 measurement, shared as is
#[path = "../../benches/fleet/measure.rs"]
mod measure;
mod modules_apt_deb;
mod modules_copy;
mod modules_copy_stream;
mod modules_file_times;
mod modules_template;
mod modules_user_key;
mod output_ci;
mod output_json;
mod output_terminal;
mod playbook;
mod run;
mod ssh_auth;
mod ssh_become_pty;
mod ssh_host_keys;
mod sshd;
mod transport;
mod vault;
