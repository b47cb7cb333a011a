//! The optional configuration file: settings a team sets once instead of on every command line.
//!
//! ```toml
//! [enrich]
//! asn_db = ["GeoLite2-ASN.mmdb", "ip2asn-v4.tsv"]   # or one path
//! geo_db = "GeoLite2-City.mmdb"
//!
//! [state]
//! dir = "/var/lib/vigil"
//! ```
//!
//! Relative paths are relative to the file's directory. Flags given on the command line win.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// Where the configuration is looked for when `--config` is not given.
pub const ENV_VAR: &str = "VIGIL_CONFIG";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub enrich: Enrich,
    #[serde(default)]
    pub state: StateSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrich {
    #[serde(default, deserialize_with = "one_or_many")]
    pub asn_db: Vec<PathBuf>,
    pub geo_db: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    pub dir: Option<PathBuf>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(p) => vec![p],
        OneOrMany::Many(v) => v,
    })
}

/// The file named by `--config`, else by `$VIGIL_CONFIG`, else
/// `$XDG_CONFIG_HOME/vigil/config.toml` (`~/.config/vigil/config.toml`) when it exists.
pub fn locate(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let p = base.join("vigil").join("config.toml");
    p.is_file().then_some(p)
}

/// Loads the configuration (an empty one when there is none).
pub fn load(flag: Option<&Path>) -> anyhow::Result<Config> {
    let Some(path) = locate(flag) else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    let mut config = parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &mut PathBuf| {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    };
    config.enrich.asn_db.iter_mut().for_each(resolve);
    config.enrich.geo_db.iter_mut().for_each(resolve);
    config.state.dir.iter_mut().for_each(resolve);
    Ok(config)
}

/// Parses the text; errors name the line and column.
fn parse(text: &str) -> Result<Config, String> {
    toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (line, col) = vigil_rules::line_col(text, s.start);
                format!("line {line}, column {col}: ")
            })
            .unwrap_or_default();
        format!("{at}{}", e.message())
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn one_path_or_a_list() {
        let c = parse("[enrich]\nasn_db = \"a.mmdb\"\ngeo_db = \"c.mmdb\"\n").unwrap();
        assert_eq!(c.enrich.asn_db.len(), 1);
        let c = parse("[enrich]\nasn_db = [\"a.mmdb\", \"b.tsv\"]\n").unwrap();
        assert_eq!(c.enrich.asn_db.len(), 2);
        assert!(c.enrich.geo_db.is_none());
    }

    #[test]
    fn unknown_keys_are_refused_with_their_position() {
        let e = parse("[enrich]\nasn = \"a.mmdb\"\n").unwrap_err();
        assert!(e.starts_with("line 2, column 1: "), "{e}");
        assert!(e.contains("unknown field `asn`"), "{e}");
    }
}
