//! One consistent snapshot across every worker connection, and where it stands in the binlog.
//!
//! Every worker opens `START TRANSACTION WITH CONSISTENT SNAPSHOT` while commits are blocked,
//! so all of them see the same committed state. The block is the lightest that does it: on
//! MariaDB `BACKUP STAGE BLOCK_COMMIT` (writers wait only to commit, running statements go on),
//! elsewhere `FLUSH TABLES WITH READ LOCK`. It is held for the milliseconds the workers take to
//! open their transactions, unless non-transactional tables are part of the backup: those have
//! no snapshot, so the read lock stays until they are read.
//!
//! MariaDB gives each snapshot's binlog position (`binlog_snapshot_file/position`): every worker
//! must report the same one, which proves they share one snapshot.

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::Conn;

use crate::manifest::BinlogPosition;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    MariaDb,
    MySql,
}

impl Flavor {
    /// The flavour `SELECT VERSION()` names; None for TiDB, which has no binlog of this kind
    /// and is backed up with its own tools.
    pub fn from_version(version: &str) -> Option<Flavor> {
        if version.contains("TiDB") {
            None
        } else if version.to_ascii_lowercase().contains("mariadb") {
            Some(Flavor::MariaDb)
        } else {
            Some(Flavor::MySql)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::MariaDb => "mariadb",
            Flavor::MySql => "mysql",
        }
    }
}

/// How commits are held back while the snapshots open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    BackupStage,
    ReadLock,
}

pub struct Snapshot {
    pub position: Option<BinlogPosition>,
    pub backup_ts: String,
    /// Set while the block is still held (non-transactional tables are being read).
    pub held: Option<(Block, Instant)>,
    pub blocked: Duration,
}

/// Block commits, open every worker's snapshot, read the position and the time, and release
/// the block unless `hold` (then [`release`] does it later).
pub async fn open(
    flavor: Flavor,
    coordinator: &mut Conn,
    workers: &mut [Conn],
    hold: bool,
) -> Result<Snapshot, mysql_async::Error> {
    let block = if flavor == Flavor::MariaDb && !hold { Block::BackupStage } else { Block::ReadLock };
    match block {
        Block::BackupStage => coordinator.query_drop("BACKUP STAGE START; BACKUP STAGE BLOCK_COMMIT").await?,
        Block::ReadLock => coordinator.query_drop("FLUSH TABLES WITH READ LOCK").await?,
    }
    let since = Instant::now();
    let opened = futures::future::join_all(
        workers.iter_mut().map(|w| w.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")),
    )
    .await;
    let result = async {
        opened.into_iter().collect::<Result<Vec<()>, _>>()?;
        // MariaDB's GTID of the position is looked up after the block is released: it reads the
        // binlog from the file's start, which takes a while when the file is large.
        let position = match flavor {
            Flavor::MariaDb => snapshot_file_position(&mut workers[0]).await?,
            Flavor::MySql => master_position(coordinator).await?,
        };
        let backup_ts: Option<String> =
            coordinator.query_first("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f')").await?;
        Ok::<_, mysql_async::Error>((position, backup_ts.unwrap_or_default()))
    }
    .await;
    // Whatever happened, writers must not stay blocked by a backup that failed.
    let (position, backup_ts) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = release(coordinator, block).await;
            return Err(e);
        }
    };
    let mut snapshot = Snapshot { position, backup_ts, held: Some((block, since)), blocked: Duration::ZERO };
    if !hold {
        finish(coordinator, &mut snapshot).await?;
    }
    if flavor == Flavor::MariaDb {
        if let Some(p) = snapshot.position.as_mut() {
            let gtid: Option<String> = coordinator.exec_first("SELECT BINLOG_GTID_POS(?, ?)", (&p.file, p.pos)).await?;
            p.gtid = gtid.unwrap_or_default();
        }
        for w in workers.iter_mut().skip(1) {
            let other = snapshot_file_position(w).await?;
            let same = match (&other, &snapshot.position) {
                (Some(a), Some(b)) => (&a.file, a.pos) == (&b.file, b.pos),
                (a, b) => a.is_none() && b.is_none(),
            };
            if !same {
                return Err(mysql_async::Error::Other(
                    format!(
                        "the worker snapshots disagree ({:?} and {other:?}): commits were not blocked while they opened",
                        snapshot.position
                    )
                    .into(),
                ));
            }
        }
    }
    Ok(snapshot)
}

/// Release a held block and record how long writers waited.
pub async fn finish(coordinator: &mut Conn, snapshot: &mut Snapshot) -> Result<(), mysql_async::Error> {
    if let Some((block, since)) = snapshot.held.take() {
        release(coordinator, block).await?;
        snapshot.blocked = since.elapsed();
    }
    Ok(())
}

async fn release(coordinator: &mut Conn, block: Block) -> Result<(), mysql_async::Error> {
    match block {
        Block::BackupStage => coordinator.query_drop("BACKUP STAGE END").await,
        Block::ReadLock => coordinator.query_drop("UNLOCK TABLES").await,
    }
}

/// MariaDB: the file and position of this session's snapshot (its GTID is filled in later),
/// None when the binlog is off.
async fn snapshot_file_position(conn: &mut Conn) -> Result<Option<BinlogPosition>, mysql_async::Error> {
    let rows: Vec<(String, String)> = conn.query("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'").await?;
    let get = |name: &str| rows.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let (Some(file), Some(pos)) = (get("Binlog_snapshot_file"), get("Binlog_snapshot_position")) else {
        return Ok(None);
    };
    if file.is_empty() {
        return Ok(None);
    }
    Ok(Some(BinlogPosition { file, pos: pos.parse().unwrap_or(0), gtid: String::new() }))
}

/// MySQL: the position while the read lock holds every commit back.
pub(crate) async fn master_position(conn: &mut Conn) -> Result<Option<BinlogPosition>, mysql_async::Error> {
    let row: Option<mysql_async::Row> = conn.query_first("SHOW MASTER STATUS").await?;
    Ok(row.map(|r| BinlogPosition {
        file: r.get::<String, _>(0).unwrap_or_default(),
        pos: r.get::<u64, _>(1).unwrap_or(0),
        gtid: r.get::<Option<String>, _>(4).flatten().unwrap_or_default(),
    }))
}
