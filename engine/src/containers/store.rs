//! The containers' records in their own SQLite table under the data root (`containers.db`).
//!
//! Records are the serde JSON of [`ContainerRecord`], keyed by id, as libnet keeps its networks:
//! the engine's state lives apart from the controller's, so either can change shape alone.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::{ContainerError, ContainerRecord};

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);";

/// The container table of one daemon.
pub struct ContainerStore {
    conn: Connection,
    path: PathBuf,
}

impl ContainerStore {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<ContainerStore, ContainerError> {
        let err = |e: rusqlite::Error| ContainerError::Store(format!("{}: {e}", path.display()));
        let conn = crate::sqlite::open(path, SCHEMA).map_err(err)?;
        Ok(ContainerStore { conn, path: path.to_path_buf() })
    }

    fn err(&self, e: impl std::fmt::Display) -> ContainerError {
        ContainerError::Store(format!("{}: {e}", self.path.display()))
    }

    /// Every record, in creation order.
    pub fn all(&self) -> Result<Vec<ContainerRecord>, ContainerError> {
        let mut stmt =
            self.conn.prepare("SELECT id, record FROM containers ORDER BY rowid").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(|e| self.err(e))?;
            let rec = serde_json::from_str(&record).map_err(|e| self.err(format!("record of container {id}: {e}")))?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Insert or replace a record.
    pub fn put(&self, rec: &ContainerRecord) -> Result<(), ContainerError> {
        let json = serde_json::to_string(rec).map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT INTO containers (id, name, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
                params![rec.id, rec.name, json],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn delete(&self, id: &str) -> Result<(), ContainerError> {
        self.conn.execute("DELETE FROM containers WHERE id = ?1", params![id]).map_err(|e| self.err(e))?;
        Ok(())
    }
}
