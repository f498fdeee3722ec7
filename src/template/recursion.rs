//! Variables whose templates use each other in a loop (`a: "{{ b }}"`,
//! `b: "{{ a }}"`, or `foo: "{{ foo | default('x') }}"`).
//!
//! Variables written as templates render when a template reads them (see
//! the executor's `hostvars`), so such a loop would recurse forever. The
//! variable being rendered is noted here for the duration of its render; when
//! a template reads a variable that is already being rendered, the loop is
//! recorded and the whole render it happens in fails, whatever `default` or
//! `is defined` around it say, as ansible-core 2.19 fails it ("Recursive loop
//! detected in template"). Renders are synchronous, so the state is per thread.

use std::cell::RefCell;

use minijinja::{Error, ErrorKind};

/// How deep variables may render inside one another before the render fails:
/// a bound on the stack that a long chain of distinct variables uses.
pub const MAX_NESTING: usize = 64;

/// How the error for variables rendering in a loop begins, as Ansible words it.
const LOOP: &str = "Recursive loop detected in template";

#[derive(Default)]
struct State {
    /// Renders by the [`Templar`](super::Templar) in progress, outermost first.
    renders: usize,
    /// The variables being rendered, outermost first.
    resolving: Vec<String>,
    /// Why the current outermost render must fail.
    found: Option<String>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Runs `render` (which renders the template of variable `name`), unless
/// `name` is already being rendered: then the loop is recorded and `None`
/// returned, as when variables nest deeper than [`MAX_NESTING`].
pub fn resolve<T>(name: &str, render: impl FnOnce() -> T) -> Option<T> {
    resolve_or(name, true, render)
}

/// [`resolve`], but a loop only gives `None` (the variable is undefined):
/// ansible-core makes a loop through `hostvars[h].x` undefined, so that
/// `default` applies, rather than an error.
pub fn resolve_quietly<T>(name: &str, render: impl FnOnce() -> T) -> Option<T> {
    resolve_or(name, false, render)
}

fn resolve_or<T>(name: &str, loop_fails: bool, render: impl FnOnce() -> T) -> Option<T> {
    let refused = STATE.with_borrow_mut(|s| {
        let why = if let Some(start) = s.resolving.iter().position(|n| n == name) {
            let chain: Vec<&str> = s.resolving[start..].iter().map(String::as_str).chain([name]).collect();
            Some(format!("{LOOP}: {} (each variable's template uses the next)", chain.join(" -> ")))
        } else if s.resolving.len() >= MAX_NESTING {
            Some(format!("{LOOP}: variables nest more than {MAX_NESTING} deep ({} -> ...)", s.resolving[..3].join(" -> ")))
        } else {
            None
        };
        match why {
            Some(why) => {
                if loop_fails {
                    s.found.get_or_insert(why);
                }
                true
            }
            None => {
                s.resolving.push(name.to_string());
                false
            }
        }
    });
    if refused {
        return None;
    }
    let out = render();
    STATE.with_borrow_mut(|s| s.resolving.pop());
    Some(out)
}

/// Whether a loop was found in the render in progress: what was rendered
/// during it must not be kept.
pub fn found() -> bool {
    STATE.with_borrow(|s| s.found.is_some())
}

/// Runs one render; it fails when a loop was found during it (also inside the
/// renders of the variables it read).
pub fn guard<T>(render: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let outermost = STATE.with_borrow_mut(|s| {
        s.renders += 1;
        if s.renders == 1 {
            s.found = None;
        }
        s.renders == 1
    });
    let out = render();
    let found = STATE.with_borrow_mut(|s| {
        s.renders -= 1;
        if outermost {
            s.found.take()
        } else {
            s.found.clone()
        }
    });
    match found {
        Some(why) => Err(Error::new(ErrorKind::InvalidOperation, why)),
        None => out,
    }
}

/// The message of an error made by [`guard`], to be shown as it is.
pub fn message(e: &Error) -> Option<String> {
    let detail = e.detail().filter(|d| e.kind() == ErrorKind::InvalidOperation && d.starts_with(LOOP))?;
    Some(detail.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_read_while_it_renders_fails_the_outermost_render() {
        let inner = || guard(|| Ok::<_, Error>(resolve("a", || resolve("b", || resolve("a", || 1)))));
        let e = guard(inner).unwrap_err();
        assert_eq!(message(&e).unwrap(), "Recursive loop detected in template: a -> b -> a (each variable's template uses the next)");
        // Recorded for one render only.
        assert_eq!(guard(|| Ok::<_, Error>(resolve("a", || 2))).unwrap(), Some(2));
    }

    #[test]
    fn chains_deeper_than_the_bound_fail() {
        fn nest(depth: usize) -> Option<usize> {
            resolve(&format!("v{depth}"), || nest(depth + 1)).flatten().or(Some(depth))
        }
        let e = guard(|| Ok::<_, Error>(nest(0))).unwrap_err();
        assert!(message(&e).unwrap().contains("nest more than 64 deep (v0 -> v1 -> v2 -> ...)"), "{e}");
    }
}
