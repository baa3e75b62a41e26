//! A SQLite file of JSON records, weftd's one way to keep state: the controller's networks,
//! endpoints and sandboxes, and the engine's containers and images, each in a file of its own so
//! either side can change shape alone.
//!
//! A table holds `id`, the record as serde JSON, and any columns the schema adds beside them (a
//! unique name, the network of an endpoint). The file is its owner's only (0600; SQLite gives its
//! `-wal` and `-shm` files the same mode) and runs in WAL mode with `synchronous=NORMAL`: a
//! committed transaction survives the daemon being killed, and an operation costs no fsync; only a
//! power cut can lose the last ones.

use std::path::{Path, PathBuf};

use rusqlite::{params_from_iter, Connection, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What went wrong with a record file.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// SQLite's error, with the file's path.
    #[error("{path}: {source}")]
    Sqlite {
        /// The record file's path.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A record that cannot be read or written as JSON: `what` is `<table>/<id>`.
    #[error("record {what}: {source}")]
    Json {
        /// The record, as `<table>/<id>`.
        what: String,
        /// serde_json's error.
        source: serde_json::Error,
    },
}

/// An open record file.
pub struct RecordFile {
    conn: Connection,
    path: PathBuf,
}

/// One write transaction of a [`RecordFile`]: committed by [`RecordFile::write`] when its closure
/// succeeds, rolled back otherwise.
pub struct RecordTx<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> RecordError + '_ {
    move |source| RecordError::Sqlite { path: path.display().to_string(), source }
}

/// Create the file at `path` readable by its owner only (0600), or make an existing one so,
/// before SQLite opens it.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

impl RecordFile {
    /// Open (or create) the file at `path`, with `schema` (`CREATE TABLE IF NOT EXISTS ...`)
    /// applied.
    pub fn open(path: &Path, schema: &str) -> Result<RecordFile, RecordError> {
        let err = sqlite(path);
        make_private(path).map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let conn = Connection::open(path).map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(&err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(&err)?;
        conn.execute_batch(schema).map_err(&err)?;
        Ok(RecordFile { conn, path: path.to_path_buf() })
    }

    /// Every record of `table`, in the order they were first written.
    pub fn load<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>, RecordError> {
        let err = sqlite(&self.path);
        let mut stmt = self.conn.prepare(&format!("SELECT id, record FROM {table} ORDER BY rowid")).map_err(&err)?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(&err)?;
            let value = serde_json::from_str(&record)
                .map_err(|source| RecordError::Json { what: format!("{table}/{id}"), source })?;
            out.push(value);
        }
        Ok(out)
    }

    /// Run `f` in one transaction and commit it if `f` succeeds; roll it back otherwise.
    pub fn write<T, E: From<RecordError>>(&mut self, f: impl FnOnce(&RecordTx<'_>) -> Result<T, E>) -> Result<T, E> {
        let err = sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        let rtx = RecordTx { tx, path: &self.path };
        let out = f(&rtx)?;
        rtx.tx.commit().map_err(&err)?;
        Ok(out)
    }
}

impl RecordTx<'_> {
    /// Insert or replace record `id` of `table`, with `columns` (name, value) beside it.
    pub fn put<T: Serialize>(
        &self,
        table: &str,
        id: &str,
        columns: &[(&str, &str)],
        value: &T,
    ) -> Result<(), RecordError> {
        let record = serde_json::to_string(value)
            .map_err(|source| RecordError::Json { what: format!("{table}/{id}"), source })?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let marks: Vec<String> = (0..columns.len()).map(|i| format!("?{}", i + 3)).collect();
        let updates: String = names.iter().map(|n| format!("{n} = excluded.{n}, ")).collect();
        let sql = format!(
            "INSERT INTO {table} (id, record{}) VALUES (?1, ?2{}) ON CONFLICT(id) DO UPDATE SET {updates}record = excluded.record",
            names.iter().map(|n| format!(", {n}")).collect::<String>(),
            marks.iter().map(|m| format!(", {m}")).collect::<String>(),
        );
        let values = [id, record.as_str()].into_iter().chain(columns.iter().map(|(_, v)| *v));
        self.tx.execute(&sql, params_from_iter(values)).map_err(sqlite(self.path))?;
        Ok(())
    }

    /// Delete record `id` of `table`; one that is not there is no error.
    pub fn delete(&self, table: &str, id: &str) -> Result<(), RecordError> {
        self.tx.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [id]).map_err(sqlite(self.path))?;
        Ok(())
    }
}
