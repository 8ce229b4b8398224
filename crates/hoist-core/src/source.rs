//! Access to the dump's files through `object_store`, so that a local directory and an object
//! store prefix look the same to the rest of the engine. Data files are read as blocking
//! `std::io::Read` streams (the parsers run on blocking threads), decompressed on the fly.
//!
//! A source may also be one file (a mysqldump file, local or an object): it is then the only
//! file listed, and the statements a scan took out of it (`crate::mysqldump`) are served as the
//! schema files a directory dump would hold them in ([`Source::with_extracted`]).

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::error::{FileChanged, SourceError};

/// How a data file is compressed, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    /// Snappy's framing format (`.snappy`, as Lightning and Dumpling name it).
    Snappy,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Snappy => "snappy",
        }
    }
    pub fn parse(s: &str) -> Option<Compression> {
        match s {
            "none" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            "snappy" => Some(Compression::Snappy),
            _ => None,
        }
    }
}

/// One file of the dump as listed, with what identifies its content for change detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the source root, with `/` separators.
    pub path: String,
    pub size: u64,
    /// Modification time in milliseconds since the epoch.
    pub modified_ms: i64,
}

#[derive(Clone)]
pub struct Source {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    location: String,
    /// For a local directory: its path, so data files are read with plain blocking reads on
    /// the reader's thread. (object_store's local stream hands every small read to tokio's
    /// blocking pool; at a gigabyte a second that hand-off costs more than the reading.)
    local_root: Option<std::path::PathBuf>,
    /// Size and modification time of each file as the run listed it ([`Source::watching`]).
    listed: Option<Arc<HashMap<String, (u64, i64)>>>,
    /// For S3: what an error about the bucket or the credentials names.
    s3: Option<S3Where>,
    /// A dump that is one file: its name under the root, the only file listed.
    single: Option<String>,
    /// Files that are not in the store: the statements a scan of a single-file dump took out of
    /// it, by the names [`Source::read_all`] is asked for.
    extracted: Option<Arc<HashMap<String, Vec<u8>>>>,
}

#[derive(Clone, Debug)]
struct S3Where {
    bucket: String,
    endpoint: Option<String>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Source({})", self.location)
    }
}

impl Source {
    /// Open a local directory or file (a path or a `file://` URL), or an `s3://bucket/prefix`
    /// (`s3://bucket/path/dump.sql[.gz|.zst]`: one object).
    pub fn open(location: &str) -> Result<Source, SourceError> {
        if location.starts_with("s3://") {
            return Source::open_s3(location);
        }
        let path = location.strip_prefix("file://").unwrap_or(location);
        if location.contains("://") && !location.starts_with("file://") {
            return Err(SourceError::Layout(format!(
                "source {}: only local directories and s3:// are supported",
                crate::redact::redact_url(location)
            )));
        }
        let full = std::fs::canonicalize(path).map_err(|e| SourceError::io(location, "", &e))?;
        let (dir, single) = match (full.is_file(), full.parent(), full.file_name()) {
            (true, Some(dir), Some(name)) => (dir.to_path_buf(), Some(name.to_string_lossy().into_owned())),
            _ if full.is_dir() => (full.clone(), None),
            _ => return Err(SourceError::Layout(format!("source {location} is neither a directory nor a file"))),
        };
        let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| SourceError::object_store(location, "", &e))?;
        Ok(Source {
            store: Arc::new(store),
            prefix: StorePath::default(),
            location: full.display().to_string(),
            local_root: Some(dir),
            listed: None,
            s3: None,
            single,
            extracted: None,
        })
    }

    /// An S3 prefix (`crate::s3` reads the URL and builds the store). Nothing is requested
    /// here: the first listing says whether the bucket and the credentials are right. A key
    /// named like a SQL file (`.sql`, compressed or not) is a single-file dump: objects have
    /// no kind, and nobody names a directory of a dump `dump.sql`.
    fn open_s3(url: &str) -> Result<Source, SourceError> {
        let parsed = crate::s3::S3Url::parse(url).map_err(SourceError::Layout)?;
        let (store, endpoint) = parsed.build().map_err(SourceError::Layout)?;
        let (prefix, single) = match parsed.prefix.rsplit_once('/') {
            _ if !is_sql_file_name(&parsed.prefix) => (parsed.prefix.as_str(), None),
            Some((dir, name)) => (dir, Some(name.to_string())),
            None => ("", Some(parsed.prefix.clone())),
        };
        let prefix = StorePath::parse(prefix)
            .map_err(|e| SourceError::Layout(format!("{}: not a usable prefix: {e}", parsed.location())))?;
        Ok(Source {
            store: Arc::new(store),
            prefix,
            location: parsed.location(),
            local_root: None,
            listed: None,
            s3: Some(S3Where { bucket: parsed.bucket, endpoint }),
            single,
            extracted: None,
        })
    }

    /// A source over any object store (tests: one that fails on cue).
    #[cfg(test)]
    pub(crate) fn from_store(store: Arc<dyn ObjectStore>, location: &str) -> Source {
        Source {
            store,
            prefix: StorePath::default(),
            location: location.to_string(),
            local_root: None,
            listed: None,
            s3: None,
            single: None,
            extracted: None,
        }
    }

    /// This source, whose data files must stay as `files` lists them: a read of a file that
    /// changed since (another size or modification time, or gone) fails with [`FileChanged`].
    /// Each read checks after it reads, so the bytes it returns are the listed file's: a file
    /// changed in place moves its modification time, a file replaced or removed is another at
    /// its path. (Local directories; an object store's ETag would do the same for its objects.)
    pub fn watching(mut self, files: &[SourceFile]) -> Source {
        self.listed = Some(Arc::new(files.iter().map(|f| (f.path.clone(), (f.size, f.modified_ms))).collect()));
        self
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// The file's name when the source is one file (a mysqldump file), not a directory.
    pub fn single_file(&self) -> Option<&str> {
        self.single.as_deref()
    }

    /// This source, serving `files` (name -> content) to [`Source::read_all`] as if the store
    /// held them: the statements a scan took out of a single-file dump.
    pub fn with_extracted(mut self, files: HashMap<String, Vec<u8>>) -> Source {
        self.extracted = Some(Arc::new(files));
        self
    }

    fn io_error(&self, path: &str, e: &io::Error) -> SourceError {
        SourceError::io(self.location.clone(), path, e)
    }

    fn store_error(&self, path: &str, e: &object_store::Error) -> SourceError {
        let mut err = SourceError::object_store(self.location.clone(), path, e);
        if let (Some(s3), SourceError::Storage { message, transient: false, .. }) = (&self.s3, &mut err) {
            if let Some(hint) = crate::error_class::object_store_refusal(e) {
                let endpoint = s3.endpoint.as_deref().map_or("AWS".to_string(), |e| format!("the endpoint {e}"));
                *message = format!("{message}\n{} bucket {} at {endpoint}: {}", hint.what(), s3.bucket, hint.advice());
            }
        }
        err
    }

    /// The store's path for a listed file. Listing gives names as they are; building the path
    /// part by part would percent-encode them again (CJK, backquotes, quotes) and miss the file.
    fn object_path(&self, path: &str) -> StorePath {
        let full = if self.prefix.as_ref().is_empty() { path.to_string() } else { format!("{}/{path}", self.prefix) };
        StorePath::parse(&full).unwrap_or_else(|_| path.split('/').fold(self.prefix.clone(), |p, part| p.join(part)))
    }

    /// Every file under the root, sorted by path; for a single-file source, that file.
    pub async fn list(&self) -> Result<Vec<SourceFile>, SourceError> {
        if let Some(name) = &self.single {
            let meta = self.store.head(&self.object_path(name)).await.map_err(|e| self.store_error(name, &e))?;
            return Ok(vec![self.listed_file(meta)]);
        }
        let metas: Vec<_> =
            self.store.list(Some(&self.prefix)).try_collect().await.map_err(|e| self.store_error("", &e))?;
        let mut files: Vec<SourceFile> = metas.into_iter().map(|m| self.listed_file(m)).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// A listed object as a file of the dump: its path under the prefix and what identifies it.
    fn listed_file(&self, m: object_store::ObjectMeta) -> SourceFile {
        let full = m.location.as_ref();
        let rel = full[self.prefix.as_ref().len().min(full.len())..].trim_start_matches('/').to_string();
        let modified_ms = match (&self.s3, &m.e_tag) {
            (Some(_), Some(etag)) => with_etag(m.last_modified.timestamp_millis(), etag),
            _ => m.last_modified.timestamp_millis(),
        };
        SourceFile { path: rel, size: m.size, modified_ms }
    }

    /// A whole small file (schema files), decompressed.
    pub async fn read_all(&self, path: &str) -> Result<Vec<u8>, SourceError> {
        if let Some(content) = self.extracted.as_ref().and_then(|e| e.get(path)) {
            return Ok(content.clone());
        }
        let bytes = self
            .store
            .get(&self.object_path(path))
            .await
            .map_err(|e| self.store_error(path, &e))?
            .bytes()
            .await
            .map_err(|e| self.store_error(path, &e))?;
        let mut out = Vec::new();
        decompressing(Box::new(io::Cursor::new(bytes)), compression_of(path))
            .read_to_end(&mut out)
            .map_err(|e| SourceError::Layout(format!("{path}: cannot decompress: {e}")))?;
        Ok(out)
    }

    /// As `read_all`, but `None` when the object is not there (the bucket must be).
    pub async fn read_if_exists(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        match self.store.head(&self.object_path(path)).await {
            Err(e @ object_store::Error::NotFound { .. })
                if crate::error_class::object_store_refusal(&e) != Some(crate::error_class::StoreRefusal::NoBucket) =>
            {
                Ok(None)
            }
            Err(e) => Err(self.store_error(path, &e)),
            Ok(_) => self.read_all(path).await.map(Some),
        }
    }

    /// A blocking reader of `path`'s content from byte `start` of the uncompressed stream.
    /// Must be called from a blocking thread (it waits on the runtime `handle`).
    pub fn open_at(
        &self,
        handle: &tokio::runtime::Handle,
        path: &str,
        compression: Compression,
        start: u64,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        let range_start = if compression == Compression::None { start } else { 0 };
        if let Some(root) = &self.local_root {
            let full = root.join(path);
            let mut file = std::fs::File::open(&full).map_err(|e| self.io_error(path, &e))?;
            if range_start > 0 {
                use std::io::Seek;
                file.seek(io::SeekFrom::Start(range_start)).map_err(|e| self.io_error(path, &e))?;
            }
            let raw: Box<dyn Read + Send> = match self.listed.as_ref().and_then(|l| l.get(path)) {
                Some(&listed) => {
                    let watched = Watched { file, full, path: path.to_string(), listed };
                    watched.check()?;
                    Box::new(watched)
                }
                None => Box::new(file),
            };
            return self.skip_to(decompressing(raw, compression), path, compression, start);
        }
        let options =
            GetOptions { range: (range_start > 0).then_some(GetRange::Offset(range_start)), ..Default::default() };
        let location = self.object_path(path);
        let result =
            handle.block_on(self.store.get_opts(&location, options)).map_err(|e| self.store_error(path, &e))?;
        let stream = result.into_stream().map_err(io::Error::other);
        let raw = SyncIoBridge::new_with_handle(StreamReader::new(stream), handle.clone());
        self.skip_to(decompressing(Box::new(raw), compression), path, compression, start)
    }

    /// `len` bytes of `path` as stored, from byte `start`: a Parquet file's row group, read in
    /// one request. Must be called from a blocking thread.
    pub fn read_range(
        &self,
        handle: &tokio::runtime::Handle,
        path: &str,
        start: u64,
        len: usize,
    ) -> Result<bytes::Bytes, SourceError> {
        if self.local_root.is_some() {
            let mut reader = self.open_at(handle, path, Compression::None, start)?;
            let mut buf = vec![0; len];
            reader.read_exact(&mut buf).map_err(|e| {
                match e.get_ref().and_then(|i| i.downcast_ref::<FileChanged>()) {
                    Some(changed) => changed.clone().into(),
                    None => self.io_error(path, &e),
                }
            })?;
            return Ok(buf.into());
        }
        let range = start..start + len as u64;
        handle.block_on(self.store.get_range(&self.object_path(path), range)).map_err(|e| self.store_error(path, &e))
    }

    /// The size of `path` as stored now. Must be called from a blocking thread.
    pub fn size_of(&self, handle: &tokio::runtime::Handle, path: &str) -> Result<u64, SourceError> {
        let meta = handle.block_on(self.store.head(&self.object_path(path))).map_err(|e| self.store_error(path, &e))?;
        Ok(meta.size)
    }

    /// Compressed streams cannot seek: decompress and drop what comes before `start`.
    fn skip_to(
        &self,
        mut reader: Box<dyn Read + Send>,
        path: &str,
        compression: Compression,
        start: u64,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        if compression != Compression::None && start > 0 {
            let skipped = io::copy(&mut (&mut reader).take(start), &mut io::sink())
                .map_err(|e| SourceError::Layout(format!("{path}: cannot decompress: {e}")))?;
            if skipped < start {
                return Err(SourceError::Layout(format!(
                    "{path}: the file is shorter ({skipped} bytes uncompressed) than the recorded position {start}; \
                     it changed since the checkpoint was made"
                )));
            }
        }
        Ok(reader)
    }
}

/// A local data file that must stay as the run listed it ([`Source::watching`]).
struct Watched {
    file: std::fs::File,
    full: std::path::PathBuf,
    path: String,
    listed: (u64, i64),
}

impl Watched {
    /// The file at the path is still the listed one (by size and modification time).
    fn check(&self) -> Result<(), FileChanged> {
        let now = match std::fs::metadata(&self.full) {
            Ok(m) => {
                let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                Some((m.len(), modified.map_or(0, |d| d.as_millis() as i64)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            // Not readable now for another reason: the read that follows says why.
            Err(_) => return Ok(()),
        };
        match now == Some(self.listed) {
            true => Ok(()),
            false => Err(FileChanged { path: self.path.clone(), listed: self.listed, now }),
        }
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        // After the read: if the file is still as listed, what was read is the listed file's.
        self.check().map_err(io::Error::other)?;
        Ok(n)
    }
}

/// An object's change marker: S3's last-modified is whole seconds, so an object written again
/// within the same second with the same size would look unchanged. Its ETag (a digest of the
/// content) goes into the milliseconds, which S3 leaves zero: the checkpoint's `(size,
/// modified_ms)` then tells the two apart, without a column the stores would have to migrate.
fn with_etag(last_modified_ms: i64, etag: &str) -> i64 {
    let seconds = last_modified_ms.div_euclid(1000) * 1000;
    seconds + (xxhash_rust::xxh3::xxh3_64(etag.as_bytes()) % 1000) as i64
}

/// Whether a name is a SQL file's, compressed or not (`dump.sql`, `dump.sql.gz`...).
pub fn is_sql_file_name(name: &str) -> bool {
    let plain = match compression_of(name) {
        Compression::None => name,
        _ => name.rsplit_once('.').map_or(name, |(stem, _)| stem),
    };
    plain.to_ascii_lowercase().ends_with(".sql")
}

/// The compression a file name says it has.
pub fn compression_of(name: &str) -> Compression {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".gz") || lower.ends_with(".gzip") {
        Compression::Gzip
    } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
        Compression::Zstd
    } else if lower.ends_with(".snappy") {
        Compression::Snappy
    } else {
        Compression::None
    }
}

fn decompressing(raw: Box<dyn Read + Send>, compression: Compression) -> Box<dyn Read + Send> {
    const BUF: usize = 256 << 10;
    match compression {
        Compression::None => raw,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(BUF, raw))),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(io::BufReader::with_capacity(BUF, raw)) {
            Ok(d) => Box::new(d),
            Err(e) => Box::new(FailingReader(Some(e))),
        },
        Compression::Snappy => Box::new(snap::read::FrameDecoder::new(io::BufReader::with_capacity(BUF, raw))),
    }
}

/// Reports a decoder set-up failure on first read, where every other read error is handled.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.take().unwrap_or_else(|| io::Error::other("decoder failed")))
    }
}

#[cfg(test)]
mod tests {
    /// S3 times are whole seconds: the ETag tells two writes in the same second apart, and a
    /// listing of the same object gives the same value.
    #[test]
    fn the_etag_marks_an_object() {
        let t = 1_700_000_000_000;
        let a = super::with_etag(t, "\"9b2cf535f27731c974343645a3985328\"");
        let b = super::with_etag(t, "\"1f3870be274f6c49b3e31a0c6728957f\"");
        assert_ne!(a, b);
        assert_eq!(a, super::with_etag(t + 999, "\"9b2cf535f27731c974343645a3985328\""));
        assert_eq!(a / 1000, t / 1000, "the time to the second is kept");
    }
}
