//! The history's tables, as numbered migrations applied in order, once, by whichever
//! stockman opens the database first. Never edit a released migration: add the next one.

use super::db::{Db, DbError};

/// `(version, SQL)`: each runs in the transaction that records its version.
const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        started_ms BIGINT NOT NULL,
        ended_ms BIGINT,
        exit_code BIGINT,
        command TEXT NOT NULL,
        playbooks TEXT NOT NULL,
        inventory TEXT NOT NULL,
        check_mode BIGINT NOT NULL,
        controller TEXT NOT NULL,
        stockman_version TEXT NOT NULL,
        recap TEXT
    );
    CREATE INDEX runs_started ON runs (started_ms);
    CREATE TABLE results (
        run_id TEXT NOT NULL REFERENCES runs (id),
        seq BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        playbook TEXT,
        play TEXT,
        task TEXT,
        kind TEXT,
        path TEXT,
        host TEXT NOT NULL,
        status TEXT NOT NULL,
        changed BIGINT NOT NULL,
        ignored BIGINT NOT NULL,
        item TEXT,
        msg TEXT,
        diff TEXT NOT NULL,
        duration_ms BIGINT,
        result TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX results_host ON results (host, at_ms);",
)];

/// The newest schema this stockman writes and reads.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Brings the database to [`latest`]; refuses one a newer stockman has migrated.
pub fn migrate(db: &mut Db) -> Result<(), DbError> {
    db.begin()?;
    let outcome = apply_missing(db);
    match outcome {
        Ok(()) => db.commit(),
        Err(e) => {
            db.rollback();
            Err(e)
        }
    }
}

fn apply_missing(db: &mut Db) -> Result<(), DbError> {
    db.lock_for_migration()?;
    db.batch("CREATE TABLE IF NOT EXISTS stockman_schema (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)")?;
    let rows = db.query("SELECT MAX(version) FROM stockman_schema", &[])?;
    let current = rows.first().and_then(|r| r.first()).and_then(serde_json::Value::as_i64).unwrap_or(0);
    if current > latest() {
        return Err(DbError::Newer { found: current, known: latest() });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        db.batch(sql)?;
        db.exec("INSERT INTO stockman_schema (version, applied_ms) VALUES ($1, $2)", &[(*version).into(), super::now_ms().into()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Db {
        Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap())
    }

    #[test]
    fn migrations_apply_once_and_a_newer_schema_is_refused() {
        let mut db = memory();
        migrate(&mut db).unwrap();
        migrate(&mut db).unwrap();
        let versions = db.query("SELECT version FROM stockman_schema ORDER BY version", &[]).unwrap();
        assert_eq!(versions.len(), MIGRATIONS.len(), "each migration recorded once: {versions:?}");
        db.exec("INSERT INTO stockman_schema (version, applied_ms) VALUES ($1, 0)", &[(latest() + 1).into()]).unwrap();
        let e = migrate(&mut db).unwrap_err();
        assert!(e.to_string().contains(&format!("schema version {}", latest() + 1)), "{e}");
    }

    #[test]
    fn versions_only_grow() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(MIGRATIONS[0].0, 1);
    }
}
