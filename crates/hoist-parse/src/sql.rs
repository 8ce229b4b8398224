//! Scanner for the statements of a MySQL dump (mydumper, Dumpling, mysqldump output).
//!
//! # What it accepts
//! A sequence of statements ended by the current delimiter (`;` unless a `mysql` client
//! command `DELIMITER xx` changed it; that line gives no event).
//! * `INSERT [LOW_PRIORITY|DELAYED|HIGH_PRIORITY] [IGNORE] [INTO] name [(columns)]
//!   VALUES|VALUE (…), (…)` and `REPLACE …` the same way: one [`SqlEvent::Insert`], one
//!   [`SqlEvent::Row`] per tuple, then [`SqlEvent::EndInsert`]. Names may be bare,
//!   `` `quoted` `` (doubled backquotes inside) or `"quoted"`, and qualified `db.tbl`.
//!   A row holds literals only: strings `'…'`/`"…"` (optionally `N'…'` or with an
//!   introducer such as `_binary`), numbers, `X'…'`/`0x…`, `b'…'`/`0b…`, `NULL`, `TRUE`,
//!   `FALSE`, and one expression that means a string literal: `CONVERT('…' USING utf8mb4)`
//!   (or `utf8`, `utf8mb3`), which tidb-tools' dumps write for JSON values. Anything else in
//!   a row is an error ([`SqlErrorKind::UnsupportedValue`]).
//! * `INSERT … SELECT`, `INSERT … SET`, `INSERT … PARTITION` and `ON DUPLICATE KEY UPDATE`
//!   are errors ([`SqlErrorKind::Unsupported`]): dump tools never write them, and passing
//!   them through would bypass table routing and row accounting.
//! * Every other statement is one [`SqlEvent::Set`] (a `SET …`, also inside an executable
//!   comment such as `/*!40101 SET NAMES binary*/`) or [`SqlEvent::Other`] (`USE`,
//!   `CREATE …`, trigger bodies in a `DELIMITER ;;` block, `/*!40000 ALTER TABLE … */`, …),
//!   carrying its text without the delimiter and trailing blanks.
//!
//! Comments (`# …`, `-- …`, `/* … */`) may stand wherever blanks may. Executable comments
//! `/*!NNNNN … */` and `/*M!NNNNNN … */` are code, as for a current server: at a statement
//! start they begin the statement, and inside an INSERT their markers are skipped and their
//! content is parsed (mysqldump writes spatial values as `/*!50705 0x…,*/` inside rows).
//! MariaDB's `/*M!999999\- enable the sandbox mode */` line is a comment.
//!
//! # The NeedMore / consumed contract
//! [`SqlScanner::next`] looks at the start of `input`. It returns an event and how many
//! bytes it used (leading blanks and comments included); the next call starts at
//! `&input[consumed..]`. If the event is not complete in `input` and `eof` is false, it
//! returns [`SqlStep::NeedMore`] and changes no state: the caller appends bytes and calls
//! again with the same start. The scanner never decides anything from the absence of a
//! byte it has not seen, so the events and `consumed` values do not depend on how the
//! input was cut. A row is rescanned from its `(` after NeedMore, never the whole
//! statement. At `eof`, a missing final `;` is accepted; a cut string, row or comment is
//! an error.
//!
//! # Positions
//! All offsets are relative to the `input` of the call: [`SqlError::offset`] is where the
//! offending construct starts (the opening quote of an unterminated string, the first byte
//! of an unexpected token). [`Literal`] ranges are relative to [`Row::raw`], the tuple from
//! `(` to `)`, which the caller may forward unchanged as SQL text.

use std::borrow::Cow;
use std::fmt;

use memchr::{memchr, memchr2, memmem};

use crate::split::{Open, StatementSplitter, MAX_DELIMITER};

/// Session settings that change how literals are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqlOptions {
    /// `sql_mode` contains NO_BACKSLASH_ESCAPES: a backslash in a string is an ordinary byte.
    pub no_backslash_escapes: bool,
}

/// The statement word of an INSERT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertVerb {
    Insert,
    Replace,
    InsertIgnore,
}

/// The part of an INSERT statement before its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsertHeader {
    pub verb: InsertVerb,
    /// Unquoted table name.
    pub table: String,
    /// The qualifier of `db.tbl`, unquoted.
    pub database: Option<String>,
    /// Unquoted column names, if a column list was given.
    pub columns: Option<Vec<String>>,
}

/// The form of a literal in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiteralKind {
    Null,
    /// Signed integer, decimal or float text: `-1`, `+1.5`, `-.5`, `1e10`.
    Number,
    /// `'…'`, `"…"`, `N'…'`, possibly after an introducer such as `_binary`.
    String,
    /// `X'…'` or `0x…`, possibly after an introducer.
    Hex,
    /// `b'…'` or `0b…`, possibly after an introducer.
    Bits,
    /// `TRUE` or `FALSE`.
    Bool,
}

/// One literal of a row: its kind and byte range in [`Row::raw`] (introducer, sign and
/// quotes included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub start: usize,
    pub end: usize,
}

impl Literal {
    /// The literal's source text within `raw` (the row it came from).
    pub fn text<'a>(&self, raw: &'a [u8]) -> &'a [u8] {
        raw.get(self.start..self.end).unwrap_or(&[])
    }
}

/// One tuple of an INSERT.
#[derive(Clone, Copy, Debug)]
pub struct Row<'s, 'a> {
    /// The tuple text from `(` to `)` inclusive.
    pub raw: &'a [u8],
    pub fields: &'s [Literal],
}

impl<'a> Row<'_, 'a> {
    /// Source text of field `i`.
    pub fn text(&self, i: usize) -> Option<&'a [u8]> {
        self.fields.get(i).map(|l| l.text(self.raw))
    }
}

#[derive(Debug)]
pub enum SqlEvent<'s, 'a> {
    /// An INSERT or REPLACE statement started; its rows follow.
    Insert(&'s InsertHeader),
    Row(Row<'s, 'a>),
    /// The delimiter (or end of input) that ended the INSERT statement.
    EndInsert,
    /// A `SET` statement or an executable comment holding one; text without the delimiter.
    Set(&'a [u8]),
    /// Any other statement; text without the delimiter.
    Other(&'a [u8]),
}

#[derive(Debug)]
pub enum SqlStep<'s, 'a> {
    Event { event: SqlEvent<'s, 'a>, consumed: usize },
    NeedMore,
    End,
}

/// A syntax error; `offset` is relative to the `input` of the failing call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub offset: usize,
    pub kind: SqlErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlErrorKind {
    UnterminatedString,
    UnterminatedIdentifier,
    UnterminatedComment,
    /// The input ended inside a row; the offset is its `(`.
    UnterminatedRow,
    /// The input ended inside an INSERT header; the offset is the statement start.
    UnexpectedEnd {
        expected: &'static str,
    },
    UnexpectedByte {
        found: u8,
        expected: &'static str,
    },
    /// After a row: neither `,` nor the delimiter.
    ExpectedRowOrEnd(u8),
    BadNumber,
    BadHex,
    BadBits,
    /// An empty name, or one that is not UTF-8.
    BadIdentifier,
    /// `DELIMITER` without an argument, or with one longer than 16 bytes.
    BadDelimiter,
    /// A statement form outside the scanner's scope, named.
    Unsupported(&'static str),
    /// A function call, column reference or keyword where a literal was expected.
    UnsupportedValue,
}

/// Shows a byte as `'x'` when printable, else as its hex value.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\'' => f.write_str("\"'\""),
            0x21..=0x7e => write!(f, "'{}'", self.0 as char),
            b => write!(f, "byte 0x{b:02X}"),
        }
    }
}

impl fmt::Display for SqlErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlErrorKind::UnterminatedString => f.write_str("unterminated string literal"),
            SqlErrorKind::UnterminatedIdentifier => f.write_str("unterminated quoted identifier"),
            SqlErrorKind::UnterminatedComment => f.write_str("unterminated /* comment"),
            SqlErrorKind::UnterminatedRow => f.write_str("the input ends inside a row (no closing ')')"),
            SqlErrorKind::UnexpectedEnd { expected } => {
                write!(f, "the input ends where {expected} was expected")
            }
            SqlErrorKind::UnexpectedByte { found, expected } => {
                write!(f, "expected {expected} but found {}", ShowByte(*found))
            }
            SqlErrorKind::ExpectedRowOrEnd(found) => {
                write!(f, "expected ',' or the statement delimiter after a row but found {}", ShowByte(*found))
            }
            SqlErrorKind::BadNumber => f.write_str("malformed number"),
            SqlErrorKind::BadHex => f.write_str("malformed hexadecimal literal"),
            SqlErrorKind::BadBits => f.write_str("malformed bit-value literal"),
            SqlErrorKind::BadIdentifier => f.write_str("empty or non-UTF-8 identifier"),
            SqlErrorKind::BadDelimiter => f.write_str("DELIMITER needs a delimiter of 1 to 16 bytes on the same line"),
            SqlErrorKind::Unsupported(what) => {
                write!(f, "{what} is not supported (only INSERT/REPLACE ... VALUES with literal values is)")
            }
            SqlErrorKind::UnsupportedValue => f.write_str(
                "expected a literal value (string, number, hex, bit, NULL, TRUE, FALSE) \
                 but found an expression or keyword",
            ),
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for SqlError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Top,
    FirstRow,
    AfterRow,
}

/// Streaming scanner of dump statements; see the module docs.
#[derive(Debug)]
pub struct SqlScanner {
    opts: SqlOptions,
    state: State,
    header: InsertHeader,
    /// An executable comment opened before the current position is still open.
    in_exec: bool,
    delimiter: Vec<u8>,
    fields: Vec<Literal>,
    splitter: StatementSplitter,
    /// INSERT statements come out as rows; when false they are [`SqlEvent::Other`] like any
    /// statement (schema, trigger and routine files, whose bodies may hold `INSERT ... SELECT`).
    parse_inserts: bool,
}

enum Stop {
    NeedMore,
    Fail(SqlError),
}

type R<T> = Result<T, Stop>;

fn fail<T>(offset: usize, kind: SqlErrorKind) -> R<T> {
    Err(Stop::Fail(SqlError { offset, kind }))
}

enum Found {
    Insert(usize),
    Row { start: usize, end: usize },
    EndInsert(usize),
    Set { start: usize, end: usize, consumed: usize },
    Other { start: usize, end: usize, consumed: usize },
    End,
}

enum Statement {
    Found(Found),
    Empty(usize),
}

impl SqlScanner {
    /// A scanner that splits statements only: INSERTs are [`SqlEvent::Other`] too.
    pub fn statements_only(opts: SqlOptions) -> Self {
        SqlScanner { parse_inserts: false, ..SqlScanner::new(opts) }
    }

    pub fn new(opts: SqlOptions) -> Self {
        SqlScanner {
            opts,
            state: State::Top,
            header: InsertHeader { verb: InsertVerb::Insert, table: String::new(), database: None, columns: None },
            in_exec: false,
            delimiter: b";".to_vec(),
            parse_inserts: true,
            fields: Vec::new(),
            splitter: StatementSplitter::new(opts, b";"),
        }
    }

    /// Starts inside the VALUES list of the INSERT `header`, right after a complete row: the
    /// input continues with `,` and the next row, or with the delimiter.
    pub fn resume_in_values(opts: SqlOptions, header: InsertHeader) -> Self {
        let mut s = SqlScanner::new(opts);
        s.header = header;
        s.state = State::AfterRow;
        s
    }

    /// The header of the INSERT whose rows are being scanned.
    pub fn header(&self) -> Option<&InsertHeader> {
        match self.state {
            State::Top => None,
            State::FirstRow | State::AfterRow => Some(&self.header),
        }
    }

    pub fn options(&self) -> SqlOptions {
        self.opts
    }

    /// Takes effect from the next call, e.g. after `SET sql_mode='NO_BACKSLASH_ESCAPES'`.
    pub fn set_options(&mut self, opts: SqlOptions) {
        self.opts = opts;
    }

    /// The statement delimiter in force.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// Sets the statement delimiter, as a `DELIMITER` line would (empty means `;`).
    pub fn set_delimiter(&mut self, delimiter: &[u8]) {
        self.delimiter.clear();
        self.delimiter.extend_from_slice(if delimiter.is_empty() { b";" } else { delimiter });
    }

    /// Scans the next event at the start of `input`; `eof` says that no bytes follow it.
    pub fn next<'s, 'a>(&'s mut self, input: &'a [u8], eof: bool) -> Result<SqlStep<'s, 'a>, SqlError> {
        let c = Cur { input, eof };
        let mut saved_delimiter = None;
        let found = match self.state {
            State::Top => self.scan_top(c, &mut saved_delimiter),
            State::FirstRow => self.scan_first_row(c),
            State::AfterRow => self.scan_after_row(c),
        };
        let found = match found {
            Ok(found) => found,
            Err(Stop::NeedMore) => {
                // A DELIMITER line seen in this call will be seen again.
                if let Some(d) = saved_delimiter {
                    self.delimiter = d;
                }
                return Ok(SqlStep::NeedMore);
            }
            Err(Stop::Fail(e)) => return Err(e),
        };
        let slice = |start: usize, end: usize| input.get(start..end).unwrap_or(&[]);
        let (event, consumed) = match found {
            Found::End => return Ok(SqlStep::End),
            Found::Insert(consumed) => (SqlEvent::Insert(&self.header), consumed),
            Found::Row { start, end } => (SqlEvent::Row(Row { raw: slice(start, end), fields: &self.fields }), end),
            Found::EndInsert(consumed) => (SqlEvent::EndInsert, consumed),
            Found::Set { start, end, consumed } => (SqlEvent::Set(slice(start, end)), consumed),
            Found::Other { start, end, consumed } => (SqlEvent::Other(slice(start, end)), consumed),
        };
        Ok(SqlStep::Event { event, consumed })
    }

    fn backslash(&self) -> bool {
        !self.opts.no_backslash_escapes
    }

    fn scan_top(&mut self, c: Cur<'_>, saved: &mut Option<Vec<u8>>) -> R<Found> {
        let mut p = 0;
        loop {
            p = c.skip_space(p, None)?;
            let Some(b) = c.at(p) else {
                return if c.eof { Ok(Found::End) } else { Err(Stop::NeedMore) };
            };
            if b.is_ascii_alphabetic() {
                let w_end = c.word_end(p)?;
                let word = c.slice(p, w_end);
                if self.parse_inserts && (eq_ci(word, b"INSERT") || eq_ci(word, b"REPLACE")) {
                    return self.scan_header(c, p, w_end);
                }
                if eq_ci(word, b"DELIMITER") {
                    match c.at(w_end) {
                        Some(b' ' | b'\t') => {
                            let (arg, after) = c.delimiter_command(p, w_end)?;
                            saved.get_or_insert_with(|| self.delimiter.clone());
                            self.set_delimiter(c.slice(arg.0, arg.1));
                            p = after;
                            continue;
                        }
                        None | Some(b'\r' | b'\n') => return fail(p, SqlErrorKind::BadDelimiter),
                        Some(_) => {}
                    }
                }
            }
            match self.scan_statement(c, p)? {
                Statement::Found(found) => return Ok(found),
                Statement::Empty(after) => p = after,
            }
        }
    }

    /// A statement other than INSERT, from its first byte `s` to the delimiter.
    fn scan_statement(&mut self, c: Cur<'_>, s: usize) -> R<Statement> {
        self.splitter.begin(self.opts, &self.delimiter, false);
        let rest = c.input.get(s..).unwrap_or(&[]);
        let (text_end, consumed) = match self.splitter.find_end(rest) {
            Some(after) => {
                let after = s + after;
                (after.saturating_sub(self.delimiter.len()).max(s), after)
            }
            None => {
                if !c.eof {
                    return Err(Stop::NeedMore);
                }
                if let Some((open, at)) = self.splitter.open() {
                    let kind = match open {
                        Open::String => SqlErrorKind::UnterminatedString,
                        Open::Identifier => SqlErrorKind::UnterminatedIdentifier,
                        Open::Comment => SqlErrorKind::UnterminatedComment,
                    };
                    return fail(s + at as usize, kind);
                }
                (c.input.len(), c.input.len())
            }
        };
        let mut end = text_end;
        while end > s && matches!(c.at(end - 1), Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) {
            end -= 1;
        }
        if end == s {
            return Ok(Statement::Empty(consumed));
        }
        let (start, end) = (s, end);
        Ok(Statement::Found(if is_set_statement(c.slice(start, end)) {
            Found::Set { start, end, consumed }
        } else {
            Found::Other { start, end, consumed }
        }))
    }

    fn scan_header(&mut self, c: Cur<'_>, start: usize, w_end: usize) -> R<Found> {
        const NAME: &str = "a table name";
        let insert = eq_ci(c.slice(start, w_end), b"INSERT");
        let mut verb = if insert { InsertVerb::Insert } else { InsertVerb::Replace };
        let mut exec = false;
        let mut p = w_end;
        loop {
            p = c.skip_space(p, Some(&mut exec))?;
            if !c.need(p, start, NAME)?.is_ascii_alphabetic() {
                break;
            }
            let e = c.word_end(p)?;
            let w = c.slice(p, e);
            if eq_ci(w, b"LOW_PRIORITY") || eq_ci(w, b"DELAYED") || eq_ci(w, b"HIGH_PRIORITY") {
                p = e;
            } else if insert && eq_ci(w, b"IGNORE") {
                verb = InsertVerb::InsertIgnore;
                p = e;
            } else {
                if eq_ci(w, b"INTO") {
                    p = c.skip_space(e, Some(&mut exec))?;
                }
                break;
            }
        }
        let (first, q) = c.ident(p, start, NAME)?;
        p = c.skip_space(q, Some(&mut exec))?;
        let (database, table) = if c.need(p, start, "VALUES")? == b'.' {
            p = c.skip_space(p + 1, Some(&mut exec))?;
            let (second, q) = c.ident(p, start, NAME)?;
            p = c.skip_space(q, Some(&mut exec))?;
            (Some(first), second)
        } else {
            (None, first)
        };
        let mut columns = None;
        if c.need(p, start, "VALUES")? == b'(' {
            const COLUMN: &str = "a column name";
            let mut cols = Vec::new();
            p = c.skip_space(p + 1, Some(&mut exec))?;
            if c.need(p, start, COLUMN)? == b')' {
                p += 1;
            } else {
                loop {
                    if let Some(e) = c.word_at(p)? {
                        let w = c.slice(p, e);
                        if eq_ci(w, b"SELECT") || eq_ci(w, b"WITH") {
                            return fail(p, SqlErrorKind::Unsupported("INSERT ... SELECT"));
                        }
                    }
                    let (name, q) = c.ident(p, start, COLUMN)?;
                    cols.push(name);
                    p = c.skip_space(q, Some(&mut exec))?;
                    match c.need(p, start, "')'")? {
                        b',' => p = c.skip_space(p + 1, Some(&mut exec))?,
                        b')' => {
                            p += 1;
                            break;
                        }
                        found => {
                            return fail(
                                p,
                                SqlErrorKind::UnexpectedByte { found, expected: "',' or ')' in the column list" },
                            )
                        }
                    }
                }
            }
            columns = Some(cols);
            p = c.skip_space(p, Some(&mut exec))?;
        }
        let b = c.need(p, start, "VALUES")?;
        if let Some(e) = c.word_at(p)? {
            let w = c.slice(p, e);
            if eq_ci(w, b"VALUES") || eq_ci(w, b"VALUE") {
                self.header = InsertHeader { verb, table, database, columns };
                self.state = State::FirstRow;
                self.in_exec = exec;
                return Ok(Found::Insert(e));
            }
            let what = if eq_ci(w, b"SET") {
                Some("INSERT ... SET")
            } else if eq_ci(w, b"PARTITION") {
                Some("INSERT ... PARTITION")
            } else if eq_ci(w, b"SELECT") || eq_ci(w, b"TABLE") || eq_ci(w, b"WITH") {
                Some("INSERT ... SELECT")
            } else {
                None
            };
            if let Some(what) = what {
                return fail(p, SqlErrorKind::Unsupported(what));
            }
        } else if b == b'(' {
            return fail(p, SqlErrorKind::Unsupported("INSERT ... SELECT"));
        }
        fail(p, SqlErrorKind::UnexpectedByte { found: b, expected: "VALUES" })
    }

    fn scan_first_row(&mut self, c: Cur<'_>) -> R<Found> {
        let mut exec = self.in_exec;
        let p = c.skip_space(0, Some(&mut exec))?;
        match c.at(p) {
            Some(b'(') => self.row(c, p, exec),
            Some(found) => fail(p, SqlErrorKind::UnexpectedByte { found, expected: "'(' to start a row" }),
            None => c.more(p, SqlErrorKind::UnexpectedEnd { expected: "a row" }),
        }
    }

    fn scan_after_row(&mut self, c: Cur<'_>) -> R<Found> {
        let mut exec = self.in_exec;
        let p = c.skip_space(0, Some(&mut exec))?;
        let Some(b) = c.at(p) else {
            if !c.eof {
                return Err(Stop::NeedMore);
            }
            self.end_insert();
            return Ok(Found::EndInsert(p));
        };
        if c.starts_with(p, &self.delimiter)? {
            self.end_insert();
            return Ok(Found::EndInsert(p + self.delimiter.len()));
        }
        if b == b',' {
            let q = c.skip_space(p + 1, Some(&mut exec))?;
            return match c.at(q) {
                Some(b'(') => self.row(c, q, exec),
                Some(found) => fail(q, SqlErrorKind::UnexpectedByte { found, expected: "'(' to start a row" }),
                None => c.more(q, SqlErrorKind::UnexpectedEnd { expected: "a row" }),
            };
        }
        if let Some(e) = c.word_at(p)? {
            let w = c.slice(p, e);
            if eq_ci(w, b"ON") || eq_ci(w, b"AS") {
                return fail(p, SqlErrorKind::Unsupported("ON DUPLICATE KEY UPDATE"));
            }
        }
        fail(p, SqlErrorKind::ExpectedRowOrEnd(b))
    }

    fn end_insert(&mut self) {
        self.state = State::Top;
        self.in_exec = false;
    }

    /// Scans the tuple whose `(` is at `open`.
    fn row(&mut self, c: Cur<'_>, open: usize, mut exec: bool) -> R<Found> {
        self.fields.clear();
        let mut p = c.skip_space(open + 1, Some(&mut exec))?;
        if c.at(p) != Some(b')') {
            loop {
                let (kind, end) = self.literal(c, p, open)?;
                self.fields.push(Literal { kind, start: p - open, end: end - open });
                p = c.skip_space(end, Some(&mut exec))?;
                match c.at(p) {
                    Some(b',') => p = c.skip_space(p + 1, Some(&mut exec))?,
                    Some(b')') => break,
                    Some(found) => {
                        return fail(p, SqlErrorKind::UnexpectedByte { found, expected: "',' or ')' after a value" })
                    }
                    None => return c.more(open, SqlErrorKind::UnterminatedRow),
                }
            }
        }
        self.state = State::AfterRow;
        self.in_exec = exec;
        Ok(Found::Row { start: open, end: p + 1 })
    }

    /// Scans one literal at `p`; returns its kind and end.
    fn literal(&self, c: Cur<'_>, p: usize, open: usize) -> R<(LiteralKind, usize)> {
        let Some(b) = c.at(p) else {
            return c.more(open, SqlErrorKind::UnterminatedRow);
        };
        let next = c.at(p + 1);
        if next.is_none() && !c.eof && b != b'\'' && b != b'"' {
            // Every other form needs its second byte to be told apart.
            return Err(Stop::NeedMore);
        }
        match (b, next) {
            (b'\'' | b'"', _) => Ok((LiteralKind::String, c.string_end(p, self.backslash())?)),
            (b'0', Some(b'x')) => Ok((LiteralKind::Hex, c.prefixed_digits(p, is_hex, SqlErrorKind::BadHex)?)),
            (b'0', Some(b'b')) => Ok((LiteralKind::Bits, c.prefixed_digits(p, is_bit, SqlErrorKind::BadBits)?)),
            (b'0'..=b'9' | b'.' | b'+' | b'-', _) => Ok((LiteralKind::Number, c.number(p)?)),
            (b'x' | b'X', Some(b'\'')) => Ok((LiteralKind::Hex, c.quoted_digits(p, is_hex, SqlErrorKind::BadHex)?)),
            (b'b' | b'B', Some(b'\'')) => Ok((LiteralKind::Bits, c.quoted_digits(p, is_bit, SqlErrorKind::BadBits)?)),
            (b'n' | b'N', Some(b'\'')) => Ok((LiteralKind::String, c.string_end(p + 1, self.backslash())?)),
            (b'_', _) => self.introduced(c, p, open),
            _ if is_ident_char(b) => {
                let e = c.word_end(p)?;
                let w = c.slice(p, e);
                if eq_ci(w, b"NULL") {
                    Ok((LiteralKind::Null, e))
                } else if eq_ci(w, b"TRUE") || eq_ci(w, b"FALSE") {
                    Ok((LiteralKind::Bool, e))
                } else if eq_ci(w, b"CONVERT") {
                    self.convert(c, p, e, open)
                } else {
                    fail(p, SqlErrorKind::UnsupportedValue)
                }
            }
            (found, _) => fail(p, SqlErrorKind::UnexpectedByte { found, expected: "a value" }),
        }
    }

    /// `CONVERT('…' USING utf8mb4)` whose word `CONVERT` is at `p..e`: the string it holds,
    /// as UTF-8 text whatever the session's character set is; the server's result is that
    /// string's bytes, so it is a string literal here. Other character sets would convert.
    fn convert(&self, c: Cur<'_>, p: usize, e: usize, open: usize) -> R<(LiteralKind, usize)> {
        let q = c.blanks(e, open)?;
        if c.at(q) != Some(b'(') {
            return fail(p, SqlErrorKind::UnsupportedValue);
        }
        let q = c.blanks(q + 1, open)?;
        let (kind, end) = self.literal(c, q, open)?;
        if kind != LiteralKind::String {
            return fail(p, SqlErrorKind::UnsupportedValue);
        }
        let q = c.blanks(end, open)?;
        let using = match c.word_at(q)? {
            Some(u) if eq_ci(c.slice(q, u), b"USING") => u,
            _ => return fail(p, SqlErrorKind::UnsupportedValue),
        };
        let q = c.blanks(using, open)?;
        let charset = match c.word_at(q)? {
            Some(w) if [&b"utf8mb4"[..], b"utf8", b"utf8mb3"].iter().any(|cs| eq_ci(c.slice(q, w), cs)) => w,
            _ => return fail(p, SqlErrorKind::UnsupportedValue),
        };
        let q = c.blanks(charset, open)?;
        match c.at(q) {
            Some(b')') => Ok((LiteralKind::String, q + 1)),
            _ => fail(p, SqlErrorKind::UnsupportedValue),
        }
    }

    /// `_charset` followed by blanks and a string, hex or bit literal.
    fn introduced(&self, c: Cur<'_>, p: usize, open: usize) -> R<(LiteralKind, usize)> {
        let e = c.word_end(p)?;
        if e - p < 2 {
            return fail(p, SqlErrorKind::UnsupportedValue);
        }
        let mut q = e;
        while matches!(c.at(q), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            q += 1;
        }
        let Some(b) = c.at(q) else {
            return c.more(open, SqlErrorKind::UnterminatedRow);
        };
        let next = c.at(q + 1);
        if next.is_none() && !c.eof && b != b'\'' && b != b'"' {
            return Err(Stop::NeedMore);
        }
        match (b, next) {
            (b'\'' | b'"', _) => Ok((LiteralKind::String, c.string_end(q, self.backslash())?)),
            (b'x' | b'X', Some(b'\'')) => Ok((LiteralKind::Hex, c.quoted_digits(q, is_hex, SqlErrorKind::BadHex)?)),
            (b'b' | b'B', Some(b'\'')) => Ok((LiteralKind::Bits, c.quoted_digits(q, is_bit, SqlErrorKind::BadBits)?)),
            (b'0', Some(b'x')) => Ok((LiteralKind::Hex, c.prefixed_digits(q, is_hex, SqlErrorKind::BadHex)?)),
            (b'0', Some(b'b')) => Ok((LiteralKind::Bits, c.prefixed_digits(q, is_bit, SqlErrorKind::BadBits)?)),
            _ => fail(p, SqlErrorKind::UnsupportedValue),
        }
    }
}

/// The input of one call and whether it is the last.
#[derive(Clone, Copy)]
struct Cur<'a> {
    input: &'a [u8],
    eof: bool,
}

impl<'a> Cur<'a> {
    #[inline]
    fn at(&self, i: usize) -> Option<u8> {
        self.input.get(i).copied()
    }

    #[inline]
    fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        self.input.get(start..end).unwrap_or(&[])
    }

    fn rest(&self, i: usize) -> &'a [u8] {
        self.input.get(i..).unwrap_or(&[])
    }

    /// The input ran out: wait for more, or fail at `offset` if there is no more.
    fn more<T>(&self, offset: usize, kind: SqlErrorKind) -> R<T> {
        if self.eof {
            fail(offset, kind)
        } else {
            Err(Stop::NeedMore)
        }
    }

    /// Fails at `offset`, unless the failure was only the input running out at `i`.
    fn more_or<T>(&self, i: usize, offset: usize, kind: SqlErrorKind) -> R<T> {
        if i >= self.input.len() && !self.eof {
            Err(Stop::NeedMore)
        } else {
            fail(offset, kind)
        }
    }

    /// The byte at `p` of an INSERT header that began at `start`.
    fn need(&self, p: usize, start: usize, expected: &'static str) -> R<u8> {
        match self.at(p) {
            Some(b) => Ok(b),
            None => self.more(start, SqlErrorKind::UnexpectedEnd { expected }),
        }
    }

    /// End of the run of identifier bytes starting at `p`.
    fn word_end(&self, p: usize) -> R<usize> {
        let n = self.rest(p).iter().position(|&b| !is_ident_char(b));
        match n {
            Some(n) => Ok(p + n),
            None if self.eof => Ok(self.input.len()),
            None => Err(Stop::NeedMore),
        }
    }

    /// The first byte at or after `p` that is not a blank (a row that began at `open` must
    /// go on there).
    fn blanks(&self, mut p: usize, open: usize) -> R<usize> {
        while matches!(self.at(p), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            p += 1;
        }
        match self.at(p) {
            Some(_) => Ok(p),
            None => self.more(open, SqlErrorKind::UnterminatedRow),
        }
    }

    /// End of the bare word at `p`, if a letter starts there.
    fn word_at(&self, p: usize) -> R<Option<usize>> {
        match self.at(p) {
            Some(b) if b.is_ascii_alphabetic() => self.word_end(p).map(Some),
            _ => Ok(None),
        }
    }

    fn starts_with(&self, p: usize, token: &[u8]) -> R<bool> {
        let rest = self.rest(p);
        if rest.starts_with(token) {
            Ok(true)
        } else if rest.len() < token.len() && token.starts_with(rest) && !self.eof {
            Err(Stop::NeedMore)
        } else {
            Ok(false)
        }
    }

    fn line_end(&self, p: usize) -> R<usize> {
        match memchr(b'\n', self.rest(p)) {
            Some(k) => Ok(p + k + 1),
            None if self.eof => Ok(self.input.len()),
            None => Err(Stop::NeedMore),
        }
    }

    fn comment_end(&self, p: usize) -> R<usize> {
        match memmem::find(self.rest(p + 2), b"*/") {
            Some(k) => Ok(p + 2 + k + 2),
            None => self.more(p, SqlErrorKind::UnterminatedComment),
        }
    }

    /// If `/*` at `p` opens an executable comment, the end of its `/*!NNNNN` marker. The
    /// MariaDB sandbox line `/*M!999999\- …*/` counts as a plain comment.
    fn exec_marker(&self, p: usize) -> R<Option<usize>> {
        let (mut q, max_digits) = match (self.at(p + 2), self.at(p + 3)) {
            (Some(b'!'), _) => (p + 3, 5),
            (Some(b'M'), Some(b'!')) => (p + 4, 6),
            (None, _) | (Some(b'M'), None) if !self.eof => return Err(Stop::NeedMore),
            _ => return Ok(None),
        };
        let digits_end = q + max_digits;
        while q < digits_end && matches!(self.at(q), Some(b'0'..=b'9')) {
            q += 1;
        }
        if q < digits_end && q >= self.input.len() && !self.eof {
            return Err(Stop::NeedMore);
        }
        if max_digits == 6 {
            match (self.at(q), self.at(q + 1)) {
                (Some(b'\\'), Some(b'-')) => return Ok(None),
                (Some(b'\\'), None) if !self.eof => return Err(Stop::NeedMore),
                _ => {}
            }
        }
        Ok(Some(q))
    }

    /// Skips blanks and comments from `p`. `exec` is `None` at a statement start, where an
    /// executable comment begins the statement; inside an INSERT it tracks whether one is
    /// open, whose markers are skipped like blanks.
    fn skip_space(&self, mut p: usize, mut exec: Option<&mut bool>) -> R<usize> {
        loop {
            let Some(b) = self.at(p) else { return Ok(p) };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => p += 1,
                b'#' => p = self.line_end(p + 1)?,
                b'-' => match (self.at(p + 1), self.at(p + 2)) {
                    (None, _) | (Some(b'-'), None) if !self.eof => return Err(Stop::NeedMore),
                    (Some(b'-'), None) => return Ok(self.input.len()),
                    (Some(b'-'), Some(c)) if c <= b' ' => p = self.line_end(p + 2)?,
                    _ => return Ok(p),
                },
                b'/' => match self.at(p + 1) {
                    None if !self.eof => return Err(Stop::NeedMore),
                    Some(b'*') => match (self.exec_marker(p)?, exec.as_deref_mut()) {
                        (Some(_), None) => return Ok(p),
                        (Some(after), Some(open)) if !*open => {
                            *open = true;
                            p = after;
                        }
                        _ => p = self.comment_end(p)?,
                    },
                    _ => return Ok(p),
                },
                b'*' => match exec.as_deref_mut() {
                    Some(open) if *open => match self.at(p + 1) {
                        Some(b'/') => {
                            *open = false;
                            p += 2;
                        }
                        None if !self.eof => return Err(Stop::NeedMore),
                        _ => return Ok(p),
                    },
                    _ => return Ok(p),
                },
                _ => return Ok(p),
            }
        }
    }

    /// Parses `DELIMITER` (already matched from `p` to `w_end`) and its line; returns the
    /// argument's range and the offset after the line.
    fn delimiter_command(&self, p: usize, w_end: usize) -> R<((usize, usize), usize)> {
        let mut q = w_end;
        while matches!(self.at(q), Some(b' ' | b'\t')) {
            q += 1;
        }
        let arg_start = q;
        while matches!(self.at(q), Some(b) if !matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            q += 1;
        }
        if q >= self.input.len() && !self.eof {
            return Err(Stop::NeedMore);
        }
        if q == arg_start || q - arg_start > MAX_DELIMITER {
            return fail(p, SqlErrorKind::BadDelimiter);
        }
        let after = match memchr(b'\n', self.rest(q)) {
            Some(k) => q + k + 1,
            None if self.eof => self.input.len(),
            None => return Err(Stop::NeedMore),
        };
        Ok(((arg_start, q), after))
    }

    /// A quoted name (`` ` `` or `"`, doubled quote inside) or a bare one at `p`.
    fn ident(&self, p: usize, start: usize, expected: &'static str) -> R<(String, usize)> {
        let b = self.need(p, start, expected)?;
        let (bytes, end): (Cow<'_, [u8]>, usize) = match b {
            b'`' | b'"' => {
                let mut name = Vec::new();
                let mut i = p + 1;
                loop {
                    let Some(k) = memchr(b, self.rest(i)) else {
                        return self.more(p, SqlErrorKind::UnterminatedIdentifier);
                    };
                    name.extend_from_slice(self.slice(i, i + k));
                    let j = i + k;
                    match self.at(j + 1) {
                        Some(x) if x == b => {
                            name.push(b);
                            i = j + 2;
                        }
                        None if !self.eof => return Err(Stop::NeedMore),
                        _ => break (Cow::Owned(name), j + 1),
                    }
                }
            }
            _ if is_ident_char(b) => {
                let e = self.word_end(p)?;
                (Cow::Borrowed(self.slice(p, e)), e)
            }
            found => return fail(p, SqlErrorKind::UnexpectedByte { found, expected }),
        };
        match std::str::from_utf8(&bytes) {
            Ok(s) if !s.is_empty() => Ok((s.to_owned(), end)),
            _ => fail(p, SqlErrorKind::BadIdentifier),
        }
    }

    /// End of the string literal whose opening quote is at `p`.
    fn string_end(&self, p: usize, backslash: bool) -> R<usize> {
        let Some(q) = self.at(p) else {
            return self.more(p, SqlErrorKind::UnterminatedString);
        };
        let mut i = p + 1;
        loop {
            let rest = self.rest(i);
            let hit = if backslash { memchr2(q, b'\\', rest) } else { memchr(q, rest) };
            let Some(k) = hit else {
                return self.more(p, SqlErrorKind::UnterminatedString);
            };
            let j = i + k;
            if self.at(j) == Some(b'\\') && backslash && q != b'\\' {
                if j + 1 >= self.input.len() {
                    return self.more(p, SqlErrorKind::UnterminatedString);
                }
                i = j + 2;
                continue;
            }
            match self.at(j + 1) {
                Some(x) if x == q => i = j + 2,
                None if !self.eof => return Err(Stop::NeedMore),
                _ => return Ok(j + 1),
            }
        }
    }

    /// End of a number at `p`: optional sign, digits with an optional fraction, optional
    /// exponent.
    fn number(&self, p: usize) -> R<usize> {
        let mut i = p;
        if matches!(self.at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let d0 = i;
        i = self.digits_end(i, |b| b.is_ascii_digit());
        let mut n = i - d0;
        if self.at(i) == Some(b'.') {
            let f0 = i + 1;
            i = self.digits_end(f0, |b| b.is_ascii_digit());
            n += i - f0;
        }
        if n == 0 {
            return self.more_or(i, p, SqlErrorKind::BadNumber);
        }
        if matches!(self.at(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let e0 = j;
            j = self.digits_end(j, |b| b.is_ascii_digit());
            if j == e0 {
                return self.more_or(j, p, SqlErrorKind::BadNumber);
            }
            i = j;
        }
        self.literal_end(i, p, SqlErrorKind::BadNumber)
    }

    fn digits_end(&self, mut i: usize, ok: impl Fn(u8) -> bool) -> usize {
        while matches!(self.at(i), Some(b) if ok(b)) {
            i += 1;
        }
        i
    }

    /// A literal ending at `i` must not run into identifier bytes (`12abc`, `0x1g`).
    fn literal_end(&self, i: usize, p: usize, kind: SqlErrorKind) -> R<usize> {
        match self.at(i) {
            None if !self.eof => Err(Stop::NeedMore),
            Some(b) if is_ident_char(b) || b == b'.' => fail(p, kind),
            _ => Ok(i),
        }
    }

    /// `0x…` or `0b…` at `p`.
    fn prefixed_digits(&self, p: usize, ok: fn(u8) -> bool, kind: SqlErrorKind) -> R<usize> {
        let i = self.digits_end(p + 2, ok);
        if i == p + 2 {
            return self.more_or(i, p, kind);
        }
        self.literal_end(i, p, kind)
    }

    /// `X'…'` or `b'…'` at `p`; hex needs an even number of digits.
    fn quoted_digits(&self, p: usize, ok: fn(u8) -> bool, kind: SqlErrorKind) -> R<usize> {
        let Some(k) = memchr(b'\'', self.rest(p + 2)) else {
            return self.more(p, SqlErrorKind::UnterminatedString);
        };
        let digits = self.slice(p + 2, p + 2 + k);
        let even = kind != SqlErrorKind::BadHex || digits.len() & 1 == 0;
        if !even || !digits.iter().all(|&b| ok(b)) {
            return fail(p, kind);
        }
        Ok(p + 2 + k + 1)
    }
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn is_bit(b: u8) -> bool {
    b == b'0' || b == b'1'
}

/// Bytes of an unquoted identifier (MySQL also allows any non-ASCII character).
#[inline]
fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Skips `/*!NNNNN` or `/*M!NNNNNN` and blanks, then checks for the word `SET`.
fn is_set_statement(text: &[u8]) -> bool {
    let mut t = text;
    let marker = if t.starts_with(b"/*!") {
        Some((3, 5))
    } else if t.starts_with(b"/*M!") {
        Some((4, 6))
    } else {
        None
    };
    if let Some((len, max_digits)) = marker {
        t = t.get(len..).unwrap_or(&[]);
        let digits = t.iter().take(max_digits).take_while(|b| b.is_ascii_digit()).count();
        t = t.get(digits..).unwrap_or(&[]);
    }
    let blanks = t.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
    t = t.get(blanks..).unwrap_or(&[]);
    let word = t.iter().take_while(|&&b| is_ident_char(b)).count();
    eq_ci(t.get(..word).unwrap_or(&[]), b"SET")
}

/// A literal's value, decoded for targets that bind parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Null,
    /// The number as written, sign included; the caller picks integer or real.
    Number(&'a [u8]),
    /// Bit values up to 64 bits, and booleans (1/0).
    UInt(u64),
    /// Strings unescaped (introducer removed), hex decoded, and bit values wider than 64
    /// bits as big-endian bytes.
    Bytes(Cow<'a, [u8]>),
}

/// Decodes the text of a literal located by a [`Literal`]. Never fails: text that the
/// scanner did not accept gives a best-effort value.
pub fn decode_literal<'a>(text: &'a [u8], kind: LiteralKind, opts: SqlOptions) -> Value<'a> {
    match kind {
        LiteralKind::Null => Value::Null,
        LiteralKind::Number => Value::Number(text),
        LiteralKind::Bool => Value::UInt(u64::from(matches!(text.first(), Some(b't' | b'T')))),
        LiteralKind::String => {
            let mut body = strip_introducer(convert_argument(text));
            if let [b'n' | b'N', b'\'', ..] = body {
                body = body.get(1..).unwrap_or(&[]);
            }
            match body.first() {
                Some(&q @ (b'\'' | b'"')) => {
                    let inner = body.get(1..).unwrap_or(&[]);
                    let inner = inner.strip_suffix(&[q]).unwrap_or(inner);
                    Value::Bytes(unescape(inner, q, !opts.no_backslash_escapes))
                }
                _ => Value::Bytes(Cow::Borrowed(body)),
            }
        }
        LiteralKind::Hex => {
            let digits = literal_digits(strip_introducer(text), b'x');
            let mut out = Vec::with_capacity(digits.len() / 2 + 1);
            let mut rest = digits;
            if rest.len() % 2 == 1 {
                out.push(hex_val(rest.first().copied().unwrap_or(b'0')));
                rest = rest.get(1..).unwrap_or(&[]);
            }
            for pair in rest.chunks_exact(2) {
                out.push(hex_val(pair[0]) << 4 | hex_val(pair[1]));
            }
            Value::Bytes(Cow::Owned(out))
        }
        LiteralKind::Bits => {
            let digits = literal_digits(strip_introducer(text), b'b');
            let zeros = digits.iter().take_while(|&&b| b == b'0').count();
            let digits = digits.get(zeros..).unwrap_or(&[]);
            if digits.len() <= 64 {
                Value::UInt(digits.iter().fold(0u64, |v, &b| v << 1 | u64::from(b == b'1')))
            } else {
                let mut out = vec![0u8; digits.len().div_ceil(8)];
                for (i, &b) in digits.iter().rev().enumerate() {
                    if b == b'1' {
                        let n = out.len();
                        if let Some(byte) = out.get_mut(n - 1 - i / 8) {
                            *byte |= 1 << (i % 8);
                        }
                    }
                }
                Value::Bytes(Cow::Owned(out))
            }
        }
    }
}

/// The string literal inside `CONVERT(… USING utf8mb4)` (the scanner checked the form), or
/// `text` itself: from the first quote to the last, which closes it, since only `USING x )`
/// follows it, or from its introducer or `N` before that quote.
fn convert_argument(text: &[u8]) -> &[u8] {
    if !text.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'c')) {
        return text;
    }
    let Some(open) = text.iter().position(|&b| b == b'(') else { return text };
    let Some(first) = text.iter().position(|&b| b == b'\'' || b == b'"') else { return text };
    let Some(last) = text.iter().rposition(|&b| b == text[first]) else { return text };
    let start = text[open + 1..first].iter().position(|b| !b.is_ascii_whitespace()).map_or(first, |i| open + 1 + i);
    &text[start..=last]
}

/// Removes a `_charset` introducer and the blanks after it.
fn strip_introducer(text: &[u8]) -> &[u8] {
    if text.first() != Some(&b'_') {
        return text;
    }
    let name = text.iter().take_while(|&&b| is_ident_char(b)).count();
    let rest = text.get(name..).unwrap_or(&[]);
    let blanks = rest.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).count();
    rest.get(blanks..).unwrap_or(&[])
}

/// The digits of `0x…`/`X'…'` (`letter` b'x') or `0b…`/`b'…'` (`letter` b'b').
fn literal_digits(body: &[u8], letter: u8) -> &[u8] {
    match body {
        [b'0', l, rest @ ..] if *l == letter => rest,
        [l, b'\'', rest @ ..] if l.to_ascii_lowercase() == letter => rest.strip_suffix(b"'").unwrap_or(rest),
        _ => body,
    }
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Unescapes the inside of a string quoted with `q`: doubled quotes, and MySQL's backslash
/// escapes when `backslash` is on (`\%` and `\_` keep their backslash, as in MySQL).
fn unescape(inner: &[u8], q: u8, backslash: bool) -> Cow<'_, [u8]> {
    let find = |s: &[u8]| {
        if backslash {
            memchr2(b'\\', q, s)
        } else {
            memchr(q, s)
        }
    };
    let Some(first) = find(inner) else {
        return Cow::Borrowed(inner);
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    let mut hit = Some(first);
    while let Some(k) = hit {
        let j = i + k;
        out.extend_from_slice(inner.get(i..j).unwrap_or(&[]));
        let Some(&b) = inner.get(j) else { break };
        let next = inner.get(j + 1).copied();
        if b == b'\\' && backslash {
            match next {
                Some(c) => {
                    match c {
                        b'0' => out.push(0),
                        b'b' => out.push(0x08),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'Z' => out.push(0x1a),
                        b'%' | b'_' => out.extend_from_slice(&[b'\\', c]),
                        other => out.push(other),
                    }
                    i = j + 2;
                }
                None => {
                    out.push(b'\\');
                    i = j + 1;
                }
            }
        } else {
            out.push(q);
            i = if next == Some(q) { j + 2 } else { j + 1 };
        }
        hit = find(inner.get(i..).unwrap_or(&[]));
    }
    out.extend_from_slice(inner.get(i..).unwrap_or(&[]));
    Cow::Owned(out)
}

#[cfg(test)]
mod tests;
