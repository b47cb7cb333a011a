//! Framing: splitting a byte stream into records.
//!
//! A framer works on a window of the input held in a buffer. It keeps its positions as absolute
//! byte offsets into the (decompressed) input, so the owner may drop bytes before
//! [`Framer::keep_from`] and move the rest to the front of its buffer between steps; `base` is
//! the offset of the buffer's first byte. Every step either yields a record (a span of the
//! buffer), a bad record, asks for more bytes, or reports the end.
//!
//! JSON is framed in place: a record is a span of the input. CSV rows and EVTX event records are
//! converted: the framer writes the record's JSON into a buffer of its own ([`Framer::owned`])
//! and says so with [`Step::Owned`].

use memchr::memmem;
use vigil_event::MAX_DEPTH;

use crate::Format;
use crate::csv_framer::CsvFramer;
use crate::evtx_framer::EvtxFramer;
use crate::scan::{Scan, ScanError, Scanner, is_ws};

/// What a framing step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A record: the bytes `start..end` (absolute offsets), starting on `line`.
    Record {
        start: u64,
        end: u64,
        line: u64,
    },
    /// A converted record, starting on `line`: its bytes are [`Framer::owned`] until the next
    /// step.
    Owned {
        line: u64,
    },
    Bad {
        line: u64,
        reason: String,
    },
    /// Every byte in the buffer is used; call again with more (or with `eof`).
    NeedMore,
    Done,
}

/// The framer for one input.
// The JSON framer stays inline: the hot path should not go through a pointer.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Framer {
    Json(JsonFramer),
    Csv(Box<CsvFramer>),
    Evtx(Box<EvtxFramer>),
}

impl Framer {
    /// A framer for `format` whose content starts at byte `start` (after a byte-order mark).
    pub(crate) fn new(format: Format, max_record: usize, start: u64) -> Framer {
        match format {
            Format::JsonLines => Framer::Json(JsonFramer::new(true, max_record, start)),
            Format::Json => Framer::Json(JsonFramer::new(false, max_record, start)),
            Format::Csv => Framer::Csv(Box::new(CsvFramer::new(max_record, start))),
            Format::Evtx => Framer::Evtx(Box::new(EvtxFramer::new(max_record, start))),
        }
    }

    /// Frames the next item from `buf`, which holds the input from offset `base` on.
    #[inline]
    pub(crate) fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        match self {
            Framer::Json(f) => f.step(buf, eof),
            other => other.step_converted(buf, eof),
        }
    }

    /// [`Framer::step`] for the converting framers, kept out of the JSON hot path's code.
    #[inline(never)]
    fn step_converted(&mut self, buf: &[u8], eof: bool) -> Step {
        match self {
            Framer::Json(f) => f.step(buf, eof),
            Framer::Csv(f) => f.step(buf, eof),
            Framer::Evtx(f) => f.step(buf, eof),
        }
    }

    /// The bytes of the record the last [`Step::Owned`] announced.
    pub(crate) fn owned(&self) -> &[u8] {
        match self {
            Framer::Json(_) => &[],
            Framer::Csv(f) => f.owned(),
            Framer::Evtx(f) => f.owned(),
        }
    }

    /// The first absolute offset the framer still needs.
    pub(crate) fn keep_from(&self) -> u64 {
        match self {
            Framer::Json(f) => f.keep_from(),
            Framer::Csv(f) => f.keep_from(),
            Framer::Evtx(f) => f.keep_from(),
        }
    }

    /// The owner drops the bytes before `new_base` (at most [`Framer::keep_from`]).
    pub(crate) fn discard(&mut self, buf: &[u8], new_base: u64) {
        match self {
            Framer::Json(f) => f.discard(buf, new_base),
            Framer::Csv(f) => f.discard(new_base),
            Framer::Evtx(f) => f.discard(new_base),
        }
    }

    /// The line at the framer's current position, for errors that are not about a record.
    pub(crate) fn current_line(&mut self, buf: &[u8]) -> u64 {
        match self {
            Framer::Json(f) => f.line_at(buf, f.pos),
            Framer::Csv(f) => f.current_line(),
            Framer::Evtx(f) => f.current_line(),
        }
    }
}

/// The value being scanned.
#[derive(Debug, Clone, Copy)]
struct Cur {
    start: u64,
    line: u64,
    /// Column of `start` (0-based), where resynchronisation looks for the next record.
    col: u64,
    /// Larger than the limit: scanned to find its end, but its bytes are not kept.
    skipping: bool,
    kind: CurKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CurKind {
    /// A top-level value.
    Top,
    /// An element of a streamed array or envelope.
    Elem,
    /// What follows an envelope's `records` array, up to its closing brace: skipped.
    Tail,
}

#[derive(Debug, Clone, Copy)]
enum Ctx {
    Top,
    Outer(Outer),
    /// After a syntax error: looking for a line that starts a record at `col`, after `after`.
    Resync {
        col: Option<u64>,
        outer: Option<Outer>,
        /// The error is at the first non-blank byte of its line: a record may start right there.
        here: bool,
        after: u64,
    },
}

/// A streamed array of records: a top-level array or an envelope's `records`.
#[derive(Debug, Clone, Copy)]
struct Outer {
    kind: OuterKind,
    expect: Expect,
    line: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OuterKind {
    Array,
    /// `{"records": [` seen at the start of an object.
    Envelope,
    /// An envelope whose `records` key was not first: the whole object was buffered and
    /// validated; after the array, framing resumes at `end`.
    Inline {
        end: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A record or `]`.
    First,
    /// A record (after `,`).
    Elem,
    /// `,` or `]`.
    Sep,
}

/// An over-long NDJSON line being read past.
#[derive(Debug, Clone, Copy)]
struct SkipLine {
    start: u64,
    line: u64,
}

/// Frames JSON: NDJSON (`lines`: every line stands alone, a bad line never affects the next), or
/// a document (values may span lines: a pretty-printed object, an array streamed element by
/// element, an envelope, concatenated values).
#[derive(Debug)]
pub(crate) struct JsonFramer {
    lines: bool,
    max: u64,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Next byte to examine.
    pos: u64,
    ctx: Ctx,
    cur: Option<Cur>,
    sc: Scanner,
    /// Line number at `line_pos`: newlines before `line_pos` are counted (lazily, in documents).
    line: u64,
    line_pos: u64,
    /// Offset just after the last counted newline, for columns.
    line_start: u64,
    /// Where the whitespace run that [`JsonFramer::skip_ws`] last skipped began, and ended.
    ws_from: u64,
    ws_to: u64,
    /// NDJSON: end of the current line (exclusive, before its `\n`), while it is being framed.
    win: Option<u64>,
    /// The current line is the last one and has no `\n`.
    win_last: bool,
    /// NDJSON: where to continue searching for the end of the current line.
    nl_search: u64,
    skip: Option<SkipLine>,
    records_key: memmem::Finder<'static>,
}

impl JsonFramer {
    fn new(lines: bool, max_record: usize, start: u64) -> JsonFramer {
        JsonFramer {
            lines,
            max: max_record as u64,
            base: 0,
            pos: start,
            ctx: Ctx::Top,
            cur: None,
            sc: Scanner::new(),
            line: 1,
            line_pos: 0,
            line_start: 0,
            ws_from: start,
            ws_to: start,
            win: None,
            win_last: false,
            nl_search: start,
            skip: None,
            records_key: memmem::Finder::new(b"\"records\""),
        }
    }

    #[inline]
    fn rel(&self, abs: u64) -> usize {
        (abs - self.base) as usize
    }

    fn keep_from(&self) -> u64 {
        match &self.cur {
            Some(c) if !c.skipping => c.start,
            _ => self.pos,
        }
    }

    fn discard(&mut self, buf: &[u8], new_base: u64) {
        // Count the newlines about to be dropped.
        self.line_at(buf, new_base);
        self.base = new_base;
    }

    fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        if !self.lines {
            return self.step_doc(buf, eof);
        }
        loop {
            if let Some(end) = self.win {
                let window = &buf[..self.rel(end)];
                match self.step_doc(window, true) {
                    Step::Done => {
                        self.win = None;
                        self.ctx = Ctx::Top;
                        if self.win_last {
                            // The input ends on this line.
                            self.pos = end;
                        } else {
                            self.pos = end + 1;
                            self.next_line();
                        }
                        continue;
                    }
                    other => return other,
                }
            }
            if let Some(step) = self.next_window(buf, eof) {
                return step;
            }
        }
    }

    fn next_line(&mut self) {
        self.line += 1;
        self.line_start = self.pos;
        self.line_pos = self.pos;
        self.ctx = Ctx::Top;
    }

    /// NDJSON: finds the next line and opens its window, or says why not.
    fn next_window(&mut self, buf: &[u8], eof: bool) -> Option<Step> {
        let end = self.base + buf.len() as u64;
        if let Some(skip) = self.skip {
            return Some(match memchr::memchr(b'\n', &buf[self.rel(self.pos)..]) {
                Some(k) => {
                    let nl = self.pos + k as u64;
                    self.skip = None;
                    self.pos = nl + 1;
                    let bad = self.too_large(skip.line, nl - skip.start);
                    self.next_line();
                    bad
                }
                None if eof => {
                    self.skip = None;
                    self.pos = end;
                    self.too_large(skip.line, end - skip.start)
                }
                None => {
                    self.pos = end;
                    Step::NeedMore
                }
            });
        }
        let start = self.pos;
        let from = self.nl_search.max(start);
        match memchr::memchr(b'\n', &buf[self.rel(from)..]) {
            Some(k) => {
                let nl = from + k as u64;
                if nl - start > self.max {
                    self.pos = nl + 1;
                    let bad = self.too_large(self.line, nl - start);
                    self.next_line();
                    return Some(bad);
                }
                self.win = Some(nl);
                self.win_last = false;
                None
            }
            None if eof => {
                if start == end {
                    return Some(Step::Done);
                }
                if end - start > self.max {
                    self.pos = end;
                    return Some(self.too_large(self.line, end - start));
                }
                self.win = Some(end);
                self.win_last = true;
                None
            }
            None if end - start > self.max => {
                // Read past the rest of the line without keeping it.
                self.skip = Some(SkipLine {
                    start,
                    line: self.line,
                });
                self.pos = end;
                Some(Step::NeedMore)
            }
            None => {
                self.nl_search = end;
                Some(Step::NeedMore)
            }
        }
    }

    fn too_large(&self, line: u64, size: u64) -> Step {
        Step::Bad {
            line,
            reason: format!("record too large: {size} bytes (limit {})", self.max),
        }
    }

    /// Frames values in `buf`. In NDJSON `buf` ends at the end of the current line and `eof` is
    /// true.
    fn step_doc(&mut self, buf: &[u8], eof: bool) -> Step {
        loop {
            if self.cur.is_some() {
                if let Some(step) = self.scan_cur(buf, eof) {
                    return step;
                }
                continue;
            }
            let end = self.base + buf.len() as u64;
            match self.ctx {
                Ctx::Top => {
                    let p = self.skip_ws(buf);
                    if p == end {
                        return if eof { Step::Done } else { Step::NeedMore };
                    }
                    let c = buf[self.rel(p)];
                    if c == b'[' && !self.lines {
                        let line = self.line_at(buf, p);
                        self.open_outer(OuterKind::Array, line, p + 1);
                        continue;
                    }
                    if c == b'{' {
                        match envelope_prefix(&buf[self.rel(p)..], eof) {
                            Prefix::Envelope(len) => {
                                let line = self.line_at(buf, p);
                                self.open_outer(OuterKind::Envelope, line, p + len as u64);
                                continue;
                            }
                            Prefix::NeedMore => return Step::NeedMore,
                            Prefix::No => {}
                        }
                    }
                    self.begin(buf, p, CurKind::Top);
                }
                Ctx::Outer(o) => {
                    let p = self.skip_ws(buf);
                    if p == end {
                        if !eof {
                            return Step::NeedMore;
                        }
                        self.ctx = Ctx::Top;
                        let what = match o.kind {
                            OuterKind::Array => "array",
                            _ => "records array",
                        };
                        return Step::Bad {
                            line: o.line,
                            reason: format!(
                                "truncated {what}: {} ends before its ']'",
                                self.end_name()
                            ),
                        };
                    }
                    let c = buf[self.rel(p)];
                    match (o.expect, c) {
                        (Expect::Sep, b',') => {
                            self.ctx = Ctx::Outer(Outer {
                                expect: Expect::Elem,
                                ..o
                            });
                            self.pos = p + 1;
                        }
                        (Expect::Sep | Expect::First, b']') => self.close_outer(o, p),
                        (Expect::Sep, _) => {
                            return self.syntax_error(buf, p, None, "expected ',' or ']'");
                        }
                        (Expect::Elem, b']') => {
                            // No record is lost: report it, and close the array.
                            let (line, col) = self.locate(buf, p);
                            self.close_outer(o, p);
                            return Step::Bad {
                                line,
                                reason: format!(
                                    "invalid JSON: trailing ',' before ']' at column {col}"
                                ),
                            };
                        }
                        (Expect::First | Expect::Elem, _) => {
                            self.ctx = Ctx::Outer(Outer {
                                expect: Expect::Sep,
                                ..o
                            });
                            self.begin(buf, p, CurKind::Elem);
                        }
                    }
                }
                Ctx::Resync { .. } => {
                    if let Some(step) = self.resync(buf, eof) {
                        return step;
                    }
                }
            }
        }
    }

    fn open_outer(&mut self, kind: OuterKind, line: u64, pos: u64) {
        self.ctx = Ctx::Outer(Outer {
            kind,
            expect: Expect::First,
            line,
        });
        self.pos = pos;
    }

    fn close_outer(&mut self, o: Outer, p: u64) {
        self.ctx = Ctx::Top;
        self.pos = p + 1;
        match o.kind {
            OuterKind::Array => {}
            OuterKind::Envelope => {
                self.sc.begin_after_value_in_object();
                self.cur = Some(Cur {
                    start: p + 1,
                    line: o.line,
                    col: 0,
                    skipping: true,
                    kind: CurKind::Tail,
                });
            }
            OuterKind::Inline { end } => self.pos = end,
        }
    }

    /// What ends the framed bytes, for messages.
    fn end_name(&self) -> &'static str {
        if self.lines && !self.win_last {
            "the line"
        } else {
            "the input"
        }
    }

    fn skip_ws(&mut self, buf: &[u8]) -> u64 {
        if self.pos != self.ws_to {
            // Not the same run continued after a read.
            self.ws_from = self.pos;
        }
        let mut i = self.rel(self.pos);
        while i < buf.len() && is_ws(buf[i]) {
            i += 1;
        }
        self.pos = self.base + i as u64;
        self.ws_to = self.pos;
        self.pos
    }

    fn begin(&mut self, buf: &[u8], p: u64, kind: CurKind) {
        let line = self.line_at(buf, p);
        self.sc.begin();
        self.cur = Some(Cur {
            start: p,
            line,
            col: p.saturating_sub(self.line_start),
            skipping: false,
            kind,
        });
        self.pos = p;
    }

    /// Continues scanning the current value; `None` when framing should go on.
    fn scan_cur(&mut self, buf: &[u8], eof: bool) -> Option<Step> {
        let result = match self.sc.feed(buf, self.rel(self.pos)) {
            Scan::More => {
                let end = self.base + buf.len() as u64;
                self.pos = end;
                let cur = self.cur.as_mut()?;
                if !cur.skipping && end - cur.start > self.max {
                    cur.skipping = true;
                }
                if !eof {
                    return Some(Step::NeedMore);
                }
                self.sc.finish(buf.len())
            }
            other => other,
        };
        match result {
            Scan::Done(e) => self.complete(buf, self.base + e as u64),
            Scan::Err(at, e) => Some(self.fail(buf, self.base + at as u64, e)),
            // `finish` never asks for more; should it, the value is still cut short.
            Scan::More => Some(self.fail(buf, self.base + buf.len() as u64, ScanError::Truncated)),
        }
    }

    fn complete(&mut self, buf: &[u8], end: u64) -> Option<Step> {
        let cur = self.cur.take()?;
        self.pos = end;
        if cur.kind == CurKind::Tail {
            return None;
        }
        let line = cur.line;
        let size = end - cur.start;
        if cur.skipping || size > self.max {
            return Some(self.too_large(line, size));
        }
        let bytes = &buf[self.rel(cur.start)..self.rel(end)];
        let shape = match bytes.first() {
            Some(b'{') => None,
            Some(b'[') => Some("an array"),
            Some(b'"') => Some("a string"),
            Some(b't' | b'f') => Some("a boolean"),
            Some(b'n') => Some("null"),
            _ => Some("a number"),
        };
        if let Some(shape) = shape {
            return Some(Step::Bad {
                line,
                reason: format!("not an object: {shape}"),
            });
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            return Some(Step::Bad {
                line,
                reason: format!("invalid UTF-8 at byte {} of the record", e.valid_up_to()),
            });
        }
        if cur.kind == CurKind::Top
            && self.records_key.find(bytes).is_some()
            && let Some(open) = envelope_records(bytes)
        {
            self.open_outer(OuterKind::Inline { end }, line, cur.start + open as u64 + 1);
            return None;
        }
        Some(Step::Record {
            start: cur.start,
            end,
            line,
        })
    }

    /// The current value is invalid at `at`.
    fn fail(&mut self, buf: &[u8], at: u64, e: ScanError) -> Step {
        let Some(cur) = self.cur.take() else {
            return self.syntax_error(buf, at, None, "unexpected state");
        };
        let reason = match e {
            ScanError::TooDeep => format!("nesting deeper than {MAX_DEPTH} levels"),
            ScanError::Truncated => format!(
                "truncated record: {} ends inside the value",
                self.end_name()
            ),
            ScanError::Syntax(msg) => {
                let (line, col) = self.locate(buf, at);
                if line == cur.line {
                    format!("invalid JSON: {msg} at column {col}")
                } else {
                    format!("invalid JSON: {msg} at line {line}, column {col}")
                }
            }
        };
        let line = if cur.kind == CurKind::Tail {
            self.line_at(buf, at)
        } else {
            cur.line
        };
        // The value is still buffered from its start, so its lines are too.
        self.line_at(buf, at);
        let ls = self.line_start;
        let here = ls >= self.base.max(cur.start)
            && ls <= at
            && at <= self.base + buf.len() as u64
            && buf[self.rel(ls)..self.rel(at)]
                .iter()
                .all(|&c| c == b' ' || c == b'\t');
        self.recover(buf, at, Some(cur.col), cur.start, here);
        Step::Bad { line, reason }
    }

    /// A syntax error between records (in a streamed array).
    fn syntax_error(&mut self, buf: &[u8], at: u64, col: Option<u64>, msg: &str) -> Step {
        let (line, column) = self.locate(buf, at);
        // Only whitespace since the last token: at a line start if that whitespace held a
        // newline. A record may start right there (a missing comma between lines).
        let here = self.line_start >= self.ws_from;
        self.recover(buf, at, col, at.saturating_sub(1), here);
        Step::Bad {
            line,
            reason: format!("invalid JSON: {msg} at column {column}"),
        }
    }

    fn locate(&mut self, buf: &[u8], at: u64) -> (u64, u64) {
        let line = self.line_at(buf, at);
        (line, at.saturating_sub(self.line_start) + 1)
    }

    /// Moves past an error. NDJSON: to the end of the line. Documents: to the next line that
    /// starts (after indentation) with `{` in the column where the failed record started, so a
    /// broken record in a pretty-printed array costs only that record.
    fn recover(&mut self, buf: &[u8], at: u64, col: Option<u64>, value_start: u64, here: bool) {
        let end = self.base + buf.len() as u64;
        if self.lines {
            self.pos = end;
            self.ctx = Ctx::Top;
            return;
        }
        let outer = match self.ctx {
            Ctx::Outer(o) => Some(Outer {
                expect: Expect::Elem,
                ..o
            }),
            Ctx::Resync { outer, .. } => outer,
            Ctx::Top => None,
        };
        self.pos = at.min(end);
        self.ctx = Ctx::Resync {
            col,
            outer,
            here,
            after: value_start,
        };
    }

    fn resync(&mut self, buf: &[u8], eof: bool) -> Option<Step> {
        let Ctx::Resync {
            col,
            outer,
            here,
            after,
        } = self.ctx
        else {
            return None;
        };
        let end = self.base + buf.len() as u64;
        let resume_ok = |this: &JsonFramer, p: u64, line_start: u64| {
            p > after
                && p < end
                && buf[this.rel(p)] == b'{'
                && col.is_none_or(|c| p - line_start == c)
        };
        let resume = |this: &mut JsonFramer, p: u64| {
            this.pos = p;
            this.ctx = outer.map_or(Ctx::Top, Ctx::Outer);
        };
        if here {
            self.ctx = Ctx::Resync {
                col,
                outer,
                here: false,
                after,
            };
            let p = self.pos;
            self.line_at(buf, p);
            if resume_ok(self, p, self.line_start) {
                resume(self, p);
                return None;
            }
        }
        loop {
            let Some(k) = memchr::memchr(b'\n', &buf[self.rel(self.pos)..]) else {
                self.pos = end;
                if eof {
                    self.ctx = Ctx::Top;
                    return None;
                }
                return Some(Step::NeedMore);
            };
            let nl = self.pos + k as u64;
            let q = nl + 1;
            let mut r = self.rel(q);
            while r < buf.len() && matches!(buf[r], b' ' | b'\t' | b'\r') {
                r += 1;
            }
            if r == buf.len() && !eof {
                // The next line's first byte is not here yet: look again after reading more.
                self.pos = nl;
                return Some(Step::NeedMore);
            }
            let p = self.base + r as u64;
            if resume_ok(self, p, q) {
                resume(self, p);
                return None;
            }
            self.pos = p;
            if p == end {
                self.ctx = Ctx::Top;
                return None;
            }
        }
    }

    /// The line of `p`; also moves `line_start`. Positions only move forward.
    fn line_at(&mut self, buf: &[u8], p: u64) -> u64 {
        if self.lines {
            return self.line;
        }
        if p <= self.line_pos {
            return self.line;
        }
        let from = self.line_pos.max(self.base);
        let seg = &buf[self.rel(from)..self.rel(p).min(buf.len())];
        let n = memchr::memchr_iter(b'\n', seg).count();
        if n > 0 {
            self.line += n as u64;
            if let Some(k) = memchr::memrchr(b'\n', seg) {
                self.line_start = from + k as u64 + 1;
            }
        }
        self.line_pos = p;
        self.line
    }
}

enum Prefix {
    /// `{"records": [` of this many bytes.
    Envelope(usize),
    No,
    NeedMore,
}

/// Does the object starting `b` open with a `records` array? Then it is streamed as an envelope,
/// element by element, however large it is.
fn envelope_prefix(b: &[u8], eof: bool) -> Prefix {
    const KEY: &[u8] = b"\"records\"";
    // Blank runs longer than this are not an envelope worth waiting for.
    const MAX_BLANK: usize = 4096;
    let more = if eof { Prefix::No } else { Prefix::NeedMore };
    let skip = |mut i: usize| {
        while i < b.len() && i < MAX_BLANK && is_ws(b[i]) {
            i += 1;
        }
        i
    };
    let i = skip(1);
    let Some(rest) = b.get(i..) else {
        return more;
    };
    let n = rest.len().min(KEY.len());
    if rest[..n] != KEY[..n] {
        return Prefix::No;
    }
    if n < KEY.len() {
        return more;
    }
    let i = skip(i + KEY.len());
    match b.get(i) {
        Some(b':') => {}
        Some(_) => return Prefix::No,
        None => return more,
    }
    let i = skip(i + 1);
    match b.get(i) {
        Some(b'[') => Prefix::Envelope(i + 1),
        Some(_) => Prefix::No,
        None => more,
    }
}

/// For a valid object holding a `records` array and no key that marks it as an event itself:
/// the index of the array's `[`.
fn envelope_records(obj: &[u8]) -> Option<usize> {
    let skip = |mut i: usize| {
        while i < obj.len() && is_ws(obj[i]) {
            i += 1;
        }
        i
    };
    let mut sc = Scanner::new();
    let mut found = None;
    let mut i = 1;
    loop {
        i = skip(i);
        match obj.get(i)? {
            b'}' => return found,
            b'"' => {}
            _ => return None,
        }
        let key_start = i + 1;
        let mut j = key_start;
        loop {
            match obj.get(j)? {
                b'"' => break,
                b'\\' => j += 2,
                _ => j += 1,
            }
        }
        let key = &obj[key_start..j];
        i = skip(j + 1);
        if obj.get(i) != Some(&b':') {
            return None;
        }
        let value = skip(i + 1);
        sc.begin();
        let Scan::Done(value_end) = sc.feed(obj, value) else {
            return None;
        };
        if key == b"records" {
            if obj.get(value) != Some(&b'[') {
                return None;
            }
            found = Some(value);
        } else if is_event_key(key) {
            return None;
        }
        i = skip(value_end);
        match obj.get(i)? {
            b',' => i += 1,
            b'}' => return found,
            _ => return None,
        }
    }
}

/// Keys that make an object an event (Azure resource logs, ECS documents, table rows) rather
/// than an envelope around events.
fn is_event_key(key: &[u8]) -> bool {
    const EVENT_KEYS: &[&[u8]] = &[
        b"@timestamp",
        b"time",
        b"timestamp",
        b"timegenerated",
        b"eventtimestamp",
        b"operationname",
        b"category",
        b"resourceid",
        b"correlationid",
        b"resulttype",
        b"level",
        b"properties",
        b"identity",
        b"caller",
        b"event",
        b"message",
        b"type",
    ];
    EVENT_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_prefix_detection() {
        assert!(matches!(
            envelope_prefix(b"{\"records\":[", true),
            Prefix::Envelope(12)
        ));
        assert!(matches!(
            envelope_prefix(b"{\n  \"records\" : \n [ {", true),
            Prefix::Envelope(19)
        ));
        assert!(matches!(
            envelope_prefix(b"{\"rec", false),
            Prefix::NeedMore
        ));
        assert!(matches!(envelope_prefix(b"{\"rec", true), Prefix::No));
        assert!(matches!(
            envelope_prefix(b"{\"records\":{", false),
            Prefix::No
        ));
        assert!(matches!(
            envelope_prefix(b"{\"time\":1}", false),
            Prefix::No
        ));
    }

    #[test]
    fn envelope_keys() {
        assert_eq!(envelope_records(br#"{"x":1, "records" : [1]}"#), Some(20));
        assert_eq!(envelope_records(br#"{"time":1,"records":[]}"#), None);
        assert_eq!(envelope_records(br#"{"records":{}}"#), None);
        assert_eq!(envelope_records(br#"{"a\"b":"records"}"#), None);
    }
}
