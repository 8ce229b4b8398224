//! Statements of a schema file (CREATE TABLE / VIEW, triggers in DELIMITER blocks, routines),
//! split with the same scanner as the data files so quoting and comments agree.

use hoist_parse::sql::{SqlEvent, SqlOptions, SqlScanner, SqlStep};

/// What a schema file holds, in order. SET statements are kept: a trigger file's `SET sql_mode`
/// matters for the trigger that follows.
pub fn statements(file: &str, bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut scanner = SqlScanner::new(SqlOptions::default());
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

/// The first statement whose leading words (after version comments) match `starts`.
pub fn find<'a>(statements: &'a [String], pred: impl Fn(&str) -> bool) -> Option<&'a String> {
    statements.iter().find(|s| pred(&normalized_head(s)))
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
