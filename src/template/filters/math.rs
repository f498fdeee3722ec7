//! Number filters: `pow`, `log`, `root` (Python's `math`, so always a
//! float) and `human_readable`, `human_to_bytes` (Ansible's byte-size
//! formatters).

use super::{fail, py_str, to_json};
use minijinja::value::{Kwargs, Value as Jinja, ValueKind};
use minijinja::{Environment, Error};
use serde_json::Value;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("pow", |x: Jinja, y: Jinja| -> Result<f64, Error> {
        let (x, y) = (real(&x).map_err(|e| fail(format!("pow() can only be used on numbers: {e}")))?, real(&y).map_err(|e| fail(format!("pow() can only be used on numbers: {e}")))?);
        math_pow(x, y).map_err(fail)
    });
    env.add_filter("log", log);
    env.add_filter("root", root);
    env.add_filter("human_readable", human_readable);
    env.add_filter("human_to_bytes", human_to_bytes);
}

/// A number as Python's `math` takes it (a bool is an int), or the
/// `TypeError` it gives.
fn real(v: &Jinja) -> Result<f64, String> {
    match v.kind() {
        // As a float: minijinja's 128-bit integers too.
        ValueKind::Number => f64::try_from(v.clone()).map_err(|_| "int too large to convert to float".into()),
        ValueKind::Bool => Ok(f64::from(u8::from(v.is_true()))),
        _ => Err(format!("must be real number, not {}", super::py::type_name(&to_json(v)))),
    }
}

/// Python's `math.pow`: a NaN or infinity from finite inputs is an error.
fn math_pow(x: f64, y: f64) -> Result<f64, &'static str> {
    if x == 0.0 && y < 0.0 {
        return Err("math domain error");
    }
    let r = x.powf(y);
    match () {
        _ if r.is_nan() && !x.is_nan() && !y.is_nan() => Err("math domain error"),
        _ if r.is_infinite() && x.is_finite() && y.is_finite() => Err("math range error"),
        _ => Ok(r),
    }
}

/// Python's `math.log(x)` of one value.
fn ln(x: f64) -> Result<f64, &'static str> {
    if x <= 0.0 {
        return Err("math domain error");
    }
    Ok(x.ln())
}

/// `log(base=e)`: `math.log10` for base 10, else `math.log(x, base)`.
fn log(x: Jinja, base: Option<Jinja>) -> Result<f64, Error> {
    let not_number = |e: String| fail(format!("log() can only be used on numbers: {e}"));
    let x = real(&x).map_err(not_number)?;
    let base = match base {
        Some(b) => real(&b).map_err(not_number)?,
        None => std::f64::consts::E,
    };
    if base == 10.0 {
        return if x <= 0.0 { Err(fail("math domain error")) } else { Ok(x.log10()) };
    }
    let (num, den) = (ln(x).map_err(fail)?, ln(base).map_err(fail)?);
    if den == 0.0 {
        return Err(fail("float division by zero"));
    }
    Ok(num / den)
}

/// `root(base=2)`: `math.sqrt`, else `x ** (1 / float(base))`; every
/// failure reads "root() can only be used on numbers".
fn root(x: Jinja, base: Option<Jinja>) -> Result<f64, Error> {
    let not_number = |e: &str| fail(format!("root() can only be used on numbers: {e}"));
    let x = real(&x).map_err(|e| not_number(&e))?;
    let base = match base.as_ref().map(|b| (b, to_json(b))) {
        None => 2.0,
        // float(base): a numeric string is taken, as Python's float() does.
        Some((b, Value::String(s))) => super::types::py_float(&s).ok_or_else(|| not_number(&format!("could not convert string to float: {}", super::py::repr(&to_json(b)))))?,
        Some((b, _)) => real(b).map_err(|e| not_number(&e.replace("must be real number", "float() argument must be a string or a real number")))?,
    };
    if base == 2.0 && !base.is_nan() {
        return if x < 0.0 { Err(not_number("math domain error")) } else { Ok(x.sqrt()) };
    }
    if base == 0.0 {
        return Err(not_number("float division by zero"));
    }
    math_pow(x, 1.0 / base).map_err(not_number)
}

/// Ansible's size units, largest first.
const UNITS: [(char, u32, &str, &str); 9] = [
    ('Y', 80, "yottabyte", "yottabit"),
    ('Z', 70, "zetabyte", "zetabit"),
    ('E', 60, "exabyte", "exabit"),
    ('P', 50, "petabyte", "petabit"),
    ('T', 40, "terabyte", "terabit"),
    ('G', 30, "gigabyte", "gigabit"),
    ('M', 20, "megabyte", "megabit"),
    ('K', 10, "kilobyte", "kilobit"),
    ('B', 0, "byte", "bit"),
];

/// `human_readable(isbits=False, unit=None)`: `"%.2f KB"`; a `unit` is
/// matched on its whole upper-cased text against one letter, so `'KB'`
/// matches nothing and falls through to bytes, as in Ansible.
fn human_readable(size: Jinja, isbits: Option<bool>, unit: Option<Jinja>, kwargs: Kwargs) -> Result<String, Error> {
    let isbits = isbits.or(kwargs.get::<Option<bool>>("isbits")?).unwrap_or(false);
    let unit = unit.or(kwargs.get::<Option<Jinja>>("unit")?).filter(|u| !u.is_none());
    kwargs.assert_all_used()?;
    let unit = match &unit {
        None => None,
        Some(u) => Some(
            u.as_str().map(str::to_uppercase).ok_or_else(|| fail(format!("human_readable() can't interpret the input: '{}' object has no attribute 'upper'", super::py::type_name(&to_json(u)))))?,
        ),
    };
    let size = real(&size).map_err(|_| {
        let kind = super::py::type_name(&to_json(&size));
        fail(match unit {
            None => format!("human_readable() failed on bad input: '>=' not supported between instances of '{kind}' and 'int'"),
            Some(_) => format!("human_readable() failed on bad input: unsupported operand type(s) for /: '{kind}' and 'int'"),
        })
    })?;
    let chosen = UNITS.iter().find(|(letter, shift, ..)| match &unit {
        None => size >= (1u128 << shift) as f64,
        Some(u) => *u == letter.to_string(),
    });
    let (letter, shift) = chosen.map_or(('B', 0), |(l, s, ..)| (*l, *s));
    let base = if isbits { "bits" } else { "Bytes" };
    let suffix = if shift == 0 { base.to_string() } else { format!("{letter}{}", &base[..1]) };
    Ok(format!("{:.2} {suffix}", size / (1u128 << shift) as f64))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `'1.5 MB'` is
/// 1572864; `'Mb'` (bits) is refused unless `isbits`, and `'MB'` then is.
fn human_to_bytes(size: Jinja, default_unit: Option<Jinja>, isbits: Option<bool>, kwargs: Kwargs) -> Result<Jinja, Error> {
    let default_unit = default_unit.or(kwargs.get::<Option<Jinja>>("default_unit")?).filter(|u| !u.is_none());
    let isbits = isbits.or(kwargs.get::<Option<bool>>("isbits")?).unwrap_or(false);
    kwargs.assert_all_used()?;
    let text = py_str(&size);
    let default_unit = default_unit.map(|u| py_str(&u));
    to_bytes(&text, default_unit.as_deref(), isbits).map(Jinja::from).map_err(|e| fail(format!("human_to_bytes() can't interpret the input: {e}")))
}

fn to_bytes(text: &str, default_unit: Option<&str>, isbits: bool) -> Result<i128, String> {
    static FORM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let form = FORM.get_or_init(|| regex::Regex::new(r"^([0-9]*\.?[0-9]+)(?:\s*([A-Za-z]+))?\s*$").expect("static pattern"));
    let caps = form.captures(text).ok_or_else(|| format!("human_to_bytes() can't interpret following string: {text}"))?;
    let num: f64 = caps[1].parse().map_err(|_| format!("human_to_bytes() can't interpret following number: {} (original input string: {text})", &caps[1]))?;
    let Some(unit) = caps.get(2).map(|m| m.as_str()).or(default_unit) else {
        return Ok(num.round_ties_even() as i128);
    };
    let key = unit.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
    let Some((_, shift, byte_name, bit_name)) = UNITS.iter().find(|u| u.0 == key) else {
        return Err(format!("human_to_bytes() failed to convert {text} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"));
    };
    if unit.chars().count() > 1 {
        let (class, name) = if isbits { ('b', *bit_name) } else { ('B', *byte_name) };
        let short = if key == 'B' { class.to_string() } else { format!("{key}{class}") };
        if unit.to_lowercase() != name && unit != short {
            let expect = if key == 'B' { format!("expect {class} or {name}") } else { format!("expect {key}{class} or {key}") };
            return Err(format!("human_to_bytes() failed to convert {text}. Value is not a valid string ({expect})"));
        }
    }
    Ok((num * (1u128 << shift) as f64).round_ties_even() as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> Result<String, String> {
        let mut env = Environment::new();
        register(&mut env);
        env.render_str(source, ()).map_err(|e| e.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn pow_log_root_are_pythons_math() {
        assert_eq!(render("{{ 2 | pow(3) }} {{ 2.5 | pow(2) }}").unwrap(), "8.0 6.25");
        assert_eq!(render("{{ '2' | pow(3) }}").unwrap_err(), "pow() can only be used on numbers: must be real number, not str");
        assert_eq!(render("{{ -1 | pow(0.5) }}").unwrap_err(), "math domain error");
        assert_eq!(render("{{ 10.0 | pow(400) }}").unwrap_err(), "math range error");
        assert_eq!(render("{{ 100 | log(10) }} {{ 8 | log(2) }} {{ 1 | log }}").unwrap(), "2.0 3.0 0.0");
        assert_eq!(render("{{ 0 | log }}").unwrap_err(), "math domain error");
        assert_eq!(render("{{ 5 | log(1) }}").unwrap_err(), "float division by zero");
        assert_eq!(render("{{ 16 | root }} {{ 27 | root(3) }} {{ 8 | root('3') }}").unwrap(), "4.0 3.0 2.0");
        assert_eq!(render("{{ -4 | root }}").unwrap_err(), "root() can only be used on numbers: math domain error");
        assert_eq!(render("{{ 'x' | root }}").unwrap_err(), "root() can only be used on numbers: must be real number, not str");
    }

    #[test]
    fn human_readable_formats_sizes() {
        assert_eq!(render("{{ 1024 | human_readable }}").unwrap(), "1.00 KB");
        assert_eq!(render("{{ 1536 | human_readable(unit='K') }}").unwrap(), "1.50 KB");
        assert_eq!(render("{{ 1536 | human_readable(unit='KB') }}").unwrap(), "1536.00 Bytes");
        assert_eq!(render("{{ 10 | human_readable(isbits=true) }}").unwrap(), "10.00 bits");
        assert_eq!(render("{{ 0.5 | human_readable }}").unwrap(), "0.50 Bytes");
        assert_eq!(render("{{ 1048576 | human_readable(unit='G') }}").unwrap(), "0.00 GB");
        assert_eq!(render("{{ 4835703278458516698824704 | human_readable }}").unwrap(), "4.00 YB");
        assert_eq!(render("{{ 'x' | human_readable }}").unwrap_err(), "human_readable() failed on bad input: '>=' not supported between instances of 'str' and 'int'");
    }

    #[test]
    fn human_to_bytes_reads_sizes() {
        assert_eq!(render("{{ '1K' | human_to_bytes }} {{ '1.5 MB' | human_to_bytes }} {{ '1Mb' | human_to_bytes(isbits=true) }}").unwrap(), "1024 1572864 1048576");
        assert_eq!(render("{{ 10 | human_to_bytes('K') }} {{ '2.5' | human_to_bytes }} {{ '1 kilobyte' | human_to_bytes }}").unwrap(), "10240 2 1024");
        assert_eq!(
            render("{{ '1Mb' | human_to_bytes }}").unwrap_err(),
            "human_to_bytes() can't interpret the input: human_to_bytes() failed to convert 1Mb. Value is not a valid string (expect MB or M)"
        );
        assert_eq!(render("{{ 'foo' | human_to_bytes }}").unwrap_err(), "human_to_bytes() can't interpret the input: human_to_bytes() can't interpret following string: foo");
        assert_eq!(
            render("{{ '3X' | human_to_bytes }}").unwrap_err(),
            "human_to_bytes() can't interpret the input: human_to_bytes() failed to convert 3X (unit = X). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        );
        assert_eq!(
            render("{{ '2Bytes' | human_to_bytes }}").unwrap_err(),
            "human_to_bytes() can't interpret the input: human_to_bytes() failed to convert 2Bytes. Value is not a valid string (expect B or byte)"
        );
    }
}
