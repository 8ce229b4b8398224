//! What a DDL statement of a binlog names: the tables and databases it creates, changes or
//! drops. A point-in-time restore uses it to apply the table filter to the log, and to know
//! which tables' descriptions a statement invalidates.
//!
//! Only names are read, not the whole grammar: the statement is replayed as it was logged.

use sqlparser::tokenizer::Token;

use crate::lex::{lex, Tok};
use crate::SchemaError;

/// A table as a statement names it: the database when it is qualified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTable {
    pub database: Option<String>,
    pub name: String,
}

/// The objects a logged statement concerns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoggedDdl {
    pub tables: Vec<NamedTable>,
    pub databases: Vec<String>,
    /// A statement that names neither (GRANT, CREATE USER, SET...); or a form not read here.
    pub other: bool,
}

/// Read the names out of a logged statement.
pub fn logged_ddl(sql: &str) -> Result<LoggedDdl, SchemaError> {
    let lexed = lex(sql)?;
    let t = &lexed.toks;
    let mut i = 0;
    let kw = |i: usize, k: &str| t.get(i).is_some_and(|tok| tok.is_kw(k));
    let skip_kws = |i: &mut usize, ks: &[&str]| {
        while ks.iter().any(|k| kw(*i, k)) {
            *i += 1;
        }
    };
    let mut out = LoggedDdl::default();
    let first = t.first().map(|tok| tok.ident().unwrap_or_default().to_ascii_uppercase()).unwrap_or_default();
    i += 1;
    match first.as_str() {
        "CREATE" | "ALTER" | "DROP" => {
            skip_kws(&mut i, &["OR", "REPLACE", "ONLINE", "IGNORE", "TEMPORARY"]);
            if kw(i, "DATABASE") || kw(i, "SCHEMA") {
                i += 1;
                skip_kws(&mut i, &["IF", "NOT", "EXISTS"]);
                if let Some(name) = t.get(i).and_then(Tok::ident) {
                    out.databases.push(name.to_string());
                }
            } else if kw(i, "TABLE") {
                i += 1;
                skip_kws(&mut i, &["IF", "NOT", "EXISTS"]);
                // DROP TABLE a, b; CREATE TABLE a LIKE b names b too, which is only read.
                while let Some((table, next)) = name_at(t, i) {
                    out.tables.push(table);
                    i = next;
                    if first == "DROP" && matches!(t.get(i).map(|x| &x.token), Some(Token::Comma)) {
                        i += 1;
                        continue;
                    }
                    break;
                }
                if first == "ALTER" {
                    // ALTER TABLE a ... RENAME [TO|AS] b
                    while i < t.len() {
                        if kw(i, "RENAME") && !kw(i + 1, "COLUMN") && !kw(i + 1, "INDEX") && !kw(i + 1, "KEY") {
                            let mut j = i + 1;
                            skip_kws(&mut j, &["TO", "AS"]);
                            if let Some((table, _)) = name_at(t, j) {
                                out.tables.push(table);
                            }
                        }
                        i += 1;
                    }
                }
            } else if kw(i, "INDEX") || kw(i, "UNIQUE") || kw(i, "FULLTEXT") || kw(i, "SPATIAL") || kw(i, "TRIGGER") {
                // CREATE [UNIQUE] INDEX i ON t; DROP INDEX i ON t; CREATE TRIGGER ... ON t
                while i < t.len() && !kw(i, "ON") {
                    i += 1;
                }
                match name_at(t, i + 1) {
                    Some((table, _)) => out.tables.push(table),
                    None => out.other = true,
                }
            } else {
                out.other = true;
            }
        }
        "RENAME" if kw(i, "TABLE") => {
            i += 1;
            while let Some((from, next)) = name_at(t, i) {
                out.tables.push(from);
                i = next;
                if !kw(i, "TO") {
                    break;
                }
                let Some((to, next)) = name_at(t, i + 1) else { break };
                out.tables.push(to);
                i = next;
                if !matches!(t.get(i).map(|x| &x.token), Some(Token::Comma)) {
                    break;
                }
                i += 1;
            }
        }
        "TRUNCATE" => {
            skip_kws(&mut i, &["TABLE"]);
            match name_at(t, i) {
                Some((table, _)) => out.tables.push(table),
                None => out.other = true,
            }
        }
        _ => out.other = true,
    }
    Ok(out)
}

/// `name` or `db.name` at token `i`: the table and the token after it.
fn name_at(t: &[Tok], i: usize) -> Option<(NamedTable, usize)> {
    let first = word(t.get(i)?)?;
    if matches!(t.get(i + 1).map(|x| &x.token), Some(Token::Period)) {
        let second = word(t.get(i + 2)?)?;
        return Some((NamedTable { database: Some(first), name: second }, i + 3));
    }
    Some((NamedTable { database: None, name: first }, i + 1))
}

fn word(tok: &Tok) -> Option<String> {
    match &tok.token {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The named tables as `db.name` (`name` when unqualified).
    fn tables(sql: &str) -> Vec<String> {
        let named = logged_ddl(sql).unwrap().tables;
        named.into_iter().map(|t| t.database.map_or(t.name.clone(), |d| format!("{d}.{}", t.name))).collect()
    }

    #[test]
    fn the_tables_each_statement_names() {
        assert_eq!(tables("CREATE TABLE `t1` (id INT)"), ["t1"]);
        assert_eq!(tables("create or replace table if not exists d.t (x int)"), ["d.t"]);
        assert_eq!(tables("DROP TABLE IF EXISTS `a`, `d`.`b` /* generated by server */"), ["a", "d.b"]);
        assert_eq!(tables("RENAME TABLE a TO b, d.c TO d.e"), ["a", "b", "d.c", "d.e"]);
        assert_eq!(tables("ALTER TABLE t ADD COLUMN c INT, RENAME COLUMN x TO y"), ["t"]);
        assert_eq!(tables("ALTER TABLE t RENAME TO u"), ["t", "u"]);
        assert_eq!(tables("TRUNCATE TABLE t"), ["t"]);
        assert_eq!(tables("truncate d.t"), ["d.t"]);
        assert_eq!(tables("CREATE INDEX i ON t (a)"), ["t"]);
    }

    #[test]
    fn databases_and_other_statements() {
        let d = logged_ddl("CREATE DATABASE IF NOT EXISTS `newdb`").unwrap();
        assert_eq!(d.databases, vec!["newdb".to_string()]);
        assert!(logged_ddl("GRANT SELECT ON *.* TO u").unwrap().other);
        assert!(logged_ddl("CREATE USER u").unwrap().other);
    }
}
