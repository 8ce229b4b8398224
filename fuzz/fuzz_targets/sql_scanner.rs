//! The SQL scanner on any bytes: no panic, offsets inside the input, and the same rows and
//! outcome whether the input comes whole or in windows of 1 to 253 bytes (the first byte picks
//! the window and the escaping mode).
#![no_main]

use hoist_parse::sql::{SqlEvent, SqlOptions, SqlScanner, SqlStep};
use libfuzzer_sys::fuzz_target;

/// Rows (their raw bytes) and whether the scan ended cleanly, feeding `window` bytes at a time.
fn scan(data: &[u8], window: usize, opts: SqlOptions) -> (Vec<Vec<u8>>, bool) {
    let mut scanner = SqlScanner::new(opts);
    let (mut start, mut end) = (0, window.min(data.len()));
    let mut rows = Vec::new();
    loop {
        let eof = end == data.len();
        match scanner.next(&data[start..end], eof) {
            Ok(SqlStep::Event { event, consumed }) => {
                assert!(consumed <= end - start, "consumed past the input");
                if let SqlEvent::Row(row) = event {
                    rows.push(row.raw.to_vec());
                }
                start += consumed;
            }
            Ok(SqlStep::NeedMore) => {
                assert!(!eof, "NeedMore at the end of the input");
                end = (end + window).min(data.len());
            }
            Ok(SqlStep::End) => return (rows, true),
            Err(_) => return (rows, false),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let opts = SqlOptions { no_backslash_escapes: first & 0x80 != 0 };
    let window = usize::from(first & 0x3f) * 4 + 1;
    let whole = scan(data, data.len().max(1), opts);
    let pieces = scan(data, window, opts);
    assert_eq!(whole, pieces, "fed whole and in windows of {window} bytes, the scanner disagrees");
});
