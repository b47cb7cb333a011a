//! Format detection from the first bytes of an input.

use crate::Format;
use crate::csv_framer;
use crate::evtx_framer::FILE_MAGIC as EVTX_MAGIC;
use crate::scan::{Scan, Scanner, is_ws};

/// How much of an input detection looks at.
pub(crate) const SNIFF_BYTES: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Inputs that are not UTF-8 text, recognised by their first bytes so that one bad record says
/// what they are, instead of one per garbage line.
const UNSUPPORTED: &[(&[u8], &str)] = &[
    (b"\xFF\xFE", "UTF-16 text (convert it to UTF-8)"),
    (b"\xFE\xFF", "UTF-16 text (convert it to UTF-8)"),
    (b"\x28\xB5\x2F\xFD", "zstd-compressed data"),
    (b"\xFD7zXZ\x00", "xz-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"PK\x03\x04", "a zip archive"),
];

/// A tar archive (`.tar.gz` of a log folder) says `ustar` here.
const TAR_MAGIC_AT: usize = 257;

/// Bytes needed to recognise everything above.
const MAGIC_BYTES: usize = TAR_MAGIC_AT + 5;

/// What an input's first bytes say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    /// Frame it in this format, from this offset (after a byte-order mark).
    Format(Format, usize),
    Unsupported(&'static str),
    /// More bytes are needed to tell.
    NeedMore,
}

/// The format of an input and the offset where its content starts (after a byte-order mark).
///
/// An EVTX file is known by its signature, whatever format was forced: it is not text.
///
/// JSON text is framed as a document (values may span lines) when it starts with `[` or when a
/// value in the first [`SNIFF_BYTES`] spans lines (pretty-printed); otherwise as NDJSON, where
/// every line stands alone. A broken NDJSON line fails as soon as the next line starts, so it
/// cannot pass for a multi-line value.
///
/// Text that starts with neither `{` nor `[` is CSV when its first line is a header row of
/// column names and either the input is named `*.csv` (`csv_name`) or the next row has as many
/// cells (see [`csv_framer::sniff`]); otherwise NDJSON, whose bad lines are reported one by one.
///
/// `paused`: the source returned less than was asked for (a live stream between writes); then
/// whole single-line values are enough to decide, rather than waiting for more.
pub(crate) fn detect(
    buf: &[u8],
    eof: bool,
    paused: bool,
    forced: Option<Format>,
    csv_name: bool,
) -> Detected {
    if buf.len() < MAGIC_BYTES && !eof && !paused {
        return Detected::NeedMore;
    }
    if buf.starts_with(EVTX_MAGIC) {
        return Detected::Format(Format::Evtx, 0);
    }
    if let Some((_, what)) = UNSUPPORTED.iter().find(|(magic, _)| buf.starts_with(magic)) {
        return Detected::Unsupported(what);
    }
    if buf.get(TAR_MAGIC_AT..MAGIC_BYTES) == Some(b"ustar") {
        return Detected::Unsupported("a tar archive (extract it first)");
    }
    match detect_text(buf, eof, paused, forced, csv_name) {
        Some((format, start)) => Detected::Format(format, start),
        None => Detected::NeedMore,
    }
}

fn detect_text(
    buf: &[u8],
    eof: bool,
    paused: bool,
    forced: Option<Format>,
    csv_name: bool,
) -> Option<(Format, usize)> {
    let start = if buf.starts_with(BOM) {
        BOM.len()
    } else if !eof && buf.len() < BOM.len() && BOM.starts_with(buf) {
        return None;
    } else {
        0
    };
    if let Some(format) = forced {
        return Some((format, start));
    }
    let window = &buf[..buf.len().min(start + SNIFF_BYTES)];
    // The window is all there is to look at: the input ended, or enough was read.
    let complete = eof && window.len() == buf.len() || window.len() == start + SNIFF_BYTES;
    let mut i = skip_ws(window, start);
    match window.get(i) {
        None if complete => return Some((Format::JsonLines, start)),
        None => return None,
        Some(b'[') => return Some((Format::Json, start)),
        Some(b'{') => {}
        Some(_) if i == start => {
            let ends = eof && window.len() == buf.len();
            return match csv_framer::sniff(&window[start..], !complete, ends, csv_name)? {
                true => Some((Format::Csv, start)),
                false => Some((Format::JsonLines, start)),
            };
        }
        Some(_) => return Some((Format::JsonLines, start)),
    }
    let mut sc = Scanner::new();
    loop {
        i = skip_ws(window, i);
        if i == window.len() {
            // Only single-line values so far. A live stream (a pipe fed line by line) may not
            // send more for a while: whole lines are enough to decide.
            let whole_lines = paused && window.ends_with(b"\n");
            return (complete || whole_lines).then_some((Format::JsonLines, start));
        }
        sc.begin();
        match sc.feed(window, i) {
            Scan::Done(end) => {
                if memchr::memchr(b'\n', &window[i..end]).is_some() {
                    return Some((Format::Json, start));
                }
                i = end;
            }
            // A broken value says nothing about the format (a bad NDJSON line, or a broken
            // pretty-printed record): look on from the next line.
            Scan::Err(at, _) => match memchr::memchr(b'\n', &window[at.min(window.len())..]) {
                Some(k) => i = at + k + 1,
                None if complete => return Some((Format::JsonLines, start)),
                None => return None,
            },
            Scan::More => {
                if !complete {
                    return None;
                }
                // Open at the end of what we look at: pretty-printed if it spans lines.
                let mut tail = &window[i..];
                while let [rest @ .., last] = tail
                    && is_ws(*last)
                {
                    tail = rest;
                }
                let multi = memchr::memchr(b'\n', tail).is_some();
                let format = if multi {
                    Format::Json
                } else {
                    Format::JsonLines
                };
                return Some((format, start));
            }
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> Option<Format> {
        match detect(text.as_bytes(), true, false, None, false) {
            Detected::Format(f, _) => Some(f),
            _ => None,
        }
    }

    #[test]
    fn formats() {
        assert_eq!(fmt("{\"a\":1}\n{\"a\":2}\n"), Some(Format::JsonLines));
        assert_eq!(fmt("{\n  \"a\": 1\n}\n"), Some(Format::Json));
        assert_eq!(fmt("  [\n{\"a\":1}]"), Some(Format::Json));
        assert_eq!(
            fmt("{\"a\":\n{\"b\":1}\n{\"c\":1}\n"),
            Some(Format::JsonLines)
        );
        assert_eq!(fmt("{}\n{\n\"a\":1}"), Some(Format::Json));
        assert_eq!(fmt("{\"a\":1,"), Some(Format::JsonLines));
        assert_eq!(fmt("{\"a\":1}\n{\"a\":2,\n"), Some(Format::JsonLines));
        assert_eq!(fmt("{\"a\":}\n{\n\"a\":1}"), Some(Format::Json));
        assert_eq!(fmt("{\"a\":}\n{\"a\":1}"), Some(Format::JsonLines));
        assert_eq!(fmt("{\n\"a\":1,"), Some(Format::Json));
        assert_eq!(fmt(""), Some(Format::JsonLines));
        assert_eq!(fmt("42\n"), Some(Format::JsonLines));
        assert_eq!(
            detect(b"\xEF\xBB\xBF[]", true, false, None, false),
            Detected::Format(Format::Json, 3)
        );
        assert_eq!(
            detect(b"{\"a\":1}", false, true, None, false),
            Detected::NeedMore
        );
        assert_eq!(
            detect(b"{\"a\":1}\n", false, false, None, false),
            Detected::NeedMore
        );
        assert_eq!(
            detect(b"{\"a\":1}\n", false, true, None, false),
            Detected::Format(Format::JsonLines, 0)
        );
        assert_eq!(
            detect(b"\xEF\xBB", false, false, None, false),
            Detected::NeedMore
        );
        assert_eq!(
            detect(b"\xFF\xFE{\x00}\x00", true, false, None, false),
            Detected::Unsupported("UTF-16 text (convert it to UTF-8)")
        );
        // EVTX by its signature, even against a forced text format.
        assert_eq!(
            detect(b"ElfFile\x00\x01", true, false, None, false),
            Detected::Format(Format::Evtx, 0)
        );
        assert_eq!(
            detect(b"ElfFile\x00", true, false, Some(Format::Json), false),
            Detected::Format(Format::Evtx, 0)
        );
        // CSV: by its rows, or by its name when only the header is there.
        assert_eq!(fmt("A,B\n1,2\n"), Some(Format::Csv));
        assert_eq!(fmt("A,B\n"), Some(Format::JsonLines));
        assert_eq!(
            detect(b"\xEF\xBB\xBFA,B\n", true, false, None, true),
            Detected::Format(Format::Csv, 3)
        );
        assert_eq!(
            detect(b"A,B\n1,", false, true, None, false),
            Detected::NeedMore
        );
        assert_eq!(fmt(" A,B\n1,2\n"), Some(Format::JsonLines));
        let mut tar = b"logs/a.json".to_vec();
        tar.resize(TAR_MAGIC_AT, 0);
        tar.extend_from_slice(b"ustar\x0000");
        assert_eq!(
            detect(&tar, false, false, None, false),
            Detected::Unsupported("a tar archive (extract it first)")
        );
    }
}
