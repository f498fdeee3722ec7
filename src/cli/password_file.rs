//! `--connection-password-file` and `--become-password-file` (and their
//! ansible.cfg keys): a password from a file, as ansible-playbook reads one.

use std::path::Path;

use crate::transport::Secret;

/// The file's text, or what it prints when it is executable, without the
/// surrounding whitespace; `-` reads standard input. An empty password is an
/// error, as in Ansible.
pub fn read(path: &Path, flag: &str) -> Result<Secret, String> {
    let shown = path.display();
    let raw = if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| format!("{flag} -: cannot read standard input: {e}"))?;
        text
    } else {
        let meta = std::fs::metadata(path).map_err(|e| format!("{flag} {shown}: the password file was not found ({e})"))?;
        if crate::vault::secrets::is_executable(&meta) {
            run_script(path, flag)?
        } else {
            std::fs::read_to_string(path).map_err(|e| format!("{flag} {shown}: cannot read the password file ({e})"))?
        }
    };
    let password = raw.trim();
    if password.is_empty() {
        return Err(format!("{flag} {shown}: empty password was provided from file"));
    }
    Ok(Secret::new(password))
}

/// Runs a password script: its stderr goes to the terminal, its stdout is the password.
fn run_script(path: &Path, flag: &str) -> Result<String, String> {
    // Absolute, so `pw.sh` runs the file named rather than a `pw.sh` on $PATH.
    let program = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let output = std::process::Command::new(&program)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("{flag} {}: cannot run the password script ({e})", path.display()))?;
    if !output.status.success() {
        return Err(format!("{flag} {}: the password script failed ({})", path.display(), output.status));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("{flag} {}: the password script printed bytes that are not UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_its_trimmed_text_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "  s3cret word \n").unwrap();
        assert_eq!(read(&file, "--become-password-file").unwrap().expose(), "s3cret word");
        std::fs::write(&file, " \n").unwrap();
        let e = read(&file, "--become-password-file").unwrap_err();
        assert!(e.contains("empty password"), "{e}");
        assert!(read(&dir.path().join("none"), "--connection-password-file").unwrap_err().contains("not found"));
    }

    #[test]
    fn an_executable_file_gives_what_it_prints() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("pw.sh");
        std::fs::write(&script, "#!/bin/sh\necho from-script\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(read(&script, "--become-password-file").unwrap().expose(), "from-script");
        std::fs::write(&script, "#!/bin/sh\nexit 3\n").unwrap();
        assert!(read(&script, "--become-password-file").unwrap_err().contains("failed"));
    }
}
