//! Statements of a schema file (CREATE TABLE / VIEW, triggers in DELIMITER blocks, routines),
//! split with the same scanner as the data files so quoting and comments agree.

use hoist_parse::sql::{SqlEvent, SqlOptions, SqlScanner, SqlStep};

/// What a schema file holds, in order. SET statements are kept: a trigger file's `SET sql_mode`
/// matters for the trigger that follows.
///
/// mydumper 0.10 writes triggers and routines without `DELIMITER`, so a routine body's own `;`
/// would end it early: pieces are joined again while a `BEGIN`/`CASE` block is open.
pub fn statements(file: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut depth = 0i64;
    for piece in pieces(file, bytes)? {
        if depth > 0 {
            let last = out.last_mut().expect("a block is open inside a statement");
            last.push_str(";\n");
            last.push_str(&piece);
        } else {
            out.push(piece.clone());
        }
        depth = (depth + block_depth_change(&piece)).max(0);
    }
    Ok(out)
}

/// How many compound blocks a piece of SQL opens (BEGIN, CASE) minus those it closes (END,
/// END CASE). `END IF`/`END LOOP`/`END WHILE`/`END REPEAT` close blocks whose openers are not
/// counted either. Quoted text and comments are skipped.
fn block_depth_change(sql: &str) -> i64 {
    let words = words(sql.as_bytes());
    let mut depth = 0i64;
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "begin" | "case" => depth += 1,
            "end" => match words.get(i + 1).map(String::as_str) {
                Some("if" | "loop" | "while" | "repeat") => i += 1,
                Some("case") => {
                    depth -= 1;
                    i += 1;
                }
                _ => depth -= 1,
            },
            _ => {}
        }
        i += 1;
    }
    depth
}

/// Lower-case bare words of SQL text, outside strings, quoted names and comments.
fn words(s: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < s.len() && s[i] != b {
                    if s[i] == b'\\' && b != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            b'-' if s.get(i + 1) == Some(&b'-') => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < s.len() && !(s[i] == b'*' && s[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_' || s[i] == b'$') {
                    i += 1;
                }
                out.push(String::from_utf8_lossy(&s[start..i]).to_ascii_lowercase());
            }
            _ => i += 1,
        }
    }
    out
}

/// Statements as the scanner splits them: at each delimiter outside quotes and comments.
fn pieces(file: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut scanner = SqlScanner::statements_only(SqlOptions::default());
    let mut out = Vec::new();
    let mut at = 0;
    // A UTF-8 byte-order mark is not part of the first statement.
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        at = 3;
    }
    loop {
        match scanner.next(&bytes[at..], true) {
            Ok(SqlStep::End) | Ok(SqlStep::NeedMore) => return Ok(out),
            Ok(SqlStep::Event { event, consumed }) => {
                match event {
                    SqlEvent::Set(text) | SqlEvent::Other(text) => {
                        out.push(String::from_utf8_lossy(text).trim().to_string())
                    }
                    SqlEvent::Insert(_) | SqlEvent::Row(_) | SqlEvent::EndInsert => {
                        return Err(format!("{file}: a schema file holds an INSERT statement at byte {at}"))
                    }
                }
                at += consumed;
            }
            Err(e) => return Err(format!("{file} (byte {}): {}", at + e.offset, e.kind)),
        }
    }
}

/// The first statement whose head (see [`normalized_head`]) satisfies `pred`.
pub fn find(statements: &[String], pred: impl Fn(&str) -> bool) -> Option<&String> {
    statements.iter().find(|s| pred(&normalized_head(s)))
}

/// The CREATE TABLE statement of a table's schema file.
pub fn create_table(path: &str, bytes: &[u8]) -> Result<String, String> {
    find(&statements(path, bytes)?, is_create_table)
        .cloned()
        .ok_or_else(|| format!("{path}: no CREATE TABLE statement in the schema file"))
}

/// Lower-case head of a statement with `/*!NNNNN` and `*/` wrappers removed, e.g. "create table `t` (".
pub fn normalized_head(s: &str) -> String {
    let mut t = s.trim();
    if let Some(rest) = t.strip_prefix("/*!") {
        t = rest.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start();
    }
    t.chars().take(200).collect::<String>().to_ascii_lowercase()
}

pub fn is_create_table(head: &str) -> bool {
    head.starts_with("create table") || head.starts_with("create temporary table")
}

pub fn is_create_view(head: &str) -> bool {
    head.starts_with("create") && head.contains(" view ") && !head.starts_with("create table")
}

/// What a CREATE statement of a trigger or routine file makes: its kind ("trigger",
/// "routine" for functions and procedures, "event") and its name as written, without a database
/// qualifier. None for the statements around it (SET, DROP ... IF EXISTS); a CREATE of another
/// kind is a "statement", named by its first words.
pub fn created_object(sql: &str) -> Option<(&'static str, String)> {
    let words = name_words(sql);
    let lower = |i: usize| words.get(i).map(|w| w.to_ascii_lowercase());
    if lower(0).as_deref() != Some("create") {
        return None;
    }
    let at = words.iter().position(|w| {
        ["trigger", "function", "procedure", "event", "table", "view", "index"]
            .contains(&w.to_ascii_lowercase().as_str())
    });
    let kind = match at.and_then(lower).as_deref() {
        Some("trigger") => "trigger",
        Some("function" | "procedure") => "routine",
        Some("event") => "event",
        _ => return Some(("statement", words.iter().take(4).cloned().collect::<Vec<_>>().join(" "))),
    };
    let mut i = at? + 1;
    if lower(i).as_deref() == Some("if") {
        i += 3;
    }
    let mut name = words.get(i)?.clone();
    if words.get(i + 1).map(String::as_str) == Some(".") {
        name = words.get(i + 2)?.clone();
    }
    Some((kind, name))
}

/// Words of the start of a statement, backquoted names unquoted, `.` and `(` on their own,
/// version-comment markers dropped; enough to find an object's name.
fn name_words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > 40 {
            break;
        }
        match c {
            '`' => {
                let mut w = String::new();
                while let Some(c) = chars.next() {
                    if c == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            w.push('`');
                            continue;
                        }
                        break;
                    }
                    w.push(c);
                }
                out.push(w);
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'!') {
                    chars.next();
                    while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                        chars.next();
                    }
                }
            }
            '*' if chars.peek() == Some(&'/') => {
                chars.next();
            }
            '.' | '(' | ')' | '=' | '@' | ',' | ';' => out.push(c.to_string()),
            c if c.is_whitespace() => {}
            c => {
                let mut w = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || ".()=@,;`*".contains(n) {
                        break;
                    }
                    w.push(n);
                    chars.next();
                }
                out.push(w);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_objects_are_named() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("SET character_set_client = utf8mb4", None),
            ("DROP PROCEDURE IF EXISTS `p`", None),
            (
                "CREATE DEFINER=`root`@`127.0.0.1` TRIGGER customer_create_date BEFORE INSERT ON customer",
                Some(("trigger", "customer_create_date")),
            ),
            ("CREATE DEFINER=`root`@`%` TRIGGER `ins_film` AFTER INSERT", Some(("trigger", "ins_film"))),
            (
                "CREATE DEFINER=`a`@`b` FUNCTION `get_customer_balance`(p INT)",
                Some(("routine", "get_customer_balance")),
            ),
            ("CREATE PROCEDURE IF NOT EXISTS db.`a``b`(IN x INT)", Some(("routine", "a`b"))),
            (
                "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t1 BEFORE",
                Some(("trigger", "t1")),
            ),
            ("CREATE DEFINER=CURRENT_USER EVENT `e` ON SCHEDULE EVERY 1 DAY DO", Some(("event", "e"))),
        ];
        for (sql, want) in cases {
            assert_eq!(created_object(sql).as_ref().map(|(k, n)| (*k, n.as_str())), *want, "{sql}");
        }
    }

    #[test]
    fn routine_bodies_without_delimiter_stay_whole() {
        let file = b"SET @PREV_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT;\n\
DROP PROCEDURE IF EXISTS `p`;\n\
CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN x INT)\n\
BEGIN\n  DECLARE n INT;\n  IF x > 0 THEN SET n = CASE WHEN x > 9 THEN 2 ELSE 1 END; END IF;\n\
  label1: LOOP SELECT 'end;' INTO @s; LEAVE label1; END LOOP label1;\n\
  CASE x WHEN 1 THEN SELECT 1; ELSE BEGIN SELECT 2; END; END CASE;\n  SELECT n;\nEND;\n\
CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1;\n";
        let s = statements("f", file).unwrap();
        assert_eq!(s.len(), 4, "{s:#?}");
        assert!(s[2].starts_with("CREATE DEFINER") && s[2].ends_with("END"), "{}", s[2]);
        assert!(s[2].contains("END CASE;\nSELECT n"), "{}", s[2]);
        assert!(s[3].starts_with("CREATE TRIGGER"));
    }

    #[test]
    fn delimiter_blocks_are_whole_already() {
        let file = b"DELIMITER ;;\nCREATE TRIGGER t AFTER INSERT ON a FOR EACH ROW BEGIN\n INSERT INTO b VALUES (1);\nEND;;\nDELIMITER ;\nSELECT 1;\n";
        let s = statements("f", file).unwrap();
        assert_eq!(s.len(), 2, "{s:#?}");
        assert!(s[0].ends_with("END"));
    }
}

/// The statement without its `DEFINER = user@host` clause, so that the object is created by the
/// loading user (myloader's `--skip-definer`). Only the head before the object's body is
/// looked at, and quoted text is never taken for the clause; `SQL SECURITY DEFINER` stays.
pub fn strip_definer(statement: &str) -> String {
    let bytes = statement.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if matches!(b, b'\'' | b'"' | b'`') => quote = Some(b),
            None if word_at(bytes, i, b"DEFINER") => {
                let mut j = i + 7;
                while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                if bytes.get(j) == Some(&b'=') {
                    let end = definer_end(bytes, j + 1);
                    return format!("{}{}", &statement[..i], &statement[end..]);
                }
            }
            // The body starts: AS (views), BEGIN/FOR EACH ROW (triggers, routines).
            None if word_at(bytes, i, b"AS") || word_at(bytes, i, b"BEGIN") => break,
            None => {}
        }
        i += 1;
    }
    statement.to_string()
}

/// `word` (any case) at `i`, not inside a longer word.
fn word_at(bytes: &[u8], i: usize, word: &[u8]) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    bytes.len() >= i + word.len()
        && bytes[i..i + word.len()].eq_ignore_ascii_case(word)
        && (i == 0 || !is_word(bytes[i - 1]))
        && bytes.get(i + word.len()).is_none_or(|&b| !is_word(b))
}

/// The end of a user spec after `DEFINER=`: `user`@`host`, 'u'@'h', u@h or CURRENT_USER[()].
fn definer_end(bytes: &[u8], mut j: usize) -> usize {
    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
        j += 1;
    }
    let part = |mut k: usize| -> usize {
        match bytes.get(k) {
            Some(&q @ (b'`' | b'\'' | b'"')) => {
                k += 1;
                while k < bytes.len() && bytes[k] != q {
                    k += 1;
                }
                (k + 1).min(bytes.len())
            }
            _ => {
                while k < bytes.len() && !bytes[k].is_ascii_whitespace() && !matches!(bytes[k], b'@' | b'*') {
                    k += 1;
                }
                k
            }
        }
    };
    let mut k = part(j);
    if bytes.get(k) == Some(&b'@') {
        k = part(k + 1);
    } else if bytes.get(k) == Some(&b'(') {
        k += 2; // CURRENT_USER()
    }
    k
}

#[cfg(test)]
mod definer_tests {
    use super::strip_definer;

    #[test]
    fn the_definer_clause_goes_and_the_rest_stays() {
        let cases = [
            (
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1",
                "CREATE ALGORITHM=UNDEFINED  SQL SECURITY DEFINER VIEW `v` AS select 1",
            ),
            (
                "CREATE DEFINER='app'@'%' TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=x@y'",
                "CREATE  TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET NEW.a = 'DEFINER=x@y'",
            ),
            ("CREATE DEFINER = CURRENT_USER() PROCEDURE p() BEGIN END", "CREATE  PROCEDURE p() BEGIN END"),
            ("/*!50013 DEFINER=`a`@`b` SQL SECURITY DEFINER */", "/*!50013  SQL SECURITY DEFINER */"),
            ("CREATE VIEW v AS SELECT definer FROM t", "CREATE VIEW v AS SELECT definer FROM t"),
        ];
        for (given, want) in cases {
            assert_eq!(strip_definer(given), want, "{given}");
        }
    }
}
