//! Scanner for TiDB Lightning's `[mydumper.csv]` dialect.
//!
//! # What it accepts
//! Records of fields split by `separator` (one or more bytes) and ended by `terminator`
//! (CR, LF or CRLF by default; otherwise exactly the given bytes). A field that starts with
//! `delimiter` is quoted: it may hold separators, terminators and doubled delimiters (`""`
//! is one `"`), and it must be followed by a separator, a terminator or the end of input.
//! With `backslash_escape`, `\` escapes the next byte in quoted and unquoted fields as in
//! MySQL's `LOAD DATA` (`\0 \b \n \r \t \Z`, any other `\x` is `x`). Bytes pass through
//! unchanged otherwise; nothing is checked as UTF-8.
//!
//! Choices that follow Lightning's parser:
//! * empty lines, and lines of ASCII blanks that hold no separator and no quoted field, are
//!   skipped (Lightning's `allow-empty-line` is off for imports); so a CRLF needs no special
//!   case beyond consuming the LF together with the CR;
//! * a delimiter inside an unquoted field, or any byte after a closing delimiter other than a
//!   separator or terminator, is a syntax error;
//! * an unquoted field is NULL when it equals a `null` token after unescaping; a quoted one
//!   is text (`"NULL"` is the string, as in `LOAD DATA`). The escape sequence `\N` is the
//!   exception: with `backslash_escape` and `\N` among the tokens, a field whose raw text is
//!   `\N` is NULL, quoted or not (Lightning's documented example: `\N` and `"\N"` are both
//!   NULL), while `\\N` is the text `\N`. `not_null` makes nothing NULL;
//! * `trim_last_separator` drops an empty unquoted last field of a record with two or more
//!   fields, i.e. a separator at the very end of the record.
//!
//! The scanner does not know about headers: a header line is the first record, and the
//! caller decides what to do with it.
//!
//! # The NeedMore / consumed contract
//! As for the SQL scanner: [`CsvScanner::next`] reads one record at the start of `input` and
//! reports how many bytes it used (skipped blank lines before it and its terminator
//! included). If the record is not complete and `eof` is false it returns
//! [`CsvStep::NeedMore`]; the caller appends bytes and calls again with the same start.
//! Decisions never depend on bytes not yet seen (a CR at the end of the input waits for the
//! next byte), so records and `consumed` do not depend on how the input was cut. A final
//! record without terminator is a record at `eof`.
//!
//! # Positions
//! [`CsvError::offset`] is relative to the `input` of the call and points at the start of
//! the bad field (for an unclosed quoted field, its opening delimiter), as Lightning reports.

use std::fmt;

use memchr::{memchr, memchr2};

/// Lightning's `[mydumper.csv]` options that affect parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field separator, never empty (an empty one is treated as `,`).
    pub separator: Vec<u8>,
    /// Quote string; empty means no quoting.
    pub delimiter: Vec<u8>,
    /// `None`: CR, LF or CRLF end a record; `Some(t)`: exactly `t` does.
    pub terminator: Option<Vec<u8>>,
    /// Tokens that make an unquoted field NULL (see the module docs for `\N`).
    pub null: Vec<Vec<u8>>,
    pub backslash_escape: bool,
    pub trim_last_separator: bool,
    /// No field is ever NULL.
    pub not_null: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            separator: b",".to_vec(),
            delimiter: b"\"".to_vec(),
            terminator: None,
            null: vec![b"\\N".to_vec()],
            backslash_escape: true,
            trim_last_separator: false,
            not_null: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldEnd {
    end: usize,
    quoted: bool,
    null: bool,
}

/// One record; field bytes are unquoted and unescaped.
#[derive(Clone, Copy, Debug)]
pub struct Record<'s> {
    buf: &'s [u8],
    fields: &'s [FieldEnd],
}

impl<'s> Record<'s> {
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Field `i`; `None` if it is NULL (or out of range, see [`Record::len`]).
    pub fn field(&self, i: usize) -> Option<&'s [u8]> {
        let f = self.fields.get(i)?;
        if f.null {
            return None;
        }
        let start = match i.checked_sub(1) {
            Some(prev) => self.fields.get(prev).map_or(0, |p| p.end),
            None => 0,
        };
        self.buf.get(start..f.end)
    }

    pub fn is_null(&self, i: usize) -> bool {
        self.fields.get(i).is_some_and(|f| f.null)
    }

    pub fn was_quoted(&self, i: usize) -> bool {
        self.fields.get(i).is_some_and(|f| f.quoted)
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&'s [u8]>> + '_ {
        (0..self.len()).map(move |i| self.field(i))
    }
}

#[derive(Debug)]
pub enum CsvStep<'s> {
    Record { record: Record<'s>, consumed: usize },
    NeedMore,
    End,
}

/// A syntax error; `offset` is relative to the `input` of the failing call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub offset: usize,
    pub kind: CsvErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsvErrorKind {
    /// The input ended inside a quoted field.
    UnterminatedQuote,
    /// Bytes between a closing delimiter and the next separator or terminator.
    TextAfterQuote,
    /// A delimiter in the middle of an unquoted field.
    QuoteInUnquotedField,
    /// A backslash at the very end of the input.
    DanglingBackslash,
}

impl fmt::Display for CsvErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsvErrorKind::UnterminatedQuote => "syntax error: unterminated quoted field",
            CsvErrorKind::TextAfterQuote => {
                "syntax error: text after the closing quote (cannot have consecutive fields without separator)"
            }
            CsvErrorKind::QuoteInUnquotedField => "syntax error: quote character inside an unquoted field",
            CsvErrorKind::DanglingBackslash => "syntax error: no character after backslash",
        })
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for CsvError {}

/// Streaming CSV scanner; see the module docs.
#[derive(Debug)]
pub struct CsvScanner {
    opts: CsvOptions,
    /// Bytes that stop the scan of an unquoted field.
    special: [bool; 256],
    /// The raw text `\N` means NULL.
    escaped_null: bool,
    buf: Vec<u8>,
    fields: Vec<FieldEnd>,
}

enum Stop {
    NeedMore,
    Fail(CsvError),
}

type R<T> = Result<T, Stop>;

fn fail<T>(offset: usize, kind: CsvErrorKind) -> R<T> {
    Err(Stop::Fail(CsvError { offset, kind }))
}

fn more<T>(eof: bool, offset: usize, kind: CsvErrorKind) -> R<T> {
    if eof {
        fail(offset, kind)
    } else {
        Err(Stop::NeedMore)
    }
}

/// Whether `token` starts at `p`; waits for more input on a partial match at the end.
#[inline]
fn starts(input: &[u8], p: usize, token: &[u8], eof: bool) -> R<bool> {
    let rest = input.get(p..).unwrap_or(&[]);
    if rest.starts_with(token) {
        Ok(true)
    } else if rest.len() < token.len() && token.starts_with(rest) && !eof {
        Err(Stop::NeedMore)
    } else {
        Ok(false)
    }
}

fn unescape_byte(c: u8) -> u8 {
    match c {
        b'0' => 0,
        b'b' => 0x08,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'Z' => 0x1a,
        other => other,
    }
}

enum Rec {
    Done(usize),
    Blank(usize),
}

impl CsvScanner {
    pub fn new(mut opts: CsvOptions) -> Self {
        if opts.separator.is_empty() {
            opts.separator = b",".to_vec();
        }
        if opts.terminator.as_ref().is_some_and(|t| t.is_empty()) {
            opts.terminator = None;
        }
        let mut special = [false; 256];
        for b in [opts.separator.first(), opts.delimiter.first()].into_iter().flatten() {
            special[*b as usize] = true;
        }
        match opts.terminator.as_ref().and_then(|t| t.first()) {
            Some(&b) => special[b as usize] = true,
            None => {
                special[b'\r' as usize] = true;
                special[b'\n' as usize] = true;
            }
        }
        if opts.backslash_escape {
            special[b'\\' as usize] = true;
        }
        let escaped_null = opts.backslash_escape && !opts.not_null && opts.null.iter().any(|t| t == b"\\N");
        CsvScanner { opts, special, escaped_null, buf: Vec::new(), fields: Vec::new() }
    }

    pub fn options(&self) -> &CsvOptions {
        &self.opts
    }

    /// Scans the next record at the start of `input`; `eof` says that no bytes follow it.
    pub fn next<'s>(&'s mut self, input: &[u8], eof: bool) -> Result<CsvStep<'s>, CsvError> {
        let mut pos = 0;
        loop {
            if pos >= input.len() {
                return Ok(if eof { CsvStep::End } else { CsvStep::NeedMore });
            }
            match self.record(input, pos, eof) {
                Ok(Rec::Blank(next)) => pos = next,
                Ok(Rec::Done(consumed)) => {
                    return Ok(CsvStep::Record { record: Record { buf: &self.buf, fields: &self.fields }, consumed })
                }
                Err(Stop::NeedMore) => return Ok(CsvStep::NeedMore),
                Err(Stop::Fail(e)) => return Err(e),
            }
        }
    }

    fn record(&mut self, input: &[u8], start: usize, eof: bool) -> R<Rec> {
        self.buf.clear();
        self.fields.clear();
        let sep_len = self.opts.separator.len();
        let mut p = start;
        loop {
            let field_start = p;
            let buf_start = self.buf.len();
            let quoted = !self.opts.delimiter.is_empty() && starts(input, p, &self.opts.delimiter, eof)?;
            if quoted {
                let content_start = p + self.opts.delimiter.len();
                p = self.quoted(input, content_start, field_start, eof)?;
                let content = input.get(content_start..p - self.opts.delimiter.len()).unwrap_or(&[]);
                self.fields.push(FieldEnd {
                    end: self.buf.len(),
                    quoted: true,
                    null: self.escaped_null && content == b"\\N",
                });
                if p >= input.len() {
                    // `quoted` only returns at the end of the input when `eof`.
                    return Ok(self.finish(input, start, p, p));
                }
                if let Some(after) = self.terminator_at(input, p, eof)? {
                    return Ok(self.finish(input, start, p, after));
                }
                if starts(input, p, &self.opts.separator, eof)? {
                    p += sep_len;
                    continue;
                }
                return fail(field_start, CsvErrorKind::TextAfterQuote);
            }
            loop {
                let rest = input.get(p..).unwrap_or(&[]);
                let Some(k) = rest.iter().position(|&b| self.special[b as usize]) else {
                    if !eof {
                        return Err(Stop::NeedMore);
                    }
                    self.buf.extend_from_slice(rest);
                    self.push_unquoted(input, field_start, input.len(), buf_start);
                    return Ok(self.finish(input, start, input.len(), input.len()));
                };
                let q = p + k;
                self.buf.extend_from_slice(rest.get(..k).unwrap_or(&[]));
                if let Some(after) = self.terminator_at(input, q, eof)? {
                    self.push_unquoted(input, field_start, q, buf_start);
                    return Ok(self.finish(input, start, q, after));
                }
                if starts(input, q, &self.opts.separator, eof)? {
                    self.push_unquoted(input, field_start, q, buf_start);
                    p = q + sep_len;
                    break;
                }
                if !self.opts.delimiter.is_empty() && starts(input, q, &self.opts.delimiter, eof)? {
                    return fail(field_start, CsvErrorKind::QuoteInUnquotedField);
                }
                let b = input.get(q).copied().unwrap_or(0);
                if b == b'\\' && self.opts.backslash_escape {
                    match input.get(q + 1) {
                        Some(&c) => {
                            self.buf.push(unescape_byte(c));
                            p = q + 2;
                        }
                        None => return more(eof, field_start, CsvErrorKind::DanglingBackslash),
                    }
                } else {
                    // First byte of a multi-byte token that did not match.
                    self.buf.push(b);
                    p = q + 1;
                }
            }
        }
    }

    /// Reads a quoted field's content from `p` (after the opening delimiter) into the buffer;
    /// returns the offset after the closing delimiter.
    fn quoted(&mut self, input: &[u8], mut p: usize, field_start: usize, eof: bool) -> R<usize> {
        let delim = &self.opts.delimiter;
        let d0 = delim.first().copied().unwrap_or(b'"');
        let escape = self.opts.backslash_escape && d0 != b'\\';
        loop {
            let rest = input.get(p..).unwrap_or(&[]);
            let hit = if escape { memchr2(d0, b'\\', rest) } else { memchr(d0, rest) };
            let Some(k) = hit else {
                return more(eof, field_start, CsvErrorKind::UnterminatedQuote);
            };
            let q = p + k;
            self.buf.extend_from_slice(rest.get(..k).unwrap_or(&[]));
            if starts(input, q, delim, eof)? {
                let after = q + delim.len();
                if starts(input, after, delim, eof)? {
                    self.buf.extend_from_slice(delim);
                    p = after + delim.len();
                    continue;
                }
                return Ok(after);
            }
            let b = input.get(q).copied().unwrap_or(0);
            if b == b'\\' && escape {
                match input.get(q + 1) {
                    Some(&c) => {
                        self.buf.push(unescape_byte(c));
                        p = q + 2;
                    }
                    None => return more(eof, field_start, CsvErrorKind::UnterminatedQuote),
                }
            } else {
                self.buf.push(b);
                p = q + 1;
            }
        }
    }

    /// The offset after a terminator starting at `q`, if one does.
    #[inline]
    fn terminator_at(&self, input: &[u8], q: usize, eof: bool) -> R<Option<usize>> {
        match &self.opts.terminator {
            Some(t) => Ok(starts(input, q, t, eof)?.then(|| q + t.len())),
            None => match input.get(q) {
                Some(b'\n') => Ok(Some(q + 1)),
                Some(b'\r') => match input.get(q + 1) {
                    Some(b'\n') => Ok(Some(q + 2)),
                    None if !eof => Err(Stop::NeedMore),
                    _ => Ok(Some(q + 1)),
                },
                _ => Ok(None),
            },
        }
    }

    fn push_unquoted(&mut self, input: &[u8], field_start: usize, raw_end: usize, buf_start: usize) {
        let raw = input.get(field_start..raw_end).unwrap_or(&[]);
        let value = self.buf.get(buf_start..).unwrap_or(&[]);
        let null = !self.opts.not_null
            && if self.escaped_null && raw == b"\\N" {
                true
            } else {
                !(self.escaped_null && value == b"\\N") && self.opts.null.iter().any(|t| t == value)
            };
        self.fields.push(FieldEnd { end: self.buf.len(), quoted: false, null });
    }

    /// Ends the record that started at `start` and whose last field ended at `raw_end`.
    fn finish(&mut self, input: &[u8], start: usize, raw_end: usize, after: usize) -> Rec {
        if let [only] = self.fields.as_slice() {
            let raw = input.get(start..raw_end).unwrap_or(&[]);
            if !only.quoted && raw.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)) {
                return Rec::Blank(after);
            }
        }
        if self.opts.trim_last_separator && self.fields.len() > 1 {
            if let [.., prev, last] = self.fields.as_slice() {
                if !last.quoted && last.end == prev.end {
                    self.fields.pop();
                }
            }
        }
        Rec::Done(after)
    }
}

#[cfg(test)]
mod tests;
