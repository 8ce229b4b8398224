//! `[[routes]]`: sharded databases (`shard_0` ... `shard_2`, generated dumps with distinct keys
//! and other rows each) merged into one database, each table into one target table; every
//! target table must equal the union of its shards (count and a checksum over every row), in
//! MariaDB and in SQLite. A `kill -9` round during a merged import resumes each shard's chunks
//! exactly; a changed route and shards of other shapes are refused.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use hoist_testkit::dump::{write_dump, Dataset, DumpSpec};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum, TableSum};

use crate::crash::{kill_after_markers, kills_wanted, seed, sqlite_markers, Rng};
use crate::util::{assert_refused, import, sqlite_url};

const SHARDS: usize = 3;

/// Every `shard_*` table into `merged`, under its own name.
const MERGE: &str = "[[routes]]\nschema-pattern = \"shard_*\"\ntarget-schema = \"merged\"\n";

/// `SHARDS` dumps in `dir/dump`, each its own seed and keys; `numbers` repeats its UNIQUE
/// extremes in every shard, so it is left out by the filter (which sees the shards' names).
fn shards(dir: &Path, rows: usize, statement_bytes: usize) -> (PathBuf, Vec<Dataset>) {
    let src = dir.join("dump");
    let data = (0..SHARDS)
        .map(|k| {
            let spec = DumpSpec {
                rows,
                statement_bytes,
                seed: k as u64 + 1,
                key_base: k as i64 * 1_000_000,
                ..DumpSpec::new(&format!("shard_{k}"))
            };
            write_dump(&spec, &src)
        })
        .collect();
    (src, data)
}

const FILTER: [&str; 2] = ["--tables", "!shard_*.numbers"];

/// The merged tables' expected sums: per table, the shards' rows together.
fn union(data: &[Dataset]) -> Vec<(String, Vec<hoist_testkit::dump::ColumnSpec>, TableSum)> {
    data[0]
        .tables
        .iter()
        .filter(|t| t.name != "numbers")
        .map(|t| {
            let sum = data.iter().map(|d| d.table(&t.name).sum()).fold(TableSum::default(), |a, b| TableSum {
                count: a.count + b.count,
                checksum: a.checksum.wrapping_add(b.checksum),
            });
            (t.name.clone(), t.columns.clone(), sum)
        })
        .collect()
}

/// A dump in `dir/dump` of these files.
fn small_dump(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let src = dir.join("dump");
    std::fs::create_dir_all(&src).unwrap();
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    src
}

fn config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("routes.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn shards_merge_into_one_table_each_in_mariadb() {
    let server = MariaDb::shared();
    server.exec("DROP DATABASE IF EXISTS merged");
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = shards(dir.path(), 1500, 4096);
    let cfg = config(dir.path(), MERGE);
    let mut args = vec!["--config", cfg.to_str().unwrap(), "--meta-schema", "routes_meta", "--defer-indexes-from", "0"];
    args.extend(FILTER);
    let run = import(&src, &server.url(), dir.path(), &args);
    run.assert_ok();
    for (name, columns, want) in union(&data) {
        assert_eq!(mysql_table_sum(&server.url(), "merged", &name, &columns), want, "merged.{name}");
    }
    let shard_dbs =
        server.query_value("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'shard\\_%'");
    assert_eq!(shard_dbs.as_deref(), Some("0"), "no shard database is created: all their tables were routed");
    assert_eq!(
        server.query_value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'merged'").as_deref(),
        Some("4"),
        "one table per source table name, numbers filtered out"
    );
    // The deferred index of the merged table is added once, after every shard's rows.
    let idx = server.query_value(
        "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'merged' \
         AND TABLE_NAME = 'orders' AND INDEX_NAME = 'idx_customer_created'",
    );
    assert_eq!(idx.as_deref(), Some("2"));
    // Verified once per merged table: the server's sum against the sum of every shard's chunks.
    let text = run.text();
    for name in ["blobs", "events", "orders", "texts"] {
        let line =
            text.lines().find(|l| l.starts_with(&format!("`merged`.`{name}`"))).unwrap_or_else(|| panic!("{text}"));
        assert!(line.ends_with("ok, checksum matches"), "{line}\n{text}");
    }
}

#[test]
fn shards_merge_into_one_table_each_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = shards(dir.path(), 1500, 4096);
    let cfg = config(dir.path(), MERGE);
    let db = dir.path().join("out.db");
    let mut args = vec!["--config", cfg.to_str().unwrap()];
    args.extend(FILTER);
    import(&src, &sqlite_url(&db), dir.path(), &args).assert_ok();
    for (name, columns, want) in union(&data) {
        assert_eq!(sqlite_table_sum(&db, &name, &columns), want, "merged.{name}");
    }
}

/// A merged import, killed (`kill -9`) at seeded moments once a few more chunks are in, then
/// run to its end.
struct Killable<'a> {
    src: PathBuf,
    cfg: PathBuf,
    /// A MariaDB target (its markers in `routes_kill_meta`), else the SQLite file `db`.
    server: Option<&'a MariaDb>,
    db: PathBuf,
    cp: PathBuf,
    log: PathBuf,
}

const KILL_META: &str = "routes_kill_meta";

impl<'a> Killable<'a> {
    fn new(dir: &Path, src: PathBuf, routes: &str, server: Option<&'a MariaDb>) -> Killable<'a> {
        Killable {
            src,
            cfg: config(dir, routes),
            server,
            db: dir.join("out.db"),
            cp: dir.join("cp.db"),
            log: dir.join("hoist.log"),
        }
    }

    fn target(&self) -> String {
        self.server.map_or_else(|| sqlite_url(&self.db), |s| s.url())
    }

    fn sum(&self, table: &str, columns: &[hoist_testkit::dump::ColumnSpec]) -> TableSum {
        match self.server {
            Some(s) => mysql_table_sum(&s.url(), "merged", table, columns),
            None => sqlite_table_sum(&self.db, table, columns),
        }
    }

    fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "import",
            "--source",
            self.src.to_str().unwrap(),
            "--target",
            &self.target(),
            "--checkpoint",
            self.cp.to_str().unwrap(),
            "--config",
            self.cfg.to_str().unwrap(),
            "--max-region-size",
            "64KiB",
            "--batch-size",
            "16KiB",
            "--progress",
            "log",
            "--meta-schema",
            KILL_META,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(FILTER.iter().map(|s| s.to_string()));
        args
    }

    fn spawn(&self) -> Child {
        let log = std::fs::File::create(&self.log).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
            .args(self.args())
            .env("HOIST_LOG", "info")
            .env("HOIST_FAILPOINTS", "import.batch-committed=30ms")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn hoist")
    }

    /// Chunks with a marker in the target (a done chunk keeps its marker until the end).
    fn markers(&self) -> u64 {
        let Some(s) = self.server else { return sqlite_markers(&self.db) };
        let sql = format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{KILL_META}' \
             AND TABLE_NAME = 'hoist_progress'"
        );
        if s.query_value(&sql).as_deref() != Some("1") {
            return 0;
        }
        let n = s.query_value(&format!("SELECT COUNT(*) FROM {KILL_META}.hoist_progress"));
        n.and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    fn kill_after(&self, n: u64, extra: Duration) -> bool {
        kill_after_markers(self.spawn(), || self.markers(), n, extra)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn run(&self, extra_config: Option<&str>) -> crate::util::Run {
        let mut args = self.args();
        if let Some(text) = extra_config {
            let other = self.cfg.with_file_name("other.toml");
            std::fs::write(&other, text).unwrap();
            let at = args.iter().position(|a| a == "--config").unwrap() + 1;
            args[at] = other.display().to_string();
        }
        crate::util::hoist(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

fn kill_rounds(test: &str, server: Option<&MariaDb>) {
    let mut rng = Rng::new(seed(test));
    let wanted = kills_wanted(4);
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = shards(dir.path(), 3000, 2048);
    // Table-level rules too: `events` of every shard into one table of another name.
    let routes = format!(
        "{MERGE}[[routes]]\nschema-pattern = \"shard_*\"\ntable-pattern = \"ev*\"\ntarget-schema = \"merged\"\n\
         target-table = \"all_events\"\n"
    );
    let k = Killable::new(dir.path(), src, &routes, server);
    for round in 0..wanted {
        let n = k.markers() + 1 + rng.below(4);
        let extra = rng.between(Duration::ZERO, Duration::from_millis(150));
        assert!(
            k.kill_after(n, extra),
            "{test}: round {round}: the run ended before the kill after {n} markers:\n{}",
            k.log()
        );
        eprintln!("{test}: round {round}: killed after {n} markers + {} ms", extra.as_millis());
    }
    // The checkpoint shows each merged table's sources, each with its own chunks.
    let show =
        crate::util::hoist(&["checkpoint", "show", "--checkpoint", k.cp.to_str().unwrap(), "--target", &k.target()]);
    show.assert_ok();
    for shard in 0..SHARDS {
        for table in ["blobs", "events", "orders", "texts"] {
            let line = format!("  <- `shard_{shard}`.`{table}`");
            assert!(show.text().contains(&line), "{line}:\n{}", show.text());
        }
    }
    let out = k.run(None);
    out.assert_ok();
    for (name, columns, want) in union(&data) {
        let name = if name == "events" { "all_events".to_string() } else { name };
        assert_eq!(k.sum(&name, &columns), want, "{test}: merged.{name} after {wanted} kills");
    }
    assert_eq!(k.markers(), 0, "no marker is left after success");
}

#[test]
fn kill9_during_a_merged_import_into_sqlite_then_the_rerun_is_exact() {
    kill_rounds("kill9_during_a_merged_import_into_sqlite_then_the_rerun_is_exact", None);
}

/// On a server of its own: a killed run's sessions may still be finishing there.
#[test]
fn kill9_during_a_merged_import_into_mariadb_then_the_rerun_is_exact() {
    let test = "kill9_during_a_merged_import_into_mariadb_then_the_rerun_is_exact";
    let server = crate::crash::private_server(test);
    kill_rounds(test, Some(&server));
}

#[test]
fn a_changed_route_is_refused_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (src, data) = shards(dir.path(), 3000, 2048);
    let k = Killable::new(dir.path(), src, MERGE, None);
    assert!(k.kill_after(2, Duration::ZERO), "the run ended before the kill:\n{}", k.log());
    let changed = MERGE.replace("\"merged\"", "\"elsewhere\"");
    let out = k.run(Some(&changed));
    assert_refused(
        &out,
        &["routes.rules[0].target-schema: recorded \"merged\", given \"elsewhere\"", "hoist checkpoint remove all"],
    );
    // With the recorded routes, the same command resumes and loads every shard once.
    k.run(None).assert_ok();
    for (name, columns, want) in union(&data) {
        assert_eq!(k.sum(&name, &columns), want, "merged.{name}");
    }
}

#[test]
fn shards_of_other_columns_are_refused_before_anything_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_dump(
        dir.path(),
        &[
            ("s1.t-schema.sql", "CREATE TABLE t (id int PRIMARY KEY, v varchar(10));\n"),
            ("s1.t.sql", "INSERT INTO t VALUES (1,'a');\n"),
            ("s2.t-schema.sql", "CREATE TABLE t (id int PRIMARY KEY, v int);\n"),
            ("s2.t.sql", "INSERT INTO t VALUES (2,3);\n"),
        ],
    );
    let cfg = config(dir.path(), "[[routes]]\nschema-pattern = \"s?\"\ntarget-schema = \"m\"\n");
    let db = dir.path().join("out.db");
    let out = import(&src, &sqlite_url(&db), dir.path(), &["--config", cfg.to_str().unwrap()]);
    let text = out.text();
    assert!(!out.ok(), "{text}");
    assert!(
        text.contains("merge `s1`.`t` and `s2`.`t` into `m`.`t`, but their columns differ: column 2 is `v` varchar(10) in s1.t-schema.sql and `v` int in s2.t-schema.sql"),
        "{text}"
    );
    let tables: i64 = rusqlite::Connection::open(&db)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM sqlite_schema WHERE name = 't'", [], |r| r.get(0)))
        .unwrap_or(0);
    assert_eq!(tables, 0, "nothing was created");
    assert!(!dir.path().join("checkpoint.db").exists(), "no empty checkpoint is left behind");
}

/// The advice to leave a non-empty target table out names its sources: the filter sees those.
#[test]
fn a_full_merged_table_is_left_out_by_its_sources_names() {
    let dir = tempfile::tempdir().unwrap();
    let src = small_dump(
        dir.path(),
        &[
            ("s1.t-schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"),
            ("s1.t.sql", "INSERT INTO t VALUES (1);\n"),
            ("s2.t-schema.sql", "CREATE TABLE t (id int PRIMARY KEY);\n"),
            ("s2.t.sql", "INSERT INTO t VALUES (2);\n"),
            ("s2.other-schema.sql", "CREATE TABLE other (id int PRIMARY KEY);\n"),
            ("s2.other.sql", "INSERT INTO other VALUES (3);\n"),
        ],
    );
    let cfg = config(dir.path(), "[[routes]]\nschema-pattern = \"s?\"\ntable-pattern = \"t\"\ntarget-schema = \"m\"\n");
    let db = dir.path().join("out.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (9);").unwrap();
    drop(c);
    let out = import(&src, &sqlite_url(&db), dir.path(), &["--config", cfg.to_str().unwrap()]);
    assert_refused(&out, &["`m`.`t` (1 rows)", "--tables '!`s1`.`t`' --tables '!`s2`.`t`'"]);
    let out = import(
        &src,
        &sqlite_url(&db),
        dir.path(),
        &["--config", cfg.to_str().unwrap(), "--tables", "!`s1`.`t`", "--tables", "!`s2`.`t`"],
    );
    out.assert_ok();
    let c = rusqlite::Connection::open(&db).unwrap();
    let rows: Vec<(String, i64)> = ["t", "other"]
        .iter()
        .map(|t| (t.to_string(), c.query_row(&format!("SELECT sum(id) FROM {t}"), [], |r| r.get(0)).unwrap()))
        .collect();
    assert_eq!(rows, [("t".to_string(), 9), ("other".to_string(), 3)], "the full table is untouched, the rest loaded");
}

/// A single mysqldump file's databases route like a directory's.
#[test]
fn the_databases_of_one_mysqldump_file_merge_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.sql");
    let mut text = String::from("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n");
    for (db, rows) in [("s1", "(1),(2)"), ("s2", "(3),(4),(5)")] {
        text.push_str(&format!(
            "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{db}`;\nUSE `{db}`;\n\
             CREATE TABLE `t` (`id` int NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;\n\
             INSERT INTO `t` VALUES {rows};\n"
        ));
    }
    text.push_str("-- Dump completed on 2026-12-02 10:00:00\n");
    std::fs::write(&file, text).unwrap();
    let cfg = config(dir.path(), "[[routes]]\nschema-pattern = \"s?\"\ntarget-schema = \"m\"\n");
    let db = dir.path().join("out.db");
    import(&file, &sqlite_url(&db), dir.path(), &["--config", cfg.to_str().unwrap()]).assert_ok();
    let c = rusqlite::Connection::open(&db).unwrap();
    let got: (i64, i64) = c.query_row("SELECT count(*), sum(id) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(got, (5, 15));
}

#[test]
fn a_restore_refuses_routes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), MERGE);
    let out = crate::util::hoist(&[
        "restore",
        "full",
        "--storage",
        dir.path().join("backup").to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--target",
        &sqlite_url(&dir.path().join("out.db")),
    ]);
    assert!(!out.ok());
    assert!(out.text().contains("[[routes]] apply to hoist import only"), "{}", out.text());
}

/// A schema-level route renames a database with its views and triggers; the triggers of a
/// merged table are left out, with a note naming them.
#[test]
fn a_renamed_database_keeps_its_views_and_triggers_and_merged_tables_lose_theirs() {
    let server = MariaDb::shared();
    server.exec("DROP DATABASE IF EXISTS rt_copy");
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("rt_src-schema-create.sql", "CREATE DATABASE `rt_src`;\n"),
        ("rt_src.t-schema.sql", "CREATE TABLE t (id int PRIMARY KEY, n int);\n"),
        ("rt_src.t.sql", "INSERT INTO t VALUES (1,10),(2,20);\n"),
        ("rt_src.t-schema-triggers.sql", "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 0;\n"),
        ("rt_src.v-schema-view.sql", "CREATE VIEW v AS SELECT id FROM t;\n"),
        ("rt_s1.u-schema.sql", "CREATE TABLE u (id int PRIMARY KEY);\n"),
        ("rt_s1.u.sql", "INSERT INTO u VALUES (1);\n"),
        ("rt_s1.u-schema-triggers.sql", "CREATE TRIGGER u_bi BEFORE INSERT ON u FOR EACH ROW SET NEW.id = 0;\n"),
        ("rt_s2.u-schema.sql", "CREATE TABLE u (id int PRIMARY KEY);\n"),
        ("rt_s2.u.sql", "INSERT INTO u VALUES (2);\n"),
    ];
    let src = small_dump(dir.path(), &files);
    let cfg = config(
        dir.path(),
        "[[routes]]\nschema-pattern = \"rt_src\"\ntarget-schema = \"rt_copy\"\n\
         [[routes]]\nschema-pattern = \"rt_s?\"\ntable-pattern = \"u\"\ntarget-schema = \"rt_copy\"\n",
    );
    let out = import(&src, &server.url(), dir.path(), &["--config", cfg.to_str().unwrap(), "--meta-schema", "rt_meta"]);
    out.assert_ok();
    let q = |sql: &str| server.query_value(sql).unwrap_or_default();
    assert_eq!(q("SELECT SUM(n) FROM rt_copy.t"), "30", "rows loaded before the trigger was created");
    assert_eq!(q("SELECT COUNT(*) FROM rt_copy.v"), "2", "the view moved with its database");
    assert_eq!(q("SELECT GROUP_CONCAT(id ORDER BY id) FROM rt_copy.u"), "1,2");
    let triggers =
        q("SELECT GROUP_CONCAT(TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'rt_copy'");
    assert_eq!(triggers, "t_bi", "the renamed database's trigger is there, the merged table's is not");
    let text = out.text();
    assert!(text.contains("the triggers of `rt_s1`.`u` (rt_s1.u-schema-triggers.sql) were not created"), "{text}");
    assert_eq!(
        q("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('rt_src', 'rt_s1', 'rt_s2')"),
        "0"
    );
}
