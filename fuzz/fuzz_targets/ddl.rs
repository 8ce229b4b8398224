//! DDL translation on any text: CREATE TABLE for MySQL (with and without deferred indexes)
//! and for SQLite, and the names a logged statement concerns. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let sql = String::from_utf8_lossy(input);
    let _ = hoist_schema::parse_create_table(&sql);
    let _ = hoist_schema::mysql_table_ddl(&sql, "t", true);
    let _ = hoist_schema::mysql_table_ddl(&sql, "t", false);
    let _ = hoist_schema::sqlite_table_ddl(&sql, "t");
    let _ = hoist_schema::logged_ddl(&sql);
});
