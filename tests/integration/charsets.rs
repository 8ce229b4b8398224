//! Dumps in GBK and latin1 (`[mydumper] character-set`, `data-character-set`): every row lands
//! as the text the dump means (count and checksum over every row against the rows written),
//! hoist's own content check matches, a `kill -9` mid-file resumes at the right byte, and a
//! byte that is not valid in the character set stops its table naming the file and the byte.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hoist_testkit::dump::{ColType, ColumnSpec, Rng};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum, sum_rows, TableSum};

use crate::util::{assert_refused, follow, import, sqlite_url};

type Row = Vec<Option<String>>;

/// Chinese characters whose second GBK byte is one a byte scanner would take for syntax:
/// `\` (an escape), `` ` `` (an identifier's quote), `|`, `@`.
fn tricky_chars() -> Vec<char> {
    let chars: Vec<char> = (0x4E00u32..0x9FA6)
        .filter_map(char::from_u32)
        .filter(|c| {
            let text = c.to_string();
            let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
            !bad && bytes.len() == 2 && matches!(bytes[1], b'\\' | b'`' | b'|' | b'@')
        })
        .collect();
    assert!(chars.len() > 20, "GBK has such characters");
    chars
}

/// `n` rows of (id, Chinese text with quotes, backslashes, commas and semicolons, pinyin).
fn gbk_rows(table: &str, n: usize) -> Vec<Row> {
    let tricky = tricky_chars();
    let mut pool: Vec<String> = tricky.iter().map(|c| c.to_string()).collect();
    pool.extend(["注", "释", "主", "键", "中文", "'", "\\", "\"", ",", ";", " ", "(", ")", "a", "€"].map(String::from));
    let mut rng = Rng::for_table(7, table);
    (1..=n)
        .map(|id| {
            let len = rng.below(40) as usize;
            let text: String = (0..len).map(|_| pool[rng.below(pool.len() as u64) as usize].as_str()).collect();
            let pinyin: String = (0..rng.below(12)).map(|_| rng.pick(&["à", "é", "ü", "o", " "])).collect();
            let text = if rng.percent(5) { None } else { Some(text) };
            vec![Some(id.to_string()), text, Some(pinyin)]
        })
        .collect()
}

fn sum(rows: &[Row]) -> TableSum {
    sum_rows(rows.iter().map(|r| r.iter().map(|v| v.as_ref().map(|s| s.clone().into_bytes())).collect()))
}

fn columns(names: &[&str]) -> Vec<ColumnSpec> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| ColumnSpec { name: n.to_string(), ty: if i == 0 { ColType::Int } else { ColType::Text } })
        .collect()
}

const GBK_COLUMNS: [&str; 3] = ["编号", "内容", "拼音"];

fn sql_literal(v: &Option<String>) -> String {
    match v {
        None => "NULL".into(),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => s.clone(),
        Some(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
    }
}

fn csv_field(v: &Option<String>) -> String {
    match v {
        None => "\\N".into(),
        Some(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\"\"")),
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad, "the test writes only what GBK holds");
    bytes.into_owned()
}

/// A GBK dump of database `db` in `dir`: schema files (Chinese names and comments) and data
/// of `sql_rows` (SQL, INSERTs of 40 rows) and `csv_rows` (CSV with a header).
fn write_gbk_dump(dir: &Path, db: &str, sql_rows: &[Row], csv_rows: &[Row]) -> PathBuf {
    let src = dump_dir(dir, db);
    for table in ["gbk_sql", "gbk_csv"] {
        let schema = format!(
            "CREATE TABLE `{table}` (`编号` int NOT NULL PRIMARY KEY, `内容` varchar(300) COMMENT '中文内容', \
             `拼音` varchar(30) CHARACTER SET latin1) DEFAULT CHARSET=utf8mb4 COMMENT '表';\n"
        );
        std::fs::write(src.join(format!("{db}.{table}-schema.sql")), gbk(&schema)).unwrap();
    }
    let mut sql = String::from("/*!40101 SET NAMES binary*/;\n");
    for rows in sql_rows.chunks(40) {
        let tuples: Vec<String> =
            rows.iter().map(|r| format!("({})", r.iter().map(sql_literal).collect::<Vec<_>>().join(","))).collect();
        sql.push_str(&format!("INSERT INTO `gbk_sql` VALUES {};\n", tuples.join(",\n")));
    }
    std::fs::write(src.join(format!("{db}.gbk_sql.000000000.sql")), gbk(&sql)).unwrap();
    let mut csv = String::from("\"编号\",\"内容\",\"拼音\"\n");
    for r in csv_rows {
        csv.push_str(&format!("{}\n", r.iter().map(csv_field).collect::<Vec<_>>().join(",")));
    }
    std::fs::write(src.join(format!("{db}.gbk_csv.000000000.csv")), gbk(&csv)).unwrap();
    src
}

/// Database `db` (and its meta schema) gone from the shared server.
fn fresh(server: &MariaDb, db: &str) {
    server.exec(&format!("DROP DATABASE IF EXISTS {db}; DROP DATABASE IF EXISTS {db}_meta"));
}

/// A GBK dump of `n` rows per table in a fresh temp dir, with its config.
struct GbkCase {
    dir: tempfile::TempDir,
    src: PathBuf,
    config: PathBuf,
    sql_rows: Vec<Row>,
    csv_rows: Vec<Row>,
}

fn gbk_case(db: &str, n: usize) -> GbkCase {
    let dir = tempfile::tempdir().unwrap();
    let (sql_rows, csv_rows) = (gbk_rows(&format!("{db}.sql"), n), gbk_rows(&format!("{db}.csv"), n));
    let src = write_gbk_dump(dir.path(), db, &sql_rows, &csv_rows);
    let config = gbk_config(dir.path());
    GbkCase { dir, src, config, sql_rows, csv_rows }
}

impl GbkCase {
    /// The summary of the run that finished says hoist's check matched, and both tables hold
    /// exactly the rows written.
    #[track_caller]
    fn assert_loaded(&self, server: &MariaDb, db: &str, finished: &crate::util::Run) {
        finished.assert_ok();
        assert_checked(&finished.text(), &[&format!("`{db}`.`gbk_sql`"), &format!("`{db}`.`gbk_csv`")]);
        let cols = columns(&GBK_COLUMNS);
        for (table, rows) in [("gbk_sql", &self.sql_rows), ("gbk_csv", &self.csv_rows)] {
            assert_eq!(mysql_table_sum(&server.client_url(), db, table, &cols), sum(rows), "{table}");
        }
    }
}

fn gbk_config(dir: &Path) -> PathBuf {
    let path = dir.join("gbk.toml");
    let text = "[mydumper]\ncharacter-set = \"gbk\"\ndata-character-set = \"gbk\"\nstrict-format = true\n";
    std::fs::write(&path, text).unwrap();
    path
}

/// Small regions and batches, so that files are split and batches end inside statements.
const SMALL: [&str; 4] = ["--max-region-size", "8KiB", "--batch-size", "2KiB"];

#[track_caller]
fn assert_checked(text: &str, tables: &[&str]) {
    for t in tables {
        // The summary's line: the last that starts with the table's name.
        let line = text.lines().rev().find(|l| l.starts_with(t)).unwrap_or_else(|| panic!("no line for {t}:\n{text}"));
        assert!(line.ends_with("ok, checksum matches"), "hoist's content check ran and matched for {t}:\n{text}");
    }
}

#[test]
fn a_gbk_dump_loads_as_its_text_in_several_chunks() {
    let server = MariaDb::shared();
    let db = "cs_gbk";
    fresh(server, db);
    let case = gbk_case(db, 1500);
    let meta = format!("{db}_meta");
    let mut args = vec!["--config", case.config.to_str().unwrap(), "--meta-schema", &meta];
    args.extend(SMALL);
    case.assert_loaded(server, db, &import(&case.src, &server.url(), case.dir.path(), &args));
    let comment = format!(
        "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME = 'gbk_sql'"
    );
    assert_eq!(server.query_value(&comment).unwrap(), "表", "the schema file's comment, decoded");
    // The SQL file was planned as several chunks, split on its decoded text.
    let size = std::fs::metadata(case.src.join(format!("{db}.gbk_sql.000000000.sql"))).unwrap().len();
    assert!(size > 4 * 8192, "{size}");
}

/// `kill -9` while batches of the GBK files commit (a failpoint holds each one 30 ms), at
/// several points, then the same command: every row once, and hoist's content check (over
/// chunk sums kept across the runs) matches.
#[test]
fn a_killed_gbk_import_resumes_at_the_right_byte() {
    let server = MariaDb::shared();
    let db = "cs_gbk_kill";
    fresh(server, db);
    let case = gbk_case(db, 1200);
    let cp = case.dir.path().join("checkpoint.db");
    let meta = format!("{db}_meta");
    let url = server.url();
    let args: Vec<&str> = vec![
        "import",
        "--source",
        case.src.to_str().unwrap(),
        "--target",
        &url,
        "--checkpoint",
        cp.to_str().unwrap(),
        "--config",
        case.config.to_str().unwrap(),
        "--meta-schema",
        &meta,
        "--progress",
        "quiet",
        "--region-concurrency",
        "2",
        "--max-region-size",
        "8KiB",
        "--batch-size",
        "600",
    ];
    let rows_in = || {
        let exists = format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' AND TABLE_NAME IN ('gbk_sql', 'gbk_csv')"
        );
        if server.query_value(&exists).as_deref() != Some("2") {
            return 0;
        }
        let count = format!("SELECT (SELECT COUNT(*) FROM {db}.gbk_sql) + (SELECT COUNT(*) FROM {db}.gbk_csv)");
        server.query_value(&count).unwrap().parse::<usize>().unwrap()
    };
    // Neither table is finished before the last run, so that its content check runs there.
    for threshold in [100, 400, 800] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
            .args(&args)
            .env("HOIST_FAILPOINTS", "import.batch-committed=30ms")
            .env("HOIST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while rows_in() < threshold && started.elapsed() < Duration::from_secs(120) {
            let exited = child.try_wait().unwrap();
            assert!(exited.is_none(), "the run must still be going to be killed at {threshold} rows: {exited:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let done = rows_in();
        assert!((threshold..1200).contains(&done), "killed mid-file after {threshold} rows: {done}");
    }
    case.assert_loaded(server, db, &crate::util::hoist(&args));
}

/// A dump dir for database `db` in `dir` holding its schema-create file.
fn dump_dir(dir: &Path, db: &str) -> PathBuf {
    let src = dir.join("dump");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(format!("{db}-schema-create.sql")), format!("CREATE DATABASE `{db}`;\n")).unwrap();
    src
}

/// latin1 is cp1252: a CSV of its bytes 0x80-0xFF into a latin1 and a utf8mb4 column.
#[test]
fn a_latin1_dump_loads_as_cp1252() {
    let server = MariaDb::shared();
    let db = "cs_latin1";
    fresh(server, db);
    let dir = tempfile::tempdir().unwrap();
    let src = dump_dir(dir.path(), db);
    std::fs::write(
        src.join(format!("{db}.t-schema.sql")),
        b"CREATE TABLE `t` (`id` int PRIMARY KEY, `l\xe9` varchar(40) CHARACTER SET latin1, `u` text) DEFAULT CHARSET=utf8mb4;\n",
    )
    .unwrap();
    let mut rng = Rng::for_table(3, "latin1");
    let mut rows = Vec::new();
    let mut data = b"id,l\xe9,u\n".to_vec();
    let cp1252 = |b: u8| encoding_rs::WINDOWS_1252.decode_without_bom_handling(&[b]).0.into_owned();
    for id in 1..=2000 {
        let bytes: Vec<u8> = (0..rng.below(30)).map(|_| 0x80 + rng.below(0x80) as u8).collect();
        let text: String = bytes.iter().map(|&b| cp1252(b)).collect();
        data.extend_from_slice(format!("{id},\"").as_bytes());
        data.extend_from_slice(&bytes);
        data.extend_from_slice(b"\",\"");
        data.extend_from_slice(&bytes);
        data.extend_from_slice(b"\"\n");
        rows.push(vec![Some(id.to_string()), Some(text.clone()), Some(text)]);
    }
    std::fs::write(src.join(format!("{db}.t.000000000.csv")), &data).unwrap();
    let meta = format!("{db}_meta");
    let args = ["--character-set", "latin1", "--data-character-set", "latin1", "--meta-schema", &meta];
    let run = import(&src, &server.url(), dir.path(), &args);
    run.assert_ok();
    assert_checked(&run.text(), &["`cs_latin1`.`t`"]);
    let cols = columns(&["id", "lé", "u"]);
    assert_eq!(mysql_table_sum(&server.client_url(), db, "t", &cols), sum(&rows));
}

/// A dump of one table whose SQL data file holds `data`, GBK-encoded but for `bad`, which is
/// inserted as it is after the text `before`.
fn dump_with_bad_bytes(dir: &Path, before: &str, bad: &[u8], after: &str) -> PathBuf {
    let src = dump_dir(dir, "csbad");
    std::fs::write(src.join("csbad.t-schema.sql"), "CREATE TABLE `t` (`id` int PRIMARY KEY, `v` text);\n").unwrap();
    let mut data = gbk(before);
    data.extend_from_slice(bad);
    data.extend(gbk(after));
    std::fs::write(src.join("csbad.t.000000000.sql"), data).unwrap();
    src
}

/// An invalid byte stops the table, naming file, line and byte (exit 1, nothing of the bad
/// statement loaded); after `error-destroy`, a rerun with a replacement loads it replaced.
#[test]
fn an_invalid_byte_is_an_error_naming_file_and_byte_until_a_replacement_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let before = "INSERT INTO `t` VALUES (1,'主键'),\n(2,'注释";
    let src = dump_with_bad_bytes(dir.path(), before, b"\xff", "'),(3,'x');\n");
    let db = dir.path().join("out.db");
    let target = sqlite_url(&db);
    let gbk_data = ["--data-character-set", "gbk"];
    let run = import(&src, &target, dir.path(), &gbk_data);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "a bad-input exit:\n{text}");
    let byte = gbk(before).len();
    let place = format!("csbad.t.000000000.sql:2 (byte {byte})");
    assert!(text.contains(&place), "the error names {place:?}:\n{text}");
    assert!(text.contains("the bytes FF at byte") && text.contains("not valid gbk"), "{text}");
    assert!(text.contains("data-invalid-char-replace"), "the message says what to set:\n{text}");

    // The character set is part of the job: another one is refused, naming it.
    let other = import(&src, &target, dir.path(), &["--data-character-set", "gb18030"]);
    assert_refused(&other, &[r#"charset.data: recorded "gbk", given "gb18030""#]);

    // The recorded error blocks the rerun until resolved, as for any bad input.
    let mut with_replacement = gbk_data.to_vec();
    with_replacement.extend(["--data-invalid-char-replace", "?"]);
    let again = import(&src, &target, dir.path(), &with_replacement);
    assert_eq!(again.code(), Some(2), "{}", again.text());
    follow(&again.text(), "hoist checkpoint error-destroy").assert_ok();
    import(&src, &target, dir.path(), &with_replacement).assert_ok();
    let cols = columns(&["id", "v"]);
    let expected = [["1", "主键"], ["2", "注释?"], ["3", "x"]];
    let expected: Vec<Row> = expected.iter().map(|r| r.iter().map(|v| Some(v.to_string())).collect()).collect();
    assert_eq!(sqlite_table_sum(&db, "t", &cols), sum(&expected));
}

/// A CSV file cut inside a GBK character: the cut byte is named.
#[test]
fn a_csv_cut_inside_a_character_names_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let src = dump_dir(dir.path(), "cscut");
    std::fs::write(src.join("cscut.t-schema.sql"), "CREATE TABLE `t` (`id` int PRIMARY KEY, `v` text);\n").unwrap();
    let mut data = gbk("id,v\n1,\"主键\"\n2,\"注");
    let at = data.len();
    data.push(0xca); // the first byte of 释, and then the file ends
    std::fs::write(src.join("cscut.t.000000000.csv"), data).unwrap();
    let db = dir.path().join("out.db");
    let run = import(&src, &sqlite_url(&db), dir.path(), &["--data-character-set", "gb18030"]);
    let text = run.text();
    assert_eq!(run.code(), Some(1), "{text}");
    let place = format!("cscut.t.000000000.csv:3 (byte {at})");
    assert!(text.contains(&place) && text.contains("the bytes CA at byte"), "{place}:\n{text}");
}

/// `CONVERT('…' USING utf8mb4)` in a row (tidb-tools writes JSON so) is the string it holds:
/// passed through as written when rows go as INSERT, sent as its string by LOAD DATA, and
/// hashed as that string, so hoist's content check matches either way.
#[test]
fn convert_using_utf8mb4_is_its_string() {
    let server = MariaDb::shared();
    for mode in ["insert", "load-data"] {
        let db = format!("cs_convert_{}", mode.replace('-', "_"));
        fresh(server, &db);
        let dir = tempfile::tempdir().unwrap();
        let src = dump_dir(dir.path(), &db);
        std::fs::write(
            src.join(format!("{db}.t-schema.sql")),
            "CREATE TABLE `t` (`id` int PRIMARY KEY, `js` json, `s` varchar(20)) DEFAULT CHARSET=utf8mb4;\n",
        )
        .unwrap();
        let data = r#"INSERT INTO `t` VALUES (1, CONVERT("{\"52\": 1, \"é\": [1]}" USING UTF8MB4), convert( _utf8mb4'a)''b' using utf8 )),
(2, '[1, 2]', CONVERT(N'主键' USING utf8mb3));
"#;
        std::fs::write(src.join(format!("{db}.t.000000000.sql")), data).unwrap();
        let meta = format!("{db}_meta");
        let run = import(&src, &server.url(), dir.path(), &["--write-mode", mode, "--meta-schema", &meta]);
        run.assert_ok();
        assert_checked(&run.text(), &[&format!("`{db}`.`t`")]);
        let rows =
            [[Some("1"), Some(r#"{"52": 1, "é": [1]}"#), Some("a)'b")], [Some("2"), Some("[1, 2]"), Some("主键")]];
        let rows: Vec<Row> = rows.iter().map(|r| r.iter().map(|v| v.map(String::from)).collect()).collect();
        assert_eq!(mysql_table_sum(&server.client_url(), &db, "t", &columns(&["id", "js", "s"])), sum(&rows), "{mode}");
    }
}

/// A single mysqldump file is scanned on its bytes, which GBK's trail bytes would mislead: its
/// GBK is refused before anything is written.
#[test]
fn a_single_mysqldump_file_in_gbk_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.sql");
    std::fs::write(&file, gbk("USE `shop`;\nCREATE TABLE `t` (`v` text);\nINSERT INTO `t` VALUES ('主键');\n"))
        .unwrap();
    let db = dir.path().join("out.db");
    let run = import(&file, &sqlite_url(&db), dir.path(), &["--data-character-set", "gbk"]);
    assert_refused(&run, &["character set gbk is not supported yet for a single mysqldump file"]);
    assert!(!db.exists(), "nothing was written");
}
