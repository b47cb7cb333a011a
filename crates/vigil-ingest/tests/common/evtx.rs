//! A minimal EVTX writer, so that the tests need no third-party log files.
//!
//! It writes what the format documentation (Microsoft's MS-EVEN6 for binary XML, the libyal
//! "Windows XML Event Log (EVTX)" notes for the file layout) describes, the way Windows lays out
//! a Sysmon event:
//!
//! - a 4096-byte file header: `ElfFile\0`, oldest and current chunk numbers, next record id,
//!   header size 128, version 3.1, header block size 4096, chunk count, CRC32 of bytes 0..120
//!   at 124;
//! - 64 KiB chunks: `ElfChnk\0`, first and last record numbers and ids, header size 128, offsets
//!   of the last record and of the free space, CRC32 of the records (512..free space) at 52,
//!   CRC32 of bytes 0..120 and 128..512 at 124, then the 64-bucket string table (each name
//!   written inline is linked into bucket `hash % 64`) and the 32-entry template table (left
//!   empty: readers find definitions by offset);
//! - records: `**\0\0`, size, record id, FILETIME, binary XML, size again;
//! - binary XML: a fragment header, then a template instance. The first record of a chunk with
//!   a given shape defines its template inline (an `<Event>` whose System fields and
//!   `<Data Name=…>` values are substitutions); later records of that shape refer to it by
//!   offset and carry only their values. Element names are written inline once per chunk and
//!   referred to by offset after that.

use std::collections::HashMap;

pub const FILE_HEADER: usize = 4096;
pub const CHUNK: usize = 65536;
const CHUNK_HEADER: usize = 512;

/// 2026-06-17T10:00:20Z as a FILETIME (100 ns ticks since 1601).
pub const FILETIME_2026_06_17: u64 = 134_261_640_200_000_000;

/// A substitution value.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    HexU64(u64),
    Guid([u8; 16]),
    FileTime(u64),
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(s.to_string())
    }

    fn type_code(&self) -> u8 {
        match self {
            Val::Str(_) => 0x01,
            Val::U8(_) => 0x04,
            Val::U16(_) => 0x06,
            Val::U32(_) => 0x08,
            Val::U64(_) => 0x0a,
            Val::Guid(_) => 0x0f,
            Val::FileTime(_) => 0x11,
            Val::HexU64(_) => 0x15,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        match self {
            // Windows writes string values with their terminating NUL.
            Val::Str(s) => s
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect(),
            Val::U8(v) => vec![*v],
            Val::U16(v) => v.to_le_bytes().to_vec(),
            Val::U32(v) => v.to_le_bytes().to_vec(),
            Val::U64(v) | Val::HexU64(v) | Val::FileTime(v) => v.to_le_bytes().to_vec(),
            Val::Guid(g) => g.to_vec(),
        }
    }
}

/// One Sysmon event.
#[derive(Debug, Clone)]
pub struct Event {
    pub record_id: u64,
    pub event_id: u16,
    pub time: u64,
    pub computer: String,
    /// `<Data Name=…>` values of `<EventData>`, in order.
    pub data: Vec<(String, Val)>,
}

/// Sysmon Event ID 1 (process creation), as the Sysmon 15 manifest lays it out.
pub fn process_create(record_id: u64, image: &str, command_line: &str, parent: &str) -> Event {
    let guid = |n: u8| {
        let mut g = [0x11u8; 16];
        g[15] = n;
        Val::Guid(g)
    };
    let s = Val::str;
    Event {
        record_id,
        event_id: 1,
        time: FILETIME_2026_06_17 + record_id * 10_000_000,
        computer: "vm-web-01".into(),
        data: vec![
            ("RuleName".into(), s("-")),
            ("UtcTime".into(), s("2026-06-17 10:00:20.123")),
            ("ProcessGuid".into(), guid(0xaa)),
            ("ProcessId".into(), Val::U32(4321)),
            ("Image".into(), s(image)),
            (
                "FileVersion".into(),
                s("10.0.17763.1 (WinBuild.160101.0800)"),
            ),
            (
                "Description".into(),
                s("whoami - displays logged on user information"),
            ),
            (
                "Product".into(),
                s("Microsoft\u{ae} Windows\u{ae} Operating System"),
            ),
            ("Company".into(), s("Microsoft Corporation")),
            ("OriginalFileName".into(), s("whoami.exe")),
            ("CommandLine".into(), s(command_line)),
            ("CurrentDirectory".into(), s("C:\\Windows\\system32\\")),
            ("User".into(), s("NT AUTHORITY\\SYSTEM")),
            ("LogonGuid".into(), guid(0xe7)),
            ("LogonId".into(), Val::HexU64(0x3e7)),
            ("TerminalSessionId".into(), Val::U32(0)),
            ("IntegrityLevel".into(), s("System")),
            ("Hashes".into(), s("SHA256=ABCDEF0123,IMPHASH=1234")),
            ("ParentProcessGuid".into(), guid(0xbb)),
            ("ParentProcessId".into(), Val::U32(1234)),
            ("ParentImage".into(), s(parent)),
            ("ParentCommandLine".into(), s("cmd.exe /c \"whoami /all\"")),
            ("ParentUser".into(), s("NT AUTHORITY\\SYSTEM")),
        ],
    }
}

/// Sysmon Event ID 11 (file created).
pub fn file_create(record_id: u64, image: &str, target: &str) -> Event {
    let s = Val::str;
    Event {
        record_id,
        event_id: 11,
        time: FILETIME_2026_06_17 + record_id * 10_000_000,
        computer: "vm-web-01".into(),
        data: vec![
            ("RuleName".into(), s("-")),
            ("UtcTime".into(), s("2026-06-17 10:00:21.456")),
            ("ProcessGuid".into(), Val::Guid([0x22; 16])),
            ("ProcessId".into(), Val::U32(4321)),
            ("Image".into(), s(image)),
            ("TargetFilename".into(), s(target)),
            ("CreationUtcTime".into(), s("2026-06-17 10:00:21.456")),
            ("User".into(), s("NT AUTHORITY\\SYSTEM")),
        ],
    }
}

/// The hash Windows keeps with a name: `h = h * 65599 + unit` over its UTF-16 units, low 16 bits.
fn name_hash(name: &str) -> u16 {
    let h = name.encode_utf16().fold(0u32, |h, u| {
        h.wrapping_mul(65599).wrapping_add(u32::from(u))
    });
    h as u16
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = flate2::Crc::new();
    for p in parts {
        crc.update(p);
    }
    crc.sum()
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Binary XML being written at a known chunk offset, with the chunk's name and template tables.
struct Chunk {
    data: Vec<u8>,
    names: HashMap<String, u32>,
    /// Template definition offset per event shape.
    templates: HashMap<Vec<String>, u32>,
    buckets: [u32; 64],
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            data: vec![0; CHUNK_HEADER],
            names: HashMap::new(),
            templates: HashMap::new(),
            buckets: [0; 64],
        }
    }

    fn pos(&self) -> u32 {
        self.data.len() as u32
    }

    fn u8(&mut self, v: u8) {
        self.data.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.data.extend_from_slice(&v.to_le_bytes());
    }

    fn utf16(&mut self, s: &str) {
        for u in s.encode_utf16() {
            self.u16(u);
        }
    }

    /// A name reference: inline the first time in the chunk, by offset after that.
    fn name(&mut self, name: &str) {
        if let Some(&at) = self.names.get(name) {
            return self.u32(at);
        }
        let at = self.pos() + 4;
        self.u32(at);
        let hash = name_hash(name);
        let bucket = usize::from(hash) % 64;
        let next = self.buckets[bucket];
        self.buckets[bucket] = at;
        self.names.insert(name.to_string(), at);
        self.u32(next);
        self.u16(hash);
        self.u16(name.encode_utf16().count() as u16);
        self.utf16(name);
        self.u16(0);
    }

    /// An element start in a template definition (which carries a dependency id).
    fn open(&mut self, name: &str, attributes: bool) {
        self.u8(if attributes { 0x41 } else { 0x01 });
        self.u16(0xffff);
        // The element's size, which readers skip over.
        self.u32(0);
        self.name(name);
        if attributes {
            self.u32(0);
        }
    }

    fn attribute(&mut self, name: &str, more: bool) {
        self.u8(if more { 0x46 } else { 0x06 });
        self.name(name);
    }

    fn text(&mut self, text: &str) {
        self.u8(0x05);
        self.u8(0x01);
        self.u16(text.encode_utf16().count() as u16);
        self.utf16(text);
    }

    fn substitution(&mut self, id: u16, value_type: u8) {
        self.u8(0x0d);
        self.u16(id);
        self.u8(value_type);
    }

    /// `<name>{substitution}</name>`.
    fn sub_element(&mut self, name: &str, id: u16, value_type: u8) {
        self.open(name, false);
        self.u8(0x02);
        self.substitution(id, value_type);
        self.u8(0x04);
    }

    /// The values of an event, in substitution order.
    fn values(event: &Event) -> Vec<Val> {
        let mut v = vec![
            Val::U16(event.event_id),
            Val::U8(5),
            Val::U8(4),
            Val::U16(event.event_id),
            Val::U8(0),
            Val::HexU64(0x8000_0000_0000_0000),
            Val::FileTime(event.time),
            Val::U64(event.record_id),
            Val::U32(3016),
            Val::U32(4220),
            Val::Str(event.computer.clone()),
        ];
        v.extend(event.data.iter().map(|(_, val)| val.clone()));
        v
    }

    /// The template definition's body: `<Event>` with substitutions for every value.
    fn definition(&mut self, event: &Event, types: &[u8]) {
        self.data.extend_from_slice(&[0x0f, 1, 1, 0]);
        self.open("Event", true);
        self.attribute("xmlns", false);
        self.text("http://schemas.microsoft.com/win/2004/08/events/event");
        self.u8(0x02);
        self.open("System", false);
        self.u8(0x02);
        self.open("Provider", true);
        self.attribute("Name", true);
        self.text("Microsoft-Windows-Sysmon");
        self.attribute("Guid", false);
        self.text("{5770385f-c22a-43e0-bf4c-06f5698ffbd9}");
        self.u8(0x03);
        let mut id = 0u16;
        let mut next = |chunk: &mut Chunk, name: &str| {
            chunk.sub_element(name, id, types[usize::from(id)]);
            id += 1;
        };
        for name in ["EventID", "Version", "Level", "Task", "Opcode", "Keywords"] {
            next(self, name);
        }
        self.open("TimeCreated", true);
        self.attribute("SystemTime", false);
        self.substitution(6, types[6]);
        self.u8(0x03);
        self.sub_element("EventRecordID", 7, types[7]);
        self.open("Correlation", false);
        self.u8(0x03);
        self.open("Execution", true);
        self.attribute("ProcessID", true);
        self.substitution(8, types[8]);
        self.attribute("ThreadID", false);
        self.substitution(9, types[9]);
        self.u8(0x03);
        self.open("Channel", false);
        self.u8(0x02);
        self.text("Microsoft-Windows-Sysmon/Operational");
        self.u8(0x04);
        self.sub_element("Computer", 10, types[10]);
        self.u8(0x04);
        self.open("EventData", false);
        self.u8(0x02);
        for (i, (name, _)) in event.data.iter().enumerate() {
            self.open("Data", true);
            self.attribute("Name", false);
            self.text(name);
            self.u8(0x02);
            self.substitution(11 + i as u16, types[11 + i]);
            self.u8(0x04);
        }
        self.u8(0x04);
        self.u8(0x04);
        self.u8(0x00);
    }

    /// Appends one record; false if it does not fit.
    fn record(&mut self, event: &Event) -> bool {
        let start = self.data.len();
        let values = Chunk::values(event);
        let types: Vec<u8> = values.iter().map(Val::type_code).collect();
        let shape: Vec<String> = event
            .data
            .iter()
            .map(|(n, v)| format!("{n}:{}", v.type_code()))
            .chain([event.event_id.to_string()])
            .collect();
        self.data.extend_from_slice(b"**\0\0");
        self.u32(0);
        self.data.extend_from_slice(&event.record_id.to_le_bytes());
        self.data.extend_from_slice(&event.time.to_le_bytes());
        self.data.extend_from_slice(&[0x0f, 1, 1, 0]);
        self.u8(0x0c);
        self.u8(0x01);
        self.u32(u32::from(event.event_id));
        match self.templates.get(&shape) {
            Some(&at) => self.u32(at),
            None => {
                let at = self.pos() + 4;
                self.u32(at);
                self.templates.insert(shape, at);
                // Next definition, GUID, size of the body, then the body.
                self.u32(0);
                self.data.extend_from_slice(&[0x5a; 15]);
                self.u8(event.event_id as u8);
                let size_at = self.data.len();
                self.u32(0);
                self.definition(event, &types);
                let size = (self.data.len() - size_at - 4) as u32;
                put(&mut self.data, size_at, &size.to_le_bytes());
            }
        }
        self.u32(values.len() as u32);
        let bytes: Vec<Vec<u8>> = values.iter().map(Val::bytes).collect();
        for (v, b) in values.iter().zip(&bytes) {
            self.u16(b.len() as u16);
            self.u8(v.type_code());
            self.u8(0);
        }
        for b in &bytes {
            self.data.extend_from_slice(b);
        }
        // Binary XML ends with EOF.
        self.u8(0x00);
        let size = (self.data.len() - start + 4) as u32;
        self.u32(size);
        put(&mut self.data, start + 4, &size.to_le_bytes());
        self.data.len() <= CHUNK
    }

    /// The finished 64 KiB chunk.
    fn finish(mut self, events: &[Event], last_record: usize) -> Vec<u8> {
        let free = self.data.len();
        self.data.resize(CHUNK, 0);
        let d = &mut self.data;
        put(d, 0, b"ElfChnk\0");
        let first = events.first().map_or(0, |e| e.record_id);
        let last = events.last().map_or(0, |e| e.record_id);
        for (at, v) in [(8, first), (16, last), (24, first), (32, last)] {
            put(d, at, &v.to_le_bytes());
        }
        put(d, 40, &128u32.to_le_bytes());
        put(d, 44, &(last_record as u32).to_le_bytes());
        put(d, 48, &(free as u32).to_le_bytes());
        for (i, b) in self.buckets.iter().enumerate() {
            put(d, 128 + 4 * i, &b.to_le_bytes());
        }
        let records = crc32(&[&d[CHUNK_HEADER..free]]);
        put(d, 52, &records.to_le_bytes());
        let header = crc32(&[&d[..120], &d[128..CHUNK_HEADER]]);
        put(d, 124, &header.to_le_bytes());
        self.data
    }
}

/// One chunk holding `events`.
pub fn chunk(events: &[Event]) -> Vec<u8> {
    let mut c = Chunk::new();
    let mut last = CHUNK_HEADER;
    for e in events {
        last = c.data.len();
        assert!(c.record(e), "events overflow the chunk");
    }
    c.finish(events, last)
}

/// An EVTX file: the header, then these chunks (as [`chunk`] makes them, or damaged copies).
pub fn file(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0u8; FILE_HEADER];
    put(&mut out, 0, b"ElfFile\0");
    let last_chunk = chunks.len().saturating_sub(1) as u64;
    put(&mut out, 16, &last_chunk.to_le_bytes());
    let next_id = chunks
        .iter()
        .filter(|c| c.starts_with(b"ElfChnk\0"))
        .map(|c| u64::from_le_bytes(c[32..40].try_into().unwrap_or_default()))
        .max()
        .unwrap_or(0)
        + 1;
    put(&mut out, 24, &next_id.to_le_bytes());
    put(&mut out, 32, &128u32.to_le_bytes());
    put(&mut out, 36, &1u16.to_le_bytes());
    put(&mut out, 38, &3u16.to_le_bytes());
    put(&mut out, 40, &(FILE_HEADER as u16).to_le_bytes());
    put(&mut out, 42, &(chunks.len() as u16).to_le_bytes());
    let sum = crc32(&[&out[..120]]);
    put(&mut out, 124, &sum.to_le_bytes());
    for c in chunks {
        out.extend_from_slice(c);
    }
    out
}

/// A file of one chunk per group of events.
pub fn file_of(groups: &[Vec<Event>]) -> Vec<u8> {
    file(&groups.iter().map(|g| chunk(g)).collect::<Vec<_>>())
}

/// The offsets of a chunk's records, walking their sizes from the chunk header.
pub fn record_offsets(chunk: &[u8]) -> Vec<usize> {
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap_or_default()) as usize;
    let mut at = CHUNK_HEADER;
    let mut out = Vec::new();
    while at + 8 <= free && chunk[at..].starts_with(b"**\0\0") {
        out.push(at);
        at += u32::from_le_bytes(chunk[at + 4..at + 8].try_into().unwrap_or_default()) as usize;
    }
    out
}

/// Recomputes a chunk's checksums after it was edited, so that only the edit is wrong.
pub fn reseal(chunk: &mut [u8]) {
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap_or_default()) as usize;
    let records = crc32(&[&chunk[CHUNK_HEADER..free]]);
    put(chunk, 52, &records.to_le_bytes());
    let header = crc32(&[&chunk[..120], &chunk[128..CHUNK_HEADER]]);
    put(chunk, 124, &header.to_le_bytes());
}
