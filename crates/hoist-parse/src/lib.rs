//! Scanners for the data files of MySQL dumps: SQL statements (mydumper, Dumpling,
//! mysqldump) and Lightning's CSV dialect.
//!
//! The crate has no I/O, no async and no database types, in the manner of `csv-core`:
//! every scanner works on a byte slice that the caller owns and answers with an event and
//! the number of bytes it used, or asks for more bytes. The caller owns buffering, file
//! positions and line numbers. This keeps the scanners small enough to fuzz and benchmark
//! alone.
//!
//! * [`sql`]: statements of a dump; the rows of `INSERT`/`REPLACE` come out as literal
//!   byte ranges that can be forwarded as raw tuples or decoded with
//!   [`sql::decode_literal`].
//! * [`csv`]: records of Lightning's `[mydumper.csv]` dialect.
//! * [`split`]: a fast pre-scan that finds statement boundaries, so that a large SQL file
//!   can be cut into chunks that are parsed independently.
//!
//! Invariant shared by the scanners: a call that returns `NeedMore` has changed nothing
//! that the next call depends on, so the caller appends bytes and calls again with the
//! same start. Byte offsets in events and errors are relative to the slice passed in.

pub mod csv;
pub mod split;
pub mod sql;

/// Number of `\n` bytes in `bytes`.
///
/// Callers keep byte offsets only; the 1-based line of offset `o` in a file is
/// `count_lines(&file[..o]) + 1`, computed when an error is reported.
pub fn count_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count()
}

#[cfg(test)]
mod testutil;

#[cfg(test)]
mod tests {
    use super::count_lines;

    #[test]
    fn counts_newlines() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"abc"), 0);
        assert_eq!(count_lines(b"a\nb\r\nc\n"), 3);
        assert_eq!(count_lines(&[b'\n'; 1000]), 1000);
    }
}
