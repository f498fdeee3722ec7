//! Tier 2: the real binary against a fleet of systemd-nspawn Debian hosts (root only).
