//! The local store: networks, endpoints and sandboxes in SQLite under the data root.
//!
//! Records are the serde JSON of the model types, keyed by id. Every controller operation writes
//! through one [`Store::write`] transaction, committed after the kernel change succeeded.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::sandbox::Sandbox;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS endpoints (id TEXT PRIMARY KEY, network_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, record TEXT NOT NULL);
";

/// The SQLite database of one controller.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One write transaction; dropped without [`Store::write`] returning Ok, it rolls back.
pub struct StoreTx<'a> {
    tx: Transaction<'a>,
    path: &'a Path,
}

/// Create the database file at `path` readable by its owner only (0600), or make an existing
/// one so, before SQLite opens it: SQLite gives its `-wal` and `-shm` files the database file's
/// mode, so they are private too.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

impl Store {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let err = |source| Error::Store { path: path.display().to_string(), source };
        make_private(path).map_err(|e| err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        let conn = Connection::open(path).map_err(err)?;
        // WAL with synchronous=NORMAL: a committed transaction survives the daemon being killed;
        // only a power cut can lose the last ones. Each operation then costs no fsync.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        Error::Store { path: self.path.display().to_string(), source }
    }

    fn load<T: DeserializeOwned>(&self, table: &str) -> Result<Vec<T>> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT id, record FROM {table} ORDER BY rowid")).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(|e| self.err(e))?;
            let value = serde_json::from_str(&record)
                .map_err(|source| Error::Record { what: format!("{table}/{id}"), source })?;
            out.push(value);
        }
        Ok(out)
    }

    pub fn networks(&self) -> Result<Vec<Network>> {
        self.load("networks")
    }
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        self.load("endpoints")
    }
    pub fn sandboxes(&self) -> Result<Vec<Sandbox>> {
        self.load("sandboxes")
    }

    /// Run `f` in one transaction and commit it if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&StoreTx<'_>) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let err = |source| Error::Store { path: path.display().to_string(), source };
        let tx = self.conn.transaction().map_err(err)?;
        let stx = StoreTx { tx, path: &path };
        let out = f(&stx)?;
        stx.tx.commit().map_err(err)?;
        Ok(out)
    }
}

fn record<T: Serialize>(what: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| Error::Record { what: what.to_string(), source })
}

impl StoreTx<'_> {
    fn err(&self, source: rusqlite::Error) -> Error {
        Error::Store { path: self.path.display().to_string(), source }
    }

    pub fn put_network(&self, n: &Network) -> Result<()> {
        let rec = record("network", n)?;
        self.tx
            .execute(
                "INSERT INTO networks (id, name, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record",
                params![n.id.as_str(), n.name, rec],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
    pub fn delete_network(&self, id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM networks WHERE id = ?1", params![id]).map_err(|e| self.err(e))?;
        Ok(())
    }
    pub fn put_endpoint(&self, e: &Endpoint) -> Result<()> {
        let rec = record("endpoint", e)?;
        self.tx
            .execute(
                "INSERT INTO endpoints (id, network_id, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                params![e.id.as_str(), e.network.as_str(), rec],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
    pub fn delete_endpoint(&self, id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM endpoints WHERE id = ?1", params![id]).map_err(|e| self.err(e))?;
        Ok(())
    }
    pub fn put_sandbox(&self, s: &Sandbox) -> Result<()> {
        let rec = record("sandbox", s)?;
        self.tx
            .execute(
                "INSERT INTO sandboxes (id, record) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                params![s.id.as_str(), rec],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
    pub fn delete_sandbox(&self, id: &str) -> Result<()> {
        self.tx.execute("DELETE FROM sandboxes WHERE id = ?1", params![id]).map_err(|e| self.err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::NetworkId;
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
            enable_ipv4: true,
            enable_ipv6: false,
            internal: false,
            attachable: false,
            ingress: false,
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
