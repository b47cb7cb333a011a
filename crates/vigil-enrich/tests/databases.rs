//! Lookups against MaxMind's test databases and Vigil's ASN fixture in `../shared/samples`,
//! checked against what Elastic's pipeline fixtures expect for the same address.

use std::path::PathBuf;

use vigil_enrich::{Asn, Enricher};
use vigil_event::Value;

fn samples() -> Option<PathBuf> {
    let shared = std::env::var_os("VIGIL_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: {} not found (set VIGIL_SHARED)", dir.display());
        None
    }
}

#[test]
fn city_lookup_matches_the_pipeline_fixture() {
    let Some(s) = samples() else { return };
    let e = Enricher::open(&[], Some(&s.join("maxmind/GeoLite2-City-Test.mmdb"))).unwrap();
    let mut doc =
        vigil_event::parse_json(br#"{"source":{"ip":"81.2.69.144"},"geo":{"name":"global"}}"#)
            .unwrap();
    e.enrich_source_ip(&mut doc);
    // The values Elastic's test-activitylogs-raw expected output holds for this address.
    let expected = r#"{"city_name":"London","continent_name":"Europe","country_iso_code":"GB","country_name":"United Kingdom","location":{"lat":51.5142,"lon":-0.0931},"region_iso_code":"GB-ENG","region_name":"England"}"#;
    assert_eq!(
        serde_json::to_string(doc.get_path("source.geo").unwrap()).unwrap(),
        expected
    );
    assert_eq!(
        serde_json::to_string(doc.get_path("geo").unwrap()).unwrap(),
        expected,
        "geo.name is replaced"
    );
    assert!(doc.get_path("source.as").is_none());
}

#[test]
fn asn_from_mmdb_and_from_iptoasn_tables() {
    let Some(s) = samples() else { return };
    let maxmind = Enricher::open(&[s.join("maxmind/GeoLite2-ASN-Test.mmdb")], None).unwrap();
    assert_eq!(
        maxmind.asn("1.128.0.1".parse().unwrap()),
        Some(Asn {
            number: 1221,
            organization: Some("Telstra Pty Ltd".into())
        })
    );
    assert_eq!(maxmind.asn("10.0.0.1".parse().unwrap()), None);

    let fixture_mmdb =
        Enricher::open(&[s.join("asn-fixture/vigil-asn-fixture.mmdb")], None).unwrap();
    let fixture_tsv = Enricher::open(&[s.join("asn-fixture/vigil-asn-fixture.tsv")], None).unwrap();
    for (ip, asn) in [
        ("20.1.2.3", Some(8075)),
        ("168.63.129.16", Some(8075)),
        ("185.220.101.45", Some(208294)),
        ("192.0.2.1", None),
    ] {
        let ip = ip.parse().unwrap();
        assert_eq!(fixture_mmdb.asn(ip).map(|a| a.number), asn, "{ip} (mmdb)");
        assert_eq!(fixture_tsv.asn(ip).map(|a| a.number), asn, "{ip} (tsv)");
    }
    // Several sources: the first that knows the address answers.
    let both = Enricher::open(
        &[
            s.join("asn-fixture/vigil-asn-fixture.tsv"),
            s.join("maxmind/GeoLite2-ASN-Test.mmdb"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(
        both.asn("1.128.0.1".parse().unwrap()).map(|a| a.number),
        Some(1221)
    );
    let mut doc = vigil_event::parse_json(br#"{"source":{"ip":"20.1.2.3"}}"#).unwrap();
    both.enrich_source_ip(&mut doc);
    assert_eq!(doc.get_path("source.as.number"), Some(&Value::Int(8075)));
    assert!(doc.get_path("source.geo").is_none());
}

#[test]
fn bad_databases_are_errors() {
    let dir = std::env::temp_dir().join(format!("vigil-enrich-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.tsv");
    std::fs::write(&bad, "not\ta table\n").unwrap();
    assert!(Enricher::open(std::slice::from_ref(&bad), None).is_err());
    assert!(Enricher::open(&[dir.join("missing.mmdb")], None).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
