//! Real DDL that nobody here wrote: TiDB Lightning's integration-test dumps and the Sakila
//! schema script (see /work/shared/corpus). Every table goes through every function, and
//! every SQLite statement is run in an in-memory database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hoist_schema::*;
use rusqlite::Connection;

const CORPUS: &str = "/work/shared/corpus";

/// Splits a file into statements at `;`, skipping strings, quoted names and comments
/// (the caller of the crate does this in hoist; here it only has to be good enough for the
/// corpus files).
fn statements(sql: &str) -> Vec<String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && q != b'`' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if b[i - 1] == q {
                        break;
                    }
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                out.push(sql[start..i].to_string());
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if let Some(rest) = sql.get(start..).filter(|r| !r.trim().is_empty()) {
        out.push(rest.to_string());
    }
    out
}

fn files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, suffix, out);
        } else if p.to_string_lossy().ends_with(suffix) {
            out.push(p);
        }
    }
}

/// Schema files under lightning/*/data/ (the character-set test keeps its schema files in
/// other directories; they are read too, decoded lossily: decoding is the caller's job).
fn lightning_files(suffix: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    files(&Path::new(CORPUS).join("lightning"), suffix, &mut v);
    assert!(!v.is_empty());
    v
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()
}

/// The one CREATE TABLE in a `-schema.sql` file (some also hold `SET` statements).
fn the_create_table(p: &Path) -> String {
    let found: Vec<String> = statements(&read(p))
        .into_iter()
        .filter(|s| !matches!(parse_create_table(s), Err(SchemaError::NotCreateTable)))
        .collect();
    assert_eq!(found.len(), 1, "{}: expected one CREATE TABLE", p.display());
    found.into_iter().next().unwrap()
}

fn sqlite_exec(conn: &Connection, what: &str, sql: &str) {
    if let Err(e) = conn.execute_batch(sql) {
        panic!("{what}: SQLite refused\n{sql}\n{e}");
    }
}

/// Files whose DDL hoist cannot take, and why. Every other schema file must parse and
/// translate. (None of the corpus files fails at the moment: the TiDB-only parts of
/// lightning_generated_columns and lightning_exotic_filenames are either TiDB comments
/// `/*T![...] */`, which MySQL and this crate read as comments, or MySQL 8 / MariaDB
/// syntax that parses: functional index parts and `DEFAULT uuid()`. What SQLite cannot
/// keep of them is listed in EXPECTED_NOTES.)
const EXPECTED_FAILURES: &[(&str, &str)] = &[];

/// Notes the SQLite translation must give (file name, part of a note).
const EXPECTED_NOTES: &[(&str, &str)] = &[
    ("gencol.uuid-schema.sql", "DEFAULT uuid() on `b` dropped"),
    ("gencol.various_types-schema.sql", "generated column `uint64` became a plain column"),
    ("gencol.various_types-schema.sql", "generated column `float32` became a plain column"),
    ("gencol.various_types-schema.sql", "generated column `tz` became a plain column"),
    ("xfn.etn-schema.sql", "AUTO_INCREMENT on `b` dropped"),
    ("tool_135.bar2-schema.sql", "AUTO_INCREMENT on `a` dropped"),
];

#[test]
fn lightning_schema_files() {
    let mut checked = 0;
    for p in lightning_files("-schema.sql") {
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        let sql = the_create_table(&p);
        let expected_failure = EXPECTED_FAILURES.iter().find(|(f, _)| *f == file);
        let schema = match (parse_create_table(&sql), expected_failure) {
            (Ok(s), None) => s,
            (Err(_), Some(_)) => continue,
            (Ok(_), Some((_, why))) => panic!("{file} was expected to fail ({why}) but parsed"),
            (Err(e), None) => panic!("{file}: {e}"),
        };
        check_table(&file, &sql, &schema);
        let notes = sqlite_table_ddl(&sql, &schema.name).unwrap().notes;
        for (_, want) in EXPECTED_NOTES.iter().filter(|(f, _)| *f == file) {
            assert!(notes.iter().any(|n| n.contains(want)), "{file}: no note like {want:?} in {notes:?}");
        }
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} files checked");
}

/// What must hold for any table: the MySQL DDL is the same table again, deferral loses no
/// index, the edit is idempotent, and SQLite takes the translation.
fn check_table(what: &str, sql: &str, schema: &TableSchema) {
    let target = format!("{}_target", schema.name);
    for defer in [false, true] {
        let m = mysql_table_ddl(sql, &target, defer).unwrap_or_else(|e| panic!("{what}: mysql_table_ddl: {e}"));
        let again = parse_create_table(&m.create)
            .unwrap_or_else(|e| panic!("{what}: edited DDL does not parse: {e}\n{}", m.create));
        assert_eq!(again.name, target, "{what}");
        assert_eq!(again.columns, schema.columns, "{what}");
        assert_eq!(again.primary_key, schema.primary_key, "{what}");
        assert_eq!(again.unique_keys, schema.unique_keys, "{what}");
        assert!(m.create.contains("IF NOT EXISTS"), "{what}");
        if !defer {
            assert!(m.add_indexes.is_empty(), "{what}");
        }
        // Same target name again: nothing more to change.
        let twice = mysql_table_ddl(&m.create, &target, defer).unwrap();
        assert_eq!(twice.create, m.create, "{what}: not idempotent");
        assert!(twice.add_indexes.is_empty(), "{what}");
        for alter in &m.add_indexes {
            assert!(alter.starts_with(&format!("ALTER TABLE `{target}` ADD ")), "{alter}");
        }
        // Put the deferred definitions back in and the keys are those of the original.
        let restored = restore(&m);
        assert_eq!(
            key_count(&restored),
            key_count(sql),
            "{what}: deferral lost an index\n{}\n{:?}",
            m.create,
            m.add_indexes
        );
    }
    let s = sqlite_table_ddl(sql, &target).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(s.create.starts_with(&format!("CREATE TABLE IF NOT EXISTS \"{target}\" (")));
    let conn = Connection::open_in_memory().unwrap();
    sqlite_exec(&conn, what, &s.create);
    for i in &s.indexes {
        sqlite_exec(&conn, what, i);
    }
    // The SQLite table has the same columns, in order.
    let mut stmt =
        conn.prepare(&format!("SELECT name FROM pragma_table_xinfo('{}')", target.replace('\'', "''"))).unwrap();
    let names: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
    let want: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, want, "{what}");
}

/// The CREATE TABLE with the ALTERed definitions put back before the closing parenthesis.
fn restore(m: &MysqlTableDdl) -> String {
    let mut defs = Vec::new();
    for a in &m.add_indexes {
        let body = a.split_once(" ADD ").unwrap().1;
        defs.extend(body.split(", ADD ").map(str::to_string));
    }
    if defs.is_empty() {
        return m.create.clone();
    }
    // The column list closes at the last `)` followed by table options or the end; find it
    // by parsing prefixes from the end.
    let s = &m.create;
    for (i, _) in s.rmatch_indices(')') {
        let candidate = format!("{},\n{}{}", &s[..i], defs.join(",\n"), &s[i..]);
        if parse_create_table(&candidate).is_ok() && key_count(&candidate) > key_count(s) {
            return candidate;
        }
    }
    panic!("cannot put {defs:?} back into\n{s}");
}

/// How many keys of each kind the SQLite translation sees (a proxy that needs no access to
/// the crate's internals): unique constraints + indexes + dropped-index notes.
fn key_count(sql: &str) -> usize {
    let s = sqlite_table_ddl(sql, "k").unwrap();
    s.indexes.len() + s.create.matches("UNIQUE (").count() + s.notes.iter().filter(|n| n.contains("index `")).count()
}

#[test]
fn lightning_views() {
    // The tables the views read, then the views, in dependency order, as hoist would.
    let conn = Connection::open_in_memory().unwrap();
    let data = Path::new(CORPUS).join("lightning/lightning_view/data");
    let tbl = the_create_table(&data.join("db1.tbl-schema.sql"));
    sqlite_exec(&conn, "tbl", &sqlite_table_ddl(&tbl, "tbl").unwrap().create);
    conn.execute_batch("INSERT INTO tbl VALUES (1, 2, 'a'), (3, 4, 'b')").unwrap();
    for (file, name) in [("db1.v1-schema-view.sql", "v1"), ("db0.v2-schema-view.sql", "v2")] {
        let found: Vec<String> = statements(&read(&data.join(file)))
            .into_iter()
            .filter(|s| !matches!(sqlite_view_ddl(s, name), Err(SchemaError::NotCreateView)))
            .collect();
        assert_eq!(found.len(), 1, "{file}");
        let sql = &found[0];
        let SqliteView::Create(view) = sqlite_view_ddl(sql, name).unwrap() else { panic!("{file} left out") };
        assert!(!view.contains("DEFINER") && !view.contains("ALGORITHM"), "{view}");
        sqlite_exec(&conn, file, &view);
        let mysql = mysql_view_ddl(sql, name).unwrap();
        assert!(mysql.trim_start().starts_with("CREATE OR REPLACE ALGORITHM=UNDEFINED DEFINER="), "{mysql}");
        assert!(mysql.contains(&format!("VIEW `{name}` (")), "{mysql}");
    }
    let s: String = conn.query_row("SELECT group_concat(s) FROM v2", [], |r| r.get(0)).unwrap();
    assert_eq!(s, "a");
    // The other statements of a view file are not views.
    for p in lightning_files("-schema-view.sql") {
        for st in statements(&read(&p)) {
            if st.contains("CREATE") {
                continue;
            }
            assert!(matches!(mysql_view_ddl(&st, "x"), Err(SchemaError::NotCreateView)), "{st}");
        }
    }
}

/// The Sakila schema is a hand-written script with DELIMITER blocks; a split at `;` (outside
/// strings: a view has `SEPARATOR '; '`) is enough to find its CREATE TABLE and CREATE VIEW
/// statements.
fn sakila() -> (Vec<String>, Vec<String>) {
    let text = read(&Path::new(CORPUS).join("sakila/sakila-mv-schema.sql"));
    let mut tables = Vec::new();
    let mut views = Vec::new();
    for piece in statements(&text) {
        let code: String = piece.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        let code = code.trim();
        if code.starts_with("CREATE TABLE") {
            tables.push(piece);
        } else if code.starts_with("CREATE") && code.split_whitespace().any(|w| w == "VIEW") {
            views.push(piece);
        }
    }
    assert_eq!(tables.len(), 16);
    assert_eq!(views.len(), 7);
    (tables, views)
}

#[test]
fn sakila_tables() {
    let (tables, _) = sakila();
    let mut by_name = BTreeMap::new();
    for sql in &tables {
        let schema = parse_create_table(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
        check_table(&schema.name, sql, &schema);
        by_name.insert(schema.name.clone(), sql.clone());
    }

    // Details that matter for a load.
    let address = parse_create_table(&by_name["address"]).unwrap();
    let location = address.column("location").unwrap().1;
    assert_eq!(location.kind, ColumnKind::Spatial, "the /*!50705 */ column is read");
    let m = mysql_table_ddl(&by_name["address"], "address", true).unwrap();
    assert!(m.create.contains("/*!50705 location GEOMETRY NOT NULL,*/"));
    assert!(m.create.contains("/*!50705 */"), "the SPATIAL key inside its comment is gone:\n{}", m.create);
    assert!(m.create.contains("KEY idx_fk_city_id (city_id)"), "needed by fk_address_city");
    assert_eq!(m.add_indexes, ["ALTER TABLE `address` ADD SPATIAL KEY `idx_location` (location)"]);

    let m = mysql_table_ddl(&by_name["film_text"], "film_text", true).unwrap();
    assert_eq!(m.add_indexes, ["ALTER TABLE `film_text` ADD FULLTEXT KEY idx_title_description (title,description)"]);
    assert!(m.create.contains("PRIMARY KEY  (film_id)\n)ENGINE=MyISAM"), "{}", m.create);

    let m = mysql_table_ddl(&by_name["film"], "film", true).unwrap();
    assert_eq!(m.add_indexes, ["ALTER TABLE `film` ADD KEY idx_title (title)"]);
    assert!(m.create.contains("KEY idx_fk_language_id (language_id),"));
    assert!(m.create.contains("KEY idx_fk_original_language_id (original_language_id),"));

    let m = mysql_table_ddl(&by_name["rental"], "rental", true).unwrap();
    assert!(m.create.contains("UNIQUE KEY  (rental_date,inventory_id,customer_id)"));
    assert!(m.add_indexes.is_empty(), "every KEY of rental backs a foreign key");

    let staff = parse_create_table(&by_name["staff"]).unwrap();
    let password = staff.column("password").unwrap().1;
    assert_eq!(password.type_text, "varchar(40)");
    assert_eq!(password.kind, ColumnKind::Text);
    assert_eq!(staff.column("picture").unwrap().1.kind, ColumnKind::Binary);
    assert_eq!(staff.column("active").unwrap().1.kind, ColumnKind::Integer { unsigned: false });

    let s = sqlite_table_ddl(&by_name["film_text"], "film_text").unwrap();
    assert_eq!(s.notes, ["FULLTEXT index `idx_title_description` dropped: SQLite has no FULLTEXT indexes"]);
    let s = sqlite_table_ddl(&by_name["address"], "address").unwrap();
    assert_eq!(s.notes, ["SPATIAL index `idx_location` dropped: SQLite has no SPATIAL indexes"]);
    assert!(s.create.contains("\"location\" BLOB NOT NULL"));
    assert!(s.create.contains(
        "CONSTRAINT \"fk_address_city\" FOREIGN KEY (\"city_id\") REFERENCES \"city\" (\"city_id\") ON DELETE RESTRICT ON UPDATE CASCADE"
    ));
}

#[test]
fn sakila_in_sqlite() {
    let (tables, views) = sakila();
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    for sql in &tables {
        let name = parse_create_table(sql).unwrap().name;
        let s = sqlite_table_ddl(sql, &name).unwrap();
        sqlite_exec(&conn, &name, &s.create);
        for i in &s.indexes {
            sqlite_exec(&conn, &name, i);
        }
    }
    for sql in &views {
        let name = sql.split_whitespace().skip_while(|w| *w != "VIEW").nth(1).unwrap().to_string();
        match sqlite_view_ddl(sql, &name).unwrap_or_else(|e| panic!("{name}: {e}")) {
            SqliteView::Create(v) => sqlite_exec(&conn, &name, &v),
            // Its GROUP_CONCAT(DISTINCT ... ORDER BY ...) has no equivalent in SQLite 3.31.
            SqliteView::LeftOut(reason) => {
                assert_eq!(name, "actor_info");
                assert_eq!(reason, "GROUP_CONCAT(... ORDER BY ...) needs SQLite 3.44");
            }
        }
        let m = mysql_view_ddl(sql, &name).unwrap();
        assert!(m.contains("CREATE OR REPLACE "), "{m:?}");
    }
    // Some rows through the views, with the MySQL functions rewritten for SQLite.
    conn.execute_batch(
        "INSERT INTO language VALUES (1, 'English', '2006-02-15 05:02:19');
         INSERT INTO category VALUES (1, 'Action', '2006-02-15 04:46:27');
         INSERT INTO actor VALUES (1, 'PENELOPE', 'GUINESS', '2006-02-15 04:34:33'),
                                  (2, 'NICK', 'WAHLBERG', '2006-02-15 04:34:33');
         INSERT INTO film (film_id, title, language_id, rating) VALUES (1, 'ACADEMY DINOSAUR', 1, 'PG');
         INSERT INTO film_actor (actor_id, film_id) VALUES (1, 1), (2, 1);
         INSERT INTO film_category (film_id, category_id) VALUES (1, 1);",
    )
    .unwrap();
    let (title, actors): (String, String) =
        conn.query_row("SELECT title, actors FROM film_list", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(title, "ACADEMY DINOSAUR");
    assert!(actors == "PENELOPE GUINESS, NICK WAHLBERG" || actors == "NICK WAHLBERG, PENELOPE GUINESS", "{actors}");
    let nicer: String = conn.query_row("SELECT actors FROM nicer_but_slower_film_list", [], |r| r.get(0)).unwrap();
    assert!(nicer.contains("Penelope Guiness"), "{nicer}");
}

/// No input may panic: every prefix of every corpus statement gives a result or an error.
#[test]
fn truncated_statements_do_not_panic() {
    let (tables, views) = sakila();
    let mut all: Vec<String> = tables.into_iter().chain(views).collect();
    for p in lightning_files("-schema.sql").iter().step_by(5) {
        all.push(the_create_table(p));
    }
    for sql in &all {
        // Every prefix of short statements, every third one of long ones (time).
        let step = if sql.len() > 600 { 3 } else { 1 };
        for (i, _) in sql.char_indices().step_by(step) {
            let s = &sql[..i];
            let _ = parse_create_table(s);
            let _ = mysql_table_ddl(s, "t", true);
            let _ = sqlite_table_ddl(s, "t");
            let _ = mysql_view_ddl(s, "v");
            let _ = sqlite_view_ddl(s, "v");
        }
    }
}
