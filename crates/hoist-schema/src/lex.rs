//! Tokens with byte offsets, and MySQL version comments.
//!
//! `sqlparser` reports token positions as line and column (in characters). The text edits
//! need byte offsets, so every token is given both. Version comments (`/*!50100 ... */`) are
//! opened up before tokenizing by replacing their markers with spaces: the content becomes
//! ordinary tokens, and all offsets stay those of the original text. (`sqlparser` can
//! expand such comments itself, but the tokens it makes from them carry wrong positions.)

use std::ops::Range;

use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Tokenizer};

use crate::SchemaError;

/// The markers of one version comment, as byte ranges of the original text.
#[derive(Clone, Debug)]
pub(crate) struct VersionComment {
    /// `/*!50100` (or `/*M!100100`), up to the end of the version number.
    pub open: Range<usize>,
    /// `*/`.
    pub close: Range<usize>,
}

/// A non-whitespace token and where it is.
#[derive(Clone, Debug)]
pub(crate) struct Tok {
    pub token: Token,
    pub span: Span,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

impl Tok {
    pub fn with_span(&self) -> TokenWithSpan {
        TokenWithSpan::new(self.token.clone(), self.span)
    }

    /// Is this the unquoted word `kw` (any case)?
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    /// The identifier value of a word token (quoted or not).
    pub fn ident(&self) -> Option<&str> {
        match &self.token {
            Token::Word(w) => Some(&w.value),
            _ => None,
        }
    }

    pub fn location(&self) -> String {
        format!("line {}, column {}", self.span.start.line, self.span.start.column)
    }
}

/// A statement ready for analysis and editing.
#[derive(Debug)]
pub(crate) struct Lexed {
    /// The statement as given.
    pub original: String,
    /// The original text with version-comment markers replaced by spaces.
    pub analysis: String,
    /// Non-whitespace tokens of `analysis`, in order.
    pub toks: Vec<Tok>,
    pub comments: Vec<VersionComment>,
}

const BOM: &str = "\u{feff}";

pub(crate) fn dialect() -> MySqlDialect {
    MySqlDialect {}
}

/// A parser over the given tokens, with the default recursion limit.
pub(crate) fn parser<'a>(dialect: &'a MySqlDialect, toks: &[Tok]) -> Parser<'a> {
    Parser::new(dialect).with_tokens_with_locations(toks.iter().map(Tok::with_span).collect())
}

pub(crate) fn parse_error(message: impl Into<String>) -> SchemaError {
    SchemaError::Parse { message: message.into() }
}

pub(crate) fn lex(sql: &str) -> Result<Lexed, SchemaError> {
    let comments = find_version_comments(sql)?;
    let mut bytes = sql.as_bytes().to_vec();
    for c in &comments {
        for r in [c.open.clone(), c.close.clone()] {
            if let Some(b) = bytes.get_mut(r) {
                b.fill(b' ');
            }
        }
    }
    // A byte-order mark at the start is no part of the statement.
    if sql.starts_with(BOM) {
        bytes[..BOM.len()].fill(b' ');
    }
    // Only whole characters were replaced by ASCII spaces, so this cannot fail.
    let analysis = String::from_utf8(bytes).map_err(|e| parse_error(e.to_string()))?;

    let dialect = dialect();
    let spanned =
        Tokenizer::new(&dialect, &analysis).tokenize_with_location().map_err(|e| parse_error(e.to_string()))?;

    let mut cursor = Cursor { text: &analysis, byte: 0, line: 1, column: 1 };
    let mut toks = Vec::new();
    for t in spanned {
        let start = cursor.advance_to(t.span.start);
        let end = cursor.advance_to(t.span.end);
        if !matches!(t.token, Token::Whitespace(_)) {
            toks.push(Tok { token: t.token, span: t.span, start, end });
        }
    }
    Ok(Lexed { original: sql.to_string(), analysis, toks, comments })
}

/// Walks the text forward to turn `sqlparser` locations (line, character column; both
/// from 1, only `\n` ends a line) into byte offsets. Locations must come in order.
struct Cursor<'a> {
    text: &'a str,
    byte: usize,
    line: u64,
    column: u64,
}

impl Cursor<'_> {
    fn advance_to(&mut self, to: Location) -> usize {
        while (self.line, self.column) < (to.line, to.column) {
            let Some(ch) = self.text.get(self.byte..).and_then(|s| s.chars().next()) else {
                break;
            };
            self.byte += ch.len_utf8();
            if ch == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        self.byte
    }
}

/// Finds `/*!NNNNN ... */` and `/*M!NNNNNN ... */`, skipping strings, quoted identifiers
/// and other comments the way the MySQL lexer does.
fn find_version_comments(sql: &str) -> Result<Vec<VersionComment>, SchemaError> {
    let b = sql.as_bytes();
    let at = |i: usize| b.get(i).copied();
    let mut out = Vec::new();
    let mut open: Option<Range<usize>> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && q != b'`' {
                        i += 2;
                    } else if b[i] == q {
                        if at(i + 1) == Some(q) {
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'#' => i = skip_line(b, i),
            b'-' if at(i + 1) == Some(b'-') && at(i + 2).is_some_and(|c| c.is_ascii_whitespace()) => {
                i = skip_line(b, i)
            }
            b'/' if at(i + 1) == Some(b'*') => {
                let marker = match (at(i + 2), at(i + 3)) {
                    (Some(b'!'), _) => Some(i + 3),
                    (Some(b'M'), Some(b'!')) => Some(i + 4),
                    _ => None,
                };
                match marker {
                    Some(mut j) if open.is_none() => {
                        while at(j).is_some_and(|c| c.is_ascii_digit()) {
                            j += 1;
                        }
                        open = Some(i..j);
                        i = j;
                    }
                    _ => {
                        // A plain comment (or one inside a version comment): skip it whole.
                        i = match find(b, i + 2, b"*/") {
                            Some(end) => end + 2,
                            None => b.len(),
                        };
                    }
                }
            }
            b'*' if at(i + 1) == Some(b'/') && open.is_some() => {
                if let Some(o) = open.take() {
                    out.push(VersionComment { open: o, close: i..i + 2 });
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    if let Some(o) = open {
        let (line, column) = line_column(sql, o.start);
        return Err(parse_error(format!("version comment opened at line {line}, column {column} is not closed")));
    }
    Ok(out)
}

fn skip_line(b: &[u8], i: usize) -> usize {
    match b[i..].iter().position(|&c| c == b'\n') {
        Some(p) => i + p + 1,
        None => b.len(),
    }
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(text: &str, byte: usize) -> (usize, usize) {
    let before = text.get(..byte).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Finds the token index of the parenthesis closing the one at `open`.
pub(crate) fn matching_paren(toks: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

impl Lexed {
    /// May the byte range `r` be cut out of (or replaced in) the original text? Only if it
    /// holds either both markers of each version comment or neither.
    pub fn can_cut(&self, r: &Range<usize>) -> bool {
        let touches = |m: &Range<usize>| m.start < r.end && r.start < m.end;
        let holds = |m: &Range<usize>| r.start <= m.start && m.end <= r.end;
        self.comments.iter().all(|c| {
            let (o, cl) = (touches(&c.open), touches(&c.close));
            (!o && !cl) || (holds(&c.open) && holds(&c.close))
        })
    }

    /// Widens `r` (which covers the tokens `first..=last`) over the version comments it
    /// cuts, as long as those comments hold no other tokens: `KEY k (a) /*!80000
    /// INVISIBLE */` is then cut whole.
    pub fn widen(&self, mut r: Range<usize>, first: usize, last: usize) -> Range<usize> {
        let (lo, hi) = match (self.toks.get(first), self.toks.get(last)) {
            (Some(a), Some(b)) => (a.start, b.end),
            _ => return r,
        };
        for c in &self.comments {
            let full = c.open.start..c.close.end;
            let touches = |m: &Range<usize>| m.start < r.end && r.start < m.end;
            let holds = |m: &Range<usize>| r.start <= m.start && m.end <= r.end;
            let cut = (touches(&c.open) || touches(&c.close)) && !(holds(&c.open) && holds(&c.close));
            let only_ours = self
                .toks
                .iter()
                .filter(|t| full.start <= t.start && t.end <= full.end)
                .all(|t| lo <= t.start && t.end <= hi);
            if cut && only_ours {
                r = r.start.min(full.start)..r.end.max(full.end);
            }
        }
        r
    }
}
