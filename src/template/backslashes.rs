//! Backslashes in string literals inside `{{ }}`, as ansible-core 2.19 reads
//! them in templated values (module arguments, vars, `set_fact`, `debug`).
//!
//! A value written in YAML has had its escapes processed once already, by
//! the YAML parser. So Ansible keeps a backslash inside a string literal of a
//! `{{ }}` expression as it is: `'\1'` is a backslash and a `1` (the
//! `regex_replace` back-reference), `'\n'` a backslash and an `n`, `'it\'s'`
//! is `it\'s`. Literals inside `{% %}` tags, bare expressions (`when:`,
//! `debug: var=`) and template files keep Jinja's escapes.
//!
//! minijinja always unescapes, so [`keep_literal_backslashes`] rewrites each
//! such literal into one whose unescaped value is the literal's raw text.

use std::borrow::Cow;

/// `source` with every string literal inside `{{ }}` rewritten so that it
/// evaluates to its raw text.
pub(super) fn keep_literal_backslashes(source: &str) -> Cow<'_, str> {
    if !source.contains('\\') {
        return Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len() + 16);
    let mut rest = source;
    while let Some(at) = rest.find('{') {
        let (text, tag) = rest.split_at(at);
        out.push_str(text);
        rest = if tag.starts_with("{{") {
            copy_tag(tag, "}}", true, &mut out)
        } else if tag.starts_with("{%") {
            copy_block(tag, &mut out)
        } else if let Some(body) = tag.strip_prefix("{#") {
            let end = body.find("#}").map_or(tag.len(), |i| i + 4);
            copy_verbatim(tag, end, &mut out)
        } else {
            copy_verbatim(tag, 1, &mut out)
        };
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn copy_verbatim<'a>(text: &'a str, len: usize, out: &mut String) -> &'a str {
    out.push_str(&text[..len]);
    &text[len..]
}

/// A `{% %}` tag as is; a `{% raw %}` section up to its end as is.
fn copy_block<'a>(tag: &'a str, out: &mut String) -> &'a str {
    let opener = tag[2..].trim_start_matches('-').trim_start();
    if opener.strip_prefix("raw").is_some_and(|r| r.trim_start().trim_start_matches('-').starts_with("%}")) {
        let end = tag.find("endraw").and_then(|i| tag[i..].find("%}").map(|j| i + j + 2)).unwrap_or(tag.len());
        return copy_verbatim(tag, end, out);
    }
    copy_tag(tag, "%}", false, out)
}

/// Copies a tag up to `close` at bracket depth 0 (as Jinja's lexer ends it),
/// rewriting its string literals when `rewrite`.
fn copy_tag<'a>(tag: &'a str, close: &str, rewrite: bool, out: &mut String) -> &'a str {
    let bytes = tag.as_bytes();
    let (mut i, mut depth) = (2, 0usize);
    out.push_str(&tag[..2]);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let len = literal_len(&tag[i..]);
                let literal = &tag[i..i + len];
                if rewrite && literal.contains('\\') && len >= 2 && literal.ends_with(&literal[..1]) {
                    push_raw_literal(literal, out);
                } else {
                    out.push_str(literal);
                }
                i += len;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            _ if depth == 0 && tag[i..].starts_with(close) => {
                out.push_str(close);
                return &tag[i + close.len()..];
            }
            _ => {}
        }
        let width = tag[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&tag[i..i + width]);
        i += width;
    }
    ""
}

/// Length of the string literal `text` starts with (to its closing quote,
/// a backslash escaping the character after it), or all of `text`.
fn literal_len(text: &str) -> usize {
    let quote = text.as_bytes()[0];
    let mut i = 1;
    while i < text.len() {
        match text.as_bytes()[i] {
            b'\\' => i += 2,
            q if q == quote => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// Writes a literal whose unescaped value is `literal`'s raw text.
fn push_raw_literal(literal: &str, out: &mut String) {
    let quote = &literal[..1];
    out.push_str(quote);
    for c in literal[1..literal.len() - 1].chars() {
        if c == '\\' || c.to_string() == quote {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_literals_keep_their_backslashes() {
        assert_eq!(keep_literal_backslashes(r"a\1 {{ x | regex_replace('(\d)', '\1') }}"), r"a\1 {{ x | regex_replace('(\\d)', '\\1') }}");
        assert_eq!(keep_literal_backslashes(r#"{{ 'it\'s' ~ "\"" }}"#), r#"{{ 'it\\\'s' ~ "\\\"" }}"#);
        assert_eq!(keep_literal_backslashes(r"{{ {'a': {'b': '\n'}} }}"), r"{{ {'a': {'b': '\\n'}} }}");
    }

    #[test]
    fn statements_comments_and_raw_keep_jinja_escapes() {
        for source in [r"{% set s = '\n' %}{{ s }}", r"{# '\n' #}", r"{% raw %}{{ '\n' }}{% endraw %}", r"{{ x }}\n"] {
            assert_eq!(keep_literal_backslashes(source), source);
        }
    }
}
