//! The CSV scanner on any bytes and several dialects: no panic, offsets inside the input, the
//! same records whole and in windows of 1 to 32 bytes.
#![no_main]

use hoist_parse::csv::{CsvOptions, CsvScanner, CsvStep};
use libfuzzer_sys::fuzz_target;

type Records = Vec<Vec<Option<Vec<u8>>>>;

fn scan(data: &[u8], window: usize, opts: &CsvOptions) -> (Records, bool) {
    let mut scanner = CsvScanner::new(opts.clone());
    let (mut start, mut end) = (0, window.min(data.len()));
    let mut records = Vec::new();
    loop {
        let eof = end == data.len();
        match scanner.next(&data[start..end], eof) {
            Ok(CsvStep::Record { record, consumed }) => {
                assert!(consumed <= end - start, "consumed past the input");
                records.push(record.iter().map(|f| f.map(|b| b.to_vec())).collect());
                start += consumed;
            }
            Ok(CsvStep::NeedMore) => {
                assert!(!eof, "NeedMore at the end of the input");
                end = (end + window).min(data.len());
            }
            Ok(CsvStep::End) => return (records, true),
            Err(_) => return (records, false),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else { return };
    let mut opts = CsvOptions::default();
    match first & 0x03 {
        0 => {}
        1 => opts.separator = b"|+".to_vec(),
        2 => opts.delimiter = Vec::new(),
        _ => opts.terminator = Some(b"|\n".to_vec()),
    }
    opts.backslash_escape = first & 0x04 == 0;
    opts.trim_last_separator = first & 0x08 != 0;
    opts.not_null = first & 0x10 != 0;
    let window = usize::from(first >> 5) * 4 + 1;
    let whole = scan(data, data.len().max(1), &opts);
    let pieces = scan(data, window, &opts);
    assert_eq!(whole, pieces, "fed whole and in windows of {window} bytes, the scanner disagrees");
});
