//! Mirrors the `parse_never_panics_*` proptests: any text, parsed, must give a schema or a
//! positioned error; a schema must print to text that parses back to the same schema.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match valine_prisma::parse(src) {
        Ok(schema) => {
            let printed = valine_prisma::print(&schema);
            let again = valine_prisma::parse(&printed);
            assert_eq!(again.as_ref().ok(), Some(&schema), "round-trip of:\n{printed}");
        }
        Err(e) => assert!(e.line >= 1 && e.column >= 1),
    }
});
