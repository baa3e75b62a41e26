//! The engine's SQLite files (containers.db, images.db), opened the way libnet opens its store.

use std::path::Path;

use rusqlite::Connection;

/// Open (or create) the database at `path` with `schema` applied: WAL and synchronous=NORMAL, so
/// a committed transaction survives the daemon being killed without an fsync per operation.
pub fn open(path: &Path, schema: &str) -> rusqlite::Result<Connection> {
    libnet::store::make_private(path).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(schema)?;
    Ok(conn)
}
