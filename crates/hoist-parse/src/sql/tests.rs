//! Table-driven tests: every case runs through the whole input at once and through inputs
//! fed in pieces of 1..=7 bytes, and both must give the same events at the same offsets.

use super::*;
use crate::testutil::Rng;
use LiteralKind::{Bits as B, Bool as T, Hex as H, Null as Z, Number as N, String as S};

#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Insert(InsertHeader),
    Row(Vec<(LiteralKind, Vec<u8>)>),
    End,
    Set(Vec<u8>),
    Other(Vec<u8>),
    /// Error kind and absolute offset.
    Err(SqlErrorKind, usize),
}

const DEF: SqlOptions = SqlOptions { no_backslash_escapes: false };
const NBE: SqlOptions = SqlOptions { no_backslash_escapes: true };

fn insert(table: &str) -> Ev {
    header(InsertVerb::Insert, None, table, None)
}

fn header(verb: InsertVerb, db: Option<&str>, table: &str, cols: Option<&[&str]>) -> Ev {
    Ev::Insert(InsertHeader {
        verb,
        table: table.to_owned(),
        database: db.map(str::to_owned),
        columns: cols.map(|c| c.iter().map(|s| s.to_string()).collect()),
    })
}

fn row(fields: &[(LiteralKind, &str)]) -> Ev {
    Ev::Row(fields.iter().map(|(k, t)| (*k, t.as_bytes().to_vec())).collect())
}

fn rowb(fields: &[(LiteralKind, &[u8])]) -> Ev {
    Ev::Row(fields.iter().map(|(k, t)| (*k, t.to_vec())).collect())
}

fn set(text: &str) -> Ev {
    Ev::Set(text.as_bytes().to_vec())
}

fn other(text: &str) -> Ev {
    Ev::Other(text.as_bytes().to_vec())
}

fn err(kind: SqlErrorKind, offset: usize) -> Ev {
    Ev::Err(kind, offset)
}

fn unexpected(found: u8, expected: &'static str) -> SqlErrorKind {
    SqlErrorKind::UnexpectedByte { found, expected }
}

/// Runs `scanner` over `input`, offering `piece` more bytes after each NeedMore (`None`:
/// everything at once). Returns each event with the absolute offset after it.
fn run_with(mut sc: SqlScanner, input: &[u8], piece: Option<usize>) -> Vec<(Ev, usize)> {
    let mut avail = piece.map_or(input.len(), |_| 0);
    let mut pos = 0;
    let mut out = Vec::new();
    for _ in 0..(input.len() * 4 + 64) {
        let eof = avail == input.len();
        match sc.next(&input[pos..avail], eof) {
            Ok(SqlStep::NeedMore) => {
                assert!(!eof, "NeedMore at eof, input {:?}", String::from_utf8_lossy(input));
                avail = (avail + piece.unwrap_or(1)).min(input.len());
            }
            Ok(SqlStep::End) => return out,
            Ok(SqlStep::Event { event, consumed }) => {
                let at = pos;
                pos += consumed;
                assert!(pos <= avail);
                let ev = match event {
                    SqlEvent::Insert(h) => Ev::Insert(h.clone()),
                    SqlEvent::Row(r) => {
                        assert_eq!(r.raw.first(), Some(&b'('));
                        assert_eq!(r.raw.last(), Some(&b')'));
                        assert_eq!(at + consumed, pos);
                        Ev::Row(
                            r.fields
                                .iter()
                                .map(|l| {
                                    assert!(l.start < l.end && l.end <= r.raw.len());
                                    (l.kind, l.text(r.raw).to_vec())
                                })
                                .collect(),
                        )
                    }
                    SqlEvent::EndInsert => Ev::End,
                    SqlEvent::Set(t) => Ev::Set(t.to_vec()),
                    SqlEvent::Other(t) => Ev::Other(t.to_vec()),
                };
                out.push((ev, pos));
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

fn run(opts: SqlOptions, input: &[u8], piece: Option<usize>) -> Vec<(Ev, usize)> {
    run_with(SqlScanner::new(opts), input, piece)
}

/// Whole input and every piece size agree; returns the events.
fn events(opts: SqlOptions, input: &[u8]) -> Vec<Ev> {
    let whole = run(opts, input, None);
    for piece in 1..=7 {
        let cut = run(opts, input, Some(piece));
        assert_eq!(whole, cut, "piece size {piece} differs");
    }
    whole.into_iter().map(|(e, _)| e).collect()
}

fn check(opts: SqlOptions, input: &[u8], expected: &[Ev]) {
    assert_eq!(events(opts, input), expected);
}

macro_rules! parses_to {
    ($name:ident, $opts:expr, $input:expr, [$($ev:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            check($opts, AsRef::<[u8]>::as_ref($input), &[$($ev),*]);
        }
    };
}

// --- statements -------------------------------------------------------------------------

parses_to!(empty, DEF, "", []);
parses_to!(only_blanks_and_comments, DEF, " \n-- x\n# y\r\n/* z */\t--", []);
parses_to!(empty_statements, DEF, ";; ;\n;", []);

parses_to!(
    mydumper_file,
    DEF,
    "/*!40101 SET NAMES binary*/;\nINSERT INTO `t` VALUES (1,'a'),(2,'b');\n",
    [
        set("/*!40101 SET NAMES binary*/"),
        insert("t"),
        row(&[(N, "1"), (S, "'a'")]),
        row(&[(N, "2"), (S, "'b'")]),
        Ev::End,
    ]
);

parses_to!(
    dumpling_file,
    DEF,
    "/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n/*!40101 SET NAMES binary*/;\nINSERT INTO `t` (`a`,`b`) VALUES\n(1,'x'),\n(2,NULL);\n",
    [
        set("/*!40014 SET FOREIGN_KEY_CHECKS=0*/"),
        set("/*!40101 SET NAMES binary*/"),
        header(InsertVerb::Insert, None, "t", Some(&["a", "b"])),
        row(&[(N, "1"), (S, "'x'")]),
        row(&[(N, "2"), (Z, "NULL")]),
        Ev::End,
    ]
);

parses_to!(
    other_statements,
    DEF,
    "USE `db`;\nLOCK TABLES `t` WRITE;\n/*!40000 ALTER TABLE `t` DISABLE KEYS */;\nBEGIN;\nCOMMIT ;\nCREATE TABLE t (a int COMMENT 'x;y', b text) /* ; */;\nUNLOCK TABLES",
    [
        other("USE `db`"),
        other("LOCK TABLES `t` WRITE"),
        other("/*!40000 ALTER TABLE `t` DISABLE KEYS */"),
        other("BEGIN"),
        other("COMMIT"),
        other("CREATE TABLE t (a int COMMENT 'x;y', b text) /* ; */"),
        other("UNLOCK TABLES"),
    ]
);

parses_to!(
    set_statements,
    DEF,
    "SET NAMES utf8mb4;\nset @a = 'x;y', @b = \"z;\" ;\n/*!50003 SET @saved_cs_client      = @@character_set_client */ ;\nSETTINGS;",
    [
        set("SET NAMES utf8mb4"),
        set("set @a = 'x;y', @b = \"z;\""),
        set("/*!50003 SET @saved_cs_client      = @@character_set_client */"),
        other("SETTINGS"),
    ]
);

parses_to!(leading_comments_are_not_text, DEF, "-- MySQL dump\n#x\n/* c */ USE d -- tail\n;", [other("USE d -- tail")]);

parses_to!(
    mariadb_sandbox_line,
    DEF,
    "/*M!999999\\- enable the sandbox mode */\n-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n/*M!100616 SET NOTE_VERBOSITY=@@NOTE_VERBOSITY */;",
    [
        set("/*!40101 SET NAMES utf8mb4 */"),
        set("/*M!100616 SET NOTE_VERBOSITY=@@NOTE_VERBOSITY */"),
    ]
);

parses_to!(statement_without_final_delimiter, DEF, "SELECT 1;\nSELECT 2  \n", [other("SELECT 1"), other("SELECT 2")]);

parses_to!(
    crlf_everywhere,
    DEF,
    "SET a=1;\r\nINSERT INTO t\r\nVALUES\r\n(1),\r\n(2);\r\n",
    [set("SET a=1"), insert("t"), row(&[(N, "1")]), row(&[(N, "2")]), Ev::End]
);

// --- DELIMITER --------------------------------------------------------------------------

parses_to!(
    delimiter_block_with_trigger,
    DEF,
    "DELIMITER ;;\nCREATE TRIGGER `ins_film` AFTER INSERT ON `film` FOR EACH ROW BEGIN\n    INSERT INTO film_text (film_id, title)\n        VALUES (new.film_id, new.title);\n  END;;\n\nDELIMITER ;\nINSERT INTO t VALUES (1);",
    [
        other("CREATE TRIGGER `ins_film` AFTER INSERT ON `film` FOR EACH ROW BEGIN\n    INSERT INTO film_text (film_id, title)\n        VALUES (new.film_id, new.title);\n  END"),
        insert("t"),
        row(&[(N, "1")]),
        Ev::End,
    ]
);

parses_to!(
    mysqldump_trigger,
    DEF,
    "/*!50003 SET @saved_cs_client      = @@character_set_client */ ;\nDELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.a = ';';\nEND */;;\nDELIMITER ;\n/*!50003 SET character_set_client  = @saved_cs_client */ ;\n",
    [
        set("/*!50003 SET @saved_cs_client      = @@character_set_client */"),
        other("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN\n  SET NEW.a = ';';\nEND */"),
        set("/*!50003 SET character_set_client  = @saved_cs_client */"),
    ]
);

parses_to!(
    delimiter_slashes_and_dollars,
    DEF,
    "delimiter //\nCREATE PROCEDURE p() BEGIN SELECT 1/2; END//\nDELIMITER $$ ignored rest\nCREATE FUNCTION f() RETURNS int RETURN 1$$\nDelimiter ;\nSELECT 3;",
    [
        other("CREATE PROCEDURE p() BEGIN SELECT 1/2; END"),
        other("CREATE FUNCTION f() RETURNS int RETURN 1"),
        other("SELECT 3"),
    ]
);

parses_to!(
    insert_with_multibyte_delimiter,
    DEF,
    "DELIMITER ;;\nINSERT INTO t VALUES (1),(';;') ;;\nDELIMITER ;\n",
    [insert("t"), row(&[(N, "1")]), row(&[(S, "';;'")]), Ev::End]
);

parses_to!(
    single_delimiter_byte_inside_multibyte_block,
    DEF,
    "DELIMITER ;;\nINSERT INTO t VALUES (1);",
    [insert("t"), row(&[(N, "1")]), err(SqlErrorKind::ExpectedRowOrEnd(b';'), 37)]
);

parses_to!(delimiter_without_argument, DEF, "DELIMITER \nSELECT 1;", [err(SqlErrorKind::BadDelimiter, 0)]);

parses_to!(delimiter_at_eof, DEF, "DELIMITER", [err(SqlErrorKind::BadDelimiter, 0)]);

parses_to!(delimiter_like_identifier, DEF, "DELIMITERS;", [other("DELIMITERS")]);

// --- INSERT headers ---------------------------------------------------------------------

parses_to!(
    replace_into,
    DEF,
    "REPLACE INTO t VALUES (1);",
    [header(InsertVerb::Replace, None, "t", None), row(&[(N, "1")]), Ev::End]
);

parses_to!(
    insert_ignore_value_keyword,
    DEF,
    "insert ignore into t value (1);",
    [header(InsertVerb::InsertIgnore, None, "t", None), row(&[(N, "1")]), Ev::End]
);

parses_to!(
    insert_modifiers_without_into,
    DEF,
    "INSERT LOW_PRIORITY IGNORE t VALUES(),(1)",
    [header(InsertVerb::InsertIgnore, None, "t", None), row(&[]), row(&[(N, "1")]), Ev::End,]
);

parses_to!(
    qualified_quoted_names,
    DEF,
    "INSERT INTO `my db`.`ta``ble` (`a`, `b``c`,d, \"e\") VALUES (1,2,3,4);",
    [
        header(InsertVerb::Insert, Some("my db"), "ta`ble", Some(&["a", "b`c", "d", "e"])),
        row(&[(N, "1"), (N, "2"), (N, "3"), (N, "4")]),
        Ev::End,
    ]
);

parses_to!(
    qualified_bare_names_with_blanks,
    DEF,
    "insert into db . t_1$ ( ) values ( )",
    [header(InsertVerb::Insert, Some("db"), "t_1$", Some(&[])), row(&[]), Ev::End,]
);

parses_to!(
    comments_between_header_tokens,
    DEF,
    "INSERT/*a*/INTO -- b\n`t`#c\n(`x`/*d*/)\n-- e\nVALUES/*f*/(1)/*g*/,-- h\n(2)\n# i\n;",
    [header(InsertVerb::Insert, None, "t", Some(&["x"])), row(&[(N, "1")]), row(&[(N, "2")]), Ev::End,]
);

parses_to!(
    executable_comment_in_header,
    DEF,
    "INSERT /*!50000 IGNORE */ INTO t VALUES (1);",
    [header(InsertVerb::InsertIgnore, None, "t", None), row(&[(N, "1")]), Ev::End]
);

parses_to!(
    executable_comment_inside_row,
    DEF,
    "INSERT INTO `address` VALUES (1,'x',/*!50705 0x0101,*/'2014-09-25'),(2,NULL,/*!50705 0x02,*/'y');",
    [
        insert("address"),
        row(&[(N, "1"), (S, "'x'"), (H, "0x0101"), (S, "'2014-09-25'")]),
        row(&[(N, "2"), (Z, "NULL"), (H, "0x02"), (S, "'y'")]),
        Ev::End,
    ]
);

parses_to!(
    unicode_names_and_values,
    DEF,
    "INSERT INTO `表😀` VALUES ('😀 é',_utf8mb4'𝄞');",
    [insert("表😀"), row(&[(S, "'😀 é'"), (S, "_utf8mb4'𝄞'")]), Ev::End,]
);

// --- literals ---------------------------------------------------------------------------

parses_to!(
    every_literal_form,
    DEF,
    "INSERT INTO t VALUES (NULL,null,TRUE,false,-1,+1.5,-.5,1e10,1.5E-3,1.,0,007,0x1F,X'1f',x'',0b101,b'101',B'0',_binary'abc',_utf8mb4 'abc',_latin1 X'41',_binary 0x41,_binary b'1',N'abc',\"dq\",'');",
    [
        insert("t"),
        row(&[
            (Z, "NULL"),
            (Z, "null"),
            (T, "TRUE"),
            (T, "false"),
            (N, "-1"),
            (N, "+1.5"),
            (N, "-.5"),
            (N, "1e10"),
            (N, "1.5E-3"),
            (N, "1."),
            (N, "0"),
            (N, "007"),
            (H, "0x1F"),
            (H, "X'1f'"),
            (H, "x''"),
            (B, "0b101"),
            (B, "b'101'"),
            (B, "B'0'"),
            (S, "_binary'abc'"),
            (S, "_utf8mb4 'abc'"),
            (H, "_latin1 X'41'"),
            (H, "_binary 0x41"),
            (B, "_binary b'1'"),
            (S, "N'abc'"),
            (S, "\"dq\""),
            (S, "''"),
        ]),
        Ev::End,
    ]
);

parses_to!(
    convert_using_utf8mb4,
    DEF,
    r#"INSERT INTO t VALUES (1,CONVERT("{\"52\": 1}" USING UTF8MB4)),(2, convert( _utf8mb4'a)' using utf8 ) ),(3,CONVERT(N'b' USING utf8mb3));"#,
    [
        insert("t"),
        row(&[(N, "1"), (S, r#"CONVERT("{\"52\": 1}" USING UTF8MB4)"#)]),
        row(&[(N, "2"), (S, "convert( _utf8mb4'a)' using utf8 )")]),
        row(&[(N, "3"), (S, "CONVERT(N'b' USING utf8mb3)")]),
        Ev::End,
    ]
);

// A conversion into another character set would change the value: not a literal.
parses_to!(
    convert_using_latin1,
    DEF,
    "INSERT INTO t VALUES (CONVERT('a' USING latin1))",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 22)]
);
parses_to!(
    convert_of_a_number,
    DEF,
    "INSERT INTO t VALUES (CONVERT(1 USING utf8mb4))",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 22)]
);
parses_to!(
    convert_of_a_column,
    DEF,
    "INSERT INTO t VALUES (CONVERT(a, CHAR))",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 30)]
);

parses_to!(
    string_escapes,
    DEF,
    r#"INSERT INTO t VALUES ('a\'b','a''b',"a""b","a\"b",'\\','\0\b\n\r\t\Z\%\_\x','\\\'', 'x;)(,');"#,
    [
        insert("t"),
        row(&[
            (S, r"'a\'b'"),
            (S, "'a''b'"),
            (S, r#""a""b""#),
            (S, r#""a\"b""#),
            (S, r"'\\'"),
            (S, r"'\0\b\n\r\t\Z\%\_\x'"),
            (S, r"'\\\''"),
            (S, "'x;)(,'"),
        ]),
        Ev::End,
    ]
);

parses_to!(
    no_backslash_escapes_mode,
    NBE,
    r#"INSERT INTO t VALUES ('a\','c:\dir\','it''s',"\");"#,
    [insert("t"), row(&[(S, r"'a\'"), (S, r"'c:\dir\'"), (S, "'it''s'"), (S, r#""\""#)]), Ev::End,]
);

parses_to!(
    backslash_quote_is_escaped_by_default,
    DEF,
    r"INSERT INTO t VALUES ('a\',1);",
    [insert("t"), err(SqlErrorKind::UnterminatedString, 22)]
);

#[test]
fn nul_and_invalid_utf8_pass() {
    let mut input = b"INSERT INTO t VALUES ('".to_vec();
    input.extend_from_slice(&[0, 0xff, 0xfe, b'\\', 0, 0x80]);
    input.extend_from_slice(b"',_binary'\xc3');");
    let mut s = b"'".to_vec();
    s.extend_from_slice(&[0, 0xff, 0xfe, b'\\', 0, 0x80, b'\'']);
    check(DEF, &input, &[insert("t"), rowb(&[(S, &s), (S, b"_binary'\xc3'")]), Ev::End]);
}

parses_to!(
    number_followed_by_comment,
    DEF,
    "INSERT INTO t VALUES (1-- c\n,2#x\n,3/* y */)",
    [insert("t"), row(&[(N, "1"), (N, "2"), (N, "3")]), Ev::End]
);

// --- errors -----------------------------------------------------------------------------

parses_to!(
    unterminated_string,
    DEF,
    "INSERT INTO t VALUES (1,'abc",
    [insert("t"), err(SqlErrorKind::UnterminatedString, 24)]
);

parses_to!(
    truncated_row,
    DEF,
    "INSERT INTO t VALUES (1),(1,2",
    [insert("t"), row(&[(N, "1")]), err(SqlErrorKind::UnterminatedRow, 25)]
);

parses_to!(
    truncated_row_after_comma,
    DEF,
    "INSERT INTO t VALUES (1,",
    [insert("t"), err(SqlErrorKind::UnterminatedRow, 21)]
);

parses_to!(
    values_without_rows,
    DEF,
    "INSERT INTO t VALUES",
    [insert("t"), err(SqlErrorKind::UnexpectedEnd { expected: "a row" }, 20)]
);

parses_to!(
    garbage_after_row,
    DEF,
    "INSERT INTO t VALUES (1) x",
    [insert("t"), row(&[(N, "1")]), err(SqlErrorKind::ExpectedRowOrEnd(b'x'), 25)]
);

parses_to!(
    missing_comma_between_values,
    DEF,
    "INSERT INTO t VALUES (1 2)",
    [insert("t"), err(unexpected(b'2', "',' or ')' after a value"), 24)]
);

parses_to!(
    trailing_comma_in_row,
    DEF,
    "INSERT INTO t VALUES (1,)",
    [insert("t"), err(unexpected(b')', "a value"), 24)]
);

parses_to!(
    row_must_start_with_paren,
    DEF,
    "INSERT INTO t VALUES (1), 2",
    [insert("t"), row(&[(N, "1")]), err(unexpected(b'2', "'(' to start a row"), 26)]
);

parses_to!(
    insert_select,
    DEF,
    "INSERT INTO t SELECT * FROM u;",
    [err(SqlErrorKind::Unsupported("INSERT ... SELECT"), 14)]
);

parses_to!(
    insert_columns_select,
    DEF,
    "INSERT INTO t (a) SELECT 1;",
    [err(SqlErrorKind::Unsupported("INSERT ... SELECT"), 18)]
);

parses_to!(
    insert_parenthesized_select,
    DEF,
    "INSERT INTO t (SELECT 1);",
    [err(SqlErrorKind::Unsupported("INSERT ... SELECT"), 15)]
);

parses_to!(insert_set, DEF, "INSERT INTO t SET a=1;", [err(SqlErrorKind::Unsupported("INSERT ... SET"), 14)]);

parses_to!(
    on_duplicate_key_update,
    DEF,
    "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a=1;",
    [insert("t"), row(&[(N, "1")]), err(SqlErrorKind::Unsupported("ON DUPLICATE KEY UPDATE"), 25)]
);

parses_to!(
    function_call_value,
    DEF,
    "INSERT INTO t VALUES (now())",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 22)]
);

parses_to!(
    default_keyword_value,
    DEF,
    "INSERT INTO t VALUES (DEFAULT)",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 22)]
);

parses_to!(bad_numbers, DEF, "INSERT INTO t VALUES (12abc)", [insert("t"), err(SqlErrorKind::BadNumber, 22)]);
parses_to!(bad_number_two_dots, DEF, "INSERT INTO t VALUES (1.2.3)", [insert("t"), err(SqlErrorKind::BadNumber, 22)]);
parses_to!(bad_number_sign_only, DEF, "INSERT INTO t VALUES (-)", [insert("t"), err(SqlErrorKind::BadNumber, 22)]);
parses_to!(bad_number_exponent, DEF, "INSERT INTO t VALUES (1e)", [insert("t"), err(SqlErrorKind::BadNumber, 22)]);
parses_to!(bad_number_double_sign, DEF, "INSERT INTO t VALUES (--1)", [insert("t"), err(SqlErrorKind::BadNumber, 22)]);
parses_to!(bad_hex_odd, DEF, "INSERT INTO t VALUES (X'1')", [insert("t"), err(SqlErrorKind::BadHex, 22)]);
parses_to!(bad_hex_digit, DEF, "INSERT INTO t VALUES (x'zz')", [insert("t"), err(SqlErrorKind::BadHex, 22)]);
parses_to!(bad_hex_empty, DEF, "INSERT INTO t VALUES (0x)", [insert("t"), err(SqlErrorKind::BadHex, 22)]);
parses_to!(bad_hex_tail, DEF, "INSERT INTO t VALUES (0x1fg)", [insert("t"), err(SqlErrorKind::BadHex, 22)]);
parses_to!(bad_bits, DEF, "INSERT INTO t VALUES (b'102')", [insert("t"), err(SqlErrorKind::BadBits, 22)]);
parses_to!(bad_bits_prefixed, DEF, "INSERT INTO t VALUES (0b2)", [insert("t"), err(SqlErrorKind::BadBits, 22)]);
parses_to!(
    bad_introducer,
    DEF,
    "INSERT INTO t VALUES (_binary 12)",
    [insert("t"), err(SqlErrorKind::UnsupportedValue, 22)]
);

parses_to!(
    unterminated_comment_at_top,
    DEF,
    "SELECT 1; /* abc",
    [other("SELECT 1"), err(SqlErrorKind::UnterminatedComment, 10)]
);

parses_to!(
    unterminated_comment_in_row,
    DEF,
    "INSERT INTO t VALUES (1 /* x",
    [insert("t"), err(SqlErrorKind::UnterminatedComment, 24)]
);

parses_to!(unterminated_string_in_statement, DEF, "SET a='x;", [err(SqlErrorKind::UnterminatedString, 6)]);

parses_to!(
    unterminated_identifier_in_statement,
    DEF,
    "CREATE TABLE `t (a int);",
    [err(SqlErrorKind::UnterminatedIdentifier, 13)]
);

parses_to!(
    unterminated_identifier_in_header,
    DEF,
    "INSERT INTO `t VALUES (1);",
    [err(SqlErrorKind::UnterminatedIdentifier, 12)]
);

parses_to!(empty_identifier, DEF, "INSERT INTO `` VALUES (1);", [err(SqlErrorKind::BadIdentifier, 12)]);

parses_to!(
    truncated_header,
    DEF,
    "SET a=1; INSERT INTO",
    [set("SET a=1"), err(SqlErrorKind::UnexpectedEnd { expected: "a table name" }, 9)]
);

parses_to!(
    header_without_values,
    DEF,
    "INSERT INTO t (a) (1);",
    [err(SqlErrorKind::Unsupported("INSERT ... SELECT"), 18)]
);

parses_to!(header_bad_token, DEF, "INSERT INTO t VALUS (1);", [err(unexpected(b'V', "VALUES"), 14)]);

#[test]
fn non_utf8_identifier_is_an_error() {
    check(DEF, b"INSERT INTO `\xff` VALUES (1)", &[err(SqlErrorKind::BadIdentifier, 12)]);
}

// --- scanner API ------------------------------------------------------------------------

#[test]
fn resume_in_values_continues_a_statement() {
    let h = InsertHeader { verb: InsertVerb::Replace, table: "t".into(), database: Some("d".into()), columns: None };
    let input = b" ,(3),\n(4);\nINSERT INTO u VALUES (5);";
    let make = || SqlScanner::resume_in_values(DEF, h.clone());
    let whole = run_with(make(), input, None);
    for piece in 1..=7 {
        assert_eq!(whole, run_with(make(), input, Some(piece)));
    }
    let evs: Vec<Ev> = whole.into_iter().map(|(e, _)| e).collect();
    assert_eq!(evs, [row(&[(N, "3")]), row(&[(N, "4")]), Ev::End, insert("u"), row(&[(N, "5")]), Ev::End]);
    let mut sc = make();
    assert_eq!(sc.header(), Some(&h));
    assert!(matches!(sc.next(b";", true), Ok(SqlStep::Event { event: SqlEvent::EndInsert, consumed: 1 })));
    assert_eq!(sc.header(), None);
}

#[test]
fn header_is_available_while_rows_are_scanned() {
    let mut sc = SqlScanner::new(DEF);
    assert_eq!(sc.header(), None);
    let input = b"INSERT INTO t VALUES (1);";
    let Ok(SqlStep::Event { consumed, .. }) = sc.next(input, true) else { panic!() };
    assert_eq!(consumed, 20);
    assert_eq!(sc.header().map(|h| h.table.as_str()), Some("t"));
}

#[test]
fn row_offsets_are_relative_to_the_tuple() {
    let mut sc = SqlScanner::new(DEF);
    let input = b"INSERT INTO t VALUES ( 1 , 'ab' )";
    let Ok(SqlStep::Event { consumed, .. }) = sc.next(input, true) else { panic!() };
    let Ok(SqlStep::Event { event: SqlEvent::Row(r), consumed: c2 }) = sc.next(&input[consumed..], true) else {
        panic!()
    };
    assert_eq!(r.raw, b"( 1 , 'ab' )");
    assert_eq!(r.fields, [Literal { kind: N, start: 2, end: 3 }, Literal { kind: S, start: 6, end: 10 },]);
    assert_eq!(r.text(1), Some(&b"'ab'"[..]));
    assert_eq!(consumed + c2, input.len());
}

#[test]
fn need_more_does_not_consume_or_change_the_delimiter() {
    let mut sc = SqlScanner::new(DEF);
    let input = b"DELIMITER ;;\nSELECT 1;;";
    assert!(matches!(sc.next(&input[..20], false), Ok(SqlStep::NeedMore)));
    assert_eq!(sc.delimiter(), b";");
    let Ok(SqlStep::Event { event: SqlEvent::Other(t), consumed }) = sc.next(input, false) else { panic!() };
    assert_eq!((t, consumed), (&b"SELECT 1"[..], input.len()));
    assert_eq!(sc.delimiter(), b";;");
}

#[test]
fn set_options_switches_escaping() {
    let input = br"SET sql_mode='NO_BACKSLASH_ESCAPES'; INSERT INTO t VALUES ('a\');";
    let mut sc = SqlScanner::new(DEF);
    let mut pos = 0;
    let mut texts = Vec::new();
    loop {
        match sc.next(&input[pos..], true).expect("scans") {
            SqlStep::Event { event, consumed } => {
                if let SqlEvent::Set(_) = event {
                    // The caller reads sql_mode from the text; here we know it.
                    pos += consumed;
                    sc.set_options(NBE);
                    continue;
                }
                if let SqlEvent::Row(r) = event {
                    texts.push(r.text(0).map(<[u8]>::to_vec));
                }
                pos += consumed;
            }
            SqlStep::End => break,
            SqlStep::NeedMore => panic!(),
        }
    }
    assert_eq!(texts, [Some(br"'a\'".to_vec())]);
}

#[test]
fn error_messages_read_well() {
    let e = SqlError { offset: 3, kind: SqlErrorKind::ExpectedRowOrEnd(b'x') };
    assert_eq!(e.to_string(), "expected ',' or the statement delimiter after a row but found 'x'");
    assert_eq!(SqlErrorKind::UnterminatedString.to_string(), "unterminated string literal");
    assert_eq!(unexpected(0, "a value").to_string(), "expected a value but found byte 0x00");
    assert_eq!(
        SqlErrorKind::Unsupported("INSERT ... SELECT").to_string(),
        "INSERT ... SELECT is not supported (only INSERT/REPLACE ... VALUES with literal values is)"
    );
    let _: &dyn std::error::Error = &e;
}

// --- decode_literal ---------------------------------------------------------------------

fn dec(text: &str, kind: LiteralKind) -> Value<'_> {
    decode_literal(text.as_bytes(), kind, DEF)
}

fn bytes(b: &[u8]) -> Value<'_> {
    Value::Bytes(Cow::Borrowed(b))
}

#[test]
fn decode_null_number_bool() {
    assert_eq!(dec("NULL", Z), Value::Null);
    assert_eq!(dec("-1.5e3", N), Value::Number(b"-1.5e3"));
    assert_eq!(dec("TRUE", T), Value::UInt(1));
    assert_eq!(dec("true", T), Value::UInt(1));
    assert_eq!(dec("FALSE", T), Value::UInt(0));
}

#[test]
fn decode_strings() {
    assert_eq!(dec("'abc'", S), bytes(b"abc"));
    assert!(matches!(dec("'abc'", S), Value::Bytes(Cow::Borrowed(_))));
    assert_eq!(dec("''", S), bytes(b""));
    assert_eq!(dec("'a''b'", S), bytes(b"a'b"));
    assert_eq!(dec(r#""a""b""#, S), bytes(b"a\"b"));
    assert_eq!(dec(r#"'a""b'"#, S), bytes(b"a\"\"b"));
    assert_eq!(dec(r#"'\0\'\"\b\n\r\t\Z\\\%\_\x\q'"#, S), bytes(b"\0'\"\x08\n\r\t\x1a\\\\%\\_xq"));
    assert_eq!(dec("_binary'ab'", S), bytes(b"ab"));
    assert_eq!(dec("_utf8mb4 \n'ab'", S), bytes(b"ab"));
    assert_eq!(dec("N'ab'", S), bytes(b"ab"));
    assert_eq!(dec(r#"CONVERT("{\"a\": 1}" USING UTF8MB4)"#, S), bytes(br#"{"a": 1}"#));
    assert_eq!(dec("convert( _utf8mb4'a)''b' using utf8 )", S), bytes(b"a)'b"));
    assert_eq!(dec("CONVERT(N'x' USING utf8mb3)", S), bytes(b"x"));
    assert_eq!(dec("'😀'", S), bytes("😀".as_bytes()));
    assert_eq!(decode_literal(br"'a\'", S, NBE), bytes(br"a\"));
    assert_eq!(decode_literal(br"'a\n''b'", S, NBE), bytes(br"a\n'b"));
    assert_eq!(decode_literal(b"'\0\xff'", S, DEF), bytes(b"\0\xff"));
}

#[test]
fn decode_hex() {
    assert_eq!(dec("0x1F", H), bytes(&[0x1f]));
    assert_eq!(dec("0x123", H), bytes(&[0x01, 0x23]));
    assert_eq!(dec("X'00ff'", H), bytes(&[0x00, 0xff]));
    assert_eq!(dec("x''", H), bytes(&[]));
    assert_eq!(dec("_latin1 X'41'", H), bytes(b"A"));
    assert_eq!(dec("_binary 0x4142", H), bytes(b"AB"));
}

#[test]
fn decode_bits() {
    assert_eq!(dec("b'101'", B), Value::UInt(5));
    assert_eq!(dec("B''", B), Value::UInt(0));
    assert_eq!(dec("0b11111111", B), Value::UInt(255));
    assert_eq!(dec("_binary b'1'", B), Value::UInt(1));
    let max = format!("b'{}'", "1".repeat(64));
    assert_eq!(dec(&max, B), Value::UInt(u64::MAX));
    let padded = format!("b'{}1'", "0".repeat(100));
    assert_eq!(dec(&padded, B), Value::UInt(1));
    let wide = format!("b'1{}'", "0".repeat(64));
    assert_eq!(dec(&wide, B), bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn decode_every_scanned_literal() {
    // Whatever the scanner accepts decodes without panicking, and strings round-trip.
    let input = r#"INSERT INTO t VALUES (NULL,-1,'a\'b',"c""d",0x1,X'ab',b'1',0b0,TRUE,_binary'x');"#;
    let mut sc = SqlScanner::new(DEF);
    let mut pos = 0;
    let mut values = Vec::new();
    while let SqlStep::Event { event, consumed } = sc.next(&input.as_bytes()[pos..], true).expect("scans") {
        if let SqlEvent::Row(r) = event {
            for l in r.fields {
                values.push(format!("{:?}", decode_literal(l.text(r.raw), l.kind, DEF)));
            }
        }
        pos += consumed;
    }
    assert_eq!(values.len(), 10);
    assert_eq!(values[2], format!("{:?}", bytes(b"a'b")));
    assert_eq!(values[3], format!("{:?}", bytes(b"c\"d")));
}

// --- random input -----------------------------------------------------------------------

const ALPHABET: &[&[u8]] = &[
    b"INSERT INTO t VALUES ",
    b"REPLACE INTO `d`.`t` (`a`) VALUE ",
    b"(",
    b")",
    b",",
    b"'",
    b"\"",
    b"\\",
    b";",
    b"-- ",
    b"--",
    b"-",
    b" ",
    b"\n",
    b"\r",
    b"/*",
    b"*/",
    b"/*!40101 ",
    b"/*M!999999\\- x */",
    b"#",
    b"0x1F",
    b"0b1",
    b"-1.5e3",
    b".5",
    b"NULL",
    b"true",
    b"_binary",
    b"X'",
    b"b'",
    b"N'",
    b"DELIMITER ;;\n",
    b"DELIMITER ;\n",
    b";;",
    b"SET ",
    b"`",
    b"abc",
    b"1",
    b"ON ",
    b"SELECT ",
    b"\0",
    b"\xf0\x9f\x98\x80",
];

/// Random inputs never panic, always finish, and give the same events however they are cut.
#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(0x5eed_0001);
    for case in 0..3000 {
        let mut input = if case % 3 == 0 { b"INSERT INTO t VALUES (".to_vec() } else { Vec::new() };
        input.extend(rng.bytes(ALPHABET, 40));
        let opts = if case % 5 == 0 { NBE } else { DEF };
        let whole = run(opts, &input, None);
        let piece = 1 + case % 7;
        assert_eq!(whole, run(opts, &input, Some(piece)), "case {case}: {:?}", String::from_utf8_lossy(&input));
        for (ev, _) in &whole {
            if let Ev::Row(fields) = ev {
                for (kind, text) in fields {
                    let _ = decode_literal(text, *kind, opts);
                }
            }
        }
    }
}

#[test]
fn random_raw_bytes_never_panic() {
    let mut rng = Rng::new(7);
    for _ in 0..2000 {
        let len = rng.below(64);
        let input: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let whole = run(DEF, &input, None);
        assert_eq!(whole, run(DEF, &input, Some(3)));
        for kind in [Z, N, S, H, B, T] {
            let _ = decode_literal(&input, kind, DEF);
            let _ = decode_literal(&input, kind, NBE);
        }
    }
}

// --- a real dump ------------------------------------------------------------------------

/// The Sakila sample (a hand-written dump with triggers, DELIMITER blocks, BLOBs and
/// `/*!50705 …*/` spatial values inside rows), when the shared corpus is present.
#[test]
fn sakila_corpus() {
    let dir = std::path::Path::new("/work/shared/corpus/sakila");
    let (Ok(schema), Ok(data)) =
        (std::fs::read(dir.join("sakila-mv-schema.sql")), std::fs::read(dir.join("sakila-mv-data.sql")))
    else {
        eprintln!("sakila corpus not found; skipped");
        return;
    };
    for input in [&schema, &data] {
        let whole = run(DEF, input, None);
        assert!(
            !whole.iter().any(|(e, _)| matches!(e, Ev::Err(..))),
            "{:?}",
            whole.iter().find(|(e, _)| matches!(e, Ev::Err(..)))
        );
        assert_eq!(whole, run(DEF, input, Some(4096)));
    }
    let mut rows = std::collections::BTreeMap::<String, usize>::new();
    let mut table = String::new();
    for (ev, _) in run(DEF, &data, None) {
        match ev {
            Ev::Insert(h) => table = h.table,
            Ev::Row(_) => *rows.entry(table.clone()).or_default() += 1,
            _ => {}
        }
    }
    let expected = [
        ("actor", 200),
        ("address", 603),
        ("category", 16),
        ("city", 600),
        ("country", 109),
        ("customer", 599),
        ("film", 1000),
        ("film_actor", 5462),
        ("film_category", 1000),
        ("inventory", 4581),
        ("language", 6),
        ("payment", 16049),
        ("rental", 16044),
        ("staff", 2),
        ("store", 2),
    ];
    let expected: std::collections::BTreeMap<String, usize> =
        expected.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    assert_eq!(rows, expected);
    let triggers = [&schema, &data]
        .into_iter()
        .flat_map(|input| run(DEF, input, None))
        .filter(|(e, _)| matches!(e, Ev::Other(t) if t.starts_with(b"CREATE TRIGGER")))
        .count();
    assert_eq!(triggers, 6);
}

#[test]
fn statements_only_mode_passes_inserts_through_as_statements() {
    let input = b"CREATE TABLE t (a int);\nINSERT INTO t SELECT * FROM u;\nINSERT INTO t VALUES (1);\n";
    let mut scanner = SqlScanner::statements_only(SqlOptions::default());
    let mut at = 0;
    let mut texts = Vec::new();
    loop {
        match scanner.next(&input[at..], true).unwrap() {
            SqlStep::Event { event: SqlEvent::Other(text), consumed } => {
                texts.push(String::from_utf8(text.to_vec()).unwrap());
                at += consumed;
            }
            SqlStep::End => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(texts, ["CREATE TABLE t (a int)", "INSERT INTO t SELECT * FROM u", "INSERT INTO t VALUES (1)"]);
}
