//! CSV: Microsoft Defender advanced-hunting and Log Analytics exports, one JSON object a row.
//!
//! The dialect is RFC 4180 as Kusto writes it: a header row of column names, then rows; a cell
//! that starts with `"` is quoted, `""` in it is a quote, and it may hold delimiters and line
//! breaks; rows end with `\n` or `\r\n`. The delimiter is `,`, or `;` or tab when the header
//! row splits into names only that way. A quote inside an unquoted cell is literal text, and
//! text after a quoted cell's closing quote is kept (as the `csv` crate reads them): an export
//! never writes either, and losing the row would be worse than reading it as written.
//!
//! A row becomes `{"<column>":"<cell>",…}` in header order, every cell a JSON string (an empty
//! cell is `""`): typing is the table normalizers' job. Empty lines are skipped. A row whose
//! cell count differs from the header's is a bad record.
//!
//! The header row is the first line that is not empty: column names hold no line breaks.
//!
//! The framer is resumable like the JSON one: positions are absolute offsets, a row's cells are
//! spans of the buffer kept from the row's start ([`CsvFramer::keep_from`]), and a row larger
//! than the record limit is read past without being kept.

use crate::frame::Step;

/// Delimiters tried on the header row, the most usual first (it wins ties).
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Longest column name the header may hold (Kusto's own limit is about this).
const MAX_NAME: usize = 1024;

/// Where a row's scan is: the current cell and its quoting.
#[derive(Debug, Clone, Copy)]
struct RowScan {
    delim: u8,
    cell_start: u64,
    /// The cell began with `"`: quotes in it toggle quoting.
    field_quoted: bool,
    in_quotes: bool,
}

/// How a [`RowScan::run`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowEnd {
    /// The buffer is used up inside the row.
    More,
    /// The row ended; the next one starts at `next`.
    End { next: u64 },
    /// The input ended inside a quoted cell.
    Truncated,
}

impl RowScan {
    fn new(at: u64, delim: u8) -> RowScan {
        RowScan {
            delim,
            cell_start: at,
            field_quoted: false,
            in_quotes: false,
        }
    }

    /// Scans `buf` (the input from offset `base` on) from `*pos` to the end of the row, calling
    /// `cell` with each cell's raw span (quotes included; a final `\r` excluded) and counting
    /// the line breaks it passes into `lines`.
    fn run(
        &mut self,
        buf: &[u8],
        base: u64,
        pos: &mut u64,
        eof: bool,
        lines: &mut u64,
        mut cell: impl FnMut(u64, u64),
    ) -> RowEnd {
        let end = base + buf.len() as u64;
        let rel = |abs: u64| (abs - base) as usize;
        // A final `\r` belongs to the line break, not to the cell.
        let trim_cr = |from: u64, to: u64| {
            if to > from && to > base && buf[rel(to) - 1] == b'\r' {
                to - 1
            } else {
                to
            }
        };
        let mut p = *pos;
        loop {
            if p == end {
                *pos = p;
                if !eof {
                    return RowEnd::More;
                }
                if self.in_quotes {
                    return RowEnd::Truncated;
                }
                cell(self.cell_start, trim_cr(self.cell_start, end));
                return RowEnd::End { next: end };
            }
            if self.in_quotes {
                let rest = &buf[rel(p)..];
                let k = memchr::memchr(b'"', rest).unwrap_or(rest.len());
                *lines += memchr::memchr_iter(b'\n', &rest[..k]).count() as u64;
                p += k as u64;
                if k < rest.len() {
                    self.in_quotes = false;
                    p += 1;
                }
                continue;
            }
            if p == self.cell_start && !self.field_quoted && buf[rel(p)] == b'"' {
                self.field_quoted = true;
                self.in_quotes = true;
                p += 1;
                continue;
            }
            let Some(k) = memchr::memchr3(self.delim, b'\n', b'"', &buf[rel(p)..]) else {
                p = end;
                continue;
            };
            let q = p + k as u64;
            match buf[rel(q)] {
                b'"' => {
                    self.in_quotes = self.field_quoted;
                    p = q + 1;
                }
                b'\n' => {
                    *lines += 1;
                    cell(self.cell_start, trim_cr(self.cell_start, q));
                    *pos = q + 1;
                    return RowEnd::End { next: q + 1 };
                }
                _ => {
                    cell(self.cell_start, q);
                    *self = RowScan::new(q + 1, self.delim);
                    p = q + 1;
                }
            }
        }
    }
}

/// The cells of one complete record at the start of `b` (the input's end is `b`'s end), and
/// where the next record starts; `None` when the input ends inside a quoted cell.
fn split_record(b: &[u8], delim: u8) -> Option<(Vec<(usize, usize)>, usize)> {
    let mut cells = Vec::new();
    let mut pos = 0;
    let mut lines = 0;
    let mut scan = RowScan::new(0, delim);
    match scan.run(b, 0, &mut pos, true, &mut lines, |s, e| {
        cells.push((s as usize, e as usize))
    }) {
        RowEnd::End { next } => Some((cells, next as usize)),
        RowEnd::More | RowEnd::Truncated => None,
    }
}

/// Calls `f` with the pieces of a cell's text, unquoted: quotes toggle quoting; `""` while
/// quoted is one quote.
fn unquoted(raw: &[u8], mut f: impl FnMut(&[u8])) {
    let Some(inner) = raw.strip_prefix(b"\"") else {
        f(raw);
        return;
    };
    let mut in_quotes = true;
    let mut i = 0;
    while i < inner.len() {
        let rest = &inner[i..];
        let k = memchr::memchr(b'"', rest).unwrap_or(rest.len());
        f(&rest[..k]);
        i += k;
        if i == inner.len() {
            break;
        }
        if in_quotes && inner.get(i + 1) == Some(&b'"') {
            f(b"\"");
            i += 2;
        } else {
            in_quotes = !in_quotes;
            i += 1;
        }
    }
}

/// Appends a cell's text, unquoted, as the inside of a JSON string.
fn push_cell(out: &mut Vec<u8>, raw: &[u8]) {
    unquoted(raw, |piece| push_escaped(out, piece));
}

/// Appends `s` (valid UTF-8) escaped for a JSON string.
fn push_escaped(out: &mut Vec<u8>, s: &[u8]) {
    let mut run = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[run..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        run = i + 1;
    }
    out.extend_from_slice(&s[run..]);
}

/// A cell's text, unquoted.
fn cell_text(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    unquoted(raw, |piece| out.extend_from_slice(piece));
    out
}

/// Whether `name` looks like a column name in a Kusto or Defender export: `Timestamp`,
/// `TimeGenerated [UTC]`, `$table`, `_ResourceId`, `Properties_d`.
fn is_column_name(name: &[u8]) -> bool {
    let Ok(name) = std::str::from_utf8(name) else {
        return false;
    };
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= MAX_NAME
        && (first.is_alphabetic() || "_$@#[".contains(first))
        && !name.ends_with(' ')
        && chars.all(|c| c.is_alphanumeric() || " _-.$@#[]()/:%".contains(c))
}

/// The delimiter that splits the header row `line` (without its line break) into at least
/// `min_cells` column names, and the most of them.
pub(crate) fn header_delimiter(line: &[u8], min_cells: usize) -> Option<u8> {
    let mut best: Option<(u8, usize)> = None;
    for delim in DELIMITERS {
        let Some((cells, _)) = split_record(line, delim) else {
            continue;
        };
        let names = cells.len();
        let valid = cells
            .iter()
            .all(|&(s, e)| is_column_name(&cell_text(&line[s..e])));
        if valid && names >= min_cells && best.is_none_or(|(_, n)| names > n) {
            best = Some((delim, names));
        }
    }
    best.map(|(d, _)| d)
}

/// Whether an input whose first bytes are `w` (after a byte-order mark; not JSON) is CSV:
/// `Some(true)` or `Some(false)`, `None` to decide once more bytes are in.
///
/// `more`: bytes may still come into `w`. `ends`: `w` ends where the input ends. `csv_name`:
/// the input is named `*.csv` (or `.tsv`), so a header row is enough; otherwise the header must
/// name at least two columns and the next row must have as many cells (a garbage first line
/// of NDJSON is not a header).
pub(crate) fn sniff(w: &[u8], more: bool, ends: bool, csv_name: bool) -> Option<bool> {
    let (line, rest) = match memchr::memchr(b'\n', w) {
        Some(nl) => (&w[..nl], Some(&w[nl + 1..])),
        None if more => return None,
        None if ends => (w, None),
        // A first line longer than detection looks at is no header.
        None => return Some(false),
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(delim) = header_delimiter(line, if csv_name { 1 } else { 2 }) else {
        return Some(false);
    };
    if csv_name {
        return Some(true);
    }
    // Empty lines between rows are skipped, as the framer skips them.
    let rest = rest.map(|mut r| {
        while let Some(tail) = r.strip_prefix(b"\n").or_else(|| r.strip_prefix(b"\r\n")) {
            r = tail;
        }
        r
    });
    let rest = match rest {
        Some(rest) if !rest.is_empty() => rest,
        // The header row alone: nothing says it is not a line of text.
        _ if more => return None,
        _ => return Some(false),
    };
    if rest.starts_with(b"{") || rest.starts_with(b"[") {
        return Some(false);
    }
    let header_cells = split_record(line, delim).map_or(0, |(cells, _)| cells.len());
    match split_record(rest, delim) {
        Some((cells, next)) if rest[..next].ends_with(b"\n") || ends => {
            Some(cells.len() == header_cells)
        }
        _ if more => None,
        // A second row longer than detection looks at, under a header of names.
        _ => Some(!ends),
    }
}

/// The header: the delimiter and each column's JSON key, `"name":`.
#[derive(Debug)]
struct Header {
    delim: u8,
    keys: Vec<Vec<u8>>,
}

/// The row being read.
#[derive(Debug)]
struct Row {
    start: u64,
    line: u64,
    scan: RowScan,
    /// Raw cell spans, while the row is kept.
    cells: Vec<(u64, u64)>,
    count: usize,
    /// End of the last cell so far: the row's text ends there.
    end: u64,
    /// Larger than the limit: scanned to its end, not kept.
    skipping: bool,
}

/// Frames CSV rows into JSON objects.
#[derive(Debug)]
pub(crate) struct CsvFramer {
    max: u64,
    base: u64,
    /// Next byte to scan.
    pos: u64,
    /// Line number at `pos`.
    line: u64,
    header: Option<Header>,
    row: Option<Row>,
    /// The last row's cell list, kept for the next row's.
    spare: Vec<(u64, u64)>,
    out: Vec<u8>,
    /// The header was unusable: the rest of the input is not read.
    done: bool,
}

impl CsvFramer {
    pub(crate) fn new(max_record: usize, start: u64) -> CsvFramer {
        CsvFramer {
            max: max_record as u64,
            base: 0,
            pos: start,
            line: 1,
            header: None,
            row: None,
            spare: Vec::new(),
            out: Vec::new(),
            done: false,
        }
    }

    fn rel(&self, abs: u64) -> usize {
        (abs - self.base) as usize
    }

    pub(crate) fn owned(&self) -> &[u8] {
        &self.out
    }

    pub(crate) fn keep_from(&self) -> u64 {
        match &self.row {
            Some(row) if !row.skipping => row.start,
            // The byte before: a `\r` there may end the row's text.
            Some(_) => self.pos.saturating_sub(1),
            None => self.pos,
        }
    }

    pub(crate) fn discard(&mut self, new_base: u64) {
        self.base = new_base;
    }

    pub(crate) fn current_line(&self) -> u64 {
        self.row.as_ref().map_or(self.line, |r| r.line)
    }

    pub(crate) fn step(&mut self, buf: &[u8], eof: bool) -> Step {
        loop {
            if self.done {
                return Step::Done;
            }
            let end = self.base + buf.len() as u64;
            if self.header.is_none() {
                if let Some(step) = self.read_header(buf, eof) {
                    return step;
                }
                continue;
            }
            let Some(delim) = self.header.as_ref().map(|h| h.delim) else {
                return Step::Done;
            };
            if self.row.is_none() {
                if self.pos == end {
                    return if eof { Step::Done } else { Step::NeedMore };
                }
                self.row = Some(Row {
                    start: self.pos,
                    line: self.line,
                    scan: RowScan::new(self.pos, delim),
                    cells: std::mem::take(&mut self.spare),
                    count: 0,
                    end: self.pos,
                    skipping: false,
                });
            }
            let Some(row) = self.row.as_mut() else {
                continue;
            };
            let (base, max) = (self.base, self.max);
            let (cells, count, row_end) = (&mut row.cells, &mut row.count, &mut row.end);
            let skipping = row.skipping;
            let ended = row
                .scan
                .run(buf, base, &mut self.pos, eof, &mut self.line, |s, e| {
                    *count += 1;
                    *row_end = e;
                    if !skipping {
                        cells.push((s, e));
                    }
                });
            match ended {
                RowEnd::More => {
                    // Past the limit even if the last byte is the `\r` of a line break.
                    if !row.skipping && self.pos - row.start > max + 1 {
                        // Read past the rest of the row without keeping it.
                        row.skipping = true;
                        row.cells = Vec::new();
                    }
                    return Step::NeedMore;
                }
                RowEnd::Truncated => {
                    let line = row.line;
                    self.row = None;
                    return Step::Bad {
                        line,
                        reason: "truncated row: the input ends inside a quoted cell".into(),
                    };
                }
                RowEnd::End { next } => {
                    self.pos = next;
                    if let Some(row) = self.row.take() {
                        let (step, mut cells) = self.finish_row(buf, row);
                        cells.clear();
                        self.spare = cells;
                        if let Some(step) = step {
                            return step;
                        }
                    }
                }
            }
        }
    }

    /// Reads the header row (the first line that is not empty).
    fn read_header(&mut self, buf: &[u8], eof: bool) -> Option<Step> {
        let end = self.base + buf.len() as u64;
        let rest = &buf[self.rel(self.pos)..];
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(k) => (&rest[..k], self.pos + k as u64 + 1),
            None if !eof => {
                if end - self.pos > self.max + 1 {
                    self.done = true;
                    return Some(self.header_too_large(self.line));
                }
                return Some(Step::NeedMore);
            }
            None if rest.is_empty() => return Some(Step::Done),
            None => (rest, end),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line_no = self.line;
        self.pos = next;
        self.line += 1;
        if line.is_empty() {
            return None;
        }
        if line.len() as u64 > self.max {
            self.done = true;
            return Some(self.header_too_large(line_no));
        }
        // Forced CSV whose first line names no columns: split it on commas anyway.
        let delim = header_delimiter(line, 1).unwrap_or(b',');
        let cells = match split_record(line, delim) {
            Some((cells, _)) => cells,
            None => vec![(0, line.len())],
        };
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(cells.len());
        let mut names: Vec<Vec<u8>> = Vec::with_capacity(cells.len());
        for (s, e) in cells {
            let name = cell_text(&line[s..e]);
            if std::str::from_utf8(&name).is_err() {
                self.done = true;
                return Some(Step::Bad {
                    line: line_no,
                    reason: format!("CSV header: invalid UTF-8 in column {}", names.len() + 1),
                });
            }
            if names.contains(&name) {
                self.done = true;
                return Some(Step::Bad {
                    line: line_no,
                    reason: format!(
                        "CSV header: column name \"{}\" appears twice",
                        String::from_utf8_lossy(&name)
                    ),
                });
            }
            let mut key = Vec::with_capacity(name.len() + 3);
            key.push(b'"');
            push_escaped(&mut key, &name);
            key.extend_from_slice(b"\":");
            keys.push(key);
            names.push(name);
        }
        self.header = Some(Header { delim, keys });
        None
    }

    fn header_too_large(&self, line: u64) -> Step {
        Step::Bad {
            line,
            reason: format!(
                "CSV header row longer than the record limit ({} bytes)",
                self.max
            ),
        }
    }

    fn too_large(&self, line: u64, size: u64) -> Step {
        Step::Bad {
            line,
            reason: format!("record too large: {size} bytes (limit {})", self.max),
        }
    }

    /// The record (or bad record) for a finished row (`None` for an empty line), and its cell
    /// list to reuse.
    fn finish_row(&mut self, buf: &[u8], row: Row) -> (Option<Step>, Vec<(u64, u64)>) {
        let step = self.row_step(buf, &row);
        (step, row.cells)
    }

    fn row_step(&mut self, buf: &[u8], row: &Row) -> Option<Step> {
        let header = self.header.as_ref()?;
        if row.skipping || row.end - row.start > self.max {
            return Some(self.too_large(row.line, row.end - row.start));
        }
        if let [(s, e)] = row.cells[..]
            && s == e
        {
            return None;
        }
        if row.count != header.keys.len() {
            return Some(Step::Bad {
                line: row.line,
                reason: format!(
                    "ragged row: {} cells, the header has {} columns",
                    row.count,
                    header.keys.len()
                ),
            });
        }
        self.out.clear();
        self.out.push(b'{');
        for (i, (key, &(s, e))) in header.keys.iter().zip(&row.cells).enumerate() {
            let raw = &buf[self.rel(s)..self.rel(e)];
            if let Err(err) = std::str::from_utf8(raw) {
                return Some(Step::Bad {
                    line: row.line,
                    reason: format!(
                        "invalid UTF-8 at byte {} of column {}",
                        err.valid_up_to(),
                        i + 1
                    ),
                });
            }
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(key);
            self.out.push(b'"');
            push_cell(&mut self.out, raw);
            self.out.push(b'"');
        }
        self.out.push(b'}');
        if self.out.len() as u64 > self.max {
            return Some(self.too_large(row.line, self.out.len() as u64));
        }
        Some(Step::Owned { line: row.line })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_unquote() {
        let text = |raw: &str| String::from_utf8(cell_text(raw.as_bytes())).unwrap_or_default();
        assert_eq!(text("abc"), "abc");
        assert_eq!(text("\"a,b\""), "a,b");
        assert_eq!(text("\"say \"\"hi\"\"\""), "say \"hi\"");
        assert_eq!(text("\"a\"b"), "ab");
        assert_eq!(text("\"\""), "");
        assert_eq!(text("a\"b"), "a\"b");
        let mut out = Vec::new();
        push_cell(&mut out, "\"l1\nl2\t\u{1}\\\"".as_bytes());
        assert_eq!(out, b"l1\\nl2\\t\\u0001\\\\");
    }

    #[test]
    fn header_delimiters() {
        assert_eq!(header_delimiter(b"Timestamp,DeviceName", 2), Some(b','));
        assert_eq!(header_delimiter(b"Timestamp;DeviceName;X", 2), Some(b';'));
        assert_eq!(header_delimiter(b"Timestamp\tDeviceName", 2), Some(b'\t'));
        assert_eq!(
            header_delimiter(b"$table,TimeGenerated [UTC],_ResourceId", 2),
            Some(b',')
        );
        assert_eq!(header_delimiter(b"\"A\",\"B\"", 2), Some(b','));
        assert_eq!(header_delimiter(b"Timestamp", 2), None);
        assert_eq!(header_delimiter(b"Timestamp", 1), Some(b','));
        assert_eq!(header_delimiter(b"hello, world", 2), None);
        assert_eq!(header_delimiter(b"1,2,3", 2), None);
        assert_eq!(header_delimiter(b"a,,b", 2), None);
        assert_eq!(header_delimiter(b"{\"a\":1,\"b\":2}", 1), None);
    }

    #[test]
    fn sniffing() {
        let s = |w: &str, csv_name| sniff(w.as_bytes(), false, true, csv_name);
        assert_eq!(s("A,B\n1,2\n", false), Some(true));
        assert_eq!(s("A,B\n\r\n\n1,2\n", false), Some(true));
        assert_eq!(s("A,B\n1,2", false), Some(true));
        assert_eq!(s("A,B\n\"x\ny\",2\n", false), Some(true));
        assert_eq!(s("A,B\n1,2,3\n", false), Some(false));
        assert_eq!(s("A,B\n", false), Some(false));
        assert_eq!(s("A,B\n", true), Some(true));
        assert_eq!(s("A\n1\n", true), Some(true));
        assert_eq!(s("A\n1\n", false), Some(false));
        assert_eq!(s("oops,x\n{\"a\":1,\"b\":2}\n", false), Some(false));
        assert_eq!(sniff(b"A,B\n1,", true, false, false), None);
        assert_eq!(sniff(b"A,B", true, false, false), None);
        assert_eq!(sniff(b"A,B\n", true, false, false), None);
        // A second row longer than the window.
        assert_eq!(sniff(b"A,B\n\"1", false, false, false), Some(true));
    }
}
