//! One suite that every checkpoint store passes: the same calls, the same answers.

use std::time::Duration;

use super::*;
use crate::checkpoint::mysql::MysqlStore;
use crate::checkpoint::sqlite::SqliteStore;

pub(crate) fn sample() -> Checkpoint {
    let progress = |offset| ChunkProgress { offset, ..Default::default() };
    Checkpoint {
        task: TaskRecord {
            task_id: 0x7fff_0000_1234,
            source: "/dumps/shop".into(),
            target: "mysql://root:xxxxx@db:3306".into(),
            target_identity: "mariadb:host:/data/:1".into(),
            spec: "{}".into(),
            created_ms: 1_700_000_000_000,
        },
        tables: vec![
            TableRecord {
                id: 1,
                database: "shop".into(),
                name: "orders".into(),
                schema_file: Some("shop.orders-schema.sql".into()),
                state: TableState::Pending,
                error: None,
                target_identity: None,
            },
            TableRecord {
                id: 2,
                database: "shop".into(),
                name: "Tricky `name`".into(),
                schema_file: None,
                state: TableState::Writing,
                error: Some(TableError { step: "writing".into(), message: "bad row at byte 7".into() }),
                target_identity: Some("42".into()),
            },
        ],
        chunks: vec![
            ChunkRecord {
                id: 1,
                table_id: 1,
                path: "shop.orders.00000.sql".into(),
                format: DataFormat::Sql,
                compression: Compression::None,
                start: 0,
                end: 1000,
                progress: progress(0),
            },
            ChunkRecord {
                id: 2,
                table_id: 1,
                path: "shop.orders.00000.sql".into(),
                format: DataFormat::Sql,
                compression: Compression::None,
                start: 1000,
                end: 2000,
                progress: progress(1000),
            },
            ChunkRecord {
                id: 3,
                table_id: 2,
                path: "shop.t.csv.zst".into(),
                format: DataFormat::Csv,
                compression: Compression::Zstd,
                start: 0,
                end: TO_END,
                progress: progress(0),
            },
        ],
        files: vec![FileRecord { path: "shop.orders.00000.sql".into(), size: 2000, modified_ms: 5 }],
        scan: Some(r#"{"tables":[{"name":"Tricky `name`","create":"CREATE TABLE ... 'é;'"}]}"#.into()),
    }
}

async fn conformance(store: &dyn CheckpointStore) {
    assert_eq!(store.load().await.unwrap(), None, "a new store is empty");
    let mut cp = sample();
    store.create(&cp).await.unwrap();
    assert_eq!(store.load().await.unwrap().as_ref(), Some(&cp), "the plan round-trips exactly");

    let p = ChunkProgress { offset: 1500, stmt_start: Some(1200), rows: 9, checksum: u64::MAX - 3, done: false };
    let d = ChunkProgress { offset: 2000, stmt_start: None, rows: 20, checksum: 7, done: true };
    store.save_progress(&[(1, p), (2, d)]).await.unwrap();
    cp.chunks[0].progress = p;
    cp.chunks[1].progress = d;
    store.set_table_state(1, TableState::Written, None).await.unwrap();
    store.set_table_identity(1, Some("t-1")).await.unwrap();
    cp.tables[0].state = TableState::Written;
    cp.tables[0].target_identity = Some("t-1".into());
    let err = TableError { step: "written".into(), message: "verification failed: 3 != 4".into() };
    store.set_table_state(1, TableState::Written, Some(&err)).await.unwrap();
    cp.tables[0].error = Some(err);
    assert_eq!(store.load().await.unwrap().as_ref(), Some(&cp), "progress, states and errors are kept");

    store.reset_table(1).await.unwrap();
    cp.tables[0].state = TableState::Pending;
    cp.tables[0].error = None;
    cp.tables[0].target_identity = None;
    cp.chunks[0].progress = ChunkProgress { offset: 0, ..Default::default() };
    cp.chunks[1].progress = ChunkProgress { offset: 1000, ..Default::default() };
    assert_eq!(store.load().await.unwrap().as_ref(), Some(&cp), "reset puts every chunk back at its start");

    store.remove_table(2).await.unwrap();
    cp.tables.remove(1);
    cp.chunks.remove(2);
    assert_eq!(store.load().await.unwrap().as_ref(), Some(&cp), "remove forgets the table and its chunks");

    leases(store).await;

    let mut other = sample();
    other.task.task_id = 99;
    other.scan = None;
    store.create(&other).await.unwrap();
    let loaded = store.load().await.unwrap();
    assert_eq!(loaded.as_ref().map(|c| c.task.task_id), Some(99), "create replaces an old plan");
    assert_eq!(loaded.and_then(|c| c.scan), None, "and the old plan's scan");

    assert_eq!(store.object_errors().await.unwrap(), Vec::<String>::new());
    let errors = vec!["view `shop`.`v`: ERROR 1227: Access denied".to_string(), "triggers of `shop`: x".to_string()];
    store.set_object_errors(&errors).await.unwrap();
    assert_eq!(store.object_errors().await.unwrap(), errors, "object errors are kept, in order");
    store.set_object_errors(&[]).await.unwrap();
    assert_eq!(store.object_errors().await.unwrap(), Vec::<String>::new(), "an empty list clears them");
    store.set_object_errors(&errors).await.unwrap();

    let archived = store.archive(99).await.unwrap();
    assert!(archived.contains("99"), "{archived}");
    store.discard().await.unwrap();
}

/// Leases on the units of the plan `sample()` made: who may take what, when it expires, and
/// that an owner who leaves frees its units at once.
async fn leases(store: &dyn CheckpointStore) {
    store.create(&sample()).await.unwrap();
    let long = Duration::from_secs(60);
    let (a, b) = ("host-a:1:aa", "host-b:2:bb");
    store.join(a).await.unwrap();
    store.join(b).await.unwrap();
    let pending = Some(TableStatus { state: TableState::Pending, error: None });
    let taken = |table: Option<TableStatus>, previous: Option<&str>| Lease::Taken {
        table,
        previous: previous.map(String::from),
    };
    assert_eq!(store.lease(Unit::Chunk(1), a, long).await.unwrap(), taken(pending.clone(), None), "a free chunk");
    match store.lease(Unit::Chunk(1), b, long).await.unwrap() {
        Lease::Held { owner, expires_in } => {
            assert_eq!(owner, a);
            assert!(expires_in > Duration::from_secs(50) && expires_in <= long, "{expires_in:?}");
        }
        other => panic!("a's chunk went to b: {other:?}"),
    }
    assert_eq!(store.lease(Unit::Chunk(1), a, long).await.unwrap(), taken(pending.clone(), None), "taken again by a");
    let failed = TableStatus {
        state: TableState::Writing,
        error: Some(TableError { step: "writing".into(), message: "bad row at byte 7".into() }),
    };
    assert_eq!(
        store.lease(Unit::Chunk(3), b, long).await.unwrap(),
        taken(Some(failed.clone()), None),
        "its table failed"
    );
    assert_eq!(store.lease(Unit::Post(2), b, long).await.unwrap(), taken(Some(failed), None), "a table's post steps");
    assert_eq!(store.lease(Unit::End, a, long).await.unwrap(), taken(None, None), "the job's end");

    assert_eq!(store.renew(&[Unit::Chunk(1), Unit::End], a, long).await.unwrap(), vec![], "a renews its own");
    assert_eq!(store.renew(&[Unit::Chunk(1), Unit::Post(2)], b, long).await.unwrap(), vec![Unit::Chunk(1)], "not a's");

    store.release(Unit::Chunk(1), b).await.unwrap();
    assert!(matches!(store.lease(Unit::Chunk(1), b, long).await.unwrap(), Lease::Held { .. }), "only a releases it");
    store.release(Unit::Chunk(1), a).await.unwrap();
    assert_eq!(store.lease(Unit::Chunk(1), b, long).await.unwrap(), taken(pending.clone(), None), "released");

    // An expired lease is anyone's; its old holder learns it when it renews.
    store.lease(Unit::Chunk(2), a, Duration::ZERO).await.unwrap();
    assert_eq!(store.lease(Unit::Chunk(2), b, long).await.unwrap(), taken(pending.clone(), Some(a)), "expired");
    assert_eq!(store.renew(&[Unit::Chunk(2)], a, long).await.unwrap(), vec![Unit::Chunk(2)], "a lost it");

    // An owner that left: its units are free at once, unexpired as they are.
    store.leave(b).await;
    assert_eq!(store.lease(Unit::Chunk(1), a, long).await.unwrap(), taken(pending, Some(b)), "b left");
    assert_eq!(store.lease(Unit::End, a, long).await.unwrap(), taken(None, None));
    store.leave(a).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp.db");
    conformance(&SqliteStore::open(&path).unwrap()).await;
    assert!(!path.exists(), "discard deletes the file");
    let archived = SqliteStore::open(&dir.path().join("cp.db.99.done")).unwrap();
    assert_eq!(archived.load().await.unwrap().map(|c| c.task.task_id), Some(99), "the archive is a full copy");
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_store() {
    let server = hoist_testkit::mariadb::MariaDb::shared();
    let store = MysqlStore::open(&server.url(), "hoist_cp_conformance", &Default::default()).await.unwrap();
    conformance(&store).await;
    assert_eq!(
        server
            .query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'hoist_cp_conformance'"),
        Some("0".into()),
        "discard drops the schema"
    );
    assert_eq!(
        server.query_value("SELECT task_id FROM hoist_cp_conformance_99.task"),
        Some("99".into()),
        "the archive keeps the checkpoint under the task id"
    );
}

#[test]
fn lightning_dsn() {
    assert_eq!(
        crate::checkpoint::mysql::dsn_to_url("root:pw@tcp(127.0.0.1:4000)/").unwrap(),
        "mysql://root:pw@127.0.0.1:4000"
    );
    assert_eq!(crate::checkpoint::mysql::dsn_to_url("mysql://u@h:1").unwrap(), "mysql://u@h:1");
    assert!(crate::checkpoint::mysql::dsn_to_url("nonsense").is_err());
}

/// The SQLite store serves one process: a second one is refused while the first is in the job,
/// and named; once the first leaves, the next may join.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_store_refuses_a_second_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cp.db");
    let first = SqliteStore::open(&path).unwrap();
    first.join("first").await.unwrap();
    // Another open of the file is what another process has: a lock of its own on FILE.lock.
    let second = SqliteStore::open(&path).unwrap();
    let refused = second.join("second").await.unwrap_err().to_string();
    let pid = std::process::id();
    assert!(refused.contains(&format!("another hoist process (pid {pid}) runs this job")), "{refused}");
    assert!(refused.contains("--checkpoint-driver mysql"), "{refused}");
    first.leave("first").await;
    second.join("second").await.unwrap();
}

/// Processes sharing a job through the MySQL store: one sets the job up at a time, one takes a
/// unit, and a deadlock with another transaction is run again instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn mysql_store_shared_by_processes() {
    let server = hoist_testkit::mariadb::MariaDb::shared();
    let schema = "hoist_cp_shared";
    let (url, tls) = (server.url(), crate::tls::Tls::default());
    let stores = futures::future::join_all((0..6).map(|_| MysqlStore::open(&url, schema, &tls))).await;
    let stores: Vec<MysqlStore> = stores.into_iter().map(|s| s.unwrap()).collect();
    stores[0].create(&sample()).await.unwrap();
    for (i, s) in stores.iter().enumerate() {
        s.join(&format!("p{i}")).await.unwrap();
    }

    assert!(stores[0].begin_setup("p0", Duration::from_secs(1)).await.unwrap());
    assert!(!stores[1].begin_setup("p1", Duration::from_secs(1)).await.unwrap(), "p0 sets the job up");
    stores[0].end_setup("p0").await;
    assert!(stores[1].begin_setup("p1", Duration::from_secs(1)).await.unwrap(), "p0 is done");
    stores[1].end_setup("p1").await;

    let long = Duration::from_secs(60);
    let tries = stores.iter().enumerate().map(|(i, s)| async move {
        let owner = format!("p{i}");
        (s.lease(Unit::Chunk(2), &owner, long).await.unwrap(), owner)
    });
    let outcomes = futures::future::join_all(tries).await;
    let winners: Vec<&String> =
        outcomes.iter().filter(|(l, _)| matches!(l, Lease::Taken { .. })).map(|(_, o)| o).collect();
    assert_eq!(winners.len(), 1, "one process takes the chunk: {outcomes:?}");
    for (lease, _) in &outcomes {
        if let Lease::Held { owner, .. } = lease {
            assert!(owner == winners[0] || owner.starts_with("another process"), "{outcomes:?}");
        }
    }
    // The winner dies: its session ends, and the chunk is free at once.
    let winner: usize = winners[0][1..].parse().unwrap();
    let mut stores = stores;
    drop(stores.remove(winner));
    let next = &stores[0];
    let next_owner = if winner == 0 { "p1" } else { "p0" };
    assert!(matches!(next.lease(Unit::Chunk(2), next_owner, long).await.unwrap(), Lease::Taken { .. }));

    deadlock_is_run_again(server, next, schema).await;
    next.discard().await.unwrap();
}

/// A transaction of another client locks chunk 2 and then waits for chunk 1, which the store's
/// save holds while it waits for chunk 2: a deadlock, in which InnoDB rolls back the lighter
/// transaction, the store's. The save must be run again and succeed.
async fn deadlock_is_run_again(server: &hoist_testkit::mariadb::MariaDb, store: &MysqlStore, schema: &str) {
    use mysql_async::prelude::Queryable;
    let deadlocks = || -> u64 {
        let rows = server.query("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
        let value = rows.first().and_then(|r| r[1].clone()).unwrap_or_default();
        String::from_utf8_lossy(&value).parse().unwrap_or(0)
    };
    let before = deadlocks();
    let mut other = mysql_async::Conn::new(mysql_async::Opts::from_url(&server.url()).unwrap()).await.unwrap();
    other.query_drop("BEGIN").await.unwrap();
    // Heavier than the store's save (more rows changed): InnoDB picks the store's as the victim.
    other.query_drop(format!("UPDATE {schema}.files SET modified_ms = modified_ms + 1")).await.unwrap();
    other.query_drop(format!("UPDATE {schema}.`tables` SET error_step = 'x'")).await.unwrap();
    other.query_drop(format!("UPDATE {schema}.chunks SET position = NULL WHERE id = 2")).await.unwrap();
    let p = ChunkProgress { offset: 1500, stmt_start: None, rows: 9, checksum: 1, done: false };
    let d = ChunkProgress { offset: 2000, stmt_start: None, rows: 20, checksum: 2, done: true };
    let updates = [(2, d), (1, p)];
    let save = store.save_progress(&updates);
    let close = async {
        // Let the save lock chunk 1 and wait for chunk 2, then ask for chunk 1.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = other.query_drop(format!("UPDATE {schema}.chunks SET position = NULL WHERE id = 1")).await;
        other.query_drop("ROLLBACK").await.unwrap();
        asked
    };
    let (saved, asked) = futures::join!(save, close);
    asked.expect("the store's save is the deadlock's victim, not the heavier transaction");
    saved.expect("the save that lost the deadlock is run again");
    let after = deadlocks();
    assert!(after > before, "the test made a deadlock ({before} -> {after} on the server)");
    let cp = store.load().await.unwrap().unwrap();
    assert_eq!((cp.chunks[0].progress, cp.chunks[1].progress), (p, d), "the save landed");
}
