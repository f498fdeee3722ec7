//! What of a command line the history may keep.
//!
//! Inline `-e` values are replaced (their keys kept): people pass passwords that way.
//! `-e @FILE` keeps the file's name, never its contents. A password inside any URL
//! (`--history-url`, a git URL with a token) is replaced. Passwords asked for at a
//! prompt (`-k`, `-K`, `--ask-vault-pass`) never reach the command line.

/// What replaces a secret.
pub const HIDDEN: &str = "********";

/// The arguments with secrets replaced, and values decrypted from vault removed.
pub fn command(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut next_is_extra_vars = false;
    for arg in args {
        let censored = if next_is_extra_vars {
            next_is_extra_vars = false;
            extra_vars(arg)
        } else if arg == "-e" || arg == "--extra-vars" {
            next_is_extra_vars = true;
            arg.clone()
        } else if let Some(value) = arg.strip_prefix("--extra-vars=") {
            format!("--extra-vars={}", extra_vars(value))
        } else if let Some(value) = arg.strip_prefix("-e").filter(|v| !v.is_empty() && !arg.starts_with("--")) {
            format!("-e{}", extra_vars(value.strip_prefix('=').unwrap_or(value)))
        } else {
            url(arg)
        };
        out.push(crate::vault::redact(&censored).into_owned());
    }
    out
}

/// `@FILE` as it is; `k=v k2=v2` as `k=******** k2=********`; a mapping wholly hidden.
fn extra_vars(value: &str) -> String {
    if value.starts_with('@') {
        return value.to_string();
    }
    if value.trim_start().starts_with(['{', '[']) {
        return HIDDEN.to_string();
    }
    let words: Vec<String> = value
        .split_whitespace()
        .map(|word| match word.split_once('=') {
            Some((key, _)) => format!("{key}={HIDDEN}"),
            None => HIDDEN.to_string(),
        })
        .collect();
    words.join(" ")
}

/// `scheme://user:password@host/...` → `scheme://user:********@host/...`; other text as is.
pub fn url(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else { return text.to_string() };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return text.to_string() };
    let Some(colon) = rest[..at].find(':') else { return text.to_string() };
    format!("{}{}{HIDDEN}{}", &text[..scheme_end + 3], &rest[..colon + 1], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn extra_vars_keep_keys_and_files_and_lose_values() {
        let got = command(&words("stockman playbook -e pw=s3cret -e @vars.yml --extra-vars=token=abc -ekey=v site.yml"));
        assert_eq!(got.join(" "), "stockman playbook -e pw=******** -e @vars.yml --extra-vars=token=******** -ekey=******** site.yml");
        assert_eq!(command(&["-e".into(), "{\"pw\": \"x\"}".into()])[1], HIDDEN);
        assert_eq!(command(&["-e".into(), "a=1 b=2".into()])[1], "a=******** b=********");
    }

    #[test]
    fn url_passwords_are_hidden_wherever_they_are() {
        assert_eq!(url("postgres://ci:hunter2@db:5432/h?sslmode=disable"), "postgres://ci:********@db:5432/h?sslmode=disable");
        assert_eq!(url("https://x-token:ghp_abc@github.com/o/r.git"), "https://x-token:********@github.com/o/r.git");
        assert_eq!(url("postgres://ci@db/h"), "postgres://ci@db/h");
        assert_eq!(url("site.yml"), "site.yml");
        assert_eq!(command(&["--history-url=postgres://a:b@h/d".into()])[0], "--history-url=postgres://a:********@h/d");
    }
}
