//! Resolving input arguments into a list of sources, and opening them.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

use crate::{InputId, InputInfo};

/// An input that could not be opened or listed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The path is missing, unreadable, or a directory under it cannot be listed.
    #[error("{}: {source}", path.display())]
    Open {
        /// The path given, or found under a directory.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
}

impl IngestError {
    fn open(path: &Path, source: io::Error) -> IngestError {
        IngestError::Open {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Where an input's bytes come from.
pub(crate) enum Source {
    File(PathBuf),
    Stdin,
    Reader(Box<dyn Read + Send>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "File({})", p.display()),
            Source::Stdin => f.write_str("Stdin"),
            Source::Reader(_) => f.write_str("Reader"),
        }
    }
}

/// The inputs of a run, in reading order.
///
/// Build it argument by argument with [`Inputs::add`] (so a caller can decide what a missing path
/// means), then hand it to [`Reader::new`](crate::Reader::new).
#[derive(Debug, Default)]
pub struct Inputs {
    pub(crate) infos: Vec<InputInfo>,
    pub(crate) sources: Vec<Source>,
    /// Canonical directories already walked: a symlink loop, or the same tree named twice, is
    /// walked once.
    seen_dirs: HashSet<PathBuf>,
    /// Canonical files found by walking, so one reachable by two routes is read once.
    seen_files: HashSet<PathBuf>,
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Adds a path: `-` is standard input; a directory adds every file below it (recursively,
    /// sorted by path, skipping names that start with `.`, following symlinks but not loops); any
    /// other path is read as one input (a file, a FIFO, `/dev/stdin`…), gzip-compressed or not.
    ///
    /// Returns how many inputs were added. On error nothing is added; the error names the path.
    pub fn add(&mut self, path: impl AsRef<Path>) -> Result<usize, IngestError> {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            self.push(String::from("<stdin>"), None, false, Source::Stdin);
            return Ok(1);
        }
        let meta = fs::metadata(path).map_err(|e| IngestError::open(path, e))?;
        if !meta.is_dir() {
            let compressed = probe(path)?;
            let size = meta.is_file().then_some(meta.len());
            self.push(
                path.display().to_string(),
                size,
                compressed,
                Source::File(path.to_path_buf()),
            );
            return Ok(1);
        }
        let mut walk = Walk {
            seen_dirs: &self.seen_dirs,
            seen_files: &self.seen_files,
            new_dirs: HashSet::new(),
            files: Vec::new(),
        };
        walk.dir(path)?;
        let Walk {
            new_dirs, files, ..
        } = walk;
        let added = files.len();
        self.seen_dirs.extend(new_dirs);
        for (file, canonical, size, compressed) in files {
            self.seen_files.insert(canonical);
            self.push(
                file.display().to_string(),
                Some(size),
                compressed,
                Source::File(file),
            );
        }
        Ok(added)
    }

    /// Adds an already open stream (a message body, a socket, a test fixture) named `name`.
    /// Gzip is detected as for files, and a name ending in `.csv` counts as a file's would.
    pub fn add_reader(&mut self, name: impl Into<String>, reader: impl Read + Send + 'static) {
        self.push(name.into(), None, false, Source::Reader(Box::new(reader)));
    }

    fn push(&mut self, name: String, size: Option<u64>, compressed: bool, source: Source) {
        let id = InputId(self.infos.len() as u32);
        self.infos.push(InputInfo {
            id,
            name,
            size,
            compressed,
        });
        self.sources.push(source);
    }

    /// The inputs added so far.
    pub fn infos(&self) -> &[InputInfo] {
        &self.infos
    }

    /// How many inputs were added.
    pub fn len(&self) -> usize {
        self.infos.len()
    }

    /// No input was added.
    pub fn is_empty(&self) -> bool {
        self.infos.is_empty()
    }
}

struct Walk<'a> {
    seen_dirs: &'a HashSet<PathBuf>,
    seen_files: &'a HashSet<PathBuf>,
    new_dirs: HashSet<PathBuf>,
    /// Path, canonical path, size, gzip.
    files: Vec<(PathBuf, PathBuf, u64, bool)>,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path) -> Result<(), IngestError> {
        let canonical = fs::canonicalize(dir).map_err(|e| IngestError::open(dir, e))?;
        if self.seen_dirs.contains(&canonical) || !self.new_dirs.insert(canonical) {
            return Ok(());
        }
        let mut names = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| IngestError::open(dir, e))? {
            let entry = entry.map_err(|e| IngestError::open(dir, e))?;
            let name = entry.file_name();
            if !name.as_encoded_bytes().starts_with(b".") {
                names.push(name);
            }
        }
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let meta = match fs::metadata(&path) {
                Ok(meta) => meta,
                // A dangling symlink names nothing to read.
                Err(_) if fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink()) => continue,
                Err(e) => return Err(IngestError::open(&path, e)),
            };
            if meta.is_dir() {
                self.dir(&path)?;
            } else if meta.is_file() {
                let canonical = fs::canonicalize(&path).map_err(|e| IngestError::open(&path, e))?;
                if self.seen_files.contains(&canonical)
                    || self.files.iter().any(|f| f.1 == canonical)
                {
                    continue;
                }
                let compressed = probe(&path)?;
                self.files.push((path, canonical, meta.len(), compressed));
            }
            // Sockets, FIFOs and devices inside a tree are not log files.
        }
        Ok(())
    }
}

/// Checks that a regular file can be opened, and whether it is gzip.
fn probe(path: &Path) -> Result<bool, IngestError> {
    let meta = fs::metadata(path).map_err(|e| IngestError::open(path, e))?;
    if !meta.is_file() {
        // Opening a FIFO blocks until it has a writer; it is opened when its turn comes.
        return Ok(false);
    }
    let mut file = File::open(path).map_err(|e| IngestError::open(path, e))?;
    let mut head = [0u8; 2];
    let n = read_full(&mut file, &mut head).map_err(|e| IngestError::open(path, e))?;
    Ok(n == 2 && head == GZIP_MAGIC)
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// An open input: its decoded bytes, and a count of the raw bytes read so far (for progress).
pub(crate) struct Opened {
    pub(crate) read: Box<dyn Read + Send>,
    /// Bytes already read from `read`'s source to look for gzip: they come first.
    pub(crate) head: Vec<u8>,
    pub(crate) raw: Arc<AtomicU64>,
    pub(crate) compressed: bool,
    /// A short read means the writer has paused (a pipe, a socket), not that a buffer boundary
    /// was hit (a file, a decompressor).
    pub(crate) can_pause: bool,
}

/// Counts the bytes read from the underlying source, before decompression.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub(crate) fn open(source: Source) -> io::Result<Opened> {
    let (raw, regular): (Box<dyn Read + Send>, bool) = match source {
        Source::File(path) => {
            let file = File::open(path)?;
            let regular = file.metadata()?.is_file();
            (Box::new(file), regular)
        }
        Source::Stdin => (Box::new(io::stdin()), false),
        Source::Reader(r) => (r, false),
    };
    let count = Arc::new(AtomicU64::new(0));
    let mut raw = Counting {
        inner: raw,
        count: Arc::clone(&count),
    };
    // Gzip by its magic bytes, whatever the name says.
    let mut head = [0u8; 2];
    let n = read_full(&mut raw, &mut head)?;
    let compressed = n == 2 && head == GZIP_MAGIC;
    if compressed {
        // Multi-member: `cat a.gz b.gz` and rotated logs concatenate members.
        let read = MultiGzDecoder::new(Cursor::new(head).chain(raw));
        return Ok(Opened {
            read: Box::new(read),
            head: Vec::new(),
            raw: count,
            compressed,
            can_pause: false,
        });
    }
    Ok(Opened {
        read: Box::new(raw),
        head: head[..n].to_vec(),
        raw: count,
        compressed,
        can_pause: !regular,
    })
}
