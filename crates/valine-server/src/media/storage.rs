//! Object storage for media bytes, through `object_store` (a local directory today,
//! `MEDIA_STORE`). Every failure here is a server problem: it becomes 500 `INTERNAL` and the
//! log line names the store root, the object and the operating-system cause (for example a
//! read-only media directory).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::error::ApiError;

/// One configured store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    /// The root as configured, for log lines.
    root: String,
}

/// Stores by `MEDIA_STORE` value: built once per process (tests run several servers with
/// different directories in one process, hence a map rather than a single cell).
static STORES: OnceLock<Mutex<HashMap<String, MediaStore>>> = OnceLock::new();

/// The store for the configured `MEDIA_STORE`, creating the directory on first use. Built
/// lazily so a server with a broken media directory still serves everything else, and the
/// failure is reported (and logged) where media is used.
pub async fn open(media_store: &str) -> Result<MediaStore, ApiError> {
    let cache = STORES.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(s) = lock(cache).get(media_store) {
        return Ok(s.clone());
    }
    tokio::fs::create_dir_all(media_store).await.map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "media store {media_store}: cannot create the directory: {e}"
        ))
    })?;
    let fs = LocalFileSystem::new_with_prefix(media_store).map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "media store {media_store}: cannot open: {e}"
        ))
    })?;
    let store = MediaStore {
        inner: Arc::new(fs),
        root: media_store.to_string(),
    };
    lock(cache).insert(media_store.to_string(), store.clone());
    Ok(store)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map holds no invariant a panicking holder could break; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why streaming an upload into the store stopped.
#[derive(Debug)]
pub enum WriteError {
    /// The body exceeded the cap; nothing was kept.
    TooLarge,
    /// The client's body failed (disconnect, timeout); nothing was kept.
    Body(String),
    /// The store failed.
    Store(ApiError),
}

/// Part size for multipart writes (S3's minimum, harmless for the local store).
const CHUNK: usize = 5 * 1024 * 1024;

impl MediaStore {
    fn fail(&self, op: &str, key: &str, e: impl std::fmt::Display) -> ApiError {
        ApiError::internal(anyhow::anyhow!(
            "media store {}: {op} {key}: {e}",
            self.root
        ))
    }

    /// Streams `body` to `key`, at most `cap` bytes. The object appears only when the whole
    /// body arrived (the local store writes a staging file and renames it); on any failure
    /// the partial write is removed. Returns the number of bytes stored.
    pub async fn write_stream(&self, key: &str, body: Body, cap: u64) -> Result<u64, WriteError> {
        let path = Path::from(key);
        let upload = self
            .inner
            .put_multipart(&path)
            .await
            .map_err(|e| WriteError::Store(self.fail("starting upload of", key, e)))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK);
        let mut body = body;
        let mut total: u64 = 0;
        let outcome: Result<(), WriteError> = loop {
            match body.frame().await {
                None => break Ok(()),
                Some(Err(e)) => break Err(WriteError::Body(e.to_string())),
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers carry no bytes
                    };
                    total = total.saturating_add(data.len() as u64);
                    if total > cap {
                        break Err(WriteError::TooLarge);
                    }
                    writer.put(data);
                    if let Err(e) = writer.wait_for_capacity(2).await {
                        break Err(WriteError::Store(self.fail("writing", key, e)));
                    }
                }
            }
        };
        match outcome {
            Ok(()) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| WriteError::Store(self.fail("finishing", key, e)))?;
                Ok(total)
            }
            Err(err) => {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(key, error = %e, "could not discard a partial media upload");
                }
                Err(err)
            }
        }
    }

    /// The size of `key`, or `None` if there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.inner.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail("reading metadata of", key, e)),
        }
    }

    /// The first `len` bytes of `key` (`len` must not exceed its size).
    pub async fn prefix(&self, key: &str, len: u64) -> Result<Bytes, ApiError> {
        if len == 0 {
            return Ok(Bytes::new());
        }
        self.inner
            .get_range(&Path::from(key), 0..len)
            .await
            .map_err(|e| self.fail("reading", key, e))
    }

    /// Moves an object (the local store renames the file).
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), ApiError> {
        self.inner
            .rename(&Path::from(from), &Path::from(to))
            .await
            .map_err(|e| self.fail(&format!("moving to {to}:"), from, e))
    }

    /// The object as a response body, or `None` if it is gone.
    pub async fn body(&self, key: &str) -> Result<Option<(u64, Body)>, ApiError> {
        match self.inner.get(&Path::from(key)).await {
            Ok(got) => {
                let size = got.meta.size;
                Ok(Some((size, Body::from_stream(got.into_stream()))))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail("opening", key, e)),
        }
    }

    /// Deletes `key`; a missing object counts as deleted.
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.fail("deleting", key, e)),
        }
    }
}
