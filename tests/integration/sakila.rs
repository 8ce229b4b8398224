//! A dump that nobody here wrote: the Sakila database (triggers, views, routines, FULLTEXT and
//! SPATIAL indexes, GEOMETRY, BLOBs, ENUM/SET) loaded into MariaDB by its own script, dumped by
//! Debian's mydumper, dropped, and imported by hoist. Every table must match the original.

use std::path::Path;

use hoist_testkit::mariadb::MariaDb;

use crate::util::{import, table_sums};

pub fn corpus() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/sakila"))
}

pub fn objects(server: &MariaDb) -> (Vec<String>, Vec<String>, Vec<String>) {
    let col = |sql: &str| -> Vec<String> {
        server.query(sql).into_iter().map(|r| String::from_utf8(r[0].clone().unwrap()).unwrap()).collect()
    };
    (
        col("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'sakila' ORDER BY 1"),
        col("SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'sakila' ORDER BY 1"),
        col("SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'sakila' ORDER BY 1"),
    )
}

#[test]
fn mydumper_dump_of_sakila_matches_the_original() {
    let server = MariaDb::start();
    server.load_sql_file(&corpus().join("sakila-mv-schema.sql"));
    server.load_sql_file(&corpus().join("sakila-mv-data.sql"));
    let before = table_sums(&server, "sakila");
    let objects_before = objects(&server);
    assert!(before.len() >= 16, "sakila loaded: {before:?}");

    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    server.mydumper("sakila", &dump);
    server.exec("DROP DATABASE sakila");

    let run = import(&dump, &server.url(), dir.path(), &[]);
    run.assert_ok();
    assert_eq!(table_sums(&server, "sakila"), before, "every table equals the original");
    assert_eq!(objects(&server), objects_before, "views, triggers and routines are back");
}
