//! One small database API over SQLite and PostgreSQL, so that every statement and
//! migration of the history is written once and runs on both.
//!
//! Statements use PostgreSQL's `$1, $2...` placeholders; for SQLite they become `?1, ?2...`
//! (SQLite reads `$1` as a *named* parameter, numbered in order of appearance, not by its digits). Every integer column is
//! BIGINT (booleans 0/1) and every other one TEXT, so values bind the same way on both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Where the history lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL.
    Postgres(String),
}

impl Target {
    /// How messages name the database: the file, or the URL without its password.
    pub fn label(&self) -> String {
        match self {
            Target::Sqlite(path) => path.display().to_string(),
            Target::Postgres(url) => super::censor::url(url),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create the directory `{path}`: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", with_causes(.0))]
    Postgres(#[from] postgres::Error),
    #[error("the history database has schema version {found}; this stockman knows versions up to {known}: upgrade stockman to read or write it")]
    Newer { found: i64, known: i64 },
    #[error("a column of type `{0}` where the history schema has only BIGINT and TEXT")]
    Column(String),
}

/// The client's message and what caused it ("error connecting to server: Connection refused").
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// A value bound to a placeholder; the type is kept for NULLs, which PostgreSQL checks.
#[derive(Debug, Clone)]
pub enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(Some(v))
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Cell {
        Cell::Int(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Int(Some(i64::from(v)))
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(Some(v.to_string()))
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(Some(v))
    }
}
impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        Cell::Text(v)
    }
}

/// An open history database.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Pg>),
}

/// A PostgreSQL connection and its prepared statements: a run repeats a few statements
/// thousands of times, and each prepare is a round trip.
pub struct Pg {
    client: postgres::Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl Pg {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// How long a writer waits for another run's write lock (SQLite) or a connection (PostgreSQL).
const WAIT: Duration = Duration::from_secs(10);

impl Db {
    pub fn open(target: &Target) -> Result<Db, DbError> {
        match target {
            Target::Sqlite(path) => open_sqlite(path),
            Target::Postgres(url) => open_postgres(url),
        }
    }

    /// Runs one statement; returns the rows it changed.
    pub fn exec(&mut self, sql: &str, params: &[Cell]) -> Result<u64, DbError> {
        match self {
            // Cached: parsing the same INSERT for every result would cost more than running it.
            Db::Sqlite(c) => Ok(c.prepare_cached(&sqlite_placeholders(sql))?.execute(rusqlite::params_from_iter(params.iter()))? as u64),
            Db::Postgres(pg) => {
                let st = pg.statement(sql)?;
                Ok(pg.client.execute(&st, &pg_params(params))?)
            }
        }
    }

    /// Runs a query; each row is its columns as JSON values (null, integer or string).
    pub fn query(&mut self, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Value>>, DbError> {
        match self {
            Db::Sqlite(c) => sqlite_rows(c, sql, params),
            Db::Postgres(pg) => {
                let st = pg.statement(sql)?;
                pg.client.query(&st, &pg_params(params))?.iter().map(pg_row).collect()
            }
        }
    }

    /// Starts a transaction that holds the write lock from its first statement on.
    pub fn begin(&mut self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Db::Postgres(pg) => pg.client.batch_execute("BEGIN")?,
        }
        Ok(())
    }

    pub fn commit(&mut self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch("COMMIT")?,
            Db::Postgres(pg) => pg.client.batch_execute("COMMIT")?,
        }
        Ok(())
    }

    /// Undoes a failed transaction (an error here changes nothing more).
    pub fn rollback(&mut self) {
        let _ = match self {
            Db::Sqlite(c) => c.execute_batch("ROLLBACK").map_err(DbError::from),
            Db::Postgres(pg) => pg.client.batch_execute("ROLLBACK").map_err(DbError::from),
        };
    }

    /// Several DDL statements at once (migrations).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => c.execute_batch(sql)?,
            Db::Postgres(pg) => pg.client.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Serialises migrations between concurrent runs (SQLite's BEGIN IMMEDIATE already does).
    pub fn lock_for_migration(&mut self) -> Result<(), DbError> {
        if let Db::Postgres(pg) = self {
            // Any constant will do: it only has to be the same in every stockman.
            pg.client.batch_execute("SELECT pg_advisory_xact_lock(7470104519)")?;
        }
        Ok(())
    }
}

/// The file and its directory are the user's own: results may hold what tasks printed.
fn open_sqlite(path: &Path) -> Result<Db, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|source| DbError::Dir { path: dir.to_path_buf(), source })?;
    }
    let c = rusqlite::Connection::open(path)?;
    c.busy_timeout(WAIT)?;
    // WAL: readers never block the writer, and concurrent runs queue on the busy timeout.
    c.pragma_update(None, "journal_mode", "WAL")?;
    // Durable against a killed process (what the history must survive); an OS crash may lose the last commits.
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.pragma_update(None, "foreign_keys", true)?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(Db::Sqlite(c))
}

fn open_postgres(url: &str) -> Result<Db, DbError> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(WAIT);
    }
    // A database that stops answering must not hold a run's end forever.
    config.options("-c statement_timeout=30000 -c lock_timeout=30000");
    config.application_name("stockman");
    let client = config.connect(postgres::NoTls)?;
    Ok(Db::Postgres(Box::new(Pg { client, statements: std::collections::HashMap::new() })))
}

/// `$3` → `?3` (our statements hold no `$` otherwise).
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let numbered = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if numbered { '?' } else { c });
    }
    out
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Cell::Int(v) => v.to_sql(),
            Cell::Text(v) => v.to_sql(),
        }
    }
}

fn pg_params(params: &[Cell]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| match p {
            Cell::Int(v) => v as &(dyn postgres::types::ToSql + Sync),
            Cell::Text(v) => v as &(dyn postgres::types::ToSql + Sync),
        })
        .collect()
}

fn sqlite_rows(c: &rusqlite::Connection, sql: &str, params: &[Cell]) -> Result<Vec<Vec<Value>>, DbError> {
    use rusqlite::types::ValueRef;
    let mut stmt = c.prepare_cached(&sqlite_placeholders(sql))?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => n.into(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                ValueRef::Real(_) => return Err(DbError::Column("REAL".into())),
                ValueRef::Blob(_) => return Err(DbError::Column("BLOB".into())),
            });
        }
        out.push(values);
    }
    Ok(out)
}

fn pg_row(row: &postgres::Row) -> Result<Vec<Value>, DbError> {
    use postgres::types::Type;
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::from)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?.map(Value::from)
        } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
            row.try_get::<_, Option<String>>(i)?.map(Value::from)
        } else {
            return Err(DbError::Column(ty.name().to_string()));
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_bind_by_number_on_sqlite_too() {
        assert_eq!(sqlite_placeholders("UPDATE t SET a = $2 WHERE id = $1"), "UPDATE t SET a = ?2 WHERE id = ?1");
        let mut db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.batch("CREATE TABLE t (id TEXT, a BIGINT)").unwrap();
        db.exec("INSERT INTO t (id, a) VALUES ($1, $2)", &["x".into(), 1.into()]).unwrap();
        assert_eq!(db.exec("UPDATE t SET a = $2 WHERE id = $1", &["x".into(), 7.into()]).unwrap(), 1);
        assert_eq!(db.query("SELECT a FROM t WHERE id = $1", &["x".into()]).unwrap(), vec![vec![Value::from(7)]]);
    }
}
