//! Tier 1: the real binary and transport against a real OpenSSH sshd on 127.0.0.1.
mod output_ci;
mod output_json;
mod output_terminal;
mod playbook;
mod run;
mod sshd;
mod transport;
