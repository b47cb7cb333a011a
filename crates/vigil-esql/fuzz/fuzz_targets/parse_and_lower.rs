//! Any text: the parser and the lowering return errors, never panic; what parses prints back
//! to a query that parses to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(query) = vigil_esql::parse(text) else {
        return;
    };
    let printed = query.to_string();
    let again = vigil_esql::parse(&printed).expect("a printed query parses");
    assert_eq!(query, again, "{printed}");
    let _ = vigil_esql::lower(&query, vigil_schema::Schema::elastic());
});
