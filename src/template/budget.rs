//! Bounds on what one render may build, so that a template that grows without
//! end (`{% for i in range(100000) %}{{ big }}{% endfor %}`, a string doubled
//! in a namespace forty times) fails its task instead of exhausting memory
//! and aborting the whole run.
//!
//! - A render's output may be at most [`limit`] bytes (64 MiB unless
//!   `STOCKMAN_TEMPLATE_MAX_BYTES` says otherwise).
//! - While it runs, a render may hold at most [`HELD_FACTOR`] times that
//!   (its strings, lists and output buffers), counted by [`CountingAlloc`],
//!   the program's allocator, and checked at every piece of output and every
//!   step of a `range()` loop: growth needs one of them between two
//!   doublings, so the memory in use stays within a small multiple of the
//!   bound. (minijinja itself refuses a single `*` repetition over 100 MB.)
//!
//! Renders are synchronous, so the state is per thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use minijinja::{Error, ErrorKind};

/// The environment variable that sets the bound, in bytes.
pub const LIMIT_VAR: &str = "STOCKMAN_TEMPLATE_MAX_BYTES";
const DEFAULT_LIMIT: usize = 64 << 20;
/// How much more than the output bound a render may hold while it runs.
pub const HELD_FACTOR: usize = 4;

const EXCEEDED: &str = "template output exceeds";

/// The system allocator, counting the bytes each thread holds.
pub struct CountingAlloc;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    /// What the thread held when the outermost render began, and whether the
    /// render went over its bound.
    static RENDER: Cell<Option<(isize, bool)>> = const { Cell::new(None) };
}

fn count(bytes: isize) {
    // After the thread's locals are gone (thread exit), nothing is counted.
    let _ = HELD.try_with(|h| h.set(h.get() + bytes));
}

// SAFETY: every call is passed to `System` unchanged; counting touches only a
// const-initialised thread-local Cell, which never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// The bound on one render's output, in bytes.
pub fn limit() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| std::env::var(LIMIT_VAR).ok().and_then(|v| v.trim().parse().ok()).filter(|n| *n > 0).unwrap_or(DEFAULT_LIMIT))
}

/// Runs one render under the bound; renders inside it (variables rendered
/// when read) share the outermost one's.
pub fn within<T>(render: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    let outermost = RENDER.get().is_none();
    if outermost {
        RENDER.set(Some((HELD.get(), false)));
    }
    let out = render();
    let exceeded = RENDER.get().is_some_and(|(_, exceeded)| exceeded);
    if outermost {
        RENDER.set(None);
    }
    if exceeded {
        return Err(exceeded_error());
    }
    out
}

/// Fails once the render in progress holds more than it may.
pub fn check() -> Result<(), Error> {
    match RENDER.get() {
        Some((start, _)) if HELD.get() - start > (limit() * HELD_FACTOR) as isize => {
            RENDER.set(Some((start, true)));
            Err(exceeded_error())
        }
        _ => Ok(()),
    }
}

/// Marks the render in progress as over its bound (its output grew past it).
pub fn exceeded() -> Error {
    if let Some((start, _)) = RENDER.get() {
        RENDER.set(Some((start, true)));
    }
    exceeded_error()
}

pub fn exceeded_error() -> Error {
    let limit = limit();
    let size = if limit % (1 << 20) == 0 { format!("{} MiB", limit >> 20) } else { format!("{limit} bytes") };
    Error::new(ErrorKind::InvalidOperation, format!("{EXCEEDED} the limit of {size} (or holds more than {HELD_FACTOR} times that while it renders); raise it with {LIMIT_VAR}=BYTES"))
}

/// The message of an error made here, to be shown as it is.
pub fn message(e: &Error) -> Option<String> {
    e.detail().filter(|d| e.kind() == ErrorKind::InvalidOperation && d.starts_with(EXCEEDED)).map(str::to_string)
}

/// A `std::io::Write` that takes at most [`limit`] bytes.
pub struct BoundedOutput(pub Vec<u8>);

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > limit() || check().is_err() {
            exceeded();
            return Err(std::io::Error::other(EXCEEDED));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `range([start,] stop[, step])` as Jinja's, whose loops check the bound at
/// every step and stop once it is exceeded (the render then fails).
pub fn range(lower: i64, upper: Option<i64>, step: Option<i64>) -> Result<minijinja::Value, Error> {
    let (start, stop) = match upper {
        Some(upper) => (lower, upper),
        None => (0, lower),
    };
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(Error::new(ErrorKind::InvalidOperation, "cannot create range with step of 0"));
    }
    let len = if (step > 0 && stop > start) || (step < 0 && stop < start) { (stop - start).unsigned_abs().div_ceil(step.unsigned_abs()) } else { 0 };
    if len > 100_000 {
        return Err(Error::new(ErrorKind::InvalidOperation, "range has too many elements"));
    }
    Ok(minijinja::Value::from_object(Range { start, step, len: len as usize }))
}

#[derive(Debug)]
struct Range {
    start: i64,
    step: i64,
    len: usize,
}

impl minijinja::value::Object for Range {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        let index = key.as_usize().filter(|i| *i < self.len)?;
        Some(minijinja::Value::from(self.start + self.step * index as i64))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        let (start, step) = (self.start, self.step);
        let steps = (0..self.len).map_while(move |i| check().ok().map(|()| minijinja::Value::from(start + step * i as i64)));
        minijinja::value::Enumerator::Iter(Box::new(steps))
    }

    fn enumerator_len(self: &std::sync::Arc<Self>) -> Option<usize> {
        Some(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_past_the_bound_fails_the_render() {
        let mut out = BoundedOutput(Vec::new());
        let r = within(|| {
            use std::io::Write;
            out.write_all(&vec![b'a'; limit() + 1]).map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
        });
        assert!(message(&r.unwrap_err()).unwrap().contains("the limit of 64 MiB"));
        assert!(within(|| Ok(())).is_ok(), "the next render starts afresh");
    }
}
