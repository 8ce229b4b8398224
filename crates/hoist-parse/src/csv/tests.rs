//! Table-driven tests: every case runs through the whole input at once and through inputs
//! fed in pieces of 1..=7 bytes, and both must give the same records at the same offsets.

use super::*;
use crate::testutil::Rng;

#[derive(Clone, Debug, PartialEq)]
enum Ev {
    /// Fields (`None` = NULL) and their quoted flags.
    Rec(Vec<Option<Vec<u8>>>, Vec<bool>),
    /// Error kind and absolute offset.
    Err(CsvErrorKind, usize),
}

/// Runs over `input`, offering `piece` more bytes after each NeedMore (`None`: all at once).
fn run(opts: &CsvOptions, input: &[u8], piece: Option<usize>) -> Vec<(Ev, usize)> {
    let mut sc = CsvScanner::new(opts.clone());
    let mut avail = piece.map_or(input.len(), |_| 0);
    let mut pos = 0;
    let mut out = Vec::new();
    for _ in 0..(input.len() * 4 + 64) {
        let eof = avail == input.len();
        match sc.next(&input[pos..avail], eof) {
            Ok(CsvStep::NeedMore) => {
                assert!(!eof, "NeedMore at eof");
                avail = (avail + piece.unwrap_or(1)).min(input.len());
            }
            Ok(CsvStep::End) => return out,
            Ok(CsvStep::Record { record, consumed }) => {
                assert!(consumed > 0);
                pos += consumed;
                assert!(pos <= avail);
                let fields = record.iter().map(|f| f.map(<[u8]>::to_vec)).collect();
                let quoted = (0..record.len()).map(|i| record.was_quoted(i)).collect();
                assert_eq!(record.is_empty(), record.iter().next().is_none());
                out.push((Ev::Rec(fields, quoted), pos));
            }
            Err(e) => {
                assert!(pos + e.offset <= input.len());
                out.push((Ev::Err(e.kind, pos + e.offset), pos));
                return out;
            }
        }
    }
    panic!("no progress on {:?}", String::from_utf8_lossy(input));
}

/// Whole input and every piece size agree; returns the records without quoted flags.
fn events(opts: &CsvOptions, input: &[u8]) -> Vec<(Ev, usize)> {
    let whole = run(opts, input, None);
    for piece in 1..=7 {
        assert_eq!(whole, run(opts, input, Some(piece)), "piece size {piece} differs");
    }
    whole
}

#[derive(Clone, Debug, PartialEq)]
enum Exp {
    Rec(Vec<Option<Vec<u8>>>),
    Err(CsvErrorKind, usize),
}

fn check(opts: &CsvOptions, input: &[u8], expected: &[Exp]) {
    let got: Vec<Exp> = events(opts, input)
        .into_iter()
        .map(|(e, _)| match e {
            Ev::Rec(f, _) => Exp::Rec(f),
            Ev::Err(k, o) => Exp::Err(k, o),
        })
        .collect();
    assert_eq!(got, expected);
}

fn rec(fields: &[Option<&str>]) -> Exp {
    Exp::Rec(fields.iter().map(|f| f.map(|s| s.as_bytes().to_vec())).collect())
}

fn recb(fields: &[Option<&[u8]>]) -> Exp {
    Exp::Rec(fields.iter().map(|f| f.map(<[u8]>::to_vec)).collect())
}

fn err(kind: CsvErrorKind, offset: usize) -> Exp {
    Exp::Err(kind, offset)
}

fn def() -> CsvOptions {
    CsvOptions::default()
}

fn with(f: impl FnOnce(&mut CsvOptions)) -> CsvOptions {
    let mut o = CsvOptions::default();
    f(&mut o);
    o
}

macro_rules! parses_to {
    ($name:ident, $opts:expr, $input:expr, [$($rec:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            check(&$opts, AsRef::<[u8]>::as_ref($input), &[$($rec),*]);
        }
    };
}

// --- records and terminators ------------------------------------------------------------

parses_to!(empty_input, def(), "", []);
parses_to!(
    basic,
    def(),
    "a,b,c\n1,2,3\n",
    [rec(&[Some("a"), Some("b"), Some("c")]), rec(&[Some("1"), Some("2"), Some("3")])]
);
parses_to!(
    last_record_without_terminator,
    def(),
    "a,b\nc,d",
    [rec(&[Some("a"), Some("b")]), rec(&[Some("c"), Some("d")])]
);
parses_to!(
    cr_lf_crlf,
    def(),
    "a\r\nb\rc\nd\r",
    [rec(&[Some("a")]), rec(&[Some("b")]), rec(&[Some("c")]), rec(&[Some("d")])]
);
parses_to!(blank_lines_are_skipped, def(), "\n\na\n\r\n \t \r\nb\n\n", [rec(&[Some("a")]), rec(&[Some("b")])]);
parses_to!(
    blank_line_with_separator_is_a_record,
    def(),
    " ,\n,\n",
    [rec(&[Some(" "), Some("")]), rec(&[Some(""), Some("")])]
);
parses_to!(trailing_empty_field, def(), "a,\n", [rec(&[Some("a"), Some("")])]);
parses_to!(quoted_empty_line_is_a_record, def(), "\"\"\n", [rec(&[Some("")])]);
parses_to!(
    header_like_first_line,
    def(),
    "id,name\n1,\"x\"\n",
    [rec(&[Some("id"), Some("name")]), rec(&[Some("1"), Some("x")])]
);
parses_to!(
    exact_crlf_terminator,
    with(|o| o.terminator = Some(b"\r\n".to_vec())),
    "a,b\r\nc\nd,e\rf\r\n",
    [rec(&[Some("a"), Some("b")]), rec(&[Some("c\nd"), Some("e\rf")])]
);
parses_to!(
    multibyte_terminator,
    with(|o| o.terminator = Some(b"END".to_vec())),
    "1,2END3,ENaENDx,EN",
    [rec(&[Some("1"), Some("2")]), rec(&[Some("3"), Some("ENa")]), rec(&[Some("x"), Some("EN")])]
);

#[test]
fn multibyte_terminator_quote_in_field_is_an_error() {
    // As in Lightning, a quote after the start of an unquoted field is an error.
    let o = with(|o| o.terminator = Some(b"END".to_vec()));
    check(&o, b"x\"y\"END", &[err(CsvErrorKind::QuoteInUnquotedField, 0)]);
}

parses_to!(crlf_inside_quotes_is_data, def(), "\"a\r\nb\",\"c\rd\"\r\n", [rec(&[Some("a\r\nb"), Some("c\rd")])]);

// --- separators and delimiters ----------------------------------------------------------

parses_to!(
    quoted_fields,
    def(),
    "\"a,b\",\"c\"\"d\",\"e\nf\",\"\"\"\"\n",
    [rec(&[Some("a,b"), Some("c\"d"), Some("e\nf"), Some("\"")])]
);
parses_to!(
    multibyte_separator,
    with(|o| o.separator = b"|+|".to_vec()),
    "a|+|b|c|+||+|\"x|+|y\"\n|+\n",
    [rec(&[Some("a"), Some("b|c"), Some(""), Some("x|+|y")]), rec(&[Some("|+")])]
);
parses_to!(
    tab_separator,
    with(|o| o.separator = b"\t".to_vec()),
    "a\tb c\t\"d\te\"\n",
    [rec(&[Some("a"), Some("b c"), Some("d\te")])]
);
parses_to!(
    empty_delimiter_means_no_quoting,
    with(|o| o.delimiter = Vec::new()),
    "\"a\",b\"c\n\"\n",
    [rec(&[Some("\"a\""), Some("b\"c")]), rec(&[Some("\"")])]
);
parses_to!(
    single_quote_delimiter,
    with(|o| {
        o.delimiter = b"'".to_vec();
        o.backslash_escape = false;
    }),
    "'a''b','\"',\"x\"\n",
    [rec(&[Some("a'b"), Some("\""), Some("\"x\"")])]
);
parses_to!(
    multibyte_delimiter,
    with(|o| o.delimiter = b"~~".to_vec()),
    "~~a,b~~~~c~~,d~e,~~~~\n",
    [rec(&[Some("a,b~~c"), Some("d~e"), Some("")])]
);

// --- escapes ----------------------------------------------------------------------------

parses_to!(
    backslash_escapes_unquoted,
    def(),
    "a\\,b,c\\\\d,\\t\\0\\b\\r\\Z\\n\\q\\\",x\\\ny",
    [recb(&[Some(b"a,b"), Some(b"c\\d"), Some(b"\t\0\x08\r\x1a\nq\""), Some(b"x\ny"),])]
);
parses_to!(backslash_escapes_quoted, def(), r#""a\"b","\\","\,\n""#, [rec(&[Some("a\"b"), Some("\\"), Some(",\n")])]);
parses_to!(
    backslash_escape_off,
    with(|o| o.backslash_escape = false),
    r#"a\,b,"c\",\N"#,
    [rec(&[Some("a\\"), Some("b"), Some("c\\"), None])]
);

// --- NULL -------------------------------------------------------------------------------

parses_to!(
    null_default,
    def(),
    r#"\N,"\N",\\N,N,NULL,"",,x\N"#,
    [rec(&[None, None, Some("\\N"), Some("N"), Some("NULL"), Some(""), Some(""), Some("xN")])]
);
parses_to!(
    null_token_list,
    with(|o| o.null = vec![b"NULL".to_vec(), b"\\N".to_vec()]),
    r#"NULL,"NULL",\N,nul"#,
    [rec(&[None, Some("NULL"), None, Some("nul")])]
);
parses_to!(
    null_without_escapes,
    with(|o| o.backslash_escape = false),
    r#"\N,"\N",\\N"#,
    [rec(&[None, Some("\\N"), Some("\\\\N")])]
);
parses_to!(empty_null_token, with(|o| o.null = vec![Vec::new()]), "a,,\"\"\n", [rec(&[Some("a"), None, Some("")])]);
parses_to!(
    not_null,
    with(|o| {
        o.not_null = true;
        o.null = vec![b"NULL".to_vec(), b"\\N".to_vec()];
    }),
    r#"\N,NULL,"\N""#,
    [rec(&[Some("N"), Some("NULL"), Some("N")])]
);

// --- trim-last-separator ----------------------------------------------------------------

parses_to!(
    trim_last_separator,
    with(|o| o.trim_last_separator = true),
    "a,b,\na,b,\"\"\na,\n,\nx\n",
    [
        rec(&[Some("a"), Some("b")]),
        rec(&[Some("a"), Some("b"), Some("")]),
        rec(&[Some("a")]),
        rec(&[Some("")]),
        rec(&[Some("x")])
    ]
);
parses_to!(trim_last_separator_off, def(), "a,b,\n", [rec(&[Some("a"), Some("b"), Some("")])]);

// --- bytes ------------------------------------------------------------------------------

parses_to!(unicode_and_nul_bytes, def(), "😀,\"\0𝄞\",\u{0}\n", [rec(&[Some("😀"), Some("\0𝄞"), Some("\0")])]);

#[test]
fn invalid_utf8_passes() {
    check(&def(), b"\xff\xfe,\"\xc3\"\n", &[recb(&[Some(b"\xff\xfe"), Some(b"\xc3")])]);
}

// --- errors -----------------------------------------------------------------------------

parses_to!(unclosed_quote, def(), "a,\"bc\nd", [err(CsvErrorKind::UnterminatedQuote, 2)]);
parses_to!(unclosed_quote_ending_in_escape, def(), "\"a\\\"", [err(CsvErrorKind::UnterminatedQuote, 0)]);
parses_to!(text_after_quote, def(), "x\n\"a\"b,c", [rec(&[Some("x")]), err(CsvErrorKind::TextAfterQuote, 2)]);
parses_to!(blank_after_quote, def(), "a,\"b\" ,c", [err(CsvErrorKind::TextAfterQuote, 2)]);
parses_to!(quote_inside_unquoted_field, def(), "a,b\"c\"", [err(CsvErrorKind::QuoteInUnquotedField, 2)]);
parses_to!(dangling_backslash, def(), "a,b\\", [err(CsvErrorKind::DanglingBackslash, 2)]);

#[test]
fn error_messages_read_well() {
    let e = CsvError { offset: 22, kind: CsvErrorKind::UnterminatedQuote };
    assert_eq!(e.to_string(), "syntax error: unterminated quoted field");
    let _: &dyn std::error::Error = &e;
}

// --- record API -------------------------------------------------------------------------

#[test]
fn record_accessors() {
    let mut sc = CsvScanner::new(def());
    let Ok(CsvStep::Record { record, consumed }) = sc.next(b"a,\"b\",\\N\nrest", false) else { panic!() };
    assert_eq!(consumed, 9);
    assert_eq!(record.len(), 3);
    assert_eq!(record.field(0), Some(&b"a"[..]));
    assert_eq!(record.field(1), Some(&b"b"[..]));
    assert_eq!(record.field(2), None);
    assert!(record.is_null(2) && !record.is_null(1));
    assert!(!record.was_quoted(0) && record.was_quoted(1) && !record.was_quoted(2));
    assert_eq!(record.field(3), None);
    assert!(!record.was_quoted(3));
}

#[test]
fn need_more_waits_for_the_byte_after_cr_and_quote() {
    let mut sc = CsvScanner::new(def());
    assert!(matches!(sc.next(b"a\r", false), Ok(CsvStep::NeedMore)));
    assert!(matches!(sc.next(b"\"a\"", false), Ok(CsvStep::NeedMore)));
    assert!(matches!(sc.next(b"a", false), Ok(CsvStep::NeedMore)));
    assert!(matches!(sc.next(b"", false), Ok(CsvStep::NeedMore)));
    assert!(matches!(sc.next(b"", true), Ok(CsvStep::End)));
    assert!(matches!(sc.next(b"\n\n", true), Ok(CsvStep::End)));
}

#[test]
fn empty_separator_is_a_comma() {
    check(&with(|o| o.separator = Vec::new()), b"a,b", &[rec(&[Some("a"), Some("b")])]);
}

// --- Lightning's integration-test files -------------------------------------------------

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/lightning").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn records(opts: &CsvOptions, input: &[u8]) -> Vec<Vec<Option<Vec<u8>>>> {
    events(opts, input)
        .into_iter()
        .map(|(e, _)| match e {
            Ev::Rec(f, _) => f,
            Ev::Err(k, o) => panic!("{k} at {o}"),
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// lightning_csv `csv.escapes.CSV`: the values its EXPECTED.md lists.
#[test]
fn lightning_csv_escapes() {
    let recs = records(&def(), &fixture("csv.escapes.CSV"));
    let got: Vec<Vec<String>> =
        recs.iter().map(|r| r.iter().map(|f| hex(f.as_deref().expect("not NULL"))).collect()).collect();
    let text = |s: &str| hex(s.as_bytes());
    assert_eq!(
        got,
        [
            [text("1"), "5C".into(), text(r#"{"?": []}"#), "FFFFFFFF".into()],
            [text("2"), "22".into(), text(r#""\n\n\n""#), "0D0A0D0A".into()],
            [text("3"), "0A".into(), text(r#"[",,,"]"#), "5C2C5C2C".into()],
        ]
    );
}

/// lightning_csv `csv.empty_strings.csv`: empty and `""` fields are empty strings.
#[test]
fn lightning_csv_empty_strings() {
    let recs = records(&def(), &fixture("csv.empty_strings.csv"));
    let s = |v: &str| Some(v.as_bytes().to_vec());
    assert_eq!(
        recs,
        [[s("1"), s(""), s("")], [s("2"), s(""), s("")], [s("3"), s("\""), s("")], [s("4"), s(""), s("")],]
    );
}

/// lightning_csv `csv.threads.csv`: the sums and NULL counts its checks use.
#[test]
fn lightning_csv_threads() {
    let recs = records(&def(), &fixture("csv.threads.csv"));
    assert_eq!(recs.len(), 43);
    assert!(recs.iter().all(|r| r.len() == 18));
    let num = |f: &Option<Vec<u8>>| -> u64 {
        std::str::from_utf8(f.as_deref().unwrap_or(b"0")).expect("utf8").parse().expect("number")
    };
    assert_eq!(recs.iter().map(|r| num(&r[8])).sum::<u64>(), 322_253);
    assert_eq!(recs.iter().map(|r| num(&r[16])).sum::<u64>(), 303_775_702);
    assert_eq!(recs.iter().filter(|r| r[9].is_some()).count(), 3);
    assert_eq!(recs.iter().filter(|r| r[8].is_some()).count(), 12);
}

/// lightning_csv `errData/db.test.1.csv`: syntax error at byte 22, the unclosed quote.
#[test]
fn lightning_csv_err_data() {
    let evs: Vec<Ev> = events(&def(), &fixture("errData.db.test.1.csv")).into_iter().map(|(e, _)| e).collect();
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[2], Ev::Err(CsvErrorKind::UnterminatedQuote, 22));
}

/// lightning_issue_519: `'` as the quote, doubled quotes, no backslash escapes, header.
#[test]
fn lightning_issue_519() {
    let opts = with(|o| {
        o.delimiter = b"'".to_vec();
        o.backslash_escape = false;
    });
    let recs = records(&opts, &fixture("issue519.t.csv"));
    let got: Vec<[String; 2]> = recs
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 2);
            [hex(r[0].as_deref().unwrap_or(b"?")), hex(r[1].as_deref().unwrap_or(b"?"))]
        })
        .collect();
    let expected = [
        ["61", "62"],
        ["27", "22"],
        ["22", "2727"],
        ["2727", "2222"],
        ["2222", "272227"],
        ["272227", "22272727222722"],
        ["2227272727222722", "222722272727272722"],
        ["22272227222727272722", ""],
        ["61222C622C2261", "612C2263222C61"],
        ["626261617C2A7C61616262", "6262617C2A7C617C2A7C616262"],
    ];
    assert_eq!(got, expected.map(|[a, b]| [a.to_string(), b.to_string()]));
}

/// lightning_config_skip_csv_header: a header that is just the first record, then 5 rows.
#[test]
fn lightning_config_skip_csv_header() {
    let recs = records(&def(), &fixture("mytest.testtbl.csv"));
    assert_eq!(recs.len(), 6);
    assert_eq!(recs[0], [Some(b"aaa".to_vec()), Some(b"bbb".to_vec())]);
    assert_eq!(recs[5], [Some(b"5".to_vec()), Some(b"aaa05".to_vec())]);
}

/// lightning_too_many_columns: 256 columns, no newline at the end.
#[test]
fn lightning_too_many_columns() {
    let recs = records(&def(), &fixture("too_many_columns.t.0.csv"));
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].len(), 256);
    assert_eq!(recs[0][99].as_deref(), Some(&b"COL100"[..]));
    let row: Vec<String> =
        recs[1].iter().map(|f| String::from_utf8(f.clone().expect("not NULL")).expect("utf8")).collect();
    assert_eq!(row, (1001..=1256).map(|n| n.to_string()).collect::<Vec<_>>());
}

/// lightning_issue_410: long header names, one data row, no newline at the end.
#[test]
fn lightning_issue_410() {
    let recs = records(&def(), &fixture("issue410.row_flow_d.0.csv"));
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].len(), 26);
    assert_eq!(recs[0][0].as_deref(), Some(&b"A123456789012345678901234567890123456789"[..]));
    assert_eq!(recs[0][25].as_deref(), Some(&b"Z"[..]));
    let row: Vec<u8> = recs[1].iter().map(|f| f.as_deref().expect("not NULL")[0]).collect();
    assert_eq!(row, (b'A'..=b'Z').collect::<Vec<_>>());
}

// --- random input -----------------------------------------------------------------------

/// Random inputs never panic, always finish, and give the same records however they are cut.
#[test]
fn random_bytes_never_panic() {
    let alphabet: &[&[u8]] = &[
        b",", b"\"", b"'", b"\\", b"\r", b"\n", b"\r\n", b"a", b"xyz", b"\\N", b"NULL", b" ", b"|+|", b"|", b"+",
        b"~~", b"~", b"END", b"EN", b"\0", b"\xff",
    ];
    let option_sets = [
        def(),
        with(|o| o.separator = b"|+|".to_vec()),
        with(|o| o.delimiter = Vec::new()),
        with(|o| {
            o.delimiter = b"'".to_vec();
            o.backslash_escape = false;
        }),
        with(|o| o.delimiter = b"~~".to_vec()),
        with(|o| o.terminator = Some(b"END".to_vec())),
        with(|o| {
            o.trim_last_separator = true;
            o.null = vec![b"NULL".to_vec(), Vec::new()];
        }),
        with(|o| o.not_null = true),
    ];
    let mut rng = Rng::new(0xc5f);
    for case in 0..4000 {
        let input = rng.bytes(alphabet, 40);
        let opts = &option_sets[case % option_sets.len()];
        let whole = run(opts, &input, None);
        let piece = 1 + case % 7;
        assert_eq!(whole, run(opts, &input, Some(piece)), "case {case}: {:?}", String::from_utf8_lossy(&input));
    }
}
