//! The local store: networks, endpoints and sandboxes in SQLite under the data root.
//!
//! Records are the serde JSON of the model types, keyed by id, in a [`RecordFile`] (the engine
//! keeps its containers and images the same way). Every controller operation writes through one
//! [`Store::write`] transaction, committed after the kernel change succeeded.

use std::path::Path;

use crate::endpoint::{Endpoint, OwedDelete};
use crate::error::{Error, Result};
use crate::network::Network;
use crate::sandbox::Sandbox;

mod records;

pub use records::{RecordError, RecordFile, RecordTx};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS endpoints (id TEXT PRIMARY KEY, network_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS owed_deletes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
";

/// The record file of one controller.
pub struct Store {
    file: RecordFile,
}

/// One write transaction; dropped without [`Store::write`] returning Ok, it rolls back.
pub struct StoreTx<'a> {
    tx: &'a RecordTx<'a>,
}

impl From<RecordError> for Error {
    fn from(e: RecordError) -> Error {
        match e {
            RecordError::Sqlite { path, source } => Error::Store { path, source },
            RecordError::Json { what, source } => Error::Record { what, source },
        }
    }
}

impl Store {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store { file: RecordFile::open(path, SCHEMA)? })
    }

    /// Every stored network, in the order they were first stored.
    pub fn networks(&self) -> Result<Vec<Network>> {
        Ok(self.file.load("networks")?)
    }
    /// Every stored endpoint, in the order they were first stored.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        Ok(self.file.load("endpoints")?)
    }
    /// Every stored sandbox, in the order they were first stored.
    pub fn sandboxes(&self) -> Result<Vec<Sandbox>> {
        Ok(self.file.load("sandboxes")?)
    }
    /// Every endpoint deletion a driver still owes, in the order they were first stored.
    pub fn owed_deletes(&self) -> Result<Vec<OwedDelete>> {
        Ok(self.file.load("owed_deletes")?)
    }

    /// Run `f` in one transaction and commit it if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&StoreTx<'_>) -> Result<T>) -> Result<T> {
        self.file.write(|tx| f(&StoreTx { tx }))
    }
}

impl StoreTx<'_> {
    /// Store `n`, replacing the record of the same id; a second network of the same name is an
    /// [`Error::Store`] (the name is unique).
    pub fn put_network(&self, n: &Network) -> Result<()> {
        Ok(self.tx.put("networks", n.id.as_str(), &[("name", &n.name)], n)?)
    }
    /// Delete the network of this id; one not stored is no error.
    pub fn delete_network(&self, id: &str) -> Result<()> {
        Ok(self.tx.delete("networks", id)?)
    }
    /// Store `e`, replacing the record of the same id.
    pub fn put_endpoint(&self, e: &Endpoint) -> Result<()> {
        Ok(self.tx.put("endpoints", e.id.as_str(), &[("network_id", e.network.as_str())], e)?)
    }
    /// Delete the endpoint of this id; one not stored is no error.
    pub fn delete_endpoint(&self, id: &str) -> Result<()> {
        Ok(self.tx.delete("endpoints", id)?)
    }
    /// Store `s`, replacing the record of the same id.
    pub fn put_sandbox(&self, s: &Sandbox) -> Result<()> {
        Ok(self.tx.put("sandboxes", s.id.as_str(), &[], s)?)
    }
    /// Delete the sandbox of this id; one not stored is no error.
    pub fn delete_sandbox(&self, id: &str) -> Result<()> {
        Ok(self.tx.delete("sandboxes", id)?)
    }
    /// Record that a driver owes the deletion of `o.endpoint`, replacing any record of it.
    pub fn put_owed_delete(&self, o: &OwedDelete) -> Result<()> {
        Ok(self.tx.put("owed_deletes", o.endpoint.as_str(), &[], o)?)
    }
    /// Forget the owed deletion of `endpoint` (by id), once the driver took it; one not stored is
    /// no error.
    pub fn delete_owed_delete(&self, endpoint: &str) -> Result<()> {
        Ok(self.tx.delete("owed_deletes", endpoint)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NetworkId;
    use crate::network::NetworkFlags;
    use std::collections::BTreeMap;

    fn network(name: &str) -> Network {
        Network {
            id: NetworkId::random(),
            name: name.into(),
            driver: "bridge".into(),
            scope: "local".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            ipam_driver: "default".into(),
            ipam_options: BTreeMap::new(),
            address_space: "LocalDefault".into(),
            ipv4: vec![],
            ipv6: vec![],
            flags: NetworkFlags::default(),
            options: BTreeMap::new(),
            labels: BTreeMap::new(),
            predefined: false,
        }
    }

    #[test]
    fn records_survive_reopen_and_failed_transactions_roll_back() {
        let dir = std::env::temp_dir().join(format!("libnet-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("weft.db");
        let a = network("a");
        {
            let mut s = Store::open(&path).unwrap();
            s.write(|tx| tx.put_network(&a)).unwrap();
            let failed: Result<()> = s.write(|tx| {
                tx.put_network(&network("b"))?;
                Err(Error::InvalidParameter("boom".into()))
            });
            assert!(failed.is_err());
            // A second network of the same name violates the unique name.
            assert!(s.write(|tx| tx.put_network(&network("a"))).is_err());
        }
        let s = Store::open(&path).unwrap();
        let nets = s.networks().unwrap();
        assert_eq!(nets, vec![a]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
