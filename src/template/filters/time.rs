//! Ansible's clock in templates: the `now()` function (a datetime with
//! Python's attributes and `strftime`), `to_datetime` (Python's `strptime`)
//! and the `strftime` filter, all with
//! Python's format codes; a format chrono cannot read is an error, never a panic.

use std::fmt;
use std::sync::Arc;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, FixedOffset, Local, TimeZone, Timelike, Utc};
use minijinja::value::{from_args, Kwargs, Object, ObjectRepr, Value as Jinja};
use minijinja::{Environment, Error, State};

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_function("now", now);
    env.add_filter("strftime", strftime_filter);
    env.add_filter("to_datetime", to_datetime);
}

const DEFAULT_DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// `to_datetime(format='%Y-%m-%d %H:%M:%S')`: Python's `strptime`, a naive
/// datetime read as the controller's local time (as Python's
/// `timestamp()` does); a format without a time is midnight, one without
/// a date is 1900-01-01. (Ansible's datetimes also subtract into a
/// timedelta; minijinja has no operator hook for that, so `a - b` fails.)
fn to_datetime(text: String, format: Option<String>) -> Result<Jinja, Error> {
    let format = format.unwrap_or_else(|| DEFAULT_DATETIME_FORMAT.into());
    let chrono_format = translate_micros(&format);
    let naive = chrono::NaiveDateTime::parse_from_str(&text, &chrono_format)
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(&text, &chrono_format).ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .or_else(|| chrono::NaiveTime::parse_from_str(&text, &chrono_format).ok().and_then(|t| chrono::NaiveDate::from_ymd_opt(1900, 1, 1).map(|d| d.and_time(t))));
    let repr = |s: &str| super::py::repr(&serde_json::Value::String(s.into()));
    let naive = naive.ok_or_else(|| fail(format!("time data {} does not match format {}", repr(&text), repr(&format))))?;
    let time = match Local.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.fixed_offset(),
        chrono::LocalResult::None => naive.and_utc().fixed_offset(),
    };
    Ok(Jinja::from_object(PyDateTime(time)))
}

/// Whether a value is a datetime (for `type_debug`).
pub(crate) fn is_datetime(v: &Jinja) -> bool {
    v.downcast_object_ref::<PyDateTime>().is_some()
}

/// `now(utc=False, fmt=None)`: the controller's time, local or UTC; with
/// `fmt`, that time formatted.
fn now(kwargs: Kwargs) -> Result<Jinja, Error> {
    let utc: Option<bool> = kwargs.get("utc")?;
    let format: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    let time = match utc.unwrap_or(false) {
        true => Utc::now().fixed_offset(),
        false => Local::now().fixed_offset(),
    };
    match format {
        Some(format) => Ok(Jinja::from(python_strftime(&time, &format)?)),
        None => Ok(Jinja::from_object(PyDateTime(time))),
    }
}

/// `'%Y-%m-%d' | strftime(second=None, utc=False)`: the format applied to
/// now, or to `second` (seconds since the epoch).
fn strftime_filter(format: String, second: Option<Jinja>, kwargs: Kwargs) -> Result<String, Error> {
    let second = match second {
        Some(s) => Some(s),
        None => kwargs.get::<Option<Jinja>>("second")?,
    };
    let utc: Option<bool> = kwargs.get("utc")?;
    kwargs.assert_all_used()?;
    let seconds = second.filter(|s| !s.is_none()).map(|s| epoch_seconds(&s)).transpose()?;
    let time = match (seconds, utc.unwrap_or(false)) {
        (None, true) => Utc::now().fixed_offset(),
        (None, false) => Local::now().fixed_offset(),
        (Some(s), true) => at(Utc, s)?,
        (Some(s), false) => at(Local, s)?,
    };
    python_strftime(&time, &format)
}

fn epoch_seconds(value: &Jinja) -> Result<f64, Error> {
    let parsed = match value.as_str() {
        Some(text) => text.trim().parse::<f64>().ok(),
        None => f64::try_from(value.clone()).ok(),
    };
    parsed.filter(|s| s.is_finite()).ok_or_else(|| fail(format!("Invalid value for epoch value ({value})")))
}

fn at<Tz: TimeZone>(zone: Tz, seconds: f64) -> Result<DateTime<FixedOffset>, Error> {
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
    match zone.timestamp_opt(whole as i64, nanos) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => Ok(t.fixed_offset()),
        chrono::LocalResult::None => Err(fail(format!("Invalid value for epoch value ({seconds})"))),
    }
}

/// Formats as Python's `strftime`: `%f` is microseconds (six digits), the
/// other codes are chrono's, which match Python's; an unknown code is an error.
fn python_strftime(time: &DateTime<FixedOffset>, format: &str) -> Result<String, Error> {
    let translated = translate_micros(format);
    let items: Vec<Item<'_>> = StrftimeItems::new(&translated).collect();
    if items.iter().any(|item| matches!(item, Item::Error)) {
        return Err(fail(format!("Invalid format string for strftime: {format:?}")));
    }
    Ok(time.format_with_items(items.into_iter()).to_string())
}

/// `%f` (not `%%f`) as chrono's six-digit fraction `%6f`.
fn translate_micros(format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 4);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('f') => out.push_str("%6f"),
            Some(next) => {
                out.push('%');
                out.push(next);
            }
            None => out.push('%'),
        }
    }
    out
}

/// A Python `datetime`: printed as `str(datetime)`, with its fields and
/// `strftime`, `isoformat` and `timestamp`.
#[derive(Debug)]
struct PyDateTime(DateTime<FixedOffset>);

impl fmt::Display for PyDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d %H:%M:%S"))?;
        match self.0.nanosecond() / 1000 {
            0 => Ok(()),
            micros => write!(f, ".{micros:06}"),
        }
    }
}

impl Object for PyDateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Jinja) -> Option<Jinja> {
        let t = &self.0;
        let field = match key.as_str()? {
            "year" => t.year() as i64,
            "month" => t.month() as i64,
            "day" => t.day() as i64,
            "hour" => t.hour() as i64,
            "minute" => t.minute() as i64,
            "second" => t.second() as i64,
            "microsecond" => (t.nanosecond() / 1000) as i64,
            _ => return None,
        };
        Some(Jinja::from(field))
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Jinja]) -> Result<Jinja, Error> {
        match method {
            "strftime" => {
                let (format,): (String,) = from_args(args)?;
                Ok(Jinja::from(python_strftime(&self.0, &format)?))
            }
            "isoformat" => {
                from_args::<()>(args)?;
                Ok(Jinja::from(self.to_string().replacen(' ', "T", 1)))
            }
            "timestamp" => {
                from_args::<()>(args)?;
                Ok(Jinja::from(self.0.timestamp() as f64 + f64::from(self.0.nanosecond()) / 1e9))
            }
            _ => Err(Error::new(minijinja::ErrorKind::UnknownMethod, format!("'datetime.datetime' object has no attribute '{method}'"))),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, Error> {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, ())
    }

    #[test]
    fn formats_read_as_pythons() {
        let t = FixedOffset::east_opt(0).unwrap().with_ymd_and_hms(2026, 12, 2, 18, 5, 9).unwrap() + chrono::Duration::microseconds(42);
        assert_eq!(python_strftime(&t, "%Y-%m-%d %H:%M:%S.%f %%f %s").unwrap(), "2026-12-02 18:05:09.000042 %f 1796234709");
        assert_eq!(PyDateTime(t).to_string(), "2026-12-02 18:05:09.000042");
        assert!(python_strftime(&t, "%Q").is_err());
    }

    #[test]
    fn filter_and_function_in_templates() {
        assert_eq!(render("{{ '%Y-%m-%d %H:%M:%S' | strftime(0, utc=true) }}").unwrap(), "1970-01-01 00:00:00");
        assert_eq!(render("{{ '%s' | strftime(second=1700000000.5) }}").unwrap(), "1700000000");
        let year: i32 = render("{{ now(utc=true).year }}").unwrap().parse().unwrap();
        assert!(year >= 2026);
        let epoch: f64 = render("{{ now(fmt='%s.%f') }}").unwrap().parse().unwrap();
        assert!(epoch > 1.7e9);
        assert_eq!(render("{{ 'y' if now().strftime('%Y') | int > 2000 else 'n' }}").unwrap(), "y");
        assert!(render("{{ now(fmt='%Q') }}").unwrap_err().to_string().contains("Invalid format string"));
        assert!(render("{{ 'x' | strftime('nope') }}").unwrap_err().to_string().contains("epoch"));
    }

    #[test]
    fn to_datetime_is_strptime() {
        assert_eq!(render("{{ '2016-08-14 20:00:12' | to_datetime }}").unwrap(), "2016-08-14 20:00:12");
        assert_eq!(render("{{ ('2016-08-14 20:00:12' | to_datetime).year }}").unwrap(), "2016");
        assert_eq!(render("{{ ('2015-12-25' | to_datetime('%Y-%m-%d')).strftime('%d/%m %H') }}").unwrap(), "25/12 00");
        assert_eq!(render("{{ '10:30' | to_datetime('%H:%M') }}").unwrap(), "1900-01-01 10:30:00");
        assert_eq!(render("{{ '2020-01-02 03:04:05.000042' | to_datetime('%Y-%m-%d %H:%M:%S.%f') }}").unwrap(), "2020-01-02 03:04:05.000042");
        let err = render("{{ 'x' | to_datetime }}").unwrap_err();
        assert_eq!(err.detail(), Some("time data 'x' does not match format '%Y-%m-%d %H:%M:%S'"));
    }
}
