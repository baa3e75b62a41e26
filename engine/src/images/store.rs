//! The image records in their own SQLite database under the data root (`images.db`).
//!
//! SQLite rather than a JSON file: it is what the containers and the controller already use (one
//! way to store records in weftd), and each change (a new image and the tags it takes from
//! others) is one transaction, so a killed daemon never leaves a tag on two images.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::{ImageError, ImageRecord};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, record TEXT NOT NULL);";

pub struct ImageStore {
    conn: Connection,
    path: PathBuf,
}

impl ImageStore {
    pub fn open(path: &Path) -> Result<ImageStore, ImageError> {
        let err = |e: rusqlite::Error| ImageError::Store(format!("{}: {e}", path.display()));
        let conn = crate::sqlite::open(path, SCHEMA).map_err(err)?;
        Ok(ImageStore { conn, path: path.to_path_buf() })
    }

    fn err(&self, e: impl std::fmt::Display) -> ImageError {
        ImageError::Store(format!("{}: {e}", self.path.display()))
    }

    pub fn all(&self) -> Result<Vec<ImageRecord>, ImageError> {
        let mut stmt = self.conn.prepare("SELECT id, record FROM images ORDER BY rowid").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&record).map_err(|e| self.err(format!("record of image {id}: {e}")))?);
        }
        Ok(out)
    }

    /// Write `put` and delete `delete`, all or nothing.
    pub fn commit(&mut self, put: &[&ImageRecord], delete: &[&str]) -> Result<(), ImageError> {
        let tx = self.conn.transaction().map_err(|e| ImageError::Store(format!("{}: {e}", self.path.display())))?;
        for rec in put {
            let json = serde_json::to_string(rec).map_err(|e| ImageError::Store(e.to_string()))?;
            tx.execute(
                "INSERT INTO images (id, record) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                params![rec.id, json],
            )
            .map_err(|e| ImageError::Store(format!("{}: {e}", self.path.display())))?;
        }
        for id in delete {
            tx.execute("DELETE FROM images WHERE id = ?1", params![id])
                .map_err(|e| ImageError::Store(format!("{}: {e}", self.path.display())))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }
}
