//! EVTX: Windows event log files (Sysmon's `Microsoft-Windows-Sysmon/Operational` exported from
//! a host), one JSON object per event record.
//!
//! The file is a 4 KiB header, then 64 KiB chunks that each stand alone: their own string and
//! template tables, CRC32 checksums, and records of binary XML. The framer waits until a whole
//! chunk is in the buffer, converts its records with the `evtx` crate into its JSON shape
//! (`{"Event":{"#attributes":{…},"System":{…},"EventData":{…}}}`, attributes under
//! `#attributes`, as `vigil-normalize`'s Sysmon mapping reads it), and hands them out one by
//! one. A record's `line` is its EventRecordID.
//!
//! Chunks come in file order, which is record order unless the log wrapped around (a full log
//! overwrites its oldest chunk): reading from a stream cannot seek to the oldest chunk first.
//!
//! A damaged chunk is reported as a bad record and reading goes on: a chunk without its
//! signature is skipped; one whose checksums fail is reported and its records are still
//! read (each that does not parse is a bad record of its own), since one flipped bit should
//! not hide a chunk's other events from detection. A file cut short reports the cut, then the
//! complete records of its last, partial chunk.

use std::collections::VecDeque;
use std::sync::Arc;

use evtx::err::EvtxError;
use evtx::{EvtxChunkData, ParserSettings};
use vigil_event::MAX_DEPTH;

use crate::frame::Step;
use crate::scan::{Scan, ScanError, Scanner, is_ws};

pub(crate) const FILE_MAGIC: &[u8] = b"ElfFile\0";
const CHUNK_MAGIC: &[u8] = b"ElfChnk\0";
const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;

#[derive(Debug)]
enum Pending {
    Record { line: u64, bytes: Vec<u8> },
    Bad { line: u64, reason: String },
}

/// Frames an EVTX file into its records' JSON.
#[derive(Debug)]
pub(crate) struct EvtxFramer {
    max: u64,
    base: u64,
    /// Where the next chunk (or the file header) starts.
    pos: u64,
    header_read: bool,
    /// Number of the chunk at `pos`.
    chunk: u64,
    /// EventRecordID of the last record seen, to place errors that name none.
    last_id: u64,
    settings: Arc<ParserSettings>,
    /// The converted records and errors of the last chunk, not handed out yet.
    pending: VecDeque<Pending>,
    current: Vec<u8>,
    done: bool,
}

impl EvtxFramer {
    pub(crate) fn new(max_record: usize, start: u64) -> EvtxFramer {
        let settings = ParserSettings::new()
            .indent(false)
            .separate_json_attributes(false)
            // Checked here, so that a bad chunk is reported rather than dropped.
            .validate_checksums(false);
        EvtxFramer {
            max: max_record as u64,
            base: 0,
            pos: start,
            header_read: false,
            chunk: 0,
            last_id: 0,
            settings: Arc::new(settings),
            pending: VecDeque::new(),
            current: Vec::new(),
            done: false,
        }
    }

    pub(crate) fn owned(&self) -> &[u8] {
        &self.current
    }

    pub(crate) fn keep_from(&self) -> u64 {
        self.pos
    }

    pub(crate) fn discard(&mut self, new_base: u64) {
        self.base = new_base;
    }

    pub(crate) fn current_line(&self) -> u64 {
        self.last_id + 1
    }

    pub(crate) fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        loop {
            match self.pending.pop_front() {
                Some(Pending::Record { line, bytes }) => {
                    self.current = bytes;
                    return Step::Owned { line };
                }
                Some(Pending::Bad { line, reason }) => return Step::Bad { line, reason },
                None => {}
            }
            if self.done {
                return Step::Done;
            }
            let end = self.base + buf.len() as u64;
            let avail = end - self.pos;
            let at = (self.pos - self.base) as usize;
            if !self.header_read {
                if avail < FILE_HEADER_SIZE {
                    if !eof {
                        return Step::NeedMore;
                    }
                    self.done = true;
                    if avail == 0 {
                        continue;
                    }
                    return Step::Bad {
                        line: 1,
                        reason: format!(
                            "truncated EVTX file: {avail} bytes, less than its {FILE_HEADER_SIZE}-byte header"
                        ),
                    };
                }
                if !buf[at..].starts_with(FILE_MAGIC) {
                    self.done = true;
                    return Step::Bad {
                        line: 1,
                        reason: "not an EVTX file: no ElfFile signature".into(),
                    };
                }
                // The header's chunk count and checksum are not needed to find the chunks,
                // and Windows leaves them stale in a log that was not closed cleanly.
                self.header_read = true;
                self.pos += FILE_HEADER_SIZE;
                continue;
            }
            if avail >= CHUNK_SIZE {
                self.convert_chunk(&buf[at..at + CHUNK_SIZE as usize], true);
                self.pos += CHUNK_SIZE;
                self.chunk += 1;
                continue;
            }
            if !eof {
                return Step::NeedMore;
            }
            self.done = true;
            if avail > 0 {
                self.pending.push_back(Pending::Bad {
                    line: self.last_id + 1,
                    reason: format!(
                        "truncated EVTX file: chunk {} {} has {avail} of its {CHUNK_SIZE} bytes",
                        self.chunk,
                        self.where_chunk()
                    ),
                });
                self.convert_chunk(&buf[at..], false);
                self.pos = end;
            }
        }
    }

    /// `(file offset 0x…)` of the chunk at `pos`.
    fn where_chunk(&self) -> String {
        format!("(file offset {:#x})", self.pos)
    }

    fn bad(&mut self, line: u64, reason: String) {
        self.pending.push_back(Pending::Bad { line, reason });
    }

    /// Converts the records of one chunk (`whole`: all 64 KiB of it) into `pending`.
    fn convert_chunk(&mut self, data: &[u8], whole: bool) {
        let n = self.chunk;
        let next_line = self.last_id + 1;
        if data.iter().all(|&b| b == 0) {
            // Allocated, never written: a log file is created at its full size.
            return;
        }
        if !whole && (data.len() < CHUNK_HEADER_SIZE || !data.starts_with(CHUNK_MAGIC)) {
            // Cut before its records: the cut is reported already.
            return;
        }
        if !data.starts_with(CHUNK_MAGIC) {
            let reason = format!(
                "EVTX chunk {n} {}: no ElfChnk signature; its records are skipped",
                self.where_chunk()
            );
            return self.bad(next_line, reason);
        }
        let mut chunk = match EvtxChunkData::new(data.to_vec(), false) {
            Ok(chunk) => chunk,
            Err(e) => {
                let reason = format!(
                    "EVTX chunk {n} {}: {}; its records are skipped",
                    self.where_chunk(),
                    chain(&e)
                );
                return self.bad(next_line, reason);
            }
        };
        chunk.number = Some(n);
        let header_ok = chunk.validate_header_checksum();
        let line = if header_ok && chunk.header.first_event_record_id > 0 {
            chunk.header.first_event_record_id
        } else {
            next_line
        };
        if whole && !(header_ok && chunk.validate_data_checksum()) {
            let part = if header_ok { "records" } else { "header" };
            let reason = format!(
                "EVTX chunk {n} {}: CRC32 mismatch in its {part}; its records are read anyway",
                self.where_chunk()
            );
            self.bad(line, reason);
        }
        let mut parsed = match chunk.parse(Arc::clone(&self.settings)) {
            Ok(parsed) => parsed,
            Err(e) => {
                let reason = format!(
                    "EVTX chunk {n} {}: {}; its records are skipped",
                    self.where_chunk(),
                    chain(&e)
                );
                return self.bad(line, reason);
            }
        };
        let mut converted = Vec::new();
        for record in parsed.iter() {
            let (id, json) = match record {
                Ok(record) => (record.event_record_id, record.into_json_bytes()),
                Err(e) => (record_id(&e).unwrap_or(self.last_id + 1), Err(e)),
            };
            self.last_id = id;
            converted.push(match json {
                Ok(json) => self.record(id, json.data),
                Err(e) => Pending::Bad {
                    line: id,
                    reason: format!("invalid EVTX record: {}", chain(&e)),
                },
            });
        }
        self.pending.extend(converted);
    }

    /// Checks a converted record as the JSON framer checks one read from text.
    fn record(&self, line: u64, mut bytes: Vec<u8>) -> Pending {
        while bytes.last().is_some_and(|&c| is_ws(c)) {
            bytes.pop();
        }
        let bad = |reason: String| Pending::Bad { line, reason };
        if bytes.len() as u64 > self.max {
            return bad(format!(
                "record too large: {} bytes (limit {})",
                bytes.len(),
                self.max
            ));
        }
        if bytes.first() != Some(&b'{') {
            return bad("EVTX record converts to no JSON object".into());
        }
        let mut sc = Scanner::new();
        match sc.feed(&bytes, 0) {
            Scan::Done(end) if end == bytes.len() => {}
            Scan::Err(_, ScanError::TooDeep) => {
                return bad(format!("nesting deeper than {MAX_DEPTH} levels"));
            }
            _ => return bad("EVTX record converts to invalid JSON".into()),
        }
        if let Err(e) = std::str::from_utf8(&bytes) {
            return bad(format!(
                "invalid UTF-8 at byte {} of the record",
                e.valid_up_to()
            ));
        }
        Pending::Record { line, bytes }
    }
}

/// The id of the record an error is about, if it names one.
fn record_id(e: &EvtxError) -> Option<u64> {
    match e {
        EvtxError::FailedToParseRecord { record_id, .. } => Some(*record_id),
        EvtxError::FailedToReadRecordAt { source, .. } => record_id(source),
        _ => None,
    }
}

/// An error and its causes, `a: b: c`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
