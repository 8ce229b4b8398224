//! Where backups are written: a local directory or an S3 prefix, with atomic puts.
//!
//! Locally, a file is written under a temporary name, synced, renamed into place and the
//! directory synced, so after any crash a name either holds its whole content or does not
//! exist. In S3 a put is atomic per object (a multipart upload appears only when completed):
//! a file is spooled to an anonymous local temp file and put when committed. A backup's
//! manifest is put last, so a location with a manifest holds a whole backup.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion, WriteMultipart};

/// Suffix of files being written; a crash leaves them behind, and nothing reads them.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Objects up to this size are one PUT; larger ones a multipart upload of parts this size.
const PART: usize = 16 << 20;

#[derive(Clone)]
pub struct Storage {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Local(PathBuf),
    Store(Arc<ObjectDir>),
}

struct ObjectDir {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    location: String,
    bucket: String,
    endpoint: Option<String>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.location())
    }
}

impl Storage {
    /// The directory, created if missing, or an `s3://bucket/prefix` (see [`crate::s3`]).
    pub fn create(location: &Path) -> io::Result<Storage> {
        let text = location.to_string_lossy();
        if text.starts_with("s3://") {
            let url = crate::s3::S3Url::parse(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let (store, endpoint) = url.build().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let prefix = StorePath::parse(&url.prefix).map_err(io::Error::other)?;
            return Ok(Storage {
                inner: Inner::Store(Arc::new(ObjectDir {
                    store: Arc::new(store),
                    prefix,
                    location: url.location(),
                    bucket: url.bucket,
                    endpoint,
                })),
            });
        }
        std::fs::create_dir_all(location)?;
        Ok(Storage { inner: Inner::Local(std::fs::canonicalize(location)?) })
    }

    /// The directory, or `s3://bucket/prefix` (never a URL's parameters).
    pub fn location(&self) -> String {
        match &self.inner {
            Inner::Local(root) => root.display().to_string(),
            Inner::Store(o) => o.location.clone(),
        }
    }

    /// Names of the files in the directory (under the prefix, one level), sorted.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        match &self.inner {
            Inner::Local(root) => {
                for entry in std::fs::read_dir(root)? {
                    names.push(entry?.file_name().to_string_lossy().into_owned());
                }
            }
            Inner::Store(o) => {
                let listed = block_on(o.store.list_with_delimiter(Some(&o.prefix))).map_err(|e| o.error(e))?;
                names.extend(listed.objects.iter().filter_map(|m| m.location.filename().map(str::to_string)));
                names.extend(listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)));
            }
        }
        names.sort();
        Ok(names)
    }

    /// Write `bytes` as `name`, atomically.
    pub fn put(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut file = self.create_file(name)?;
        file.write_all(bytes)?;
        file.commit().map(|_| ())
    }

    /// A file that appears under `name` only when [`AtomicFile::commit`] is called.
    pub fn create_file(&self, name: &str) -> io::Result<AtomicFile> {
        match &self.inner {
            Inner::Local(root) => {
                let path = root.join(name);
                let partial = root.join(format!("{name}{PARTIAL_SUFFIX}"));
                let out = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
                Ok(AtomicFile { out: Some(out), to: To::Local { path, partial, dir: root.clone() }, written: 0 })
            }
            Inner::Store(o) => {
                let out = BufWriter::with_capacity(1 << 20, tempfile::tempfile()?);
                Ok(AtomicFile { out: Some(out), to: To::Store { dir: o.clone(), path: o.path(name) }, written: 0 })
            }
        }
    }

    /// Whether this is an object store (whose writers coordinate by conditional puts, not by
    /// a lock file).
    pub fn is_object_store(&self) -> bool {
        matches!(self.inner, Inner::Store(_))
    }

    /// An object's content, version and age (milliseconds since its last write, by the
    /// store's clock against ours); None when it is not there. Object stores only.
    pub fn read_versioned(&self, name: &str) -> io::Result<Option<Versioned>> {
        let o = self.object_dir()?;
        let got = match block_on(o.store.get(&o.path(name))) {
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(o.error(e)),
            Ok(got) => got,
        };
        let version = UpdateVersion { e_tag: got.meta.e_tag.clone(), version: got.meta.version.clone() };
        let age_ms = (chrono_now_ms() - got.meta.last_modified.timestamp_millis()).max(0) as u64;
        let bytes = block_on(got.bytes()).map_err(|e| o.error(e))?.to_vec();
        Ok(Some(Versioned { bytes, version, age_ms }))
    }

    /// Put `bytes` as `name` only if the object is absent (`None`) or still at `version`:
    /// the new version, or None when another writer got there first. Object stores only.
    pub fn put_if(
        &self,
        name: &str,
        bytes: Vec<u8>,
        version: Option<&UpdateVersion>,
    ) -> io::Result<Option<UpdateVersion>> {
        let o = self.object_dir()?;
        let mode = match version {
            None => PutMode::Create,
            Some(v) => PutMode::Update(v.clone()),
        };
        match block_on(o.store.put_opts(&o.path(name), PutPayload::from(bytes), PutOptions::from(mode))) {
            Ok(put) => Ok(Some(put.into())),
            Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => Ok(None),
            // An update of an object someone removed.
            Err(object_store::Error::NotFound { .. }) if version.is_some() => Ok(None),
            Err(e) => Err(o.error(e)),
        }
    }

    fn object_dir(&self) -> io::Result<&ObjectDir> {
        match &self.inner {
            Inner::Store(o) => Ok(o),
            Inner::Local(root) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{}: conditional puts are for object storage", root.display()),
            )),
        }
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        match &self.inner {
            Inner::Local(root) => match std::fs::remove_file(root.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Inner::Store(o) => match block_on(o.store.delete(&o.path(name))) {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(o.error(e)),
            },
        }
    }
}

/// An object as [`Storage::read_versioned`] found it.
pub struct Versioned {
    pub bytes: Vec<u8>,
    pub version: UpdateVersion,
    pub age_ms: u64,
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl ObjectDir {
    /// `name` under the prefix; a `/` in it separates parts (a log's `segments/...`).
    fn path(&self, name: &str) -> StorePath {
        name.split('/').fold(self.prefix.clone(), |p, part| p.join(part))
    }

    /// The store's error; a refused bucket or credentials say what to check.
    fn error(&self, e: object_store::Error) -> io::Error {
        match crate::error_class::object_store_refusal(&e) {
            Some(hint) => {
                let endpoint = self.endpoint.as_deref().map_or("AWS".to_string(), |e| format!("the endpoint {e}"));
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    format!("{e}\n{} bucket {} at {endpoint}: {}", hint.what(), self.bucket, hint.advice()),
                )
            }
            None => io::Error::other(e),
        }
    }
}

/// The backup's calls are blocking (they run in its async tasks as local file writes do);
/// the store's are async. The CLI's runtime is multi-threaded, so a worker may block here.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

enum To {
    Local { path: PathBuf, partial: PathBuf, dir: PathBuf },
    Store { dir: Arc<ObjectDir>, path: StorePath },
}

pub struct AtomicFile {
    out: Option<BufWriter<File>>,
    to: To,
    written: u64,
}

impl AtomicFile {
    /// Locally: sync the content, move it into place and sync the directory. In a store: put
    /// the object. Returns the bytes written.
    pub fn commit(mut self) -> io::Result<u64> {
        let out = self.out.take().expect("committed once");
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        match &self.to {
            To::Local { path, partial, dir } => {
                file.sync_all()?;
                std::fs::rename(partial, path)?;
                File::open(dir)?.sync_all()?;
            }
            To::Store { dir, path } => {
                file.rewind()?;
                block_on(upload(dir, path, file, self.written))?;
            }
        }
        Ok(self.written)
    }
}

async fn upload(dir: &ObjectDir, path: &StorePath, mut file: File, len: u64) -> io::Result<()> {
    if len <= PART as u64 {
        let mut bytes = Vec::with_capacity(len as usize);
        file.read_to_end(&mut bytes)?;
        dir.store.put(path, PutPayload::from(bytes)).await.map_err(|e| dir.error(e))?;
        return Ok(());
    }
    let mut upload =
        WriteMultipart::new_with_chunk_size(dir.store.put_multipart(path).await.map_err(|e| dir.error(e))?, PART);
    let mut buf = vec![0; PART];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        upload.wait_for_capacity(2).await.map_err(|e| dir.error(e))?;
        upload.write(&buf[..n]);
    }
    upload.finish().await.map_err(|e| dir.error(e))?;
    Ok(())
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.as_mut().expect("not committed").write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    /// Not committed: the partial file goes (a store's spool file is anonymous).
    fn drop(&mut self) {
        if let (Some(_), To::Local { partial, .. }) = (&self.out, &self.to) {
            let _ = std::fs::remove_file(partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::create(&dir.path().join("b")).unwrap();
        let root = PathBuf::from(store.location());
        let mut f = store.create_file("x.sql").unwrap();
        f.write_all(b"abc").unwrap();
        assert_eq!(store.list().unwrap(), vec![format!("x.sql{PARTIAL_SUFFIX}")]);
        assert_eq!(f.commit().unwrap(), 3);
        assert_eq!(store.list().unwrap(), vec!["x.sql".to_string()]);
        assert_eq!(std::fs::read(root.join("x.sql")).unwrap(), b"abc");

        let mut g = store.create_file("y.sql").unwrap();
        g.write_all(b"never").unwrap();
        drop(g);
        assert_eq!(store.list().unwrap(), vec!["x.sql".to_string()]);
        store.put("m.json", b"{}").unwrap();
        assert_eq!(store.list().unwrap(), vec!["m.json".to_string(), "x.sql".to_string()]);
    }
}
