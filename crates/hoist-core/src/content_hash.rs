//! The row hash of [`crate::row_checksum`] computed on hoist's side, from a source row, so that
//! an import can check the content of what it loaded and not only the number of rows.
//!
//! The server hashes each value as it prints it; a dump writes values as the tool that made it
//! chose (`1.5` for a DECIMAL(5,2) that prints `1.50`, `'2020-1-2'` for `2020-01-02`, `'bc'` for
//! the ENUM member `'Bc'`). So every source value is first normalised by its column's type into
//! the text the server will print for it (widening a decimal to its scale with rounding half
//! away from zero, FLOAT through single precision, CHAR without trailing spaces, BINARY padded
//! with zero bytes, SET members in the column's order, TIMESTAMP converted from the session's
//! time zone to UTC...). The rules were read off MariaDB 10.11 and are checked against it value
//! by value (`tests/integration/content_checksum.rs`).
//!
//! A value whose printed form depends on what the server does beyond these rules (a character
//! set conversion, fractional seconds beyond the column's precision, which MariaDB truncates
//! and MySQL rounds, a TIMESTAMP under a time zone the dump does not state) is not guessed:
//! the row is [`Unpredictable`], and its chunk's content is not compared (the count still is).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::data_type::TypeClass;
use crate::rows::Value;
use crate::target::{charset_set_by, ColumnDescription, TableDescription};

/// The content of a chunk (or of a table: the sum of its chunks') as a checkpoint keeps it in
/// one `u64`: the wrapping sum of the row hashes mod 2^63 in the low bits, and the top bit set
/// once some row's hash could not be known, which no sum reaches: a chunk holds fewer than
/// 2^31 rows of 32-bit hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContentSum(pub u64);

impl ContentSum {
    const UNKNOWN: u64 = 1 << 63;

    pub fn add_row(&mut self, hash: u32) {
        self.add(ContentSum(u64::from(hash)));
    }

    /// Fold in another sum (a chunk's into its table's); unknown stays unknown.
    pub fn add(&mut self, other: ContentSum) {
        let flag = (self.0 | other.0) & Self::UNKNOWN;
        self.0 = flag | (self.0.wrapping_add(other.0) & !Self::UNKNOWN);
    }

    /// Take out rows that were added (rows the target refused, skipped under `[lightning]
    /// max-error`): `other` is their sum. Unknown stays unknown.
    pub fn remove(&mut self, other: ContentSum) {
        let flag = self.0 & Self::UNKNOWN;
        self.0 = flag | (self.0.wrapping_sub(other.0 & !Self::UNKNOWN) & !Self::UNKNOWN);
    }

    pub fn mark_unknown(&mut self) {
        self.0 |= Self::UNKNOWN;
    }

    /// The sum mod 2^63, when every row's hash was known.
    pub fn known(self) -> Option<u64> {
        (self.0 & Self::UNKNOWN == 0).then_some(self.0)
    }

    /// A server's checksum (the sum of the same row hashes mod 2^64) in this form.
    pub fn of_server(sum: u64) -> ContentSum {
        ContentSum(sum & !Self::UNKNOWN)
    }
}

/// Why a row's hash cannot be known before the server stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpredictable(pub String);

/// What the server prints for a column's values, in the row checksum's expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Print {
    Integer,
    Decimal {
        scale: usize,
    },
    /// FLOAT: stored in single precision, hashed through DOUBLE.
    Float,
    Double,
    Year,
    Date,
    DateTime {
        fsp: usize,
        timestamp: bool,
    },
    Time {
        fsp: usize,
    },
    /// BIT(n): `bytes` bytes, big-endian.
    Bit {
        bytes: usize,
    },
    /// Characters in the column's character set; CHAR drops trailing spaces when read.
    Text {
        charset: String,
        char_padded: bool,
    },
    /// BINARY(n) is padded with zero bytes to n.
    Binary {
        pad_to: Option<usize>,
    },
    Enum(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    /// A type whose printed form the rules above do not know (FLOAT(M,D), MySQL's JSON...).
    Unknown(String),
}

/// The hash of a table's rows as the server computes it.
#[derive(Debug, Clone)]
pub struct TableHasher {
    /// Per column of the table, in order; None for generated columns (not hashed).
    columns: Vec<Option<(String, Print)>>,
    /// The time zone of a loading session that sets none, as an offset, when it is one.
    server_offset: Option<i64>,
}

/// The session a source row was written under, as far as it changes the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSession {
    /// The client character set (`binary`, `utf8mb4`...), lower case.
    pub charset: String,
    /// The session time zone as an offset from UTC in seconds, when the dump states one.
    pub utc_offset: Option<i64>,
}

impl SourceSession {
    /// The session of the statements a reader sends before its rows, on top of the writer's
    /// own `SET NAMES utf8mb4` and the server's time zone (`server_offset`, when it is one).
    pub fn from_statements(statements: &[String], server_offset: Option<i64>) -> SourceSession {
        let mut session = SourceSession { charset: "utf8mb4".into(), utc_offset: server_offset };
        for statement in statements {
            if let Some(charset) = charset_set_by(statement) {
                session.charset = charset;
                continue;
            }
            let lower = statement.trim().to_ascii_lowercase();
            let Some(body) = lower.strip_prefix("set ") else { continue };
            for assignment in body.split(',') {
                let Some((name, value)) = assignment.split_once('=') else { continue };
                let name = name.trim().trim_start_matches("@@").trim_start_matches("session").trim_start_matches('.');
                if name.trim() == "time_zone" {
                    session.utc_offset = crate::utc::parse_offset(value.trim().trim_matches(['\'', '"']));
                }
            }
        }
        session
    }
}

impl TableHasher {
    pub fn new(table: &TableDescription, server_offset: Option<i64>) -> TableHasher {
        let columns = table.columns.iter().map(|c| (!c.generated).then(|| (c.name.clone(), print_of(c)))).collect();
        TableHasher { columns, server_offset }
    }

    /// Why some column's values cannot be hashed before the server stores them (its type is
    /// one the rules do not know); None when every column's can.
    pub fn unknown_column(&self) -> Option<String> {
        self.columns.iter().flatten().find_map(|(name, print)| match print {
            Print::Unknown(why) => Some(format!("column `{name}`: {why}")),
            _ => None,
        })
    }

    /// The session rows are stored under after these statements of the dump.
    pub fn session(&self, statements: &[String]) -> SourceSession {
        SourceSession::from_statements(statements, self.server_offset)
    }

    /// The hash of a row whose `values` fill the table's columns at `map` (indexes into the
    /// table's columns, as the reader maps a dump's column list).
    pub fn row_hash(
        &self,
        session: &SourceSession,
        map: &[usize],
        values: &[Value],
        scratch: &mut Scratch,
    ) -> Result<u32, Unpredictable> {
        self.fill_text(session, map, values, scratch)?;
        Ok(crc32fast::hash(&scratch.text))
    }

    /// What the server's row hash runs CRC32 over: `CONCAT_WS(',', ...)` of the parts.
    pub fn row_text(&self, session: &SourceSession, map: &[usize], values: &[Value]) -> Result<Vec<u8>, Unpredictable> {
        let mut scratch = Scratch::default();
        self.fill_text(session, map, values, &mut scratch)?;
        Ok(scratch.text)
    }

    fn fill_text(
        &self,
        session: &SourceSession,
        map: &[usize],
        values: &[Value],
        scratch: &mut Scratch,
    ) -> Result<(), Unpredictable> {
        let Scratch { slots, text } = scratch;
        slots.clear();
        slots.resize(self.columns.len(), usize::MAX);
        for (value, &column) in map.iter().enumerate().take(values.len()) {
            if let Some(slot) = slots.get_mut(column) {
                *slot = value;
            }
        }
        text.clear();
        let mut first = true;
        for (column, &slot) in self.columns.iter().zip(slots.iter()) {
            let Some((name, print)) = column else { continue };
            let Some(value) = values.get(slot) else {
                return Err(Unpredictable(format!("the rows leave column `{name}` to its default")));
            };
            if !first {
                text.push(b',');
            }
            first = false;
            push_part(text, print, session, value).map_err(|why| Unpredictable(format!("column `{name}`: {why}")))?;
        }
        Ok(())
    }
}

/// Buffers one reader reuses from row to row.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per column of the table, the index of its value in the row (usize::MAX: none).
    slots: Vec<usize>,
    text: Vec<u8>,
}

fn print_of(c: &ColumnDescription) -> Print {
    let ty = c.column_type.to_ascii_lowercase();
    let width = || crate::data_type::type_width(&ty);
    match TypeClass::of(&c.data_type) {
        TypeClass::Integer => Print::Integer,
        TypeClass::Decimal => Print::Decimal {
            scale: ty
                .split_once(',')
                .and_then(|(_, s)| s.trim_end_matches(|ch: char| !ch.is_ascii_digit()).parse().ok())
                .unwrap_or(0),
        },
        TypeClass::Float | TypeClass::Double if ty.contains(',') => {
            Print::Unknown(format!("{ty} rounds to its scale as the server chooses"))
        }
        TypeClass::Float => Print::Float,
        TypeClass::Double => Print::Double,
        TypeClass::Year => Print::Year,
        TypeClass::Date => Print::Date,
        TypeClass::DateTime => Print::DateTime { fsp: width().unwrap_or(0), timestamp: c.data_type == "timestamp" },
        TypeClass::Time => Print::Time { fsp: width().unwrap_or(0) },
        TypeClass::Bit => Print::Bit { bytes: width().unwrap_or(1).div_ceil(8) },
        TypeClass::Spatial => Print::Binary { pad_to: None },
        TypeClass::Binary => Print::Binary { pad_to: (c.data_type == "binary").then(|| width().unwrap_or(1)) },
        TypeClass::Text if c.data_type == "enum" => Print::Enum(members(&c.column_type)),
        TypeClass::Text if c.data_type == "set" => Print::Set(members(&c.column_type)),
        TypeClass::Text if c.data_type == "json" => Print::Unknown("MySQL stores JSON in its own normal form".into()),
        TypeClass::Text => Print::Text {
            charset: c.charset.clone().unwrap_or_else(|| "binary".into()).to_ascii_lowercase(),
            char_padded: c.data_type == "char",
        },
    }
}

/// The members of `enum('a','b''c')` / `set(...)`, as COLUMN_TYPE quotes them.
fn members(column_type: &str) -> Vec<Vec<u8>> {
    let inner = column_type.split_once('(').map_or("", |(_, rest)| rest.strip_suffix(')').unwrap_or(rest));
    let bytes = inner.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        if bytes[i] != b'\'' {
            i += 1;
            continue;
        }
        let mut member = Vec::new();
        i += 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                    member.push(b'\'');
                    i += 2;
                }
                b'\'' => break,
                b'\\' if i + 1 < bytes.len() => {
                    member.push(bytes[i + 1]);
                    i += 2;
                }
                b => {
                    member.push(b);
                    i += 1;
                }
            }
        }
        out.push(member);
        i += 1;
    }
    out
}

/// Append one column's part of the row text: the printed value for numbers and times, else
/// `LENGTH:bytes`; `N` for NULL.
fn push_part(out: &mut Vec<u8>, print: &Print, session: &SourceSession, value: &Value) -> Result<(), String> {
    use std::io::Write as _;
    if *value == Value::Null {
        out.push(b'N');
        return Ok(());
    }
    // Dumps mostly hold values in the form the server prints: those are copied as they are.
    let bytes: Cow<[u8]> = match print {
        Print::Unknown(why) => return Err(why.clone()),
        Print::Integer => {
            match number_bytes(value).filter(|b| canonical_decimal(b, 0)) {
                Some(b) => out.extend_from_slice(b),
                None => out.extend_from_slice(Decimal::of(value)?.rounded(0)?.as_bytes()),
            }
            return Ok(());
        }
        Print::Decimal { scale } => {
            match number_bytes(value).filter(|b| canonical_decimal(b, *scale)) {
                Some(b) => out.extend_from_slice(b),
                None => out.extend_from_slice(Decimal::of(value)?.rounded(*scale)?.as_bytes()),
            }
            return Ok(());
        }
        Print::Float | Print::Double => {
            let x: f64 = number_text(value)?.parse().map_err(|_| "not a number".to_string())?;
            let x = if *print == Print::Float { f64::from(x as f32) } else { x };
            if !x.is_finite() {
                return Err("out of range".into());
            }
            push_double(out, x);
            return Ok(());
        }
        Print::Year => {
            let n: i64 = number_text(value)?.parse().map_err(|_| "not a year".to_string())?;
            let quoted_zero = matches!(value, Value::Text(_));
            let year = match n {
                0 if !quoted_zero => 0,
                0..=69 => 2000 + n,
                70..=99 => 1900 + n,
                1901..=2155 => n,
                _ => return Err("not a year".into()),
            };
            let _ = write!(out, "{year:04}");
            return Ok(());
        }
        Print::Date => {
            let text = text_of(value)?;
            if canonical_datetime(text.as_bytes(), None) {
                out.extend_from_slice(text.as_bytes());
                return Ok(());
            }
            let (date, rest) = parse_date(text)?;
            if !rest.is_empty() {
                return Err("a date with more than a date".into());
            }
            out.extend_from_slice(date.as_bytes());
            return Ok(());
        }
        Print::DateTime { fsp, timestamp } => {
            let text = text_of(value)?;
            let as_is = !*timestamp || session.utc_offset == Some(0);
            if as_is && canonical_datetime(text.as_bytes(), Some(*fsp)) {
                out.extend_from_slice(text.as_bytes());
                return Ok(());
            }
            let printed = datetime(text, *fsp)?;
            let printed = match (*timestamp, session.utc_offset) {
                (false, _) | (true, Some(0)) => printed,
                _ if printed.starts_with("0000-00-00") => printed,
                (true, Some(offset)) => shift(&printed, -offset)?,
                (true, None) => return Err("a TIMESTAMP under a session time zone the dump does not state".into()),
            };
            out.extend_from_slice(printed.as_bytes());
            return Ok(());
        }
        Print::Time { fsp } => {
            out.extend_from_slice(time(text_of(value)?, *fsp)?.as_bytes());
            return Ok(());
        }
        Print::Bit { bytes } => {
            let n = match value {
                Value::UInt(n) => *n,
                Value::Number(_) => Decimal::of(value)?.rounded(0)?.parse::<u64>().map_err(|_| "not a bit value")?,
                Value::Binary(b) if b.len() <= *bytes => b.iter().fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte)),
                _ => return Err("a string for a BIT column".into()),
            };
            Cow::Owned(n.to_be_bytes()[8 - bytes.min(&8)..].to_vec())
        }
        Print::Binary { pad_to } => {
            let b = raw_bytes(value)?;
            match pad_to {
                Some(n) if b.len() < *n => {
                    let mut padded = b.into_owned();
                    padded.resize(*n, 0);
                    Cow::Owned(padded)
                }
                _ => b,
            }
        }
        Print::Text { charset, char_padded } => {
            let b = match value {
                Value::Text(b) if same_bytes(&session.charset, charset) => Cow::Borrowed(&b[..]),
                Value::Text(b) => Cow::Owned(
                    converted(b, &session.charset, charset)
                        .ok_or_else(|| format!("converted by the server from {} to {charset}", session.charset))?,
                ),
                Value::Binary(b) => Cow::Borrowed(&b[..]),
                _ => raw_bytes(value)?,
            };
            match (char_padded, b) {
                (true, Cow::Borrowed(b)) => {
                    Cow::Borrowed(&b[..b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1)])
                }
                (true, Cow::Owned(mut b)) => {
                    b.truncate(b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1));
                    Cow::Owned(b)
                }
                (false, b) => b,
            }
        }
        Print::Enum(members) => match value {
            Value::Number(_) | Value::UInt(_) => {
                let n: usize = Decimal::of(value)?.rounded(0)?.parse().map_err(|_| "not a member")?;
                Cow::Borrowed(&members.get(n.wrapping_sub(1)).ok_or("not a member")?[..])
            }
            _ => Cow::Borrowed(&member(members, &raw_bytes(value)?).ok_or("not a member of the ENUM")?[..]),
        },
        Print::Set(members) => {
            let chosen: Vec<bool> = match value {
                Value::Number(_) | Value::UInt(_) => {
                    let n: u64 = Decimal::of(value)?.rounded(0)?.parse().map_err(|_| "not a set")?;
                    (0..members.len()).map(|i| n >> i & 1 == 1).collect()
                }
                _ => {
                    let mut chosen = vec![false; members.len()];
                    let given = raw_bytes(value)?;
                    for part in given.split(|&b| b == b',').filter(|p| !p.is_empty()) {
                        let found = members.iter().position(|m| m.eq_ignore_ascii_case(part));
                        chosen[found.ok_or("not a member of the SET")?] = true;
                    }
                    chosen
                }
            };
            let picked: Vec<&[u8]> =
                members.iter().zip(chosen).filter(|(_, on)| *on).map(|(m, _)| m.as_slice()).collect();
            Cow::Owned(picked.join(&b","[..]))
        }
    };
    out.extend_from_slice(itoa::Buffer::new().format(bytes.len()).as_bytes());
    out.push(b':');
    out.extend_from_slice(&bytes);
    Ok(())
}

/// The bytes of a number as written, or of a string holding one.
fn number_bytes<'v>(value: &'v Value) -> Option<&'v [u8]> {
    match value {
        Value::Number(n) => Some(n),
        Value::Text(t) => Some(t),
        _ => None,
    }
}

/// `-12.345` as the server prints a DECIMAL of `scale` (an integer for 0): no `+`, no leading
/// zero, exactly `scale` fraction digits, no negative zero.
fn canonical_decimal(b: &[u8], scale: usize) -> bool {
    let unsigned = b.strip_prefix(b"-").unwrap_or(b);
    let int_len = unsigned.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, rest) = unsigned.split_at(int_len);
    let frac_ok = match scale {
        0 => rest.is_empty(),
        _ => rest.len() == scale + 1 && rest[0] == b'.' && rest[1..].iter().all(u8::is_ascii_digit),
    };
    let leading_ok = int.len() == 1 || int.first().is_some_and(|&c| c != b'0');
    let negative_zero = b.len() != unsigned.len() && unsigned.iter().all(|&c| c == b'0' || c == b'.');
    frac_ok && !int.is_empty() && leading_ok && !negative_zero
}

/// `YYYY-MM-DD`, or with `fsp` `YYYY-MM-DD HH:MM:SS` and `fsp` fraction digits, as printed.
fn canonical_datetime(b: &[u8], fsp: Option<usize>) -> bool {
    const SHAPE: &[u8] = b"0000-00-00 00:00:00";
    let len = match fsp {
        None => 10,
        Some(0) => 19,
        Some(n) => 20 + n,
    };
    b.len() == len
        && b.iter().zip(SHAPE.iter().chain(b".")).all(|(&c, &s)| if s == b'0' { c.is_ascii_digit() } else { c == s })
        && b.get(20..).is_none_or(|f| f.iter().all(u8::is_ascii_digit))
}

/// Bytes go into a column unconverted when the session sends them in its character set (or
/// as binary); the utf8 family shares one encoding.
fn same_bytes(session: &str, column: &str) -> bool {
    let utf8 = |c: &str| matches!(c, "utf8" | "utf8mb3" | "utf8mb4");
    session == "binary" || session == column || (utf8(session) && utf8(column))
}

/// Text the server converts from the session's character set to the column's, where the
/// conversion is plain: ASCII between ASCII-based sets, and UTF-8 into latin1, which is cp1252
/// on MySQL and MariaDB (`€` is 0x80; 0x81, 0x8D, 0x8F, 0x90 and 0x9D are U+0081... as they
/// are in WHATWG's windows-1252, whose encoder this is).
fn converted(text: &[u8], from: &str, to: &str) -> Option<Vec<u8>> {
    let ascii_based = |c: &str| !matches!(c, "ucs2" | "utf16" | "utf16le" | "utf32");
    if text.is_ascii() && ascii_based(from) && ascii_based(to) {
        return Some(text.to_vec());
    }
    if !matches!(from, "utf8" | "utf8mb3" | "utf8mb4") || to != "latin1" {
        return None;
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(std::str::from_utf8(text).ok()?);
    (!unmappable).then(|| bytes.into_owned())
}

fn member<'m>(members: &'m [Vec<u8>], given: &[u8]) -> Option<&'m Vec<u8>> {
    members.iter().find(|m| m.eq_ignore_ascii_case(given))
}

/// A value's bytes as a string column stores them. A number literal becomes the string the
/// server prints for it: `007` is `7`, `-0.0` is `0.0`, `1.50` keeps its scale; an approximate
/// one (`1e3`) prints as a double would, which is not guessed here.
fn raw_bytes<'v>(value: &'v Value) -> Result<Cow<'v, [u8]>, String> {
    match value {
        Value::Text(b) | Value::Binary(b) => Ok(Cow::Borrowed(&b[..])),
        Value::Number(n) => match Decimal::parse(n).filter(|d| d.exponent == 0) {
            Some(_) if canonical_decimal(n, n.iter().position(|&c| c == b'.').map_or(0, |p| n.len() - p - 1)) => {
                Ok(Cow::Borrowed(n))
            }
            Some(d) => Ok(Cow::Owned(d.rounded(d.scale.max(0) as usize)?.into_bytes())),
            None => Err("a number the server would print in its own way".into()),
        },
        _ => Err("a number the server would print in its own way".into()),
    }
}

fn number_text<'v>(value: &'v Value) -> Result<&'v str, String> {
    let bytes = number_bytes(value).ok_or("bytes for a number")?;
    std::str::from_utf8(bytes).map_err(|_| "not a number".to_string())
}

fn text_of<'v>(value: &'v Value) -> Result<&'v str, String> {
    match value {
        Value::Text(b) | Value::Binary(b) => std::str::from_utf8(b).map_err(|_| "not text".to_string()),
        Value::Number(_) | Value::UInt(_) => Err("a number for a date or time".into()),
        Value::Null => Err("NULL".into()),
    }
}

/// A decimal number as written: sign, digits and where the point goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    /// Digits without the point or leading zeros.
    digits: Vec<u8>,
    /// How many of `digits` are after the point (may exceed their count, or be negative).
    scale: i64,
    /// The exponent as written (`e3`): an approximate literal in SQL.
    exponent: i64,
}

impl Decimal {
    fn parse(text: &[u8]) -> Option<Decimal> {
        let text = std::str::from_utf8(text).ok()?;
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let scale = frac.len() as i64 - exponent;
        Some(Decimal { negative, digits, scale, exponent })
    }

    fn of(value: &Value) -> Result<Decimal, String> {
        match value {
            Value::UInt(n) => Ok(Decimal {
                negative: false,
                digits: n.to_string().bytes().map(|b| b - b'0').collect(),
                scale: 0,
                exponent: 0,
            }),
            _ => number_bytes(value).and_then(Decimal::parse).ok_or_else(|| "not a number".to_string()),
        }
    }

    /// The number with exactly `scale` digits after the point, rounded half away from zero as
    /// the server rounds a decimal; an approximate literal that needs rounding is not guessed.
    fn rounded(&self, scale: usize) -> Result<String, String> {
        let mut digits = self.digits.clone();
        let want = scale as i64;
        if self.scale < want {
            digits.extend(std::iter::repeat_n(0, (want - self.scale) as usize));
        } else if self.scale > want {
            let cut = (self.scale - want) as usize;
            let keep = digits.len().saturating_sub(cut);
            let dropped = &digits[keep..];
            let padded_first = if cut > self.digits.len() { 0 } else { dropped.first().copied().unwrap_or(0) };
            if self.exponent != 0 && dropped.iter().any(|&d| d != 0) {
                return Err("an approximate number that the server rounds as a double".into());
            }
            digits.truncate(keep);
            if padded_first >= 5 {
                let mut i = digits.len();
                loop {
                    if i == 0 {
                        digits.insert(0, 1);
                        break;
                    }
                    i -= 1;
                    if digits[i] == 9 {
                        digits[i] = 0;
                    } else {
                        digits[i] += 1;
                        break;
                    }
                }
            }
        }
        while digits.len() < scale + 1 {
            digits.insert(0, 0);
        }
        let int_len = digits.len() - scale;
        let first = digits[..int_len - 1].iter().position(|&d| d != 0).unwrap_or(int_len - 1);
        let zero = digits.iter().all(|&d| d == 0);
        let mut s = String::with_capacity(digits.len() + 2);
        if self.negative && !zero {
            s.push('-');
        }
        s.extend(digits[first..int_len].iter().map(|&d| char::from(b'0' + d)));
        if scale > 0 {
            s.push('.');
            s.extend(digits[int_len..].iter().map(|&d| char::from(b'0' + d)));
        }
        Ok(s)
    }
}

/// A double as the server prints it: the shortest digits that read back as the same number,
/// in fixed notation or as `1.5e17` / `5e-324`.
fn push_double(out: &mut Vec<u8>, x: f64) {
    use std::io::Write as _;
    if x == 0.0 {
        out.push(b'0');
        return;
    }
    let (digits, exp) = shortest_digits(x.abs());
    let digits = digits.as_bytes();
    if x < 0.0 {
        out.push(b'-');
    }
    // Read off MariaDB: fixed notation for exponents -15..=14, and beyond 14 while digits
    // remain after the point (17 digits at 10^15); else `1.5e17`.
    if exp < -15 || exp >= 15 && digits.len() as i32 <= exp + 1 {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let _ = write!(out, "e{exp}");
        return;
    }
    if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    }
}

/// The shortest significant digits that read back as `x` (positive), and the exponent of the
/// first. Where two such digit strings are equally near `x` (it lies exactly halfway), the
/// server's dtoa takes the one ending in an even digit; ryu may take the upper one.
fn shortest_digits(x: f64) -> (String, i32) {
    let mut buf = ryu::Buffer::new();
    // `123.45`, `0.00012`, `1.5e17`, `5e-324`, `100.0`.
    let printed = buf.format_finite(x);
    let (mantissa, exp10) = match printed.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().expect("ryu prints an integer exponent")),
        None => (printed, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int_part}{frac_part}");
    let lead = all.bytes().take_while(|&b| b == b'0').count();
    let digits = all[lead..].trim_end_matches('0').to_string();
    let exp = int_part.len() as i32 - 1 - lead as i32 + exp10;
    let n = digits.len();
    let last = digits.as_bytes()[n - 1];
    if last % 2 == 0 || !halfway_below(x, &digits, exp) {
        return (digits, exp);
    }
    (format!("{}{}", &digits[..n - 1], char::from(last - 1)), exp)
}

/// Whether `x` lies exactly halfway between `digits` (its shortest digits, first of exponent
/// `exp`) and the string one lower in the last digit: then both read back as `x`.
fn halfway_below(x: f64, digits: &str, exp: i32) -> bool {
    let n = digits.len();
    let last = digits.as_bytes()[n - 1];
    // The candidate half: the lower string and a 5. Most values are not it (parse differs).
    let half = format!("{}{}5e{}", &digits[..n - 1], char::from(last - 1), exp - n as i32);
    if half.parse::<f64>() != Ok(x) {
        return false;
    }
    // {:.800e} is exact: a double's decimal expansion is shorter.
    let exact = format!("{x:.800e}");
    let exact: String = exact.split_once('e').map_or("", |(m, _)| m).replace('.', "");
    exact.len() > n
        && exact.starts_with(&half[..n])
        && exact.as_bytes()[n] == b'5'
        && exact[n + 1..].bytes().all(|b| b == b'0')
}

/// `YYYY-M-D` at the start of `text`: the date as printed and what follows it.
fn parse_date(text: &str) -> Result<(String, &str), String> {
    let bad = || format!("{text:?} is not a date in a form the server prints alike");
    let mut parts = text.splitn(3, '-');
    let (y, m, rest) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    let d_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (d, rest) = rest.split_at(d_len);
    let ok = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4 || !ok(y, 4) || !ok(m, 2) || !ok(d, 2) {
        return Err(bad());
    }
    Ok((format!("{y}-{m:0>2}-{d:0>2}"), rest))
}

/// `HH:MM:SS[.frac]` as the server prints it with `fsp` fraction digits; `hours` digits as
/// many as needed, at least two.
fn clock(text: &str, fsp: usize, max_hours: usize) -> Result<String, String> {
    let bad = || format!("{text:?} is not a time in a form the server prints alike");
    let (hms, frac) = text.split_once('.').unwrap_or((text, ""));
    let parts: Vec<&str> = hms.split(':').collect();
    let ok = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !ok(parts[0], max_hours) || !ok(parts[1], 2) || !ok(parts[2], 2) {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if frac.len() > fsp {
        return Err("more fraction digits than the column keeps (the server cuts or rounds them)".into());
    }
    let hours = parts[0].trim_start_matches('0');
    let mut s = format!("{hours:0>2}:{:0>2}:{:0>2}", parts[1], parts[2]);
    if fsp > 0 {
        let _ = write!(s, ".{frac:0<fsp$}");
    }
    Ok(s)
}

fn datetime(text: &str, fsp: usize) -> Result<String, String> {
    let (date, rest) = parse_date(text)?;
    let clock = match rest.strip_prefix([' ', 'T']) {
        None if rest.is_empty() => clock("00:00:00", fsp, 2)?,
        Some(c) => clock(c, fsp, 2)?,
        None => return Err(format!("{text:?} is not a date and time in a form the server prints alike")),
    };
    Ok(format!("{date} {clock}"))
}

fn time(text: &str, fsp: usize) -> Result<String, String> {
    match text.strip_prefix('-') {
        Some(rest) => Ok(format!("-{}", clock(rest, fsp, 3)?)),
        None => clock(text, fsp, 3),
    }
}

/// `YYYY-MM-DD HH:MM:SS[.f]` moved by `seconds`.
fn shift(printed: &str, seconds: i64) -> Result<String, String> {
    let n = |r: std::ops::Range<usize>| printed.get(r).and_then(|s| s.parse::<i64>().ok()).ok_or("not a date");
    let days = crate::utc::days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?);
    let epoch = days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)? + seconds;
    Ok(format!("{}{}", crate::utc::utc_text(epoch), &printed[19..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn column(name: &str, data_type: &str, column_type: &str) -> ColumnDescription {
        ColumnDescription {
            name: name.into(),
            data_type: data_type.into(),
            column_type: column_type.into(),
            unsigned: false,
            charset: TypeClass::of(data_type).eq(&TypeClass::Text).then(|| "utf8mb4".into()),
            generated: false,
        }
    }

    fn printed(data_type: &str, column_type: &str, value: Value, session: &SourceSession) -> Result<String, String> {
        let mut out = Vec::new();
        push_part(&mut out, &print_of(&column("c", data_type, column_type)), session, &value)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn utc() -> SourceSession {
        SourceSession { charset: "utf8mb4".into(), utc_offset: Some(0) }
    }

    fn num(s: &str) -> Value<'_> {
        Value::Number(s.as_bytes())
    }

    fn text(s: &str) -> Value<'_> {
        Value::Text(Cow::Borrowed(s.as_bytes()))
    }

    /// Each case was printed by MariaDB 10.11 for the value stored into such a column.
    #[test]
    fn values_print_as_the_server_prints_them() {
        let s = utc();
        let cases: Vec<(&str, &str, Value, &str)> = vec![
            ("int", "int(11)", num("+007"), "7"),
            ("int", "int(11)", num("-0"), "0"),
            ("int", "int(11)", num("3.5"), "4"),
            ("int", "int(11)", num("-3.5"), "-4"),
            ("int", "int(11)", num("1e3"), "1000"),
            ("bigint", "bigint(20) unsigned", Value::UInt(18446744073709551615), "18446744073709551615"),
            ("decimal", "decimal(8,3)", num("-0.5"), "-0.500"),
            ("decimal", "decimal(8,3)", num("1.2345"), "1.235"),
            ("decimal", "decimal(8,3)", num("12"), "12.000"),
            ("decimal", "decimal(8,3)", num("-0.0001"), "0.000"),
            ("decimal", "decimal(8,3)", num("9.9996"), "10.000"),
            ("decimal", "decimal(5,0)", text("0042"), "42"),
            ("double", "double", num("1e15"), "1e15"),
            ("double", "double", num("100000000000000"), "100000000000000"),
            ("double", "double", num("123456789012345678"), "1.2345678901234568e17"),
            ("double", "double", num("0.00000015"), "0.00000015"),
            ("double", "double", num("1.5e-16"), "1.5e-16"),
            ("double", "double", num("-0e0"), "0"),
            ("double", "double", num("4.9e-324"), "5e-324"),
            ("double", "double", num("123456789012345.67"), "123456789012345.67"),
            ("double", "double", num("923183979.26953125"), "923183979.2695312"),
            ("double", "double", num("-735013146.73828125"), "-735013146.7382812"),
            ("double", "double", num("0.5"), "0.5"),
            ("double", "double", num("-3.0556155910975405e15"), "-3055615591097540.5"),
            ("double", "double", num("1.2345678901234567e16"), "1.2345678901234568e16"),
            ("double", "double", num("2.5e-300"), "2.5e-300"),
            ("float", "float", num("0.1"), "0.10000000149011612"),
            ("float", "float", num("3.4e38"), "3.3999999521443642e38"),
            ("year", "year(4)", num("0"), "0000"),
            ("year", "year(4)", text("0"), "2000"),
            ("year", "year(4)", num("69"), "2069"),
            ("year", "year(4)", num("70"), "1970"),
            ("date", "date", text("2020-1-2"), "2020-01-02"),
            ("datetime", "datetime", text("2020-01-02T03:04:05"), "2020-01-02 03:04:05"),
            ("datetime", "datetime", text("2020-1-2"), "2020-01-02 00:00:00"),
            ("timestamp", "timestamp(2)", text("2020-1-2 3:4:5.1"), "2020-01-02 03:04:05.10"),
            ("time", "time(1)", text("-1:2:3"), "-01:02:03.0"),
            ("time", "time(1)", text("838:59:59"), "838:59:59.0"),
            ("time", "time", text("0:0:0"), "00:00:00"),
            ("char", "char(5)", text("ab  "), "2:ab"),
            ("varchar", "varchar(5)", text("ab  "), "4:ab  "),
            ("varchar", "varchar(5)", num("007"), "1:7"),
            ("varchar", "varchar(5)", num("-0.0"), "3:0.0"),
            ("varchar", "varchar(5)", num("1.50"), "4:1.50"),
            ("varchar", "varchar(5)", num("-12"), "3:-12"),
            ("binary", "binary(4)", Value::Binary(Cow::Borrowed(b"A")), "4:A\0\0\0"),
            ("bit", "bit(12)", Value::UInt(5), "2:\0\u{5}"),
            ("enum", "enum('a','Bc')", text("bc"), "2:Bc"),
            ("enum", "enum('a','Bc')", num("2"), "2:Bc"),
            ("set", "set('x','y','z')", text("z,x"), "3:x,z"),
            ("set", "set('x','y','z')", num("5"), "3:x,z"),
            ("set", "set('x','y','z')", text(""), "0:"),
            ("int", "int(11)", Value::Null, "N"),
        ];
        for (data_type, column_type, value, want) in cases {
            let shown = format!("{value:?}");
            assert_eq!(printed(data_type, column_type, value, &s).as_deref(), Ok(want), "{column_type} {shown}");
        }
    }

    #[test]
    fn what_the_server_decides_alone_is_not_guessed() {
        let s = utc();
        let unknown = [
            ("datetime", "datetime", text("2020-01-02 03:04:05.5")),
            ("double", "double(8,2)", num("1.5")),
            ("date", "date", text("20200102")),
            ("int", "int(11)", num("2.5e-1")),
            ("json", "json", text("{}")),
        ];
        for (data_type, column_type, value) in unknown {
            let shown = format!("{value:?}");
            assert!(printed(data_type, column_type, value, &s).is_err(), "{column_type} {shown}");
        }
        let latin1 = SourceSession { charset: "latin1".into(), utc_offset: Some(0) };
        assert!(printed("varchar", "varchar(5)", text("é"), &latin1).unwrap_err().contains("latin1"));
        let mut latin1_column = column("c", "varchar", "varchar(5)");
        latin1_column.charset = Some("latin1".into());
        let print = print_of(&latin1_column);
        let mut out = Vec::new();
        push_part(&mut out, &print, &s, &text("aé")).unwrap();
        assert_eq!(out, b"2:a\xe9");
        let mut out = Vec::new();
        push_part(&mut out, &print, &s, &text("€‘\u{81}")).unwrap();
        assert_eq!(out, b"3:\x80\x91\x81", "latin1 is cp1252");
        assert!(push_part(&mut out, &print, &s, &text("\u{80}")).is_err(), "cp1252 has no U+0080");
        assert!(push_part(&mut out, &print, &s, &text("ж")).is_err());
        let unknown_zone = SourceSession { charset: "binary".into(), utc_offset: None };
        assert!(printed("timestamp", "timestamp", text("2020-01-01 00:00:00"), &unknown_zone).is_err());
        assert_eq!(
            printed("datetime", "datetime", text("2020-01-01 00:00:00"), &unknown_zone).unwrap(),
            "2020-01-01 00:00:00"
        );
    }

    #[test]
    fn timestamps_move_from_the_session_zone_to_utc() {
        let s = SourceSession { charset: "binary".into(), utc_offset: Some(8 * 3600) };
        assert_eq!(printed("timestamp", "timestamp", text("2020-01-01 05:00:00"), &s).unwrap(), "2019-12-31 21:00:00");
        assert_eq!(printed("timestamp", "timestamp", text("0000-00-00 00:00:00"), &s).unwrap(), "0000-00-00 00:00:00");
    }

    #[test]
    fn the_session_comes_from_the_dump_statements() {
        let s = SourceSession::from_statements(
            &["SET NAMES binary".into(), "SET @OLD_TIME_ZONE=@@TIME_ZONE".into(), "SET TIME_ZONE='+00:00'".into()],
            None,
        );
        assert_eq!(s, SourceSession { charset: "binary".into(), utc_offset: Some(0) });
        let s = SourceSession::from_statements(
            &["SET NAMES 'latin1' COLLATE latin1_bin".into(), "SET time_zone = '-05:30'".into()],
            None,
        );
        assert_eq!(s, SourceSession { charset: "latin1".into(), utc_offset: Some(-(5 * 3600 + 1800)) });
        assert_eq!(SourceSession::from_statements(&["SET TIME_ZONE=@OLD_TIME_ZONE".into()], None).utc_offset, None);
        assert_eq!(SourceSession::from_statements(&["SET NAMES binary".into()], Some(0)).utc_offset, Some(0));
    }

    #[test]
    fn sums_fold_mod_2_63_and_unknown_is_kept() {
        let mut a = ContentSum::default();
        a.add_row(u32::MAX);
        a.add(ContentSum(u64::MAX >> 1));
        assert_eq!(a.known(), Some(u64::from(u32::MAX) - 1));
        assert_eq!(ContentSum::of_server(u64::MAX).known(), Some(u64::MAX >> 1));
        let mut b = ContentSum::default();
        b.mark_unknown();
        b.add_row(5);
        a.add(b);
        assert_eq!(a.known(), None);
    }

    /// A skipped row's hash comes out of the sum it went into, across the wrap at 2^63.
    #[test]
    fn a_removed_row_leaves_the_sum_of_the_others() {
        let mut sum = ContentSum(u64::MAX >> 1);
        let before = sum;
        sum.add_row(7);
        assert_eq!(sum.known(), Some(6), "wrapped mod 2^63");
        let mut removed = ContentSum::default();
        removed.add_row(7);
        sum.remove(removed);
        assert_eq!(sum, before);
        let mut unknown = ContentSum::default();
        unknown.mark_unknown();
        unknown.remove(removed);
        assert_eq!(unknown.known(), None);
    }

    #[test]
    fn a_row_hashes_its_stored_columns_in_order_and_needs_them_all() {
        let mut gen = column("g", "int", "int(11)");
        gen.generated = true;
        let table = TableDescription {
            columns: vec![column("id", "int", "int(11)"), gen, column("s", "varchar", "varchar(9)")],
            key: None,
        };
        let h = TableHasher::new(&table, None);
        let values = [text("abc"), num("7")];
        let mut scratch = Scratch::default();
        assert_eq!(h.row_hash(&utc(), &[2, 0], &values, &mut scratch).unwrap(), crc32fast::hash(b"7,3:abc"));
        let err = h.row_hash(&utc(), &[0], &values[1..], &mut scratch).unwrap_err();
        assert!(err.0.contains("`s` to its default"), "{err:?}");
    }
}
