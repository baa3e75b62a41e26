//! The containers' records in their own SQLite file under the data root (`containers.db`), a
//! [`RecordFile`] as libnet keeps its networks: the engine's state lives apart from the
//! controller's, so either can change shape alone.

use std::path::Path;

use libnet::store::{RecordError, RecordFile};

use super::{ContainerError, ContainerRecord};

const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);";

impl From<RecordError> for ContainerError {
    fn from(e: RecordError) -> ContainerError {
        ContainerError::Store(e.to_string())
    }
}

/// The container table of one daemon.
pub struct ContainerStore {
    file: RecordFile,
}

impl ContainerStore {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<ContainerStore, ContainerError> {
        Ok(ContainerStore { file: RecordFile::open(path, SCHEMA)? })
    }

    /// Every record, in creation order.
    pub fn all(&self) -> Result<Vec<ContainerRecord>, ContainerError> {
        Ok(self.file.load("containers")?)
    }

    /// Insert or replace a record.
    pub fn put(&mut self, rec: &ContainerRecord) -> Result<(), ContainerError> {
        self.file.write(|tx| Ok(tx.put("containers", &rec.id, &[("name", &rec.name)], rec)?))
    }

    pub fn delete(&mut self, id: &str) -> Result<(), ContainerError> {
        self.file.write(|tx| Ok(tx.delete("containers", id)?))
    }
}
