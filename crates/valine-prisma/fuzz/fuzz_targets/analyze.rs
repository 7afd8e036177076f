//! Two schemas split from one input at the first NUL: analysis must never panic, a schema
//! must never differ from itself, and the score must be the sum of its operations.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\0').unwrap_or((text, text));
    if let Ok(analysis) = valine_prisma::analyze(a, b) {
        let sum: u32 = analysis.operations.iter().map(|o| o.risk).sum();
        assert_eq!(sum, analysis.risk_score);
    }
    if let Ok(same) = valine_prisma::analyze(a, a) {
        assert!(same.operations.is_empty());
    }
});
