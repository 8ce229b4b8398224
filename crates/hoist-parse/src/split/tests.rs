//! Every case runs once over the whole input and fed in blocks of every size 1..=7, and
//! both must find the same offsets.

use super::*;
use crate::sql::{SqlEvent, SqlScanner, SqlStep};
use crate::testutil::Rng;

const DEF: SqlOptions = SqlOptions { no_backslash_escapes: false };
const NBE: SqlOptions = SqlOptions { no_backslash_escapes: true };

fn blocks(input: &[u8], opts: SqlOptions, delimiter: &[u8], size: usize) -> Vec<u64> {
    let mut s = StatementSplitter::new(opts, delimiter);
    let mut out = Vec::new();
    for (i, block) in input.chunks(size).enumerate() {
        s.feed(block, (i * size) as u64, &mut out);
    }
    out
}

fn ends(opts: SqlOptions, delimiter: &[u8], input: &[u8]) -> Vec<usize> {
    let whole = sql_statement_ends(input, opts, delimiter);
    for size in 1..=7 {
        let cut: Vec<usize> = blocks(input, opts, delimiter, size).into_iter().map(|o| o as usize).collect();
        assert_eq!(whole, cut, "block size {size}");
    }
    whole
}

macro_rules! splits_to {
    ($name:ident, $opts:expr, $delim:expr, $input:expr, [$($end:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let expected: &[usize] = &[$($end),*];
            assert_eq!(ends($opts, $delim, AsRef::<[u8]>::as_ref($input)), expected);
        }
    };
}

splits_to!(empty, DEF, b";", "", []);
splits_to!(simple, DEF, b";", "a;b;\nc", [2, 4]);
splits_to!(quotes, DEF, b";", r#"SELECT ';', "a;\"b;", `c;``;`;x"#, [30]);
splits_to!(backslash_escapes, DEF, b";", r"'a\';b';", [8]);
splits_to!(no_backslash_escapes, NBE, b";", r"'a\';b';", [5]);
splits_to!(doubled_quotes, DEF, b";", "'a'';b';", [8]);
splits_to!(comments, DEF, b";", "-- ;\n# ;\n/* ; */ x;--\t;\n--;", [19, 27]);
splits_to!(dash_dash_needs_a_blank, DEF, b";", "SELECT 1--;", [11]);
splits_to!(empty_block_comment, DEF, b";", "/**/;/*/;*/;", [5, 12]);
splits_to!(executable_comments_are_code, DEF, b";", "/*!40101 SET a=1;*/;/*M!100100 x;*/", [17, 20, 33]);
splits_to!(
    delimiter_block,
    DEF,
    b";",
    "DELIMITER ;;\nCREATE TRIGGER t BEGIN x; END;;\n\ndelimiter ;\nSELECT 1;",
    [58, 67]
);
splits_to!(
    delimiter_after_comment,
    DEF,
    b";",
    "SELECT 1;\n-- c\n  DELIMITER $$ rest\nA;B$$\nDELIMITER ;\r\nC;",
    [9, 54, 56]
);
splits_to!(not_a_delimiter_command, DEF, b";", "DELIMITERX;DELIMITER;", [11, 21]);
splits_to!(multibyte_delimiter_partial_matches, DEF, b";;", "a;b;;c';;';;", [5, 12]);
splits_to!(delimiter_bytes_that_start_a_comment, DEF, b"//", "a/* // */b//c/'//'//", [12, 20]);

#[test]
fn accessors() {
    let mut s = StatementSplitter::new(DEF, b"");
    assert_eq!(s.delimiter(), b";");
    let mut out = Vec::new();
    s.feed(b"DELIMITER ;;\nSELECT 'x", 100, &mut out);
    assert!(out.is_empty());
    assert_eq!(s.delimiter(), b";;");
    assert!(!s.is_top_level());
    s.feed(b"';;", 122, &mut out);
    assert!(s.is_top_level());
    assert!(out.is_empty(), "ends inside a DELIMITER block are not reported");
    s.feed(b"DELIMITER ;\n", 125, &mut out);
    assert_eq!(out, [137]);
}

/// Statement ends that the scanner reports (while `;` is the delimiter) are ends the
/// splitter finds.
fn agrees_with_scanner(opts: SqlOptions, input: &[u8]) {
    let split = sql_statement_ends(input, opts, b";");
    let mut sc = SqlScanner::new(opts);
    let mut pos = 0;
    loop {
        match sc.next(&input[pos..], true) {
            Ok(SqlStep::Event { event, consumed }) => {
                let is_end = matches!(event, SqlEvent::EndInsert | SqlEvent::Set(_) | SqlEvent::Other(_));
                pos += consumed;
                if is_end && pos < input.len() && sc.delimiter() == b";" {
                    assert!(
                        split.contains(&pos),
                        "scanner end {pos} not found by the splitter in {:?}",
                        String::from_utf8_lossy(input)
                    );
                }
            }
            Ok(SqlStep::End) | Err(_) => return,
            Ok(SqlStep::NeedMore) => panic!("NeedMore at eof"),
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let alphabet: &[&[u8]] = &[
        b"'",
        b"\"",
        b"`",
        b"\\",
        b";",
        b";;",
        b"--",
        b"-- ",
        b"-",
        b"#",
        b"/*",
        b"*/",
        b"/",
        b"*",
        b"/*!",
        b"/*M!",
        b"\n",
        b" ",
        b"DELIMITER ",
        b"DELIMITER ;;\n",
        b"DELIMITER ;\n",
        b"delimiter //\n",
        b"//",
        b"INSERT INTO t VALUES (1,'a')",
        b"SET a=1",
        b"x",
        b"\0",
    ];
    let mut rng = Rng::new(0x5b11);
    for case in 0..3000 {
        let input = rng.bytes(alphabet, 60);
        let opts = if case % 4 == 0 { NBE } else { DEF };
        let delimiter: &[u8] = if case % 9 == 0 { b";;" } else { b";" };
        let whole = sql_statement_ends(&input, opts, delimiter);
        let size = 1 + case % 7;
        let cut: Vec<usize> = blocks(&input, opts, delimiter, size).into_iter().map(|o| o as usize).collect();
        assert_eq!(whole, cut, "case {case}: {:?}", String::from_utf8_lossy(&input));
        assert!(whole.windows(2).all(|w| w[0] < w[1]));
        assert!(whole.iter().all(|&e| e <= input.len()));
        if delimiter == b";" {
            agrees_with_scanner(opts, &input);
        }
    }
}

#[test]
fn sakila_corpus_agrees_with_scanner() {
    let dir = std::path::Path::new("/work/shared/corpus/sakila");
    for name in ["sakila-mv-schema.sql", "sakila-mv-data.sql"] {
        let Ok(input) = std::fs::read(dir.join(name)) else {
            eprintln!("sakila corpus not found; skipped");
            return;
        };
        agrees_with_scanner(DEF, &input);
        let whole = sql_statement_ends(&input, DEF, b";");
        assert_eq!(whole, blocks(&input, DEF, b";", 65536).into_iter().map(|o| o as usize).collect::<Vec<_>>());
        assert!(whole.len() > 10);
    }
}
