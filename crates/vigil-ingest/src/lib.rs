//! Vigil's input layer: turns input paths into raw records.
//!
//! Inputs are files, directories (walked recursively in sorted order), `-` for standard input, or
//! any [`Read`](std::io::Read) stream; gzip is recognised by its magic bytes (multi-member too).
//! Each input's format is detected from its first bytes:
//!
//! - **NDJSON** ([`Format::JsonLines`]): one value per line, as Elastic's test pipelines and
//!   Azure storage-account `PT1H.json` blobs hold them. Every line stands alone: a bad line is
//!   reported and the next line is framed as usual.
//! - **JSON documents** ([`Format::Json`]): a pretty-printed object, an array of records
//!   (streamed element by element, however large), concatenated values.
//! - **CSV** ([`Format::Csv`]): Microsoft Defender advanced-hunting and Log Analytics exports,
//!   a header row of column names then rows (RFC 4180 quoting, line breaks in quoted cells,
//!   `,`, or `;` or tab when the header says so). Each row becomes `{"<column>":"<cell>",…}`
//!   with every cell a JSON string (an empty cell is `""`); the table normalizers type them.
//!   An input is CSV when its first line is such a header and it is named `*.csv` (`*.tsv`), or
//!   its second row has as many cells.
//! - **EVTX** ([`Format::Evtx`]): Windows event log files, known by their signature. Each event
//!   record becomes the JSON the `evtx` crate renders
//!   (`{"Event":{"System":{…},"EventData":{…}}}`), its `line` the EventRecordID.
//!
//! In both JSON formats, Azure's `{"records": [...]}` envelope (Event Hubs, diagnostic settings)
//! is unwrapped into its records. Records are not decoded here: a record is the bytes of one JSON
//! object, validated as JSON (grammar, UTF-8, nesting at most [`vigil_event::MAX_DEPTH`], size
//! at most [`Options::max_record_bytes`]) so that the decoder can parse it with projection
//! pushdown, or skip it unparsed: the exact bytes of the input for JSON, the converted row or
//! event for CSV and EVTX. Anything else becomes a [`BadRecord`] with its input, line and
//! reason, and reading goes on. An input that is plainly not UTF-8 text (UTF-16, zip, tar, zstd,
//! xz, bzip2) gets one bad record saying so, and is not read further.
//!
//! ```no_run
//! use vigil_ingest::{ItemRef, Options, Reader};
//!
//! let mut reader = Reader::open(["logs/"], Options::default())?;
//! while let Some(item) = reader.next_ref() {
//!     match item {
//!         ItemRef::Record(r) => { /* decode r.bytes */ }
//!         ItemRef::Bad(b) => eprintln!("{}", b.display(reader.inputs())),
//!     }
//! }
//! for (info, stats) in reader.inputs().iter().zip(reader.stats()) {
//!     eprintln!("{}: {} records, {} bad", info.name, stats.records, stats.bad_records);
//! }
//! # Ok::<(), vigil_ingest::IngestError>(())
//! ```
//!
//! For message bodies already in memory (Kafka, NATS, HTTP), [`frame_slice`] runs the same
//! framing over a byte slice.

#![warn(missing_docs)]

mod csv_framer;
mod detect;
mod evtx_framer;
mod frame;
mod input;
mod reader;
mod scan;

use std::fmt;

pub use input::{IngestError, Inputs};
pub use reader::Reader;

/// Identifies an input of a [`Reader`]: its index in [`Reader::inputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub u32);

impl InputId {
    /// The index into [`Reader::inputs`] and [`Reader::stats`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// Its position in the reading order.
    pub id: InputId,
    /// The path as given (or found under a directory), `<stdin>`, or a caller's name.
    pub name: String,
    /// Size on disk, for regular files.
    pub size: Option<u64>,
    /// Gzip-compressed.
    pub compressed: bool,
}

/// How an input's bytes are framed into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// NDJSON: each line holds one value (or several, or an envelope).
    JsonLines,
    /// JSON text whose values may span lines: a pretty-printed object, an array of records,
    /// concatenated values.
    Json,
    /// CSV with a header row: each row becomes a JSON object of strings keyed by the header's
    /// column names.
    Csv,
    /// A Windows event log file: each event record becomes a JSON object.
    Evtx,
}

/// Reader settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Larger records are reported bad and read past without being kept whole.
    pub max_record_bytes: usize,
    /// Size of each read, and the read buffer's initial size.
    pub buffer_bytes: usize,
    /// Frame every input in this format instead of detecting it (an EVTX file, known by its
    /// signature, is still read as EVTX).
    pub format: Option<Format>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_record_bytes: 16 << 20,
            buffer_bytes: 1 << 20,
            format: None,
        }
    }
}

/// A record: the bytes of one JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The input it comes from.
    pub input: InputId,
    /// 1-based line where the record starts. Records of a one-line envelope share its line.
    /// For EVTX, the event's EventRecordID.
    pub line: u64,
    /// The object's JSON text, exactly as in the input (a pretty-printed one keeps its
    /// newlines), or converted from a CSV row or an EVTX event; valid UTF-8.
    pub bytes: Vec<u8>,
}

/// A record whose bytes are borrowed from the reader's buffer or the framed slice (or, for
/// converted records, from the reader or [`SliceFrames`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// See [`Record::input`].
    pub input: InputId,
    /// See [`Record::line`].
    pub line: u64,
    /// See [`Record::bytes`].
    pub bytes: &'a [u8],
}

impl RecordRef<'_> {
    /// Copies the bytes out.
    pub fn to_owned(&self) -> Record {
        Record {
            input: self.input,
            line: self.line,
            bytes: self.bytes.to_vec(),
        }
    }
}

/// Something where a record was expected that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// The input it comes from.
    pub input: InputId,
    /// 1-based line where the bad record starts (for EVTX, the EventRecordID of the record,
    /// or the first of its chunk); 0 when it concerns the whole input (it could not be opened).
    pub line: u64,
    /// Why, briefly: `invalid JSON: expected ':' after a key at column 7`, `not an object: a
    /// number`, `record too large: …`, `read error: …`.
    pub reason: String,
}

impl BadRecord {
    /// `path:line: reason`, naming the input from `inputs` (e.g. [`Reader::inputs`]).
    pub fn display<'a>(&'a self, inputs: &'a [InputInfo]) -> impl fmt::Display + 'a {
        struct Show<'a>(&'a BadRecord, &'a [InputInfo]);
        impl fmt::Display for Show<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let Show(bad, inputs) = self;
                let name = inputs.get(bad.input.index()).map_or("?", |i| &i.name);
                if bad.line == 0 {
                    write!(f, "{name}: {}", bad.reason)
                } else {
                    write!(f, "{name}:{}: {}", bad.line, bad.reason)
                }
            }
        }
        Show(self, inputs)
    }
}

/// A record or a bad record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A record.
    Record(Record),
    /// Something that should have been a record.
    Bad(BadRecord),
}

/// A record or a bad record, with the record's bytes borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemRef<'a> {
    /// A record.
    Record(RecordRef<'a>),
    /// Something that should have been a record.
    Bad(BadRecord),
}

impl ItemRef<'_> {
    /// Copies a record's bytes out.
    pub fn into_owned(self) -> Item {
        match self {
            ItemRef::Record(r) => Item::Record(r.to_owned()),
            ItemRef::Bad(b) => Item::Bad(b),
        }
    }
}

/// Counts for one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputStats {
    /// Records framed.
    pub records: u64,
    /// Bad records reported.
    pub bad_records: u64,
    /// Bytes read from the file or stream (compressed, for gzip).
    pub bytes_read: u64,
    /// Bytes framed (after decompression).
    pub bytes_decoded: u64,
    /// The detected (or forced) format, once known.
    pub format: Option<Format>,
}

/// How far reading has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The input being read.
    pub input: InputId,
    /// Raw bytes read over all inputs so far.
    pub bytes_read: u64,
    /// Total size of all inputs, when every one is a regular file.
    pub bytes_total: Option<u64>,
}

/// Frames a byte slice that holds a whole input (a message body, a file already in memory):
/// the same detection and framing as a [`Reader`], without copying JSON records.
///
/// Detection sees no file name here: a CSV body is recognised by its content alone (see
/// [`Format::Csv`]), or by [`Options::format`].
pub fn frame_slice<'a>(input: InputId, bytes: &'a [u8], opts: &Options) -> SliceFrames<'a> {
    let (format, start, unsupported) = match detect::detect(bytes, true, true, opts.format, false) {
        detect::Detected::Format(format, start) => (format, start, None),
        detect::Detected::Unsupported(what) => (Format::JsonLines, bytes.len(), Some(what)),
        // Not with the whole input at hand.
        detect::Detected::NeedMore => (Format::JsonLines, 0, None),
    };
    SliceFrames {
        input,
        bytes,
        format,
        framer: frame::Framer::new(format, opts.max_record_bytes, start as u64),
        unsupported,
    }
}

fn unsupported_reason(what: &str) -> String {
    format!("unsupported input: {what}")
}

/// The items of a slice, returned by [`frame_slice`].
///
/// Like a [`Reader`]: [`SliceFrames::next_ref`] lends each record's bytes (straight out of the
/// slice for JSON; no copy, the hot path), and `Iterator` yields owned [`Item`]s. A converted
/// record (CSV, EVTX) is not in the slice, so it is lent from the iterator itself.
#[derive(Debug)]
pub struct SliceFrames<'a> {
    input: InputId,
    bytes: &'a [u8],
    format: Format,
    framer: frame::Framer,
    /// Not text we frame: reported once, as the only item.
    unsupported: Option<&'static str>,
}

impl SliceFrames<'_> {
    /// The detected (or forced) format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next record (its bytes borrowed until the next call) or bad record; `None` at the
    /// end.
    pub fn next_ref(&mut self) -> Option<ItemRef<'_>> {
        if let Some(what) = self.unsupported.take() {
            return Some(ItemRef::Bad(BadRecord {
                input: self.input,
                line: 1,
                reason: unsupported_reason(what),
            }));
        }
        match self.framer.step(self.bytes, true) {
            frame::Step::Record { start, end, line } => Some(ItemRef::Record(RecordRef {
                input: self.input,
                line,
                bytes: &self.bytes[start as usize..end as usize],
            })),
            frame::Step::Owned { line } => Some(ItemRef::Record(RecordRef {
                input: self.input,
                line,
                bytes: self.framer.owned(),
            })),
            frame::Step::Bad { line, reason } => Some(ItemRef::Bad(BadRecord {
                input: self.input,
                line,
                reason,
            })),
            frame::Step::NeedMore | frame::Step::Done => None,
        }
    }
}

impl Iterator for SliceFrames<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.next_ref().map(ItemRef::into_owned)
    }
}
