//! One suite for every target: a write of rows for several tables and one marker is one
//! transaction (all of it lands, or none of it), and the marker reads back as written.

use std::sync::Arc;

use super::*;
use crate::checkpoint::ChunkProgress;
use crate::rows::Value;

/// Rows `(id, 'text')` as a parsed SQL tuple would give them.
fn batch(target: &dyn Target, table: &TableTarget, rows: &[(i64, &str)]) -> EncodedBatch {
    let mut encoder = target.encoder(table, &[0, 1], true);
    for (id, text) in rows {
        let id = id.to_string();
        let values = vec![Value::Number(id.as_bytes()), Value::Text(text.as_bytes().into())];
        encoder.push(&Row { values, sql: None }).expect("push");
    }
    EncodedBatch {
        row_count: encoder.rows(),
        rows: encoder.take(),
        session: Arc::new(Session::default()),
        count_replaced: false,
    }
}

async fn table(target: &dyn Target, db: &str, name: &str) -> TableTarget {
    let sql = format!("CREATE TABLE `{name}` (`id` INT NOT NULL PRIMARY KEY, `v` VARCHAR(10) NOT NULL)");
    target.create_database(db, None).await.expect("create the database");
    target.create_table(db, name, &sql, false).await.expect("create the table");
    let columns = target.table_facts(db, name).await.expect("table facts").expect("the table exists").columns;
    TableTarget {
        database: db.into(),
        name: name.into(),
        columns,
        conflict: ConflictStrategy::Error,
        transactional: true,
    }
}

pub(crate) async fn rows_of_several_tables_commit_with_one_marker(target: &dyn Target, db: &str) {
    target.prepare_markers().await.expect("prepare the markers");
    let a = table(target, db, "a").await;
    let b = table(target, db, "b").await;
    let mut writer = target.writer(None).await.expect("a writer");
    let task_id = 77;
    assert_eq!(writer.claim(task_id, 1).await.expect("claim"), None, "no marker yet");
    let marker =
        |offset| Marker { task_id, chunk_id: 1, progress: ChunkProgress { offset, rows: 3, ..Default::default() } };

    let both = [batch(target, &a, &[(1, "one"), (2, "two")]), batch(target, &b, &[(1, "uno")])];
    writer.write(&both, Some(&marker(100))).await.expect("write both tables");
    assert_eq!(target.row_count(db, "a").await.unwrap(), 2);
    assert_eq!(target.row_count(db, "b").await.unwrap(), 1);
    assert_eq!(target.read_markers(task_id).await.unwrap()[&1].offset, 100);

    // The second table refuses its row (a duplicate key): nothing of the write stays.
    let failing = [batch(target, &a, &[(3, "three")]), batch(target, &b, &[(1, "dup")])];
    writer.write(&failing, Some(&marker(200))).await.expect_err("a row the target refuses");
    assert_eq!(target.row_count(db, "a").await.unwrap(), 2, "the first table's rows rolled back with the second's");
    assert_eq!(target.row_count(db, "b").await.unwrap(), 1);
    assert_eq!(target.read_markers(task_id).await.unwrap()[&1].offset, 100, "the marker did not move");
    writer.release().await;
    target.clear_markers(task_id, None).await.expect("clear");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_target() {
    let dir = tempfile::tempdir().unwrap();
    let options = TargetOptions {
        meta_schema: "hoist_meta".into(),
        sql_mode: String::new(),
        disable_binlog: false,
        write_mode: WriteMode::Insert,
        tls: Default::default(),
    };
    let target = sqlite::SqliteTarget::open(&dir.path().join("t.db"), &options).unwrap();
    rows_of_several_tables_commit_with_one_marker(&target, "main").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql_target() {
    let server = hoist_testkit::mariadb::MariaDb::shared();
    for write_mode in [WriteMode::Insert, WriteMode::LoadData] {
        let db = format!("conformance_{write_mode:?}").to_lowercase();
        server.exec(&format!("DROP DATABASE IF EXISTS {db}; DROP DATABASE IF EXISTS {db}_meta"));
        let options = TargetOptions {
            meta_schema: format!("{db}_meta"),
            sql_mode: "STRICT_TRANS_TABLES".into(),
            disable_binlog: false,
            write_mode,
            tls: Default::default(),
        };
        let target = mysql::MysqlTarget::connect(&server.url(), &options).await.unwrap();
        rows_of_several_tables_commit_with_one_marker(&target, &db).await;
    }
}
