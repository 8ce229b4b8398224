//! Where backups are written: a local directory, with atomic puts.
//!
//! A file is written under a temporary name, synced, renamed into place and the directory
//! synced, so after any crash a name either holds its whole content or does not exist. A
//! backup's manifest is put last, so a directory with a manifest holds a whole backup.
//! (object storage, `s3://`, comes through the same calls later; see issue 9.)

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Suffix of files being written; a crash leaves them behind, and nothing reads them.
pub const PARTIAL_SUFFIX: &str = ".partial";

#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// The directory, created if missing.
    pub fn create(root: &Path) -> io::Result<LocalDir> {
        std::fs::create_dir_all(root)?;
        Ok(LocalDir { root: std::fs::canonicalize(root)? })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Names of the files in the directory, sorted.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
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
        let path = self.root.join(name);
        let partial = self.root.join(format!("{name}{PARTIAL_SUFFIX}"));
        let out = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
        Ok(AtomicFile { out: Some(out), path, partial, dir: self.root.clone(), written: 0 })
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.root.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

pub struct AtomicFile {
    out: Option<BufWriter<File>>,
    path: PathBuf,
    partial: PathBuf,
    dir: PathBuf,
    written: u64,
}

impl AtomicFile {
    /// Sync the content, move it into place and sync the directory. Returns the bytes written.
    pub fn commit(mut self) -> io::Result<u64> {
        let out = self.out.take().expect("committed once");
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.partial, &self.path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(self.written)
    }
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
    /// Not committed: the partial file goes.
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::create(&dir.path().join("b")).unwrap();
        let mut f = store.create_file("x.sql").unwrap();
        f.write_all(b"abc").unwrap();
        assert_eq!(store.list().unwrap(), vec![format!("x.sql{PARTIAL_SUFFIX}")]);
        assert_eq!(f.commit().unwrap(), 3);
        assert_eq!(store.list().unwrap(), vec!["x.sql".to_string()]);
        assert_eq!(std::fs::read(store.root().join("x.sql")).unwrap(), b"abc");

        let mut g = store.create_file("y.sql").unwrap();
        g.write_all(b"never").unwrap();
        drop(g);
        assert_eq!(store.list().unwrap(), vec!["x.sql".to_string()]);
        store.put("m.json", b"{}").unwrap();
        assert_eq!(store.list().unwrap(), vec!["m.json".to_string(), "x.sql".to_string()]);
    }
}
