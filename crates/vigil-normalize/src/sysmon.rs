//! Sysmon process creation (Event ID 1) and file creation (Event ID 11) to the ECS shape of
//! Elastic Defend's `logs-endpoint.events.*` documents, with the field mapping of Elastic's
//! Windows integration (`sysmon_operational` pipeline): `ProcessGuid` → `process.entity_id`,
//! `Image` → `process.executable` (and `process.name`), `CommandLine` → `process.command_line`
//! and `process.args` (split as Windows splits a command line), `Parent*` → `process.parent.*`,
//! `Hashes` → `process.hash.*`, `User` → `user.domain`/`user.name`, `TargetFilename` →
//! `file.path`/`file.name`/`file.directory`/`file.extension`.
//!
//! Two input shapes: Winlogbeat / Elastic Agent documents (`winlog.event_id`,
//! `winlog.event_data.*`) and an EVTX record converted to JSON (`Event.System`,
//! `Event.EventData`). `process.Ext.ancestry` is not in Sysmon data: [`crate::ProcessTree`]
//! adds it from the process tree it observes.

use vigil_event::{Map, Value};

/// Where a Sysmon record keeps its parts.
struct Parts<'a> {
    event_id: i64,
    data: &'a Map,
    computer: Option<&'a str>,
    time: Option<String>,
    record_id: Option<Value>,
    channel: Option<&'a str>,
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.as_object()?.get(*k))
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.trim().parse().ok(),
        // EVTX renders some elements as `{"#text": …, "#attributes": …}`.
        Value::Object(m) => m.get("#text").and_then(as_int),
        _ => None,
    }
}

fn parts(doc: &Value) -> Option<Parts<'_>> {
    if let Some(system) = get(doc, &["Event", "System"]) {
        let provider = get(system, &["Provider", "#attributes", "Name"]).and_then(Value::as_str);
        if provider.is_some_and(|p| !p.eq_ignore_ascii_case("Microsoft-Windows-Sysmon")) {
            return None;
        }
        return Some(Parts {
            event_id: as_int(system.as_object()?.get("EventID")?)?,
            data: get(doc, &["Event", "EventData"])?.as_object()?,
            computer: get(system, &["Computer"]).and_then(Value::as_str),
            time: get(system, &["TimeCreated", "#attributes", "SystemTime"])
                .and_then(Value::as_str)
                .map(str::to_string),
            record_id: get(system, &["EventRecordID"]).cloned(),
            channel: get(system, &["Channel"]).and_then(Value::as_str),
        });
    }
    let winlog = get(doc, &["winlog"])?;
    let provider = get(winlog, &["provider_name"]).and_then(Value::as_str);
    let channel = get(winlog, &["channel"]).and_then(Value::as_str);
    let sysmon = provider.is_some_and(|p| p.eq_ignore_ascii_case("Microsoft-Windows-Sysmon"))
        || channel.is_some_and(|c| c.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational"));
    if !sysmon {
        return None;
    }
    Some(Parts {
        event_id: as_int(get(winlog, &["event_id"])?)?,
        data: get(winlog, &["event_data"])?.as_object()?,
        computer: get(winlog, &["computer_name"]).and_then(Value::as_str),
        time: get(doc, &["@timestamp"])
            .and_then(Value::as_str)
            .map(str::to_string),
        record_id: get(winlog, &["record_id"]).cloned(),
        channel,
    })
}

/// The value at a dotted path through nested objects (or a flattened key at any level).
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let m = v.as_object()?;
    if let Some(x) = m.get(path) {
        return Some(x);
    }
    let mut i = 0;
    while let Some(dot) = path[i..].find('.') {
        let (head, rest) = (&path[..i + dot], &path[i + dot + 1..]);
        if let Some(inner) = m.get(head)
            && let Some(x) = at(inner, rest)
        {
            return Some(x);
        }
        i += dot + 1;
    }
    None
}

/// Sets a dotted path in an object, creating the objects on the way.
pub(crate) fn set(doc: &mut Map, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            doc.insert(path.into(), v);
        }
        Some((head, rest)) => {
            let entry = doc
                .entry(head.into())
                .or_insert_with(|| Value::Object(Map::new()));
            if !matches!(entry, Value::Object(_)) {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(m) = entry {
                set(m, rest, v);
            }
        }
    }
}

fn strs(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::str(s)).collect())
}

/// The last path component of a Windows or POSIX path.
fn base_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// Splits a Windows command line as `CommandLineToArgvW` does: whitespace separates arguments
/// outside double quotes; `2n` backslashes before a quote are `n` backslashes and the quote
/// toggles quoting, `2n+1` are `n` backslashes and a literal quote.
pub fn split_command_line(cmd: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut started = false;
    let mut chars = cmd.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut n = 1;
                while chars.peek() == Some(&'\\') {
                    chars.next();
                    n += 1;
                }
                if chars.peek() == Some(&'"') {
                    cur.push_str(&"\\".repeat(n / 2));
                    if n % 2 == 1 {
                        chars.next();
                        cur.push('"');
                    }
                } else {
                    cur.push_str(&"\\".repeat(n));
                }
                started = true;
            }
            '"' => {
                in_quotes = !in_quotes;
                started = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if started {
                    args.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        args.push(cur);
    }
    args
}

fn text<'a>(data: &'a Map, key: &str) -> Option<&'a str> {
    data.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "-")
}

/// The ECS document for a Sysmon Event ID 1 or 11 record, or `None` for other records.
pub fn sysmon_to_ecs(doc: &Value) -> Option<Value> {
    let p = parts(doc)?;
    let (category, kind, action) = match p.event_id {
        1 => ("process", "start", "Process Create (rule: ProcessCreate)"),
        11 => ("file", "creation", "File created (rule: FileCreate)"),
        _ => return None,
    };
    let mut out = Map::new();
    let d = p.data;
    let time = text(d, "UtcTime").map(str::to_string).or(p.time);
    if let Some(ts) = time.and_then(|t| vigil_event::parse_rfc3339(&t).ok()) {
        out.insert(
            "@timestamp".into(),
            Value::from(vigil_event::format_es_date(ts)),
        );
    }
    set(&mut out, "event.category", strs(&[category]));
    set(&mut out, "event.type", strs(&[kind]));
    set(&mut out, "event.kind", Value::str("event"));
    set(&mut out, "event.code", Value::from(p.event_id.to_string()));
    set(&mut out, "event.action", Value::str(action));
    set(&mut out, "event.module", Value::str("sysmon"));
    set(
        &mut out,
        "event.provider",
        Value::str("Microsoft-Windows-Sysmon"),
    );
    set(&mut out, "host.os.type", Value::str("windows"));
    set(&mut out, "host.os.family", Value::str("windows"));
    if let Some(c) = p.computer {
        set(&mut out, "host.name", Value::str(c));
        set(&mut out, "winlog.computer_name", Value::str(c));
    }
    // Winlogbeat documents carry the agent's host.id; keep it. An EVTX file has no agent: the
    // computer name stands in, so that rules correlating `by host.id` work on exported logs.
    if let Some(id) = get(doc, &["host", "id"]) {
        set(&mut out, "host.id", id.clone());
    } else if let Some(c) = p.computer {
        set(&mut out, "host.id", Value::str(c));
    }
    set(
        &mut out,
        "winlog.event_id",
        Value::from(p.event_id.to_string()),
    );
    if let Some(c) = p.channel {
        set(&mut out, "winlog.channel", Value::str(c));
    }
    if let Some(r) = p.record_id {
        set(&mut out, "winlog.record_id", r);
    }
    set(&mut out, "winlog.event_data", Value::Object(d.clone()));
    let copy = |out: &mut Map, key: &str, field: &str| {
        if let Some(v) = text(d, key) {
            set(out, field, Value::str(v));
        }
    };
    let int = |out: &mut Map, key: &str, field: &str| {
        if let Some(v) = d.get(key).and_then(as_int) {
            set(out, field, Value::Int(v));
        }
    };
    copy(&mut out, "ProcessGuid", "process.entity_id");
    int(&mut out, "ProcessId", "process.pid");
    if let Some(image) = text(d, "Image") {
        set(&mut out, "process.executable", Value::str(image));
        set(&mut out, "process.name", Value::str(base_name(image)));
    }
    if let Some(user) = text(d, "User") {
        match user.split_once('\\') {
            Some((domain, name)) => {
                set(&mut out, "user.domain", Value::str(domain));
                set(&mut out, "user.name", Value::str(name));
            }
            None => set(&mut out, "user.name", Value::str(user)),
        }
    }
    if p.event_id == 1 {
        if let Some(cmd) = text(d, "CommandLine") {
            set(&mut out, "process.command_line", Value::str(cmd));
            let args = split_command_line(cmd);
            set(
                &mut out,
                "process.args_count",
                Value::Int(args.len() as i64),
            );
            set(
                &mut out,
                "process.args",
                Value::Array(args.into_iter().map(Value::from).collect()),
            );
        }
        copy(&mut out, "CurrentDirectory", "process.working_directory");
        copy(
            &mut out,
            "OriginalFileName",
            "process.pe.original_file_name",
        );
        copy(&mut out, "Company", "process.pe.company");
        copy(&mut out, "Description", "process.pe.description");
        copy(&mut out, "FileVersion", "process.pe.file_version");
        copy(&mut out, "Product", "process.pe.product");
        copy(
            &mut out,
            "IntegrityLevel",
            "winlog.event_data.IntegrityLevel",
        );
        copy(&mut out, "ParentProcessGuid", "process.parent.entity_id");
        int(&mut out, "ParentProcessId", "process.parent.pid");
        if let Some(image) = text(d, "ParentImage") {
            set(&mut out, "process.parent.executable", Value::str(image));
            set(
                &mut out,
                "process.parent.name",
                Value::str(base_name(image)),
            );
        }
        if let Some(cmd) = text(d, "ParentCommandLine") {
            set(&mut out, "process.parent.command_line", Value::str(cmd));
            let args = split_command_line(cmd);
            set(
                &mut out,
                "process.parent.args_count",
                Value::Int(args.len() as i64),
            );
            set(
                &mut out,
                "process.parent.args",
                Value::Array(args.into_iter().map(Value::from).collect()),
            );
        }
        if let Some(hashes) = text(d, "Hashes") {
            for pair in hashes.split(',') {
                if let Some((algo, h)) = pair.split_once('=') {
                    let field = format!("process.hash.{}", algo.trim().to_ascii_lowercase());
                    set(&mut out, &field, Value::from(h.trim().to_ascii_lowercase()));
                }
            }
        }
    } else if let Some(path) = text(d, "TargetFilename") {
        set(&mut out, "file.path", Value::str(path));
        let name = base_name(path);
        set(&mut out, "file.name", Value::str(name));
        if path.len() > name.len() {
            set(
                &mut out,
                "file.directory",
                Value::str(&path[..path.len() - name.len() - 1]),
            );
        }
        if let Some((_, ext)) = name.rsplit_once('.') {
            set(
                &mut out,
                "file.extension",
                Value::from(ext.to_ascii_lowercase()),
            );
        }
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_split_as_windows_does() {
        assert_eq!(
            split_command_line(r#""C:\Program Files\a.exe" -x "b c" d\"e f\\"#),
            vec![r"C:\Program Files\a.exe", "-x", "b c", "d\"e", r"f\\"]
        );
        assert_eq!(split_command_line(r#"a "" b"#), vec!["a", "", "b"]);
        assert!(split_command_line("   ").is_empty());
    }

    #[test]
    fn evtx_and_winlog_shapes_give_the_same_process() {
        let data = r#"{"UtcTime": "2026-06-17 10:00:20.123", "ProcessGuid": "{AA}", "ProcessId": "4321",
            "Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami /all",
            "ParentProcessGuid": "{BB}", "ParentProcessId": 1234,
            "ParentImage": "C:\\Windows\\System32\\cmd.exe", "ParentCommandLine": "cmd.exe /c x",
            "User": "NT AUTHORITY\\SYSTEM", "Hashes": "SHA256=ABC,MD5=DEF"}"#;
        let evtx = format!(
            r##"{{"Event": {{"System": {{"Provider": {{"#attributes": {{"Name": "Microsoft-Windows-Sysmon"}}}},
            "EventID": 1, "Computer": "vm-1", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "EventRecordID": 7}}, "EventData": {data}}}}}"##
        );
        let winlog = format!(
            r#"{{"@timestamp": "2026-06-17T10:00:20.123Z", "host": {{"id": "H"}},
            "winlog": {{"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1",
            "computer_name": "vm-1", "event_data": {data}}}}}"#
        );
        for (doc, host_id) in [(evtx, Some("vm-1")), (winlog, Some("H"))] {
            let v = vigil_event::parse_json(doc.as_bytes()).unwrap();
            let ecs = sysmon_to_ecs(&v).expect("sysmon event 1");
            let f = |p: &str| crate::sysmon::at(&ecs, p).map(|v| v.to_string());
            assert_eq!(f("process.entity_id").as_deref(), Some("{AA}"));
            assert_eq!(f("process.name").as_deref(), Some("whoami.exe"));
            assert_eq!(f("process.pid").as_deref(), Some("4321"));
            assert_eq!(f("process.parent.name").as_deref(), Some("cmd.exe"));
            assert_eq!(f("process.args").as_deref(), Some(r#"["whoami","/all"]"#));
            assert_eq!(f("user.name").as_deref(), Some("SYSTEM"));
            assert_eq!(f("process.hash.sha256").as_deref(), Some("abc"));
            assert_eq!(f("event.category").as_deref(), Some(r#"["process"]"#));
            assert_eq!(f("@timestamp").as_deref(), Some("2026-06-17T10:00:20.123Z"));
            assert_eq!(f("host.id").as_deref(), host_id);
        }
    }
}
