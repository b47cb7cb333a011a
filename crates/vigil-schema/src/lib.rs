//! Field types as data.
//!
//! The tables under `data/` map field names to their Elasticsearch mapping types: ECS, the Azure
//! activity-log integration, Elastic Defend's process data stream, and fields only Vigil's
//! normalizers set. `tools/gen_field_tables.py` regenerates the first three from their upstream
//! definitions. Front-ends read types from here to decide, as Elasticsearch would from the index
//! mapping, how a query value compares with a field (term on a keyword, range on a date, CIDR on an
//! ip).

use std::collections::HashMap;
use std::sync::OnceLock;

use vigil_event::{DataType, wildcard_match};

/// One table: its name and its `name<TAB>type` text.
const TABLES: &[(&str, &str)] = &[
    ("ecs", include_str!("../data/ecs.tsv")),
    ("azure", include_str!("../data/azure.tsv")),
    ("endpoint", include_str!("../data/endpoint.tsv")),
    ("vigil", include_str!("../data/vigil.tsv")),
];

/// Field types of the Elastic data Vigil reads.
#[derive(Debug, Default)]
pub struct Schema {
    types: HashMap<String, DataType>,
    /// Object fields declared with a trailing `.*` (`azure.activitylogs.identity.claims.*`):
    /// any field below them is known, with an unknown type.
    open_objects: Vec<String>,
}

impl Schema {
    /// The built-in Elastic schema (ECS and the integrations Vigil normalizes into).
    pub fn elastic() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            let mut s = Schema::default();
            for (_, text) in TABLES {
                s.add_table(text);
            }
            s
        })
    }

    /// Adds `name<TAB>type` lines; `#` starts a comment line. Later tables refine earlier ones.
    pub fn add_table(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, ty)) = line.split_once('\t') else {
                continue;
            };
            let ty = DataType::from_name(ty).unwrap_or(DataType::Unknown);
            if let Some(prefix) = name.strip_suffix(".*") {
                self.open_objects.push(prefix.to_string());
                self.types.insert(prefix.to_string(), DataType::Object);
            } else {
                self.types.insert(name.to_string(), ty);
            }
        }
    }

    /// The declared type of a field, or `None` when no table knows it.
    pub fn field_type(&self, name: &str) -> Option<DataType> {
        if let Some(t) = self.types.get(name) {
            return Some(*t);
        }
        self.open_objects
            .iter()
            .any(|p| {
                name.len() > p.len()
                    && name.starts_with(p.as_str())
                    && name.as_bytes()[p.len()] == b'.'
            })
            .then_some(DataType::Unknown)
    }

    /// True if any table declares the field (or an open object above it).
    pub fn is_known(&self, name: &str) -> bool {
        self.field_type(name).is_some() || self.is_object_path(name)
    }

    /// True if the name is a parent of declared fields (`process`, `azure.resource`).
    pub fn is_object_path(&self, name: &str) -> bool {
        let prefix = format!("{name}.");
        self.types.keys().any(|k| k.starts_with(&prefix))
    }

    /// Known field names matching a kuery field pattern with `*` wildcards.
    pub fn fields_matching(&self, pattern: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .types
            .keys()
            .filter(|k| wildcard_match(pattern, k))
            .map(String::as_str)
            .collect();
        out.sort_unstable();
        out
    }
}

/// Sentinel and Defender table columns (`data/sentinel_tables.tsv`).
const SENTINEL_TABLES: &str = include_str!("../data/sentinel_tables.tsv");

/// A Log Analytics / Defender table: its columns in order, with their Kusto types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSchema {
    pub name: String,
    pub ty: DataType,
    /// The type as the table reference names it (`string`, `datetime`, `dynamic`, …).
    pub kusto_type: String,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Schema {
    /// The built-in Sentinel/Defender tables (`AzureActivity`, `DeviceFileEvents`,
    /// `DeviceProcessEvents`, `DeviceEvents`, `BehaviorAnalytics`).
    pub fn tables() -> &'static [TableSchema] {
        static TABLES_: OnceLock<Vec<TableSchema>> = OnceLock::new();
        TABLES_.get_or_init(|| {
            let mut out: Vec<TableSchema> = Vec::new();
            for line in SENTINEL_TABLES.lines() {
                if line.starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                let mut parts = line.split('\t');
                let (Some(table), Some(col), Some(ty)) = (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let dt = match ty {
                    // Kusto's `string` and `guid` are strings with Kusto's operators.
                    "string" | "guid" => DataType::String,
                    other => DataType::from_name(other).unwrap_or(DataType::Unknown),
                };
                let column = ColumnSchema {
                    name: col.to_string(),
                    ty: dt,
                    kusto_type: ty.to_string(),
                };
                match out.iter_mut().find(|t| t.name == table) {
                    Some(t) => t.columns.push(column),
                    None => out.push(TableSchema {
                        name: table.to_string(),
                        columns: vec![column],
                    }),
                }
            }
            out
        })
    }

    /// A built-in Sentinel/Defender table by name.
    pub fn table(name: &str) -> Option<&'static TableSchema> {
        Schema::tables().iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_fields_rules_read() {
        let s = Schema::elastic();
        assert_eq!(s.field_type("source.ip"), Some(DataType::Ip));
        assert_eq!(s.field_type("source.as.number"), Some(DataType::Long));
        assert_eq!(s.field_type("@timestamp"), Some(DataType::Date));
        assert_eq!(s.field_type("event.outcome"), Some(DataType::Keyword));
        assert_eq!(
            s.field_type("process.command_line"),
            Some(DataType::Keyword)
        );
        assert_eq!(s.field_type("message"), Some(DataType::Text));
        assert_eq!(s.field_type("azure.resource.name"), Some(DataType::Keyword));
        assert_eq!(
            s.field_type("azure.activitylogs.operation_name"),
            Some(DataType::Keyword)
        );
        assert_eq!(
            s.field_type("process.Ext.ancestry"),
            Some(DataType::Keyword)
        );
        assert_eq!(s.field_type("data_stream.dataset"), Some(DataType::Keyword));
        assert_eq!(
            s.field_type("azure.activitylogs.identity.claims.appid"),
            Some(DataType::Unknown)
        );
        assert_eq!(s.field_type("no.such.field"), None);
        assert!(s.is_object_path("azure.resource"));
    }

    #[test]
    fn sentinel_tables() {
        let t = Schema::table("AzureActivity").expect("AzureActivity");
        assert_eq!(
            t.column("TimeGenerated").map(|c| c.ty),
            Some(DataType::Date)
        );
        assert_eq!(
            t.column("Properties_d").map(|c| c.ty),
            Some(DataType::Dynamic)
        );
        assert_eq!(t.column("Caller").map(|c| c.ty), Some(DataType::String));
        let f = Schema::table("DeviceFileEvents").expect("DeviceFileEvents");
        assert!(f.column("InitiatingProcessFileName").is_some());
        assert!(Schema::table("DeviceProcessEvents").is_some());
    }

    #[test]
    fn field_patterns() {
        let s = Schema::elastic();
        let m = s.fields_matching("source.as.*");
        assert!(m.contains(&"source.as.number") && m.contains(&"source.as.organization.name"));
        assert!(wildcard_match("a*c", "abc") && !wildcard_match("a*c", "abd"));
    }
}
