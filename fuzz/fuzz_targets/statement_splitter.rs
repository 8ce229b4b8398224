//! The statement splitter fed in blocks finds the same statement ends as over the whole input.
#![no_main]

use hoist_parse::split::{sql_statement_ends, StatementSplitter};
use hoist_parse::sql::SqlOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let opts = SqlOptions { no_backslash_escapes: first & 0x80 != 0 };
    let block = usize::from(first & 0x3f) + 1;
    let delimiter: &[u8] = if first & 0x40 != 0 { b"$$" } else { b";" };
    let mut splitter = StatementSplitter::new(opts, delimiter);
    let mut ends = Vec::new();
    for (i, piece) in data.chunks(block).enumerate() {
        splitter.feed(piece, (i * block) as u64, &mut ends);
    }
    assert!(ends.windows(2).all(|w| w[0] < w[1]), "ends out of order: {ends:?}");
    assert!(ends.iter().all(|&e| e as usize <= data.len()), "an end past the input");
    let whole: Vec<u64> = sql_statement_ends(data, opts, delimiter).into_iter().map(|e| e as u64).collect();
    assert_eq!(ends, whole, "fed in blocks of {block} bytes, the splitter disagrees with the whole input");
});
