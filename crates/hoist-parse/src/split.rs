//! Fast pre-scan for statement boundaries in a SQL dump.
//!
//! A large SQL file is cut into chunks that workers parse independently; a chunk must start
//! at a statement boundary. [`StatementSplitter`] finds them without parsing: it only tracks
//! whether it is inside a quoted string, a quoted identifier or a comment, and reports the
//! offset just after every statement delimiter found outside them. It keeps that state
//! between calls to [`StatementSplitter::feed`], so a file can be fed block by block and a
//! quote, comment or delimiter may straddle two blocks.
//!
//! The lexical rules are the ones of [`crate::sql::SqlScanner`], so that both agree on where
//! a statement ends:
//! * `'…'` and `"…"` strings with backslash escapes (unless
//!   [`SqlOptions::no_backslash_escapes`]); doubled quotes need no special case, because a
//!   close followed by a reopen gives the same state; `` `…` `` identifiers;
//! * `# …` and `-- …` (the dashes followed by a space or control byte) line comments, `/* … */`
//!   block comments; `/*!NNNNN … */` and `/*M!NNNNNN … */` are executable code, as in the
//!   `mysql` client, so a delimiter inside them ends the statement;
//! * the `mysql` client command `DELIMITER xx` at the start of a statement changes the
//!   delimiter (at most 16 bytes, taken up to the next blank; the rest of the line is
//!   ignored).
//!
//! Offsets are reported only while the delimiter in force is the one the splitter was created
//! with: a chunk that started inside a `DELIMITER ;;` block would be scanned with the wrong
//! delimiter. The end of a `DELIMITER` line that restores it is reported as a boundary.
//!
//! Speed: outside strings the scan looks bytes up in a 256-entry table of the few bytes that
//! can change state; inside strings and comments it jumps with `memchr`.

use memchr::{memchr, memchr2};

use crate::sql::SqlOptions;

const KEYWORD: &[u8; 9] = b"DELIMITER";
/// The `mysql` client keeps the delimiter in a 16-byte buffer.
pub(crate) const MAX_DELIMITER: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Code,
    Quote(u8),
    QuoteEscape(u8),
    /// Saw `-` in code.
    Dash,
    /// Saw `--` in code; a blank or control byte makes it a comment.
    DashDash,
    Slash,
    /// Saw `/*`: a comment unless `!` or `M!` follows.
    SlashStar,
    SlashStarM,
    LineComment,
    BlockComment,
    BlockStar,
    /// Matched this many bytes of a multi-byte delimiter.
    Delimiter(usize),
    /// At a statement start, matched this many bytes of `DELIMITER`.
    Keyword(usize),
    CommandBlank,
    CommandArg,
    CommandRest,
}

/// What is still open when the input ends, for error reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Open {
    String,
    Identifier,
    Comment,
}

/// Incremental finder of statement ends; see the module docs.
#[derive(Clone, Debug)]
pub struct StatementSplitter {
    backslash_escapes: bool,
    initial: Vec<u8>,
    delimiter: Vec<u8>,
    state: State,
    /// Only blanks and comments since the last statement end.
    at_start: bool,
    /// Where the open quote or block comment began.
    opened_at: u64,
    arg: Vec<u8>,
    /// Bytes that make the code fast path stop.
    special: [bool; 256],
    scratch: Vec<u64>,
}

impl StatementSplitter {
    /// `delimiter` is the one in force at the start (normally `;`); an empty one means `;`.
    pub fn new(opts: SqlOptions, delimiter: &[u8]) -> Self {
        let mut s = StatementSplitter {
            backslash_escapes: !opts.no_backslash_escapes,
            initial: Vec::new(),
            delimiter: Vec::new(),
            state: State::Code,
            at_start: true,
            opened_at: 0,
            arg: Vec::new(),
            special: [false; 256],
            scratch: Vec::new(),
        };
        s.begin(opts, delimiter, true);
        s
    }

    /// Resets to the start of a statement with `delimiter`, keeping the buffers.
    pub(crate) fn begin(&mut self, opts: SqlOptions, delimiter: &[u8], at_start: bool) {
        let delimiter: &[u8] = if delimiter.is_empty() { b";" } else { delimiter };
        self.backslash_escapes = !opts.no_backslash_escapes;
        if self.initial != delimiter {
            self.initial.clear();
            self.initial.extend_from_slice(delimiter);
        }
        if self.delimiter != delimiter {
            self.set_delimiter(delimiter);
        }
        self.state = State::Code;
        self.at_start = at_start;
        self.opened_at = 0;
    }

    fn set_delimiter(&mut self, delimiter: &[u8]) {
        self.delimiter.clear();
        self.delimiter.extend_from_slice(delimiter);
        self.special = [false; 256];
        for b in [b'\'', b'"', b'`', b'#', b'-', b'/'] {
            self.special[b as usize] = true;
        }
        if let Some(&b) = self.delimiter.first() {
            self.special[b as usize] = true;
        }
    }

    /// The delimiter in force after the bytes fed so far.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// True when the bytes fed so far end outside any quote, comment or partial token.
    pub fn is_top_level(&self) -> bool {
        self.state == State::Code
    }

    /// Scans `buf`, which starts at file offset `base`, and appends to `out` the offset just
    /// after each statement delimiter it completes.
    pub fn feed(&mut self, buf: &[u8], base: u64, out: &mut Vec<u64>) {
        let mut i = 0;
        while i < buf.len() {
            match self.next_stop(&buf[i..]) {
                None => return,
                Some(k) => {
                    i += k;
                    if let Some(&b) = buf.get(i) {
                        self.step(b, base + i as u64, out);
                    }
                    i += 1;
                }
            }
        }
    }

    /// Scans until the first statement end and returns the offset just after it, relative
    /// to `buf`; `None` if `buf` ends first (the state then tells what is open).
    pub(crate) fn find_end(&mut self, buf: &[u8]) -> Option<usize> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let mut i = 0;
        let mut found = None;
        while i < buf.len() {
            match self.next_stop(&buf[i..]) {
                None => break,
                Some(k) => {
                    i += k;
                    if let Some(&b) = buf.get(i) {
                        self.step(b, i as u64, &mut out);
                    }
                    i += 1;
                    if let Some(&end) = out.first() {
                        found = Some(end as usize);
                        break;
                    }
                }
            }
        }
        self.scratch = out;
        found
    }

    /// What is left open, and where it began, if the input ended now.
    pub(crate) fn open(&self) -> Option<(Open, u64)> {
        match self.state {
            State::Quote(b'`') | State::QuoteEscape(b'`') => Some((Open::Identifier, self.opened_at)),
            State::Quote(_) | State::QuoteEscape(_) => Some((Open::String, self.opened_at)),
            State::SlashStar | State::SlashStarM | State::BlockComment | State::BlockStar => {
                Some((Open::Comment, self.opened_at))
            }
            _ => None,
        }
    }

    /// Offset in `hay` of the next byte that needs [`Self::step`].
    #[inline]
    fn next_stop(&self, hay: &[u8]) -> Option<usize> {
        match self.state {
            State::Code if !self.at_start => hay.iter().position(|&b| self.special[b as usize]),
            State::Quote(q) if q != b'`' && self.backslash_escapes => memchr2(q, b'\\', hay),
            State::Quote(q) => memchr(q, hay),
            State::LineComment => memchr(b'\n', hay),
            State::BlockComment => memchr(b'*', hay),
            _ => Some(0),
        }
    }

    fn step(&mut self, b: u8, at: u64, out: &mut Vec<u64>) {
        match self.state {
            State::Code => self.code(b, at, true, out),
            State::Quote(q) => {
                if b == q {
                    self.state = State::Code;
                } else if b == b'\\' && q != b'`' && self.backslash_escapes {
                    self.state = State::QuoteEscape(q);
                }
            }
            State::QuoteEscape(q) => self.state = State::Quote(q),
            State::Dash => {
                if b == b'-' {
                    self.state = State::DashDash;
                } else {
                    self.not_a_token(b, at, out);
                }
            }
            State::DashDash => {
                if b <= b' ' {
                    self.state = if b == b'\n' { State::Code } else { State::LineComment };
                } else {
                    self.not_a_token(b, at, out);
                }
            }
            State::Slash => {
                if b == b'*' {
                    self.opened_at = at.saturating_sub(1);
                    self.state = State::SlashStar;
                } else {
                    self.not_a_token(b, at, out);
                }
            }
            State::SlashStar | State::SlashStarM => match b {
                b'!' => {
                    self.at_start = false;
                    self.state = State::Code;
                }
                b'M' if self.state == State::SlashStar => self.state = State::SlashStarM,
                b'*' => self.state = State::BlockStar,
                _ => self.state = State::BlockComment,
            },
            State::LineComment => {
                if b == b'\n' {
                    self.state = State::Code;
                }
            }
            State::BlockComment => {
                if b == b'*' {
                    self.state = State::BlockStar;
                }
            }
            State::BlockStar => match b {
                b'/' => self.state = State::Code,
                b'*' => {}
                _ => self.state = State::BlockComment,
            },
            State::Delimiter(n) => {
                if self.delimiter.get(n) == Some(&b) {
                    if n + 1 >= self.delimiter.len() {
                        self.end(at + 1, out);
                    } else {
                        self.state = State::Delimiter(n + 1);
                    }
                } else {
                    // The partial match was code: replay it, its first byte as a non-delimiter.
                    let start = at.saturating_sub(n as u64);
                    self.state = State::Code;
                    if let Some(&first) = self.delimiter.first() {
                        self.code(first, start, false, out);
                    }
                    for k in 1..n {
                        if let Some(&c) = self.delimiter.get(k) {
                            self.step(c, start + k as u64, out);
                        }
                    }
                    self.step(b, at, out);
                }
            }
            State::Keyword(n) => {
                if n < KEYWORD.len() {
                    if KEYWORD.get(n) == Some(&b.to_ascii_uppercase()) {
                        self.state = State::Keyword(n + 1);
                        return;
                    }
                } else if b == b' ' || b == b'\t' {
                    self.arg.clear();
                    self.state = State::CommandBlank;
                    return;
                }
                // An identifier that starts like the keyword: replay it as code.
                self.at_start = false;
                self.state = State::Code;
                let start = at.saturating_sub(n as u64);
                for (k, &c) in KEYWORD.iter().take(n).enumerate() {
                    self.step(c, start + k as u64, out);
                }
                self.step(b, at, out);
            }
            State::CommandBlank => match b {
                b' ' | b'\t' => {}
                b'\n' => self.command_done(at, out),
                b'\r' => self.state = State::CommandRest,
                _ => {
                    self.arg.push(b);
                    self.state = State::CommandArg;
                }
            },
            State::CommandArg => match b {
                b'\n' => self.command_done(at, out),
                b' ' | b'\t' | b'\r' => self.state = State::CommandRest,
                _ => {
                    if self.arg.len() <= MAX_DELIMITER {
                        self.arg.push(b);
                    }
                }
            },
            State::CommandRest => {
                if b == b'\n' {
                    self.command_done(at, out);
                }
            }
        }
    }

    /// The pending `-`, `--` or `/` was ordinary code; `b` follows it.
    fn not_a_token(&mut self, b: u8, at: u64, out: &mut Vec<u64>) {
        self.at_start = false;
        self.state = State::Code;
        self.code(b, at, true, out);
    }

    fn code(&mut self, b: u8, at: u64, delimiter_allowed: bool, out: &mut Vec<u64>) {
        if delimiter_allowed && self.delimiter.first() == Some(&b) {
            if self.delimiter.len() == 1 {
                self.end(at + 1, out);
            } else {
                self.state = State::Delimiter(1);
            }
            return;
        }
        match b {
            b'\'' | b'"' | b'`' => {
                self.at_start = false;
                self.opened_at = at;
                self.state = State::Quote(b);
            }
            b'#' => self.state = State::LineComment,
            b'-' => self.state = State::Dash,
            b'/' => self.state = State::Slash,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {}
            b'd' | b'D' if self.at_start => self.state = State::Keyword(1),
            _ => self.at_start = false,
        }
    }

    fn end(&mut self, after: u64, out: &mut Vec<u64>) {
        self.state = State::Code;
        self.at_start = true;
        if self.delimiter == self.initial {
            out.push(after);
        }
    }

    fn command_done(&mut self, newline_at: u64, out: &mut Vec<u64>) {
        if !self.arg.is_empty() && self.arg.len() <= MAX_DELIMITER {
            let arg = std::mem::take(&mut self.arg);
            self.set_delimiter(&arg);
            self.arg = arg;
        }
        self.end(newline_at + 1, out);
    }
}

/// Offsets just after each top-level statement delimiter in `input`; see
/// [`StatementSplitter`].
pub fn sql_statement_ends(input: &[u8], opts: SqlOptions, delimiter: &[u8]) -> Vec<usize> {
    let mut splitter = StatementSplitter::new(opts, delimiter);
    let mut out = Vec::new();
    splitter.feed(input, 0, &mut out);
    out.into_iter().map(|o| o as usize).collect()
}

#[cfg(test)]
mod tests;
