//! Defender advanced-hunting rows (`DeviceFileEvents`, `DeviceProcessEvents`, …) from JSON or
//! CSV exports, and Sysmon file-create events mapped onto `DeviceFileEvents`.
//!
//! An exported row already has the table's columns; CSV exports hold `dynamic` columns
//! (`AdditionalFields`, …) as JSON text and every value as text, so values are converted to the
//! column types of the table schema the caller passes. Columns the export lacks are absent,
//! except string columns, which are `""` (Kusto strings are never null).

use vigil_event::{Map, Value};

/// A column of a table schema: name and Kusto type (`string`, `long`, `dynamic`, …).
pub type Column<'a> = (&'a str, &'a str);

/// Converts one exported row to the table's column types.
pub fn defender_row(doc: &Value, columns: &[Column<'_>]) -> Value {
    let Some(m) = doc.as_object() else {
        return Value::Null;
    };
    let mut out = Map::new();
    // Portal exports suffix datetime headers with ` [UTC]`.
    for (k, v) in m {
        let name = k.strip_suffix(" [UTC]").unwrap_or(k);
        out.insert(name.into(), v.clone());
    }
    for (name, ty) in columns {
        let v = out.get(*name).cloned();
        let converted = match (*ty, v) {
            ("string" | "guid", None | Some(Value::Null)) => Some(Value::from("")),
            ("dynamic", Some(Value::Str(s))) => Some(if s.trim().is_empty() {
                Value::Null
            } else {
                vigil_event::parse_json(s.as_bytes()).unwrap_or(Value::Str(s))
            }),
            ("long" | "int", Some(Value::Str(s))) => {
                Some(s.trim().parse::<i64>().map_or(Value::Null, Value::Int))
            }
            ("real", Some(Value::Str(s))) => {
                Some(s.trim().parse::<f64>().map_or(Value::Null, Value::Float))
            }
            // Exports write datetimes as text; Kusto compares them as dates.
            ("datetime", Some(Value::Str(s))) => Some(
                Value::Str(s.clone())
                    .coerce_to(vigil_event::DataType::Date)
                    .or_else(|| portal_datetime(&s).map(Value::Date))
                    .unwrap_or(Value::Str(s)),
            ),
            ("bool", Some(Value::Str(s))) => Some(match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => Value::Null,
            }),
            (_, Some(v)) => Some(v),
            (_, None) => None,
        };
        if let Some(v) = converted {
            out.insert((*name).into(), v);
        }
    }
    Value::Object(out)
}

/// A datetime as the Azure portal writes it in CSV exports of query results, in UTC:
/// `4/28/2021, 2:32:14.029 PM` (month/day/year, 12-hour clock, optional fraction).
fn portal_datetime(s: &str) -> Option<jiff::Timestamp> {
    let (date, time) = s.trim().split_once(", ")?;
    let mut d = date.split('/').map(|p| p.parse::<i32>().ok());
    let (month, day, year) = (d.next()??, d.next()??, d.next()??);
    let (clock, half) = time.rsplit_once(' ')?;
    let mut c = clock.split(':');
    let (h, m, sec) = (c.next()?, c.next()?, c.next()?);
    let (sec, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let mut hour: i8 = h.parse().ok()?;
    match half {
        "AM" if hour == 12 => hour = 0,
        "PM" if hour < 12 => hour += 12,
        "AM" | "PM" => {}
        _ => return None,
    }
    let nanos = if frac.is_empty() {
        0
    } else if frac.len() <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) {
        format!("{frac:0<9}").parse::<i32>().ok()?
    } else {
        return None;
    };
    let dt = jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        hour,
        m.parse().ok()?,
        sec.parse().ok()?,
        nanos,
    )
    .ok()?;
    jiff::tz::Offset::UTC.to_timestamp(dt).ok()
}

/// A Sysmon event 11 (FileCreate) in Winlogbeat/ECS form, as a `DeviceFileEvents` row:
/// `ActionType` `FileCreated`, `FileName`/`FolderPath` from `file.*`, the initiating process
/// from `process.*`, the host from `host.name`. `None` for other events.
pub fn sysmon_file_created(doc: &Value) -> Option<Value> {
    let s = |path: &str| doc.lookup_str(path);
    let code = s("event.code").or_else(|| s("winlog.event_id"))?;
    if code != "11" {
        return None;
    }
    let target = s("file.path").or_else(|| s("winlog.event_data.TargetFilename"))?;
    let image = s("process.executable").or_else(|| s("winlog.event_data.Image"))?;
    let base = |p: &str| p.rsplit(['\\', '/']).next().unwrap_or(p).to_string();
    let folder = |p: &str| {
        p.rfind(['\\', '/'])
            .map_or(String::new(), |i| p[..i].to_string())
    };
    let mut row = Map::new();
    let mut put = |k: &str, v: String| {
        row.insert(k.into(), Value::from(v));
    };
    put("ActionType", "FileCreated".into());
    put("FileName", base(&target));
    put("FolderPath", target.clone());
    put("InitiatingProcessFileName", base(&image));
    put("InitiatingProcessFolderPath", folder(&image));
    put("DeviceName", s("host.name").unwrap_or_default());
    put("AdditionalFields", String::new());
    if let Some(t) = s("@timestamp") {
        put("TimeGenerated", t.clone());
        put("Timestamp", t);
    }
    Some(Value::Object(row))
}

/// An ECS process start (Sysmon Event ID 1 mapped to ECS, or an Elastic Defend process event)
/// as a `DeviceProcessEvents` row, so Kusto rules written for Defender see endpoint process
/// activity from other sensors: `FileName`/`FolderPath`/`ProcessCommandLine` from `process.*`,
/// the initiating process from `process.parent.*`, the host from `host.name`/`host.id`.
/// `None` for other events.
pub fn ecs_process_created(doc: &Value) -> Option<Value> {
    let has = |path: &str, want: &str| {
        doc.lookup(path).into_iter().any(|v| match v {
            Value::Array(a) => a.iter().any(|x| x.as_str() == Some(want)),
            v => v.as_str() == Some(want),
        })
    };
    if !(has("event.category", "process") && has("event.type", "start")) {
        return None;
    }
    let s = |path: &str| doc.get_str(path).unwrap_or_default().to_string();
    let exe = s("process.executable");
    let parent = s("process.parent.executable");
    let mut row = Map::new();
    let mut put = |k: &str, v: Value| {
        row.insert(k.into(), v);
    };
    put("ActionType", Value::from("ProcessCreated"));
    put("DeviceName", Value::from(s("host.name")));
    put("DeviceId", Value::from(s("host.id")));
    put("FileName", Value::from(or_base(s("process.name"), &exe)));
    put("FolderPath", Value::from(exe));
    put("ProcessCommandLine", Value::from(s("process.command_line")));
    put("AccountName", Value::from(s("user.name")));
    put("AccountDomain", Value::from(s("user.domain")));
    put(
        "InitiatingProcessFileName",
        Value::from(or_base(s("process.parent.name"), &parent)),
    );
    put("InitiatingProcessFolderPath", Value::from(folder(&parent)));
    put(
        "InitiatingProcessCommandLine",
        Value::from(s("process.parent.command_line")),
    );
    for (col, path) in [
        ("ProcessId", "process.pid"),
        ("InitiatingProcessId", "process.parent.pid"),
    ] {
        if let Some(Value::Int(i)) = doc.get_path(path) {
            put(col, Value::Int(*i));
        }
    }
    if let Some(t) = doc.get_path("@timestamp") {
        put("TimeGenerated", t.clone());
        put("Timestamp", t.clone());
    }
    Some(Value::Object(row))
}

fn base(p: &str) -> String {
    p.rsplit(['\\', '/']).next().unwrap_or(p).to_string()
}

fn folder(p: &str) -> String {
    p.rfind(['\\', '/'])
        .map_or(String::new(), |i| p[..i].to_string())
}

/// `name`, or the file name of `path` when the source gave no name.
fn or_base(name: String, path: &str) -> String {
    if name.is_empty() { base(path) } else { name }
}

trait LookupStr {
    fn lookup_str(&self, path: &str) -> Option<String>;
}

impl LookupStr for Value {
    fn lookup_str(&self, path: &str) -> Option<String> {
        let mut cur = self;
        for seg in path.split('.') {
            cur = cur.as_object()?.get(seg)?;
        }
        match cur {
            Value::Str(s) => Some(s.to_string()),
            Value::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_csv_text_to_column_types() {
        let mut m = Map::new();
        m.insert("FileSize".into(), Value::from("42"));
        m.insert(
            "AdditionalFields".into(),
            Value::from(r#"{"FileType":"PortableExecutable"}"#),
        );
        let row = defender_row(
            &Value::Object(m),
            &[
                ("FileSize", "long"),
                ("AdditionalFields", "dynamic"),
                ("FileName", "string"),
            ],
        );
        let o = row.as_object().unwrap();
        assert_eq!(o.get("FileSize"), Some(&Value::Int(42)));
        assert_eq!(o.get("FileName"), Some(&Value::from("")));
        assert!(matches!(o.get("AdditionalFields"), Some(Value::Object(_))));
    }

    #[test]
    fn ecs_process_start_is_a_device_process_events_row() {
        let doc = vigil_event::parse_json(
            br#"{"@timestamp":"2026-05-18T22:41:31.000Z","host":{"name":"vm-a.contoso.internal","id":"h1"},
                "event":{"category":["process"],"type":["start"]},
                "process":{"name":"cmd.exe","executable":"C:\\Windows\\System32\\cmd.exe","pid":42,
                  "command_line":"cmd /c whoami","parent":{"executable":"C:\\Packages\\Plugins\\X\\1.0\\Handler.exe","pid":7}}}"#,
        )
        .unwrap();
        let row = ecs_process_created(&doc).expect("a process start");
        assert_eq!(row.get_str("DeviceName"), Some("vm-a.contoso.internal"));
        assert_eq!(row.get_str("FileName"), Some("cmd.exe"));
        assert_eq!(row.get_str("ProcessCommandLine"), Some("cmd /c whoami"));
        // No `process.parent.name`: the file name of the parent's path.
        assert_eq!(
            row.get_str("InitiatingProcessFileName"),
            Some("Handler.exe")
        );
        assert_eq!(
            row.get_str("InitiatingProcessFolderPath"),
            Some("C:\\Packages\\Plugins\\X\\1.0")
        );
        assert_eq!(row.get_path("ProcessId"), Some(&Value::Int(42)));
        // Other events (a process end, a file creation) are not rows of this table.
        let end =
            vigil_event::parse_json(br#"{"event":{"category":"process","type":"end"}}"#).unwrap();
        assert!(ecs_process_created(&end).is_none());
    }

    #[test]
    fn reads_portal_export_datetimes() {
        let t = |s: &str| portal_datetime(s).map(|t| t.to_string());
        assert_eq!(
            t("4/28/2021, 2:32:14.029 PM").as_deref(),
            Some("2021-04-28T14:32:14.029Z")
        );
        assert_eq!(
            t("12/1/2021, 12:05:00 AM").as_deref(),
            Some("2021-12-01T00:05:00Z")
        );
        assert_eq!(
            t("12/1/2021, 12:05:00 PM").as_deref(),
            Some("2021-12-01T12:05:00Z")
        );
        assert_eq!(t("13/1/2021, 1:00:00 PM"), None);
        assert_eq!(t("2021-04-28T14:32:14Z"), None);
    }
}
