//! DDL for MySQL-family targets: the user's text with a few splices.

use std::ops::Range;

use crate::lex::Lexed;
use crate::table::{parse_table, Key, KeyKind, Table};
use crate::{quote_mysql_ident, MysqlTableDdl, SchemaError};

/// Prepares a dump's `CREATE TABLE` for a MySQL-family target.
///
/// With `defer_indexes`, the non-unique `KEY`/`INDEX`, `FULLTEXT` and `SPATIAL` definitions
/// move from the `CREATE TABLE` to [`MysqlTableDdl::add_indexes`], except those that must
/// exist while rows arrive: an index whose leading columns a FOREIGN KEY of the table
/// needs (InnoDB would otherwise create a duplicate of it), and an index that starts with
/// the AUTO_INCREMENT column (InnoDB refuses an AUTO_INCREMENT column without one).
pub fn mysql_table_ddl(sql: &str, target_name: &str, defer_indexes: bool) -> Result<MysqlTableDdl, SchemaError> {
    let t = parse_table(sql)?;
    let lexed = &t.lexed;
    let toks = &lexed.toks;
    let h = &t.header;
    let mut edits = Edits::new(lexed);

    if let Some((or, replace)) = h.or_replace {
        let end = skip_blanks(sql, toks[replace].end, false);
        edits.push(toks[or].start..end, "", "OR REPLACE")?;
    }
    if !h.if_not_exists {
        let at = toks[h.name_first].start;
        edits.push(at..at, "IF NOT EXISTS ", "the table name")?;
    }
    let quoted = quote_mysql_ident(target_name);
    edits.push(toks[h.name_first].start..toks[h.name_last].end, &quoted, "the table name")?;

    let mut deferred: Vec<&Key> = Vec::new();
    if defer_indexes {
        let mut used_commas: Vec<usize> = Vec::new();
        for key in t.keys.iter().filter(|k| deferrable(&t, k)) {
            let e = &t.elements[key.element];
            let before = key.element.checked_sub(1).and_then(|i| t.elements[i].comma_after);
            let mut candidates = Vec::with_capacity(2);
            if let Some(c) = before {
                let r = toks[c].start..toks[e.last].end;
                candidates.push((c, lexed.widen(r, c, e.last)));
            }
            if let Some(c) = e.comma_after {
                let end = skip_blanks(sql, toks[c].end, true);
                candidates.push((c, lexed.widen(toks[e.first].start..end, e.first, c)));
            }
            let cut = candidates
                .into_iter()
                .find(|(c, r)| !used_commas.contains(c) && lexed.can_cut(r) && !edits.overlaps(r));
            if let Some((comma, range)) = cut {
                used_commas.push(comma);
                edits.push(range, "", "an index definition")?;
                deferred.push(key);
            }
        }
    }

    let mut add_indexes = Vec::new();
    let (plain, special): (Vec<&Key>, Vec<&Key>) = deferred.iter().partition(|k| k.kind == KeyKind::Index);
    if !plain.is_empty() {
        let adds: Vec<String> = plain.iter().map(|k| format!("ADD {}", definition(&t, k))).collect();
        add_indexes.push(format!("ALTER TABLE {quoted} {}", adds.join(", ")));
    }
    for k in special {
        add_indexes.push(format!("ALTER TABLE {quoted} ADD {}", definition(&t, k)));
    }
    Ok(MysqlTableDdl { create: edits.apply(sql), add_indexes })
}

fn deferrable(t: &Table, k: &Key) -> bool {
    if k.inline || !matches!(k.kind, KeyKind::Index | KeyKind::Fulltext | KeyKind::Spatial) {
        return false;
    }
    let cols: Vec<Option<&str>> = k.parts.iter().map(|p| p.column()).collect();
    let fk_needs = t.foreign_keys.iter().any(|fk| {
        fk.columns.len() <= cols.len()
            && fk.columns.iter().zip(&cols).all(|(f, c)| c.is_some_and(|c| c.eq_ignore_ascii_case(f)))
    });
    let auto_increment_needs =
        cols.first().copied().flatten().is_some_and(|c| t.schema.column(c).is_some_and(|(_, col)| col.auto_increment));
    !fk_needs && !auto_increment_needs
}

/// The index definition as written, for `ALTER TABLE ... ADD`; an unnamed index gets the
/// name MySQL gave it in the CREATE TABLE.
fn definition(t: &Table, k: &Key) -> String {
    let lexed = &t.lexed;
    let e = &t.elements[k.element];
    let toks = &lexed.toks[e.first..=e.last];
    let range = lexed.widen(toks[0].start..toks[toks.len() - 1].end, e.first, e.last);
    // A definition that still straddles a version comment is taken with the markers blanked.
    let source = if lexed.can_cut(&range) { &lexed.original } else { &lexed.analysis };
    let text = source.get(range.clone()).unwrap_or_default().to_string();
    if k.named {
        return text;
    }
    // After `KEY`/`INDEX`, or after `FULLTEXT`/`SPATIAL` and an optional `KEY`/`INDEX`.
    let mut kw = 0;
    if (toks[0].is_kw("FULLTEXT") || toks[0].is_kw("SPATIAL"))
        && toks.get(1).is_some_and(|t| t.is_kw("KEY") || t.is_kw("INDEX"))
    {
        kw = 1;
    }
    let at = toks[kw].end - range.start;
    match (text.get(..at), text.get(at..)) {
        (Some(a), Some(b)) => {
            let gap = if b.starts_with(char::is_whitespace) { "" } else { " " };
            format!("{a} {}{gap}{b}", quote_mysql_ident(&k.name))
        }
        _ => text,
    }
}

/// Moves `at` past spaces and tabs (and line breaks when `newlines`).
fn skip_blanks(text: &str, at: usize, newlines: bool) -> usize {
    let rest = text.get(at..).unwrap_or_default();
    let n = rest.bytes().take_while(|&b| b == b' ' || b == b'\t' || (newlines && (b == b'\n' || b == b'\r'))).count();
    at + n
}

/// Non-overlapping replacements of byte ranges of the original text.
pub(crate) struct Edits<'a> {
    lexed: &'a Lexed,
    list: Vec<(Range<usize>, String)>,
}

impl<'a> Edits<'a> {
    /// No edits yet, but for the removal of a leading byte-order mark, which a server
    /// would not take.
    pub fn new(lexed: &'a Lexed) -> Self {
        let mut list = Vec::new();
        if lexed.original.starts_with('\u{feff}') {
            list.push((0..'\u{feff}'.len_utf8(), String::new()));
        }
        Edits { lexed, list }
    }

    /// Adds an edit; `what` names the edited part in the error given when the edit would
    /// cut a version comment in two.
    pub fn push(&mut self, range: Range<usize>, with: &str, what: &str) -> Result<(), SchemaError> {
        if !self.lexed.can_cut(&range) {
            return Err(SchemaError::Unsupported { what: format!("{what} is split by a /*! version comment */") });
        }
        self.list.push((range, with.to_string()));
        Ok(())
    }

    /// Does `range` share a byte with an edit already made?
    pub fn overlaps(&self, range: &Range<usize>) -> bool {
        self.list.iter().any(|(r, _)| r.start < range.end && range.start < r.end)
    }

    pub fn apply(mut self, text: &str) -> String {
        self.list.sort_by_key(|(r, _)| (r.start, r.end));
        let mut out = String::with_capacity(text.len() + 32);
        let mut at = 0;
        for (r, with) in &self.list {
            if r.start < at {
                continue; // overlapping edits are never made; skip rather than corrupt
            }
            out.push_str(text.get(at..r.start).unwrap_or_default());
            out.push_str(with);
            at = r.end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        out
    }
}
