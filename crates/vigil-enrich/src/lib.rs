//! ASN and GeoIP enrichment, as Elasticsearch's `geoip` ingest processor fills it.
//!
//! Sources: MaxMind databases (`.mmdb`, GeoLite2/GeoIP2 ASN and City layouts) and ASN tables in
//! iptoasn's 5-column TSV format (`range_start range_end AS_number country AS_description`).
//! Several ASN sources may be given; the first that knows an address wins.
//!
//! For Azure Activity documents the integration pipeline looks up `source.ip` three times: into
//! `geo` (replacing the `geo.name` the pipeline set from `location`), `source.geo`, and
//! `source.as` (`number`, `organization.name`). [`Enricher::enrich_source_ip`] does the same.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use maxminddb::{Reader, geoip2};
use vigil_event::{Map, Value};

/// A database that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct EnrichError {
    pub path: PathBuf,
    pub message: String,
}

/// An autonomous system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asn {
    pub number: u32,
    pub organization: Option<String>,
}

/// The ECS geo fields Elasticsearch's geoip processor writes by default for a City database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Geo {
    pub continent_name: Option<String>,
    pub country_iso_code: Option<String>,
    pub country_name: Option<String>,
    pub region_iso_code: Option<String>,
    pub region_name: Option<String>,
    pub city_name: Option<String>,
    pub location: Option<(f64, f64)>,
}

/// An ASN record, read leniently: MaxMind stores the number as uint32, other writers pick the
/// smallest unsigned type that fits.
#[derive(serde::Deserialize)]
struct AsnRecord {
    autonomous_system_number: Option<AnyUint>,
    autonomous_system_organization: Option<String>,
}

struct AnyUint(u32);

impl<'de> serde::Deserialize<'de> for AnyUint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AnyUint, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AnyUint;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an unsigned integer")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AnyUint, E> {
                u32::try_from(v).map(AnyUint).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AnyUint, E> {
                u32::try_from(v).map(AnyUint).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

enum AsnSource {
    Mmdb(Reader<Vec<u8>>),
    /// Sorted, non-overlapping (start, end, asn, organization) ranges over IPv6-mapped addresses.
    Table(Vec<(u128, u128, u32, Option<Arc<str>>)>),
}

/// The loaded databases.
#[derive(Default)]
pub struct Enricher {
    asn: Vec<AsnSource>,
    geo: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for Enricher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enricher")
            .field("asn_sources", &self.asn.len())
            .field("geo", &self.geo.is_some())
            .finish()
    }
}

impl Enricher {
    /// Opens ASN sources (`.mmdb` or iptoasn `.tsv`, by content) and an optional City database.
    pub fn open(asn: &[PathBuf], geo: Option<&Path>) -> Result<Enricher, EnrichError> {
        let mut e = Enricher::default();
        for p in asn {
            e.asn.push(open_asn(p)?);
        }
        if let Some(p) = geo {
            e.geo = Some(open_mmdb(p)?);
        }
        Ok(e)
    }

    pub fn has_asn(&self) -> bool {
        !self.asn.is_empty()
    }

    pub fn has_geo(&self) -> bool {
        self.geo.is_some()
    }

    /// The autonomous system of an address.
    pub fn asn(&self, ip: IpAddr) -> Option<Asn> {
        self.asn.iter().find_map(|s| match s {
            AsnSource::Mmdb(r) => {
                let rec: AsnRecord = r.lookup(ip).ok()?.decode().ok()??;
                Some(Asn {
                    number: rec.autonomous_system_number?.0,
                    organization: rec.autonomous_system_organization,
                })
            }
            AsnSource::Table(rows) => {
                let key = ip_key(ip);
                let i = rows.partition_point(|r| r.1 < key);
                let r = rows.get(i).filter(|r| r.0 <= key)?;
                // iptoasn marks unannounced ranges with AS 0.
                (r.2 != 0).then(|| Asn {
                    number: r.2,
                    organization: r.3.as_deref().map(str::to_string),
                })
            }
        })
    }

    /// The geolocation of an address.
    pub fn geo(&self, ip: IpAddr) -> Option<Geo> {
        let city: geoip2::City = self.geo.as_ref()?.lookup(ip).ok()?.decode().ok()??;
        let country_iso = city.country.iso_code.map(str::to_string);
        // Elasticsearch reports the most specific subdivision, prefixed with the country code.
        let sub = city.subdivisions.last();
        let g = Geo {
            continent_name: city.continent.names.english.map(str::to_string),
            country_name: city.country.names.english.map(str::to_string),
            region_iso_code: match (&country_iso, sub.and_then(|s| s.iso_code)) {
                (Some(c), Some(s)) => Some(format!("{c}-{s}")),
                _ => None,
            },
            region_name: sub.and_then(|s| s.names.english).map(str::to_string),
            city_name: city.city.names.english.map(str::to_string),
            location: match (city.location.latitude, city.location.longitude) {
                (Some(lat), Some(lon)) => Some((lat, lon)),
                _ => None,
            },
            country_iso_code: country_iso,
        };
        (g != Geo::default()).then_some(g)
    }

    /// Enriches a document from its `source.ip` into `geo`, `source.geo` and `source.as`, as
    /// the Azure integration's pipeline does. Fields without data stay absent.
    pub fn enrich_source_ip(&self, doc: &mut Value) {
        let Some(ip) = doc.get_path("source.ip").and_then(|v| match v {
            Value::Ip(ip) => Some(*ip),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }) else {
            return;
        };
        if let Some(g) = self.geo(ip) {
            let obj = geo_object(&g);
            doc.insert_path("geo", obj.clone());
            doc.insert_path("source.geo", obj);
        }
        if let Some(a) = self.asn(ip) {
            doc.insert_path("source.as.number", Value::Int(i64::from(a.number)));
            if let Some(o) = a.organization {
                doc.insert_path("source.as.organization.name", Value::from(o));
            }
        }
    }
}

fn geo_object(g: &Geo) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(Arc::from(k), Value::str(v));
        }
    };
    put("continent_name", &g.continent_name);
    put("country_iso_code", &g.country_iso_code);
    put("country_name", &g.country_name);
    put("region_iso_code", &g.region_iso_code);
    put("region_name", &g.region_name);
    put("city_name", &g.city_name);
    if let Some((lat, lon)) = g.location {
        let mut loc = Map::new();
        loc.insert(Arc::from("lat"), Value::Float(lat));
        loc.insert(Arc::from("lon"), Value::Float(lon));
        m.insert(Arc::from("location"), Value::Object(loc));
    }
    Value::Object(m)
}

fn open_mmdb(p: &Path) -> Result<Reader<Vec<u8>>, EnrichError> {
    Reader::open_readfile(p).map_err(|e| EnrichError {
        path: p.to_path_buf(),
        message: e.to_string(),
    })
}

fn open_asn(p: &Path) -> Result<AsnSource, EnrichError> {
    let err = |message: String| EnrichError {
        path: p.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(p).map_err(|e| err(e.to_string()))?;
    // MaxMind files end with a metadata section marked by this byte string.
    if memmem(&bytes, b"\xab\xcd\xefMaxMind.com") {
        return open_mmdb(p).map(AsnSource::Mmdb);
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| err("neither a MaxMind database nor a UTF-8 iptoasn table".into()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let bad = || {
            err(format!(
                "line {}: expected `start<TAB>end<TAB>asn<TAB>country<TAB>description`",
                n + 1
            ))
        };
        if cols.len() < 3 {
            return Err(bad());
        }
        let (start, end) = (
            parse_addr(cols[0]).ok_or_else(bad)?,
            parse_addr(cols[1]).ok_or_else(bad)?,
        );
        let asn: u32 = cols[2].trim().parse().map_err(|_| bad())?;
        let org = cols
            .get(4)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty() && *s != "Not routed")
            .map(Arc::from);
        rows.push((start, end, asn, org));
    }
    rows.sort_by_key(|r| r.0);
    Ok(AsnSource::Table(rows))
}

/// A dotted/colon address, or a plain integer (iptoasn's `-u32` variant).
fn parse_addr(s: &str) -> Option<u128> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip_key(ip));
    }
    let n: u32 = s.parse().ok()?;
    Some(ip_key(IpAddr::V4(n.into())))
}

fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn memmem(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).rev().any(|w| w == needle)
}
