//! Table-driven tests of each function on hand-written DDL.

use hoist_schema::*;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;

/// `mysql_table_ddl(sql, target, true)` gives exactly `create` and `add`.
macro_rules! defers_to {
    ($name:ident, $sql:expr, $target:expr, $create:expr, [$($add:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let m = mysql_table_ddl($sql, $target, true).unwrap();
            assert_eq!(m.create, $create, "create");
            let add: Vec<&str> = vec![$($add),*];
            assert_eq!(m.add_indexes, add, "add_indexes");
            // Without deferral only the header changes.
            let plain = mysql_table_ddl($sql, $target, false).unwrap();
            assert!(plain.add_indexes.is_empty());
            assert_eq!(
                parse_create_table(&plain.create).unwrap().columns,
                parse_create_table($sql).unwrap().columns
            );
        }
    };
}

defers_to!(
    key_in_the_middle_and_index_last,
    "CREATE TABLE `t` (
  `id` int NOT NULL,
  `a` int,
  `b` varchar(10),
  PRIMARY KEY (`id`),
  KEY `ka` (`a`),
  UNIQUE KEY `ub` (`b`),
  INDEX `kab` (`a`, `b`)
) ENGINE=InnoDB",
    "t2",
    "CREATE TABLE IF NOT EXISTS `t2` (
  `id` int NOT NULL,
  `a` int,
  `b` varchar(10),
  PRIMARY KEY (`id`),
  UNIQUE KEY `ub` (`b`)
) ENGINE=InnoDB",
    ["ALTER TABLE `t2` ADD KEY `ka` (`a`), ADD INDEX `kab` (`a`, `b`)"]
);

defers_to!(
    fulltext_and_spatial_get_one_alter_each,
    "CREATE TABLE t (
  id int PRIMARY KEY,
  title varchar(100),
  body text,
  g geometry NOT NULL,
  FULLTEXT KEY ft_title (title),
  KEY k_title (title(10)),
  SPATIAL INDEX sp_g (g),
  FULLTEXT ft_both (title, body) WITH PARSER ngram
)",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (
  id int PRIMARY KEY,
  title varchar(100),
  body text,
  g geometry NOT NULL
)",
    [
        "ALTER TABLE `t` ADD KEY k_title (title(10))",
        "ALTER TABLE `t` ADD FULLTEXT KEY ft_title (title)",
        "ALTER TABLE `t` ADD SPATIAL INDEX sp_g (g)",
        "ALTER TABLE `t` ADD FULLTEXT ft_both (title, body) WITH PARSER ngram",
    ]
);

defers_to!(
    primary_and_unique_keys_stay,
    "CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a), UNIQUE KEY ub (b), UNIQUE (c), CONSTRAINT uc UNIQUE INDEX (b, c))",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int, b int, c int, PRIMARY KEY (a), UNIQUE KEY ub (b), UNIQUE (c), CONSTRAINT uc UNIQUE INDEX (b, c))",
    []
);

defers_to!(
    indexes_a_foreign_key_needs_stay,
    "CREATE TABLE child (
  id int NOT NULL,
  parent_id int NOT NULL,
  other_id int,
  x int,
  PRIMARY KEY (id),
  KEY idx_parent (parent_id),
  KEY idx_other_x (other_id, x),
  KEY idx_x_other (x, other_id),
  KEY idx_x (x),
  CONSTRAINT fk_parent FOREIGN KEY (PARENT_ID) REFERENCES parent (id) ON DELETE CASCADE,
  CONSTRAINT fk_other FOREIGN KEY (other_id) REFERENCES other (id),
  CONSTRAINT chk_x CHECK ((x > 0)) /*!80016 NOT ENFORCED */
)",
    "child",
    "CREATE TABLE IF NOT EXISTS `child` (
  id int NOT NULL,
  parent_id int NOT NULL,
  other_id int,
  x int,
  PRIMARY KEY (id),
  KEY idx_parent (parent_id),
  KEY idx_other_x (other_id, x),
  CONSTRAINT fk_parent FOREIGN KEY (PARENT_ID) REFERENCES parent (id) ON DELETE CASCADE,
  CONSTRAINT fk_other FOREIGN KEY (other_id) REFERENCES other (id),
  CONSTRAINT chk_x CHECK ((x > 0)) /*!80016 NOT ENFORCED */
)",
    ["ALTER TABLE `child` ADD KEY idx_x_other (x, other_id), ADD KEY idx_x (x)"]
);

defers_to!(
    index_an_inline_reference_needs_stays,
    "CREATE TABLE t (a int REFERENCES p (id), b int, KEY ka (a), KEY kb (b))",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int REFERENCES p (id), b int, KEY ka (a))",
    ["ALTER TABLE `t` ADD KEY kb (b)"]
);

defers_to!(
    index_of_the_auto_increment_column_stays,
    "create table t (a int auto_increment, b int, key (a), key kb (b))",
    "t",
    "create table IF NOT EXISTS `t` (a int auto_increment, b int, key (a))",
    ["ALTER TABLE `t` ADD key kb (b)"]
);

defers_to!(
    version_comments_are_kept_whole,
    "CREATE TABLE `t` (
  `id` int NOT NULL,
  `a` int DEFAULT NULL,
  `b` int DEFAULT NULL,
  /*!50705 KEY `in_comment` (`a`),*/
  PRIMARY KEY (`id`),
  KEY `hidden` (`b`) /*!80000 INVISIBLE */
) ENGINE=InnoDB /*!40101 DEFAULT CHARSET=utf8 */ /*!50100 PARTITION BY HASH (`id`) PARTITIONS 4 */",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (
  `id` int NOT NULL,
  `a` int DEFAULT NULL,
  `b` int DEFAULT NULL,
  /*!50705 */
  PRIMARY KEY (`id`)
) ENGINE=InnoDB /*!40101 DEFAULT CHARSET=utf8 */ /*!50100 PARTITION BY HASH (`id`) PARTITIONS 4 */",
    ["ALTER TABLE `t` ADD KEY `in_comment` (`a`), ADD KEY `hidden` (`b`) /*!80000 INVISIBLE */"]
);

defers_to!(
    an_index_that_cannot_be_cut_out_of_its_comment_stays,
    // The comma before `k2` is inside the first comment and `k1` needs it, and `k2` has
    // no comma after it: removing `k2` would break the comment, so it stays.
    "CREATE TABLE t (a int, b int, /*!50705 KEY k1 (a), */ KEY k2 (b))",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int, b int, /*!50705 */ KEY k2 (b))",
    ["ALTER TABLE `t` ADD KEY k1 (a)"]
);

defers_to!(
    backquoted_names_with_backquotes,
    "CREATE TABLE `we``ird` (`a``b` int, `c` int, KEY `k``1` (`a``b`), KEY (`c`))",
    "new`name",
    "CREATE TABLE IF NOT EXISTS `new``name` (`a``b` int, `c` int)",
    ["ALTER TABLE `new``name` ADD KEY `k``1` (`a``b`), ADD KEY `c` (`c`)"]
);

defers_to!(
    index_before_the_columns_takes_the_comma_after_it,
    "CREATE TABLE t (KEY k (a), a int, b int)",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int, b int)",
    ["ALTER TABLE `t` ADD KEY k (a)"]
);

defers_to!(
    qualified_name_becomes_the_target_name,
    "CREATE TABLE `db`.`tbl` (id int primary key, v int, KEY (v))",
    "tbl2",
    "CREATE TABLE IF NOT EXISTS `tbl2` (id int primary key, v int)",
    ["ALTER TABLE `tbl2` ADD KEY `v` (v)"]
);

defers_to!(
    unquoted_qualified_name,
    "CREATE TABLE IF NOT EXISTS db . tbl (a int)",
    "x",
    "CREATE TABLE IF NOT EXISTS `x` (a int)",
    []
);

defers_to!(
    if_not_exists_is_not_added_twice,
    "create table if not exists t (a int)",
    "t",
    "create table if not exists `t` (a int)",
    []
);

defers_to!(
    or_replace_is_removed,
    "CREATE OR REPLACE TABLE t (a int)",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int)",
    []
);

defers_to!(
    unnamed_keys_get_the_names_mysql_gives_them,
    "CREATE TABLE t (a int, b int, KEY (a), KEY a_2 (b), KEY(a, b), UNIQUE (a))",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (a int, b int, UNIQUE (a))",
    ["ALTER TABLE `t` ADD KEY `a` (a), ADD KEY a_2 (b), ADD KEY `a_3` (a, b)"]
);

defers_to!(
    comments_between_elements,
    "CREATE TABLE t (
  a int, -- the a
  b int,
  KEY kb (b) -- by b
)",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (
  a int, -- the a
  b int -- by b
)",
    ["ALTER TABLE `t` ADD KEY kb (b)"]
);

defers_to!(
    tidb_comments_stay,
    "CREATE TABLE `t` (`id` bigint NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */, `v` int, PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */, KEY `kv` (`v`)) /*T! SHARD_ROW_ID_BITS=4 */",
    "t",
    "CREATE TABLE IF NOT EXISTS `t` (`id` bigint NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */, `v` int, PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */) /*T! SHARD_ROW_ID_BITS=4 */",
    ["ALTER TABLE `t` ADD KEY `kv` (`v`)"]
);

#[test]
fn without_deferral_only_the_header_changes() {
    let sql = "CREATE TABLE `db`.`t` (a int, KEY (a), FULLTEXT (a))";
    let m = mysql_table_ddl(sql, "u", false).unwrap();
    assert_eq!(m.create, "CREATE TABLE IF NOT EXISTS `u` (a int, KEY (a), FULLTEXT (a))");
    assert!(m.add_indexes.is_empty());
}

#[test]
fn errors() {
    for sql in [
        "CREATE VIEW v AS SELECT 1",
        "SELECT 1",
        "",
        "/* only a comment */",
        "CREATE INDEX i ON t (a)",
        "INSERT INTO t VALUES (1)",
        "/*!40101 SET NAMES binary*/",
    ] {
        assert!(matches!(parse_create_table(sql), Err(SchemaError::NotCreateTable)), "{sql}");
    }
    for (sql, what) in [
        ("CREATE TABLE t LIKE s", "LIKE"),
        ("CREATE TABLE t AS SELECT 1", "SELECT"),
        ("CREATE TABLE t (a int) SELECT 1 AS a", "SELECT"),
        ("CREATE TEMPORARY TABLE t (a int)", "TEMPORARY"),
    ] {
        match parse_create_table(sql) {
            Err(SchemaError::Unsupported { what: w }) => assert!(w.contains(what), "{w}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    for (sql, wanted) in [
        ("CREATE TABLE t (a int,, b int)", "line 1, column 23"),
        ("CREATE TABLE t (a int", "not closed"),
        ("CREATE TABLE t (a int /*!50100 x", "line 1, column 23"),
        ("CREATE TABLE t (a int NOT NULL garbage)", "unexpected garbage at line 1, column 32"),
        ("CREATE TABLE t (\n  a int,\n  b int NOT NULL DEFAULT)", "found: EOF at line 3, column 25"),
        ("CREATE TABLE t (a varchar(3) DEFAULT 'x)", "Unterminated string"),
        ("CREATE TABLE (a int)", "table name"),
    ] {
        match parse_create_table(sql) {
            Err(e @ SchemaError::Parse { .. }) => {
                let m = e.to_string();
                assert!(m.contains(wanted), "{sql}: {m}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    for (sql, wanted) in [
        ("CREATE TABLE t (a int, KEY (b))", "`b` does not exist"),
        ("CREATE TABLE t (a int, A int)", "defined twice"),
        ("CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (b))", "PRIMARY KEY"),
        ("CREATE TABLE t (KEY (a))", "no columns"),
        ("CREATE TABLE t (a decimal(300, 2))", "too large"),
    ] {
        match parse_create_table(sql) {
            Err(e @ SchemaError::Invalid { .. }) => {
                assert!(e.to_string().contains(wanted), "{sql}: {e}")
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

#[test]
fn table_schema() {
    let t = parse_create_table(
        "CREATE TABLE `Users` (
  `ID` int unsigned NOT NULL AUTO_INCREMENT,
  `Email` varchar(255) NOT NULL,
  `name` varchar(64) DEFAULT NULL,
  `created` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `lower_email` varchar(255) GENERATED ALWAYS AS (lower(`Email`)) VIRTUAL,
  `code` char(4),
  PRIMARY KEY (`id`),
  UNIQUE KEY `uk_email` (`email`),
  UNIQUE KEY `uk_code_name` (`code`, `name`(10)),
  UNIQUE KEY `uk_fn` ((lower(`name`))),
  KEY `k` (`name`)
)",
    )
    .unwrap();
    assert_eq!(t.name, "Users");
    assert_eq!(t.primary_key, ["ID"]);
    assert_eq!(t.unique_keys, vec![vec!["Email"], vec!["code", "name"]]);
    let (i, email) = t.column("EMAIL").unwrap();
    assert_eq!(i, 1);
    assert_eq!(email.name, "Email");
    assert!(t.column("nope").is_none());
    let id = &t.columns[0];
    assert_eq!(
        (id.nullable, id.auto_increment, id.has_default, &id.kind),
        (false, true, false, &ColumnKind::Integer { unsigned: true })
    );
    let name = t.column("name").unwrap().1;
    assert!(name.nullable && name.has_default && !name.generated);
    let created = t.column("created").unwrap().1;
    assert!(!created.nullable && created.has_default);
    assert!(t.column("lower_email").unwrap().1.generated);
    let insertable: Vec<&str> = t.insertable_columns().map(|c| c.name.as_str()).collect();
    assert_eq!(insertable, ["ID", "Email", "name", "created", "code"]);
    // A table-level primary key makes its columns NOT NULL.
    let t = parse_create_table("CREATE TABLE t (a int, b int, PRIMARY KEY (b, a))").unwrap();
    assert_eq!(t.primary_key, ["b", "a"]);
    assert!(t.columns.iter().all(|c| !c.nullable));
    // So does the column attribute KEY, which MySQL reads as PRIMARY KEY.
    let t = parse_create_table("CREATE TABLE t (a int KEY, b int UNIQUE KEY)").unwrap();
    assert_eq!(t.primary_key, ["a"]);
    assert_eq!(t.unique_keys, vec![vec!["b"]]);
    // SERIAL is BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE.
    let t = parse_create_table("CREATE TABLE t (id SERIAL, v int)").unwrap();
    let id = &t.columns[0];
    assert!(id.auto_increment && !id.nullable);
    assert_eq!(t.unique_keys, vec![vec!["id"]]);
    let t = parse_create_table("CREATE TABLE t (id int SERIAL DEFAULT VALUE)").unwrap();
    assert!(t.columns[0].auto_increment && !t.columns[0].nullable);
}

/// Every MySQL type: its kind, its `type_text`, and its SQLite declared type.
#[test]
fn type_mapping() {
    use ColumnKind::*;
    let int = Integer { unsigned: false };
    let uint = Integer { unsigned: true };
    let cases: &[(&str, ColumnKind, &str, &str)] = &[
        ("TINYINT", int.clone(), "tinyint", "INTEGER"),
        ("SMALLINT UNSIGNED", uint.clone(), "smallint unsigned", "INTEGER"),
        ("MEDIUMINT(8)", int.clone(), "mediumint(8)", "INTEGER"),
        ("INT", int.clone(), "int", "INTEGER"),
        ("INTEGER", int.clone(), "integer", "INTEGER"),
        ("int(11) signed", int.clone(), "int(11) signed", "INTEGER"),
        ("BIGINT(20) UNSIGNED", uint.clone(), "bigint(20) unsigned", "INTEGER"),
        ("INT(10) UNSIGNED ZEROFILL", uint.clone(), "int(10) unsigned zerofill", "INTEGER"),
        ("INT ZEROFILL", uint.clone(), "int zerofill", "INTEGER"),
        ("TINYINT(1)", int.clone(), "tinyint(1)", "INTEGER"),
        ("BOOL", int.clone(), "bool", "INTEGER"),
        ("BOOLEAN", int.clone(), "boolean", "INTEGER"),
        ("SERIAL", uint.clone(), "serial", "INTEGER"),
        ("DECIMAL(10,2)", Decimal { precision: 10, scale: 2 }, "decimal(10,2)", "NUMERIC"),
        ("DECIMAL", Decimal { precision: 10, scale: 0 }, "decimal", "NUMERIC"),
        ("NUMERIC(5)", Decimal { precision: 5, scale: 0 }, "numeric(5)", "NUMERIC"),
        ("DEC(4, 1)", Decimal { precision: 4, scale: 1 }, "dec(4,1)", "NUMERIC"),
        ("FIXED(6,3)", Decimal { precision: 6, scale: 3 }, "fixed(6,3)", "NUMERIC"),
        ("DECIMAL(65,30) UNSIGNED", Decimal { precision: 65, scale: 30 }, "decimal(65,30) unsigned", "NUMERIC"),
        ("FLOAT", Float, "float", "REAL"),
        ("FLOAT(7,3)", Float, "float(7,3)", "REAL"),
        ("DOUBLE", Float, "double", "REAL"),
        ("DOUBLE PRECISION", Float, "double precision", "REAL"),
        ("REAL", Float, "real", "REAL"),
        ("DOUBLE(10,2) UNSIGNED", Float, "double(10,2) unsigned", "REAL"),
        ("CHAR", Text, "char", "TEXT"),
        ("CHAR(3)", Text, "char(3)", "TEXT"),
        ("VARCHAR(255)", Text, "varchar(255)", "TEXT"),
        ("NATIONAL VARCHAR(10)", Text, "national varchar(10)", "TEXT"),
        ("NCHAR(3)", Text, "nchar(3)", "TEXT"),
        ("TINYTEXT", Text, "tinytext", "TEXT"),
        ("TEXT", Text, "text", "TEXT"),
        ("TEXT(1000)", Text, "text(1000)", "TEXT"),
        ("MEDIUMTEXT", Text, "mediumtext", "TEXT"),
        ("LONGTEXT", Text, "longtext", "TEXT"),
        ("LONG VARCHAR", Text, "long varchar", "TEXT"),
        ("VARCHAR(40) BINARY", Text, "varchar(40)", "TEXT"),
        ("VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_bin", Text, "varchar(10)", "TEXT"),
        ("VARCHAR(10) CHARSET utf8mb4 COLLATE utf8mb4_bin", Text, "varchar(10)", "TEXT"),
        ("ENUM('a','B')", Enum, "enum('a','B')", "TEXT"),
        ("SET('x', 'y')", Set, "set('x','y')", "TEXT"),
        ("JSON", Json, "json", "TEXT"),
        ("DATE", Temporal, "date", "TEXT"),
        ("TIME(3)", Temporal, "time(3)", "TEXT"),
        ("DATETIME(6)", Temporal, "datetime(6)", "TEXT"),
        ("TIMESTAMP", Temporal, "timestamp", "TEXT"),
        ("YEAR", Year, "year", "INTEGER"),
        ("YEAR(4)", Year, "year(4)", "INTEGER"),
        ("BIT", Bit, "bit", "INTEGER"),
        ("BIT(64)", Bit, "bit(64)", "INTEGER"),
        ("BINARY(16)", Binary, "binary(16)", "BLOB"),
        ("VARBINARY(255)", Binary, "varbinary(255)", "BLOB"),
        ("TINYBLOB", Binary, "tinyblob", "BLOB"),
        ("BLOB", Binary, "blob", "BLOB"),
        ("MEDIUMBLOB", Binary, "mediumblob", "BLOB"),
        ("LONGBLOB", Binary, "longblob", "BLOB"),
        ("LONG VARBINARY", Binary, "long varbinary", "BLOB"),
        ("GEOMETRY", Spatial, "geometry", "BLOB"),
        ("POINT", Spatial, "point", "BLOB"),
        ("POINT NOT NULL SRID 4326", Spatial, "point", "BLOB"),
        ("LINESTRING", Spatial, "linestring", "BLOB"),
        ("POLYGON", Spatial, "polygon", "BLOB"),
        ("MULTIPOINT", Spatial, "multipoint", "BLOB"),
        ("MULTILINESTRING", Spatial, "multilinestring", "BLOB"),
        ("MULTIPOLYGON", Spatial, "multipolygon", "BLOB"),
        ("GEOMETRYCOLLECTION", Spatial, "geometrycollection", "BLOB"),
        ("GEOMCOLLECTION", Spatial, "geomcollection", "BLOB"),
        ("INET6", Other, "inet6", ""),
    ];
    for (ty, kind, text, sqlite) in cases {
        let sql = format!("CREATE TABLE t (c {ty})");
        let t = parse_create_table(&sql).unwrap_or_else(|e| panic!("{ty}: {e}"));
        let c = &t.columns[0];
        assert_eq!(&c.kind, kind, "{ty}");
        assert_eq!(c.type_text, *text, "{ty}");
        let s = sqlite_table_ddl(&sql, "t").unwrap();
        let line = s.create.lines().nth(1).unwrap().trim_end_matches(',').to_string();
        let want = if sqlite.is_empty() { "  \"c\"".to_string() } else { format!("  \"c\" {sqlite}") };
        assert!(line.starts_with(&want), "{ty}: {line}");
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&s.create).unwrap_or_else(|e| panic!("{ty}: {e}\n{}", s.create));
        // The MySQL text is the user's.
        let m = mysql_table_ddl(&sql, "t", true).unwrap();
        assert_eq!(m.create, format!("CREATE TABLE IF NOT EXISTS `t` (c {ty})"));
    }
}

/// DEFAULT clauses in SQLite: the DDL and the value a row gets.
#[test]
fn defaults() {
    let cases: &[(&str, &str, Option<Sql>)] = &[
        ("c INT DEFAULT 5", "\"c\" INTEGER DEFAULT 5", Some(Sql::Integer(5))),
        ("c INT DEFAULT -1", "\"c\" INTEGER DEFAULT -1", Some(Sql::Integer(-1))),
        ("c DECIMAL(4,2) DEFAULT 4.99", "\"c\" NUMERIC DEFAULT 4.99", Some(Sql::Real(4.99))),
        ("c INT NOT NULL DEFAULT '7'", "\"c\" INTEGER NOT NULL DEFAULT '7'", Some(Sql::Integer(7))),
        ("c VARCHAR(5) DEFAULT 'it''s'", "\"c\" TEXT DEFAULT 'it''s'", Some(Sql::Text("it's".into()))),
        ("c VARCHAR(5) DEFAULT 'a\\'b'", "\"c\" TEXT DEFAULT 'a''b'", Some(Sql::Text("a'b".into()))),
        ("c VARCHAR(5) DEFAULT \"dq\"", "\"c\" TEXT DEFAULT 'dq'", Some(Sql::Text("dq".into()))),
        ("c VARCHAR(5) DEFAULT _utf8mb4'x'", "\"c\" TEXT DEFAULT 'x'", Some(Sql::Text("x".into()))),
        ("c VARCHAR(5) DEFAULT NULL", "\"c\" TEXT DEFAULT NULL", Some(Sql::Null)),
        ("c TINYINT(1) DEFAULT TRUE", "\"c\" INTEGER DEFAULT 1", Some(Sql::Integer(1))),
        ("c BIT(3) DEFAULT b'101'", "\"c\" INTEGER DEFAULT 5", Some(Sql::Integer(5))),
        ("c VARBINARY(2) DEFAULT 0x4142", "\"c\" BLOB DEFAULT X'4142'", Some(Sql::Blob(b"AB".to_vec()))),
        ("c VARCHAR(2) DEFAULT 0x4142", "\"c\" TEXT DEFAULT 'AB'", Some(Sql::Text("AB".into()))),
        ("c INT DEFAULT 0x10", "\"c\" INTEGER DEFAULT 16", Some(Sql::Integer(16))),
        (
            "c TIMESTAMP NOT NULL DEFAULT '0000-00-00 00:00:00'",
            "\"c\" TEXT NOT NULL DEFAULT '0000-00-00 00:00:00'",
            Some(Sql::Text("0000-00-00 00:00:00".into())),
        ),
        ("c TIMESTAMP DEFAULT CURRENT_TIMESTAMP", "\"c\" TEXT DEFAULT CURRENT_TIMESTAMP", None),
        (
            "c DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)",
            "\"c\" TEXT DEFAULT CURRENT_TIMESTAMP",
            None,
        ),
        ("c DATETIME DEFAULT NOW()", "\"c\" TEXT DEFAULT CURRENT_TIMESTAMP", None),
        ("c DATE DEFAULT (CURRENT_DATE)", "\"c\" TEXT DEFAULT CURRENT_DATE", None),
        ("c VARCHAR(36) DEFAULT (uuid())", "\"c\" TEXT", Some(Sql::Null)),
    ];
    for (def, want, value) in cases {
        let sql = format!("CREATE TABLE t (id int, {def})");
        let s = sqlite_table_ddl(&sql, "t").unwrap_or_else(|e| panic!("{def}: {e}"));
        let line = s.create.lines().nth(2).unwrap().trim();
        assert_eq!(line, *want, "{def}");
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&s.create).unwrap();
        conn.execute_batch("INSERT INTO t (id) VALUES (1)").unwrap();
        let got: Sql = conn.query_row("SELECT c FROM t", [], |r| r.get(0)).unwrap();
        match value {
            Some(v) => assert_eq!(&got, v, "{def}"),
            None => assert!(matches!(&got, Sql::Text(t) if t.len() >= 8), "{def}: {got:?}"),
        }
    }
    let s = sqlite_table_ddl("CREATE TABLE t (c VARCHAR(36) DEFAULT (uuid()))", "t").unwrap();
    assert_eq!(s.notes, ["DEFAULT (uuid()) on `c` dropped: SQLite cannot compute it"]);
}

#[test]
fn sqlite_translation() {
    let sql = "CREATE TABLE `orders` (
  `id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `customer` varchar(64) NOT NULL COMMENT 'who',
  `code` char(8) CHARACTER SET ascii NOT NULL,
  `note` text,
  `total` decimal(10,2) NOT NULL DEFAULT '0.00',
  `qty` int NOT NULL DEFAULT 1,
  `amount` decimal(12,2) GENERATED ALWAYS AS (`total` * `qty`) STORED,
  `created` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  `h` varchar(40) AS (sha1(`note`)) VIRTUAL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uk_code` (`code`),
  UNIQUE KEY `uk_cust_note` (`customer`, `note`(20)),
  KEY `idx_customer` (`customer`(10), `created` DESC),
  KEY (`created`),
  KEY `idx_fn` ((`qty` + 1), (lower(`code`))),
  FULLTEXT KEY `ft_note` (`note`),
  CONSTRAINT `fk_customer` FOREIGN KEY (`customer`) REFERENCES `shop`.`customers` (`name`) ON DELETE CASCADE,
  CONSTRAINT `chk_qty` CHECK ((`qty` > 0)),
  CHECK (`total` >= 0)
) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4";
    let s = sqlite_table_ddl(sql, "orders").unwrap();
    assert_eq!(
        s.create,
        r#"CREATE TABLE IF NOT EXISTS "orders" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer" TEXT NOT NULL,
  "code" TEXT NOT NULL,
  "note" TEXT,
  "total" NUMERIC NOT NULL DEFAULT '0.00',
  "qty" INTEGER NOT NULL DEFAULT 1,
  "amount" NUMERIC GENERATED ALWAYS AS ("total" * "qty") STORED,
  "created" TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "h" TEXT,
  UNIQUE ("code"),
  CONSTRAINT "fk_customer" FOREIGN KEY ("customer") REFERENCES "customers" ("name") ON DELETE CASCADE
)"#
    );
    assert_eq!(
        s.indexes,
        [
            r#"CREATE UNIQUE INDEX IF NOT EXISTS "orders_uk_cust_note" ON "orders" ("customer", substr("note", 1, 20))"#,
            r#"CREATE INDEX IF NOT EXISTS "orders_idx_customer" ON "orders" ("customer", "created" DESC)"#,
            r#"CREATE INDEX IF NOT EXISTS "orders_created" ON "orders" ("created")"#,
            r#"CREATE INDEX IF NOT EXISTS "orders_idx_fn" ON "orders" (("qty" + 1), lower("code"))"#,
        ]
    );
    assert_eq!(
        s.notes,
        [
            "generated column `h` became a plain column, left NULL by the import: its expression cannot be translated to SQLite",
            "FULLTEXT index `ft_note` dropped: SQLite has no FULLTEXT indexes",
            "CHECK constraint `chk_qty` dropped: MySQL expressions are not translated",
            "1 unnamed CHECK constraint(s) dropped: MySQL expressions are not translated",
        ]
    );
    let conn = Connection::open_in_memory().unwrap();
    // The bundled SQLite enforces foreign keys by default; a load turns that off, as it
    // sets foreign_key_checks=0 on MySQL.
    conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    conn.execute_batch(&s.create).unwrap();
    conn.execute_batch("INSERT INTO orders (customer, code, total, qty) VALUES ('bob', 'C1', '2.50', 3)").unwrap();
    for i in &s.indexes {
        conn.execute_batch(i).unwrap();
    }
    let (id, amount, created): (i64, f64, String) = conn
        .query_row("SELECT id, amount, created FROM orders", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!((id, amount, created.len()), (1, 7.5, 19));
    // A duplicate code is refused during the load, as in MySQL.
    assert!(conn.execute_batch("INSERT INTO orders (customer, code) VALUES ('al', 'C1')").is_err());

    // For MySQL: the FK keeps idx_customer, the rest is deferred.
    let m = mysql_table_ddl(sql, "orders", true).unwrap();
    assert!(m.create.contains("KEY `idx_customer` (`customer`(10), `created` DESC),"));
    assert!(m.create.contains("UNIQUE KEY `uk_cust_note` (`customer`, `note`(20)),"));
    assert!(!m.create.contains("ft_note") && !m.create.contains("KEY (`created`)"));
    assert!(m.create.ends_with(") ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4"));
    assert_eq!(
        m.add_indexes,
        [
            "ALTER TABLE `orders` ADD KEY `created` (`created`), ADD KEY `idx_fn` ((`qty` + 1), (lower(`code`)))",
            "ALTER TABLE `orders` ADD FULLTEXT KEY `ft_note` (`note`)",
        ]
    );
}

#[test]
fn sqlite_primary_keys() {
    let cases: &[(&str, &[&str])] = &[
        (
            "CREATE TABLE t (id INT UNSIGNED NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))",
            &[r#""id" INTEGER PRIMARY KEY AUTOINCREMENT"#],
        ),
        ("CREATE TABLE t (id bigint primary key)", &[r#""id" INTEGER PRIMARY KEY"#]),
        ("CREATE TABLE t (id int key)", &[r#""id" INTEGER PRIMARY KEY"#]),
        (
            "CREATE TABLE t (a int, b varchar(3), PRIMARY KEY (a, b))",
            &[r#""a" INTEGER NOT NULL"#, r#""b" TEXT NOT NULL"#, r#"PRIMARY KEY ("a", "b")"#],
        ),
        ("CREATE TABLE t (k varchar(10) PRIMARY KEY)", &[r#""k" TEXT NOT NULL"#, r#"PRIMARY KEY ("k")"#]),
        (
            "CREATE TABLE t (a int, b int auto_increment, PRIMARY KEY (a, b))",
            &[r#""b" INTEGER NOT NULL"#, r#"PRIMARY KEY ("a", "b")"#],
        ),
        (
            "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a + 1) STORED PRIMARY KEY)",
            &[r#""b" INTEGER NOT NULL GENERATED ALWAYS AS ("a" + 1) STORED"#, r#"UNIQUE ("b")"#],
        ),
    ];
    for (sql, lines) in cases {
        let s = sqlite_table_ddl(sql, "t").unwrap();
        let got: Vec<&str> = s.create.lines().map(|l| l.trim().trim_end_matches(',')).collect();
        for l in *lines {
            assert!(got.contains(l), "{sql}: no line {l} in\n{}", s.create);
        }
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&s.create).unwrap_or_else(|e| panic!("{sql}: {e}\n{}", s.create));
    }
    // An INTEGER PRIMARY KEY hands out ids as AUTO_INCREMENT does.
    let s = sqlite_table_ddl("CREATE TABLE t (id int auto_increment primary key, v text)", "t").unwrap();
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&s.create).unwrap();
    conn.execute_batch("INSERT INTO t (id, v) VALUES (10, 'a'); INSERT INTO t (v) VALUES ('b')").unwrap();
    let max: i64 = conn.query_row("SELECT max(id) FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(max, 11);
}

#[test]
fn sqlite_generated_columns() {
    let sql = "CREATE TABLE g (
  a int NOT NULL PRIMARY KEY,
  b int AS (a + 1) VIRTUAL UNIQUE,
  c int GENERATED ALWAYS AS (b * 2 - -1) STORED,
  d varchar(10) AS (concat('x', a)) PERSISTENT,
  e int AS (a / 2),
  f int AS ((a | 1) & 2)
)";
    let t = parse_create_table(sql).unwrap();
    let generated: Vec<bool> = t.columns.iter().map(|c| c.generated).collect();
    assert_eq!(generated, [false, true, true, true, true, true]);
    let s = sqlite_table_ddl(sql, "g").unwrap();
    assert_eq!(
        s.create,
        r#"CREATE TABLE IF NOT EXISTS "g" (
  "a" INTEGER PRIMARY KEY,
  "b" INTEGER GENERATED ALWAYS AS ("a" + 1) VIRTUAL,
  "c" INTEGER GENERATED ALWAYS AS (("b" * 2) - (-1)) STORED,
  "d" TEXT,
  "e" INTEGER,
  "f" INTEGER GENERATED ALWAYS AS (("a" | 1) & 2) VIRTUAL,
  UNIQUE ("b")
)"#
    );
    assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    assert!(s.notes[0].starts_with("generated column `d` became a plain column"));
    assert!(s.notes[1].starts_with("generated column `e` became a plain column"));
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&s.create).unwrap();
    conn.execute_batch("INSERT INTO g (a) VALUES (4)").unwrap();
    let (b, c, f): (i64, i64, i64) =
        conn.query_row("SELECT b, c, f FROM g", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    assert_eq!((b, c, f), (5, 11, 0));
}

#[test]
fn sqlite_foreign_keys_and_checks() {
    let sql = "CREATE TABLE c (
  id int PRIMARY KEY,
  p int REFERENCES parent (id),
  q int CHECK (q > 0),
  r int CONSTRAINT r_pos CHECK (r > 0),
  FOREIGN KEY (q) REFERENCES db.other (x) ON DELETE SET NULL ON UPDATE NO ACTION
)";
    let s = sqlite_table_ddl(sql, "c").unwrap();
    assert!(s.create.contains(r#"FOREIGN KEY ("p") REFERENCES "parent" ("id")"#), "{}", s.create);
    assert!(s.create.contains(r#"FOREIGN KEY ("q") REFERENCES "other" ("x") ON DELETE SET NULL ON UPDATE NO ACTION"#));
    assert_eq!(
        s.notes,
        [
            "CHECK constraint `r_pos` dropped: MySQL expressions are not translated",
            "1 unnamed CHECK constraint(s) dropped: MySQL expressions are not translated",
        ]
    );
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&s.create).unwrap();
}

#[test]
fn sqlite_names_are_quoted() {
    let sql = "CREATE TABLE `a\"b` (`x\"y` int, `order` int, KEY `k\"1` (`x\"y`), KEY (`order`))";
    let s = sqlite_table_ddl(sql, "t\"1").unwrap();
    assert_eq!(s.create, "CREATE TABLE IF NOT EXISTS \"t\"\"1\" (\n  \"x\"\"y\" INTEGER,\n  \"order\" INTEGER\n)");
    assert_eq!(
        s.indexes,
        [
            r#"CREATE INDEX IF NOT EXISTS "t""1_k""1" ON "t""1" ("x""y")"#,
            r#"CREATE INDEX IF NOT EXISTS "t""1_order" ON "t""1" ("order")"#,
        ]
    );
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&s.create).unwrap();
    for i in &s.indexes {
        conn.execute_batch(i).unwrap();
    }
}

#[test]
fn mysql_views() {
    let cases: &[(&str, &str)] = &[
        ("CREATE VIEW v AS SELECT 1", "CREATE OR REPLACE VIEW `v2` AS SELECT 1"),
        (
            "CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`u`@`%` SQL SECURITY INVOKER VIEW `db`.`v` (`a`) AS SELECT a FROM t WITH CASCADED CHECK OPTION",
            "CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`u`@`%` SQL SECURITY INVOKER VIEW `v2` (`a`) AS SELECT a FROM t WITH CASCADED CHECK OPTION",
        ),
        (
            "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select `t`.`a` AS `a` from `t` */",
            "/*!50001 CREATE OR REPLACE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v2` AS select `t`.`a` AS `a` from `t` */",
        ),
        (
            "create definer=current_user view `v``q` as select 1 as `x`",
            "create OR REPLACE definer=current_user view `v2` as select 1 as `x`",
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(mysql_view_ddl(sql, "v2").unwrap(), *want);
    }
    assert_eq!(
        mysql_view_ddl("CREATE VIEW v AS SELECT 1", "a`b").unwrap(),
        "CREATE OR REPLACE VIEW `a``b` AS SELECT 1"
    );
    for sql in ["CREATE TABLE t (a int)", "DROP VIEW v", "SET NAMES utf8", "", "SELECT 1"] {
        assert!(matches!(mysql_view_ddl(sql, "v"), Err(SchemaError::NotCreateView)), "{sql}");
        assert!(matches!(sqlite_view_ddl(sql, "v"), Err(SchemaError::NotCreateView)), "{sql}");
    }
}

#[test]
fn sqlite_views() {
    let cases: &[(&str, &str)] = &[
        (
            "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`192.168.198.178` SQL SECURITY DEFINER VIEW `v2` (`s`) AS SELECT `s` FROM `db1`.`v1` WHERE `i`<2",
            r#"CREATE VIEW IF NOT EXISTS "w" ("s") AS SELECT "s" FROM "v1" WHERE "i" < 2"#,
        ),
        (
            "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select `t`.`a` AS `a` from `db`.`t` */",
            r#"CREATE VIEW IF NOT EXISTS "w" AS SELECT "t"."a" AS "a" FROM "t""#,
        ),
        (
            "CREATE VIEW v AS SELECT CONCAT(a, _utf8mb4'-', b) AS ab, IF(a > 1, \"big\", 'small') AS size, UCASE(b) AS u, GROUP_CONCAT(b SEPARATOR '; ') AS g, OCTET_LENGTH(b) + LENGTH(b) AS n, CHAR_LENGTH(b) AS c, SUBSTRING(b, 1, 1) AS f, MID(b, 1, 1) AS m, a <=> NULL AS z FROM db.t STRAIGHT_JOIN db.u ON t.a = u.k GROUP BY a WITH CHECK OPTION",
            r#"CREATE VIEW IF NOT EXISTS "w" AS SELECT (a || '-' || b) AS ab, CASE WHEN a > 1 THEN 'big' ELSE 'small' END AS size, upper(b) AS u, GROUP_CONCAT(b, '; ') AS g, length(CAST(b AS BLOB)) + length(CAST(b AS BLOB)) AS n, length(b) AS c, SUBSTR(b, 1, 1) AS f, substr(b, 1, 1) AS m, a IS NULL AS z FROM t JOIN u ON t.a = u.k GROUP BY a"#,
        ),
    ];
    for (sql, want) in cases {
        assert_eq!(sqlite_view_ddl(sql, "w").unwrap(), SqliteView::Create(want.to_string()));
    }
    // The last one, run.
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'zé'), (2, 'y');
         CREATE TABLE u (k INTEGER); INSERT INTO u VALUES (1), (2)",
    )
    .unwrap();
    let SqliteView::Create(ddl) = sqlite_view_ddl(cases[2].0, "w").unwrap() else { unreachable!() };
    conn.execute_batch(&ddl).unwrap();
    let rows: Vec<(String, String, String, String)> = conn
        .prepare("SELECT ab, size, u, g FROM w ORDER BY ab")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows[0], ("1-x".into(), "small".into(), "X".into(), "x".into()));
    assert_eq!(rows[1].1, "big");
    // MySQL's LENGTH counts bytes, CHAR_LENGTH characters.
    let (n, c): (i64, i64) = conn
        .query_row("SELECT n, c FROM (SELECT length(CAST('zé' AS BLOB)) * 2 AS n, length('zé') AS c)", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((n, c), (6, 2));
}

/// Regression (issue 12): one view in a syntax newer than the reader's SQLite made the whole
/// file a "malformed database schema" for Debian 12's sqlite3 (3.40) and Python's module. A
/// view is written in what SQLite 3.31 reads and runs, or left out with the reason.
#[test]
fn views_that_sqlite_3_31_cannot_read_are_left_out() {
    let cases: &[(&str, &str)] = &[
        (
            "CREATE VIEW v AS SELECT GROUP_CONCAT(b ORDER BY b SEPARATOR '; ') AS g FROM t",
            "GROUP_CONCAT(... ORDER BY ...) needs SQLite 3.44",
        ),
        (
            "CREATE VIEW v AS SELECT a, (SELECT group_concat(DISTINCT b ORDER BY b) FROM t) FROM u",
            "GROUP_CONCAT(... ORDER BY ...) needs SQLite 3.44",
        ),
        ("CREATE VIEW v AS SELECT t.a FROM t RIGHT JOIN u ON t.a = u.a", "RIGHT JOIN needs SQLite 3.39"),
        (
            "CREATE VIEW v AS SELECT * FROM (t LEFT JOIN (u RIGHT OUTER JOIN w ON u.a = w.a) ON t.a = u.a)",
            "RIGHT JOIN needs SQLite 3.39",
        ),
        (
            "CREATE VIEW v AS SELECT a FROM (SELECT t.a FROM t FULL OUTER JOIN u ON t.a = u.a) x",
            "FULL JOIN needs SQLite 3.39",
        ),
        ("CREATE VIEW v AS SELECT j->>'$.a' AS a FROM t", "the JSON operators -> and ->> need SQLite 3.38"),
        ("CREATE VIEW v AS SELECT CEIL(a) FROM t", "CEIL and FLOOR need SQLite 3.35"),
        ("CREATE VIEW v AS SELECT DATE_FORMAT(d, '%Y') FROM t", "SQLite 3.31 has no function DATE_FORMAT()"),
        ("CREATE VIEW v AS SELECT CONCAT_WS('-', a, b) FROM t", "SQLite 3.31 has no function CONCAT_WS()"),
        ("CREATE VIEW v AS SELECT `db`.`f`(a) FROM t", "SQLite 3.31 has no function \"db\".\"f\"()"),
        ("CREATE VIEW v AS SELECT a FROM t WHERE a IN (SELECT unhex(b) FROM u)", "SQLite 3.31 has no function unhex()"),
    ];
    for (sql, want) in cases {
        assert_eq!(sqlite_view_ddl(sql, "v").unwrap(), SqliteView::LeftOut(want.to_string()), "{sql}");
    }
    // Windows, CASE, COALESCE and dates are SQLite 3.31's own.
    let sql = "CREATE VIEW v AS SELECT a, row_number() OVER (ORDER BY a) AS r, COALESCE(b, '') AS b, date(d) AS d, count(*) AS n FROM t GROUP BY a";
    assert!(matches!(sqlite_view_ddl(sql, "v").unwrap(), SqliteView::Create(_)));
}

#[test]
fn quoting() {
    assert_eq!(quote_mysql_ident("a`b"), "`a``b`");
    assert_eq!(quote_mysql_ident("plain"), "`plain`");
    assert_eq!(quote_sqlite_ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_sqlite_ident("中文"), "\"中文\"");
}

#[test]
fn byte_order_mark_is_ignored() {
    let sql = "\u{feff}CREATE TABLE t (a int, KEY (a))";
    assert_eq!(parse_create_table(sql).unwrap().columns.len(), 1);
    let m = mysql_table_ddl(sql, "t", true).unwrap();
    assert_eq!(m.create, "CREATE TABLE IF NOT EXISTS `t` (a int)");
    sqlite_table_ddl(sql, "t").unwrap();
    let v = "\u{feff}CREATE VIEW v AS SELECT 1";
    assert_eq!(mysql_view_ddl(v, "v").unwrap(), "CREATE OR REPLACE VIEW `v` AS SELECT 1");
    sqlite_view_ddl(v, "v").unwrap();
}

#[test]
fn hostile_input_gives_errors_not_panics() {
    let deep = |open: &str, close: &str| {
        format!("CREATE TABLE t (a int DEFAULT {}1{})", open.repeat(100_000), close.repeat(100_000))
    };
    let cases = [
        deep("(", ")"),
        deep("-", ""),
        deep("NOT ", ""),
        format!("CREATE TABLE t ({})", "(".repeat(100_000)),
        format!("CREATE VIEW v AS SELECT {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("CREATE TABLE t (a int AS ({}a{}))", "(".repeat(10_000), ")".repeat(10_000)),
        "CREATE TABLE t (a int) /*!".to_string(),
        "CREATE TABLE `t".to_string(),
        "CREATE TABLE t (a enum('x".to_string(),
        "CREATE TABLE t (a int, KEY k (a(99999999999999999999999)))".to_string(),
        "CREATE TABLE t (a bit DEFAULT b'1111111111111111111111111111111111111111111111111111111111111111111')"
            .to_string(),
        "CREATE TABLE t (a int DEFAULT 0xFFFFFFFFFFFFFFFFFFFFFFFF)".to_string(),
        "CREATE TABLE t (a decimal(99999999999999999999, 2))".to_string(),
        "CREATE TABLE t (a varchar(3) DEFAULT 'a\u{0}b')".to_string(),
        "CREATE TABLE t (\u{0} int)".to_string(),
        "CREATE\r\nTABLE\tt\r\n(a\r\nint)".to_string(),
        "*/ CREATE TABLE t (a int) /*!50100 */ */".to_string(),
    ];
    for sql in &cases {
        let _ = parse_create_table(sql);
        let _ = mysql_table_ddl(sql, "t", true);
        if let Ok(s) = sqlite_table_ddl(sql, "t") {
            let conn = Connection::open_in_memory().unwrap();
            let _ = conn.execute_batch(&s.create);
        }
        let _ = mysql_view_ddl(sql, "v");
        let _ = sqlite_view_ddl(sql, "v");
    }
    // A NUL in a default reaches SQLite as a blob cast, not as a cut-off string.
    let s = sqlite_table_ddl("CREATE TABLE t (a varchar(3) DEFAULT 'a\u{0}b')", "t").unwrap();
    assert!(s.create.contains("DEFAULT (CAST(X'610062' AS TEXT))"), "{}", s.create);
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&s.create).unwrap();
}
