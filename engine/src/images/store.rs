//! The image records in their own SQLite file under the data root (`images.db`), a
//! [`RecordFile`] as the containers' and the controller's: each change (a new image and the tags
//! it takes from others) is one transaction, so a killed daemon never leaves a tag on two images.

use std::path::Path;

use libnet::store::{RecordError, RecordFile};

use super::{ImageError, ImageRecord};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, record TEXT NOT NULL);";

impl From<RecordError> for ImageError {
    fn from(e: RecordError) -> ImageError {
        ImageError::Store(e.to_string())
    }
}

pub struct ImageStore {
    file: RecordFile,
}

impl ImageStore {
    pub fn open(path: &Path) -> Result<ImageStore, ImageError> {
        Ok(ImageStore { file: RecordFile::open(path, SCHEMA)? })
    }

    pub fn all(&self) -> Result<Vec<ImageRecord>, ImageError> {
        Ok(self.file.load("images")?)
    }

    /// Write `put` and delete `delete`, all or nothing.
    pub fn commit(&mut self, put: &[&ImageRecord], delete: &[&str]) -> Result<(), ImageError> {
        self.file.write(|tx| {
            for rec in put {
                tx.put("images", &rec.id, &[], rec)?;
            }
            for id in delete {
                tx.delete("images", id)?;
            }
            Ok(())
        })
    }
}
