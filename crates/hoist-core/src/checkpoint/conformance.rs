//! One suite that every checkpoint store passes: the same calls, the same answers.

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
