//! Where the log replay stands, as the marker it commits with each target transaction.
//!
//! The marker is the same row an import chunk commits (`task_id`, `chunk_id`, position...):
//! the log is one more unit of the task, [`LOG_UNIT`]. Its fields hold:
//! - `pos`: the upstream position right after the last applied transaction, as the file's
//!   number and the offset (`number << 32 | offset`; a binlog file never reaches 4 GiB).
//! - `stmt_start` and `checksum`: while a DDL statement runs, the position it ends at and
//!   the target's schema shape before it (MySQL DDL commits on its own, so the marker cannot
//!   commit with it: a rerun that finds them compares the shape to learn whether it ran).
//! - `rows`: upstream transactions applied; `done`: the restored point was reached.

use crate::binlog::position::{file_number, BinlogPos};
use crate::checkpoint::ChunkProgress;

/// The log's unit id among the task's markers (chunks of the snapshot count from 1).
pub const LOG_UNIT: i64 = -1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogMark {
    pub pos: u64,
    /// A DDL statement begun and not known to be done: (its end, the schema shape before it).
    pub ddl: Option<(u64, u64)>,
    pub transactions: u64,
    pub done: bool,
}

impl LogMark {
    pub fn from_progress(p: &ChunkProgress) -> LogMark {
        LogMark { pos: p.offset, ddl: p.stmt_start.map(|end| (end, p.checksum)), transactions: p.rows, done: p.done }
    }

    pub fn to_progress(self) -> ChunkProgress {
        ChunkProgress {
            offset: self.pos,
            stmt_start: self.ddl.map(|(end, _)| end),
            rows: self.transactions,
            checksum: self.ddl.map_or(0, |(_, shape)| shape),
            done: self.done,
        }
    }
}

/// A position as one number that orders as positions do (within one log's file names).
pub fn encode(pos: &BinlogPos) -> u64 {
    (file_number(&pos.file).1 << 32) | (pos.pos & 0xffff_ffff)
}

/// The position of [`encode`], in a log whose files are named `base.NNNNNN`.
pub fn decode(base: &str, value: u64) -> BinlogPos {
    BinlogPos::new(format!("{base}.{:06}", value >> 32), value & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_the_marker() {
        let p = BinlogPos::new("binlog.000012", 98_765);
        assert_eq!(decode("binlog", encode(&p)), p);
        assert!(encode(&BinlogPos::new("binlog.000009", 900_000)) < encode(&BinlogPos::new("binlog.000010", 4)));
        let m = LogMark { pos: encode(&p), ddl: Some((encode(&p) + 10, 77)), transactions: 3, done: false };
        assert_eq!(LogMark::from_progress(&m.to_progress()), m);
    }
}
