//! Rows as every source hands them to every target. Values are neutral (a target knows
//! nothing of the file format they came from, and a log's row events will give the same
//! values), and a row that came as a SQL tuple the parser validated token by token keeps that
//! tuple as written, so a MySQL target sends it unchanged (parse once, never re-encode).

use std::borrow::Cow;

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Null,
    /// A number as written (`-1.5e3`, `42`); the column's type decides what it becomes.
    Number(&'a [u8]),
    /// An unsigned integer: bit values up to 64 bits, booleans.
    UInt(u64),
    /// A character string's bytes (unescaped), in the character set the session declares.
    Text(Cow<'a, [u8]>),
    /// A binary string (a hex literal, bits wider than 64): stored as bytes, never converted.
    Binary(Cow<'a, [u8]>),
}

/// One row: its values in the order of the column list it is written with.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub values: Vec<Value<'a>>,
    /// The row as a validated SQL tuple, `(` to `)`, when it came as one.
    pub sql: Option<&'a [u8]>,
}
