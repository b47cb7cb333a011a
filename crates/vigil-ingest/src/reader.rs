//! The reader: inputs one after another, through one growable buffer, into framers.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::detect::{Detected, SNIFF_BYTES, detect};
use crate::frame::{Framer, Step};
use crate::input::{self, IngestError, Inputs, Source};
use crate::{
    BadRecord, InputId, InputInfo, InputStats, Item, ItemRef, Options, Progress, RecordRef,
};

/// Reads inputs in order and frames them into records.
///
/// Two ways to consume it: [`Reader::next_ref`] lends each record's bytes straight out of the
/// read buffer (no copy; the hot path), and `Iterator` yields owned [`Item`]s.
pub struct Reader {
    opts: Options,
    infos: Vec<InputInfo>,
    sources: Vec<Option<Source>>,
    stats: Vec<InputStats>,
    /// Index of the next input to open.
    next: usize,
    active: Option<Active>,
    buf: Vec<u8>,
    /// Bytes of `buf` holding data.
    end: usize,
    /// Offset in the current input of `buf[0]`.
    base: u64,
    /// Raw bytes read from finished inputs.
    done_raw: u64,
    total: Option<u64>,
    hook: Option<ProgressHook>,
}

type ProgressHook = Box<dyn FnMut(&Progress) + Send>;

struct Active {
    id: usize,
    read: Box<dyn Read + Send>,
    raw: Arc<AtomicU64>,
    /// Chosen once the first bytes are in.
    framer: Option<Framer>,
    eof: bool,
    /// The last read returned less than asked: a stream waiting for its writer, or the end.
    paused: bool,
    can_pause: bool,
    /// Named `*.csv` (or `*.tsv`): a header row is enough to detect CSV.
    csv_name: bool,
    /// A read error ended the input early; reported after the bytes before it are framed.
    error: Option<String>,
}

/// Whether an input's name says CSV (`.csv`, `.tsv`, compressed or not).
fn is_csv_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    stem.ends_with(".csv") || stem.ends_with(".tsv")
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("inputs", &self.infos)
            .field("stats", &self.stats)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader over `inputs`. Nothing is opened until the first record is asked for.
    pub fn new(inputs: Inputs, opts: Options) -> Reader {
        let total = inputs.infos.iter().map(|i| i.size).sum::<Option<u64>>();
        let stats = vec![InputStats::default(); inputs.infos.len()];
        Reader {
            buf: Vec::new(),
            opts,
            infos: inputs.infos,
            sources: inputs.sources.into_iter().map(Some).collect(),
            stats,
            next: 0,
            active: None,
            end: 0,
            base: 0,
            done_raw: 0,
            total,
            hook: None,
        }
    }

    /// Adds every path (see [`Inputs::add`]) and returns a reader, or the first path that cannot
    /// be opened.
    pub fn open<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
        opts: Options,
    ) -> Result<Reader, IngestError> {
        let mut inputs = Inputs::new();
        for path in paths {
            inputs.add(path)?;
        }
        Ok(Reader::new(inputs, opts))
    }

    /// Calls `hook` after every read from an input (about every [`Options::buffer_bytes`]).
    pub fn set_progress_hook(&mut self, hook: impl FnMut(&Progress) + Send + 'static) {
        self.hook = Some(Box::new(hook));
    }

    /// The inputs, indexed by [`InputId`]. `compressed` is final once an input was opened.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.infos
    }

    /// Counts per input, indexed by [`InputId`], as of now.
    pub fn stats(&self) -> &[InputStats] {
        &self.stats
    }

    /// The sum of [`Reader::stats`] over all inputs (`format` left unset).
    pub fn totals(&self) -> InputStats {
        self.stats
            .iter()
            .fold(InputStats::default(), |t, s| InputStats {
                records: t.records + s.records,
                bad_records: t.bad_records + s.bad_records,
                bytes_read: t.bytes_read + s.bytes_read,
                bytes_decoded: t.bytes_decoded + s.bytes_decoded,
                format: None,
            })
    }

    /// Bytes read so far, over all inputs.
    pub fn progress(&self) -> Progress {
        let current = self
            .active
            .as_ref()
            .map_or(0, |a| a.raw.load(Ordering::Relaxed));
        Progress {
            input: InputId(self.next.saturating_sub(1) as u32),
            bytes_read: self.done_raw + current,
            bytes_total: self.total,
        }
    }

    /// The read buffer's current size: bounded by about
    /// [`Options::max_record_bytes`] + [`Options::buffer_bytes`], whatever the input.
    pub fn buffer_capacity(&self) -> usize {
        self.buf.len()
    }

    /// The next record (its bytes borrowed from the read buffer until the next call) or bad
    /// record; `None` after the last input.
    pub fn next_ref(&mut self) -> Option<ItemRef<'_>> {
        // `None` for a converted record, whose bytes the framer holds.
        let (id, span, line) = loop {
            let Some(a) = self.active.as_mut() else {
                if self.next >= self.sources.len() {
                    return None;
                }
                if let Some(bad) = self.open_next() {
                    return Some(ItemRef::Bad(bad));
                }
                continue;
            };
            let buf = &self.buf[..self.end];
            let Some(framer) = a.framer.as_mut() else {
                match detect(buf, a.eof, a.paused, self.opts.format, a.csv_name) {
                    Detected::Format(format, start) => {
                        a.framer = Some(Framer::new(
                            format,
                            self.opts.max_record_bytes,
                            start as u64,
                        ));
                        self.stats[a.id].format = Some(format);
                    }
                    Detected::Unsupported(what) => {
                        // One report, and the rest of the input is not read.
                        let id = a.id;
                        // No read error can be pending: detection waits for bytes, not errors.
                        let _ = self.finish_input();
                        self.stats[id].bad_records += 1;
                        return Some(ItemRef::Bad(BadRecord {
                            input: InputId(id as u32),
                            line: 1,
                            reason: crate::unsupported_reason(what),
                        }));
                    }
                    Detected::NeedMore => self.fill(),
                }
                continue;
            };
            match framer.step(buf, a.eof) {
                Step::Record { start, end, line } => break (a.id, Some((start, end)), line),
                Step::Owned { line } => break (a.id, None, line),
                Step::Bad { line, reason } => {
                    self.stats[a.id].bad_records += 1;
                    return Some(ItemRef::Bad(BadRecord {
                        input: InputId(a.id as u32),
                        line,
                        reason,
                    }));
                }
                Step::NeedMore if !a.eof => self.fill(),
                Step::NeedMore | Step::Done => {
                    if let Some(bad) = self.finish_input() {
                        return Some(ItemRef::Bad(bad));
                    }
                }
            }
        };
        self.stats[id].records += 1;
        let bytes = match span {
            Some((start, end)) => {
                &self.buf[(start - self.base) as usize..(end - self.base) as usize]
            }
            None => self
                .active
                .as_ref()
                .and_then(|a| a.framer.as_ref())
                .map_or(&[][..], |f| f.owned()),
        };
        Some(ItemRef::Record(RecordRef {
            input: InputId(id as u32),
            line,
            bytes,
        }))
    }

    /// Opens the next input; a bad record if it cannot be opened (it could when it was added).
    fn open_next(&mut self) -> Option<BadRecord> {
        let id = self.next;
        self.next += 1;
        let source = self.sources.get_mut(id)?.take()?;
        self.end = 0;
        self.base = 0;
        if self.buf.is_empty() {
            self.buf = vec![0; self.opts.buffer_bytes.max(1)];
        }
        match input::open(source) {
            Ok(opened) => {
                self.infos[id].compressed = opened.compressed;
                let n = opened.head.len();
                if self.buf.len() < n {
                    self.buf.resize(n, 0);
                }
                self.buf[..n].copy_from_slice(&opened.head);
                self.end = n;
                self.stats[id].bytes_decoded += n as u64;
                self.active = Some(Active {
                    id,
                    read: opened.read,
                    raw: opened.raw,
                    framer: None,
                    eof: false,
                    paused: false,
                    can_pause: opened.can_pause,
                    csv_name: is_csv_name(&self.infos[id].name),
                    error: None,
                });
                None
            }
            Err(e) => {
                self.stats[id].bad_records += 1;
                Some(BadRecord {
                    input: InputId(id as u32),
                    line: 0,
                    reason: format!("cannot open: {e}"),
                })
            }
        }
    }

    /// Closes the current input; a bad record if a read error cut it short.
    fn finish_input(&mut self) -> Option<BadRecord> {
        let mut a = self.active.take()?;
        let raw = a.raw.load(Ordering::Relaxed);
        self.stats[a.id].bytes_read = raw;
        self.done_raw += raw;
        let error = a.error.take()?;
        let line = a
            .framer
            .as_mut()
            .map_or(1, |f| f.current_line(&self.buf[..self.end]));
        self.stats[a.id].bad_records += 1;
        Some(BadRecord {
            input: InputId(a.id as u32),
            line,
            reason: format!("read error: {error}"),
        })
    }

    /// Drops the bytes the framer no longer needs, grows the buffer if it is still full, and
    /// reads once.
    fn fill(&mut self) {
        let Some(a) = self.active.as_mut() else {
            return;
        };
        if let Some(framer) = a.framer.as_mut() {
            let keep = framer
                .keep_from()
                .clamp(self.base, self.base + self.end as u64);
            if keep > self.base {
                framer.discard(&self.buf[..self.end], keep);
                let k = (keep - self.base) as usize;
                self.buf.copy_within(k..self.end, 0);
                self.end -= k;
                self.base = keep;
            }
        }
        if self.end == self.buf.len() {
            // Only a record being assembled (at most the limit, then the framer lets go of it)
            // or format detection needs more room.
            let cap = self
                .opts
                .max_record_bytes
                .saturating_add(self.opts.buffer_bytes)
                .max(SNIFF_BYTES * 2);
            let len = self.buf.len();
            let new_len = (len * 2).min(cap).max(len + 64);
            self.buf.resize(new_len, 0);
        }
        let space = self.buf.len() - self.end;
        loop {
            match a.read.read(&mut self.buf[self.end..]) {
                Ok(0) => a.eof = true,
                Ok(n) => {
                    a.paused = a.can_pause && n < space;
                    self.end += n;
                    self.stats[a.id].bytes_decoded += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    a.eof = true;
                    a.error = Some(e.to_string());
                }
            }
            break;
        }
        let raw = a.raw.load(Ordering::Relaxed);
        self.stats[a.id].bytes_read = raw;
        if let Some(hook) = self.hook.as_mut() {
            hook(&Progress {
                input: InputId(a.id as u32),
                bytes_read: self.done_raw + raw,
                bytes_total: self.total,
            });
        }
    }
}

impl Iterator for Reader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.next_ref().map(ItemRef::into_owned)
    }
}
