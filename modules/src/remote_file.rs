//! TODO: remote_file
