//! The content check after an import: hoist's hash of a source row must be the server's hash
//! of the stored row for every value a dump may hold, and a table changed behind hoist's back
//! must fail the check.

use std::borrow::Cow;

use hoist_core::content_hash::{SourceSession, TableHasher};
use hoist_core::row_checksum::row_text_sql;
use hoist_core::rows::Value;
use hoist_core::target::{ColumnDescription, TableDescription};
use hoist_testkit::dump::{Compression, Format, Rng};
use hoist_testkit::mariadb::MariaDb;

use crate::util::dump;

/// One source value: the SQL literal sent to the server and the value a reader hands on.
enum Source {
    Number(String),
    Text(String),
    Bytes(Vec<u8>),
    Bits(u64),
    Null,
}

impl Source {
    fn literal(&self) -> String {
        match self {
            Source::Number(n) => n.clone(),
            Source::Text(t) => format!("'{}'", t.replace('\\', "\\\\").replace('\'', "''")),
            Source::Bytes(b) => format!("X'{}'", b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
            Source::Bits(n) => format!("b'{n:b}'"),
            Source::Null => "NULL".into(),
        }
    }

    fn value(&self) -> Value<'_> {
        match self {
            Source::Number(n) => Value::Number(n.as_bytes()),
            Source::Text(t) => Value::Text(Cow::Borrowed(t.as_bytes())),
            Source::Bytes(b) => Value::Binary(Cow::Borrowed(b)),
            Source::Bits(n) => Value::UInt(*n),
            Source::Null => Value::Null,
        }
    }
}

const COLUMNS: &[(&str, &str)] = &[
    ("i", "int"),
    ("u", "bigint unsigned"),
    ("dec", "decimal(20,6)"),
    ("d", "double"),
    ("f", "float"),
    ("y", "year"),
    ("dt", "date"),
    ("dtm", "datetime(3)"),
    ("ts", "timestamp(6) NULL"),
    ("tm", "time(2)"),
    ("c", "char(8)"),
    ("vc", "varchar(20)"),
    ("l1", "varchar(10) CHARACTER SET latin1"),
    ("bin", "binary(6)"),
    ("vb", "varbinary(10)"),
    ("bl", "blob"),
    ("bt", "bit(13)"),
    ("e", "enum('a','Bc','dé')"),
    ("s", "set('x','y','z')"),
];

/// A random value of a column type, in one of the forms dumps and CSV files write it.
fn value_of(rng: &mut Rng, ty: &str) -> Source {
    if rng.percent(5) {
        return Source::Null;
    }
    let pad = |rng: &mut Rng, n: i64| if rng.percent(50) { format!("{n:02}") } else { n.to_string() };
    match ty {
        "int" => match rng.below(4) {
            0 => Source::Number(format!("{:+04}", rng.range(-99, 99))),
            1 => Source::Number(format!("{}.{}", rng.range(-1000, 1000), rng.below(10))),
            2 => Source::Text(rng.range(-2_000_000_000, 2_000_000_000).to_string()),
            _ => Source::Number(rng.range(i64::from(i32::MIN), i64::from(i32::MAX)).to_string()),
        },
        "bigint unsigned" => Source::Number(rng.next_u64().to_string()),
        "decimal(20,6)" => {
            let int = rng.range(-99_999_999_999_999, 99_999_999_999_999);
            let frac_digits = rng.below(10) as usize;
            let frac: String = (0..frac_digits).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
            let sign = if int == 0 && rng.percent(50) { "-" } else { "" };
            Source::Number(if frac.is_empty() { format!("{sign}{int}") } else { format!("{sign}{int}.{frac}") })
        }
        "double" => {
            let x = loop {
                let x = f64::from_bits(rng.next_u64());
                if x.is_finite() {
                    break x;
                }
            };
            // The shortest form (mydumper, hoist backup), 17 digits (mysqldump), or a short one.
            match rng.below(4) {
                0 => Source::Number(format!("{x:e}")),
                1 => Source::Number(format!("{x:.16e}")),
                2 => Source::Number(format!("{}", (x.fract() * 1e6).round() / 64.0)),
                _ => Source::Text(format!("{x:e}")),
            }
        }
        "float" => {
            let x = loop {
                let x = f32::from_bits(rng.next_u64() as u32);
                if x.is_finite() {
                    break x;
                }
            };
            Source::Number(format!("{x:e}"))
        }
        "year" => match rng.below(3) {
            0 => Source::Number(rng.range(0, 100).to_string()),
            1 => Source::Text(rng.range(0, 100).to_string()),
            _ => Source::Number(rng.range(1901, 2156).to_string()),
        },
        "date" => {
            let (y, m, d) = (rng.range(1000, 9999), rng.range(1, 13), rng.range(1, 29));
            Source::Text(format!("{y}-{}-{}", pad(rng, m), pad(rng, d)))
        }
        "datetime(3)" => {
            let (y, m, d) = (rng.range(1000, 9999), rng.range(1, 13), rng.range(1, 29));
            let (h, mi, s) = (rng.range(0, 24), rng.range(0, 60), rng.range(0, 60));
            let frac: String = (0..rng.below(4)).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
            let sep = if rng.percent(20) { "T" } else { " " };
            let frac = if frac.is_empty() { frac } else { format!(".{frac}") };
            Source::Text(format!(
                "{y}-{}-{}{sep}{}:{}:{}{frac}",
                pad(rng, m),
                pad(rng, d),
                pad(rng, h),
                pad(rng, mi),
                pad(rng, s)
            ))
        }
        "timestamp(6) NULL" => {
            let (y, m, d) = (rng.range(1971, 2037), rng.range(1, 13), rng.range(1, 29));
            let (h, mi, s) = (rng.range(0, 24), rng.range(0, 60), rng.range(0, 60));
            Source::Text(format!("{y}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{}", rng.below(1_000_000)))
        }
        "time(2)" => {
            let sign = if rng.percent(30) { "-" } else { "" };
            let (h, mi, s) = (rng.range(0, 839), rng.range(0, 60), rng.range(0, 60));
            Source::Text(format!("{sign}{}:{}:{}.{}", pad(rng, h), pad(rng, mi), pad(rng, s), rng.below(100)))
        }
        // A number into a string column: stored as the server prints the literal.
        "varchar(20)" if rng.percent(20) => {
            let sign = rng.pick(&["", "-", "+"]);
            let frac = if rng.percent(50) { format!(".{}", rng.below(100)) } else { String::new() };
            Source::Number(format!("{sign}{:03}{frac}", rng.below(100_000)))
        }
        "char(8)" | "varchar(20)" => {
            let alphabet = ["a", "Z", " ", "é", "😀", "'", "\\", ",", ":", "N"];
            let n = rng.below(if ty == "char(8)" { 8 } else { 20 }) as usize;
            Source::Text((0..n).map(|_| rng.pick(&alphabet)).collect())
        }
        "varchar(10) CHARACTER SET latin1" => {
            let n = rng.below(10) as usize;
            Source::Text(
                (0..n).map(|_| rng.pick(&["a", "é", "ü", "ÿ", " ", "\u{a0}", "€", "‘", "”", "\u{81}"])).collect(),
            )
        }
        "binary(6)" | "varbinary(10)" | "blob" => {
            let n = rng.below(if ty == "blob" { 300 } else { 6 }) as usize;
            Source::Bytes((0..n).map(|_| rng.next_u64() as u8).collect())
        }
        "bit(13)" => Source::Bits(rng.below(1 << 13)),
        "enum('a','Bc','dé')" => match rng.below(3) {
            0 => Source::Number(rng.range(1, 4).to_string()),
            _ => Source::Text(rng.pick(&["a", "A", "bc", "BC", "Bc", "dé"]).to_string()),
        },
        "set('x','y','z')" => match rng.below(3) {
            0 => Source::Number(rng.below(8).to_string()),
            _ => {
                let parts: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(&["x", "Y", "z"])).collect();
                Source::Text(parts.join(","))
            }
        },
        other => panic!("no generator for {other}"),
    }
}

#[test]
fn every_source_value_hashes_as_the_server_hashes_the_stored_row() {
    let seed = std::env::var("HOIST_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("seed {seed} (HOIST_TEST_SEED={seed} repeats this run)");
    let mut rng = Rng::for_table(seed, "content");
    let server = MariaDb::shared();
    let columns: Vec<String> = COLUMNS.iter().map(|(n, t)| format!("`{n}` {t}")).collect();
    server.exec(&format!(
        "DROP DATABASE IF EXISTS content_hash; CREATE DATABASE content_hash; \
         CREATE TABLE content_hash.t (id INT PRIMARY KEY, {}) DEFAULT CHARSET=utf8mb4",
        columns.join(", ")
    ));
    // The dump's session: TIMESTAMP values are in +05:30 and move to UTC when stored.
    let session = SourceSession { charset: "utf8mb4".into(), utc_offset: Some(5 * 3600 + 1800) };
    let rows: Vec<Vec<Source>> =
        (0..3000).map(|_| COLUMNS.iter().map(|(_, ty)| value_of(&mut rng, ty)).collect()).collect();
    for (n, chunk) in rows.chunks(500).enumerate() {
        let tuples: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let values: Vec<String> = row.iter().map(Source::literal).collect();
                format!("({}, {})", n * 500 + i, values.join(", "))
            })
            .collect();
        server.exec(&format!(
            "SET NAMES utf8mb4; SET time_zone = '+05:30'; SET sql_mode = 'STRICT_ALL_TABLES'; \
             INSERT INTO content_hash.t VALUES {}",
            tuples.join(", ")
        ));
    }
    let described = server.query(
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = 'content_hash' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
    );
    let text = |v: &Option<Vec<u8>>| v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned());
    let table = TableDescription {
        columns: described
            .iter()
            .map(|r| ColumnDescription {
                name: text(&r[0]).unwrap(),
                data_type: text(&r[1]).unwrap(),
                column_type: text(&r[2]).unwrap(),
                unsigned: text(&r[2]).unwrap().contains("unsigned"),
                charset: text(&r[3]),
                generated: false,
            })
            .collect(),
        key: None,
    };
    let names: Vec<(String, String)> = table.columns.iter().map(|c| (c.name.clone(), c.data_type.clone())).collect();
    let printed = server
        .query(&format!("SET time_zone = '+00:00'; SELECT {} FROM content_hash.t ORDER BY id", row_text_sql(&names)));
    assert_eq!(printed.len(), rows.len());
    let hasher = TableHasher::new(&table, None);
    let map: Vec<usize> = (0..table.columns.len()).collect();
    let (mut compared, mut unpredictable) = (0, 0);
    for (i, (row, server_row)) in rows.iter().zip(&printed).enumerate() {
        let id = i.to_string();
        let mut values = vec![Value::Number(id.as_bytes())];
        values.extend(row.iter().map(Source::value));
        match hasher.row_text(&session, &map, &values) {
            Ok(ours) => {
                let theirs = server_row[0].clone().unwrap();
                if ours != theirs {
                    // Name the column: the parts are in column order.
                    let literals: Vec<String> = row.iter().map(Source::literal).collect();
                    panic!(
                        "row {i} (seed {seed}): hoist hashes\n  {}\nthe server\n  {}\nsource values: {}",
                        String::from_utf8_lossy(&ours),
                        String::from_utf8_lossy(&theirs),
                        literals.join(", ")
                    );
                }
                compared += 1;
            }
            Err(_) => unpredictable += 1,
        }
    }
    println!("{compared} rows compared, {unpredictable} not predictable");
    // Every form the generator writes is one the rules know: a row left out would hide a case.
    assert_eq!(unpredictable, 0, "{unpredictable} of {} rows could not be compared", rows.len());
}

#[test]
fn a_row_changed_during_the_import_fails_the_check_and_optional_warns() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = dump(dir.path(), "changed_rows", Format::Sql, Compression::None);
    let meta = "changed_rows_meta";
    // Each table pauses before its post steps: long enough to change a row of `orders`.
    let change = "UPDATE changed_rows.orders SET label = CONCAT(label, '!') ORDER BY id LIMIT 1";
    let run = |extra: &[&str]| {
        server.exec("DROP DATABASE IF EXISTS changed_rows");
        server.exec(&format!("DROP DATABASE IF EXISTS {meta}"));
        let mut args = vec!["--meta-schema", meta, "--no-checkpoint"];
        args.extend_from_slice(extra);
        let exe = env!("CARGO_BIN_EXE_hoist");
        let work = dir.path().to_path_buf();
        let src = src.clone();
        let url = server.url();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let child = std::thread::spawn(move || {
            std::process::Command::new(exe)
                .current_dir(&work)
                .env("HOIST_FAILPOINTS", "import.post-steps=1500ms")
                .args(["import", "--source", src.to_str().unwrap(), "--target", &url, "--progress", "log"])
                .args(&args)
                .output()
                .unwrap()
        });
        // The tables are small: every one is in its pause within a second.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while server.query_value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'changed_rows' AND TABLE_NAME = 'orders'").as_deref() != Some("1")
            || server.query_value("SELECT COUNT(*) FROM changed_rows.orders").as_deref() == Some("0")
        {
            assert!(std::time::Instant::now() < deadline, "the import never created changed_rows.orders");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(600));
        server.exec(change);
        let out = child.join().unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (code, text) = run(&[]);
    assert_ne!(code, Some(0), "a changed row must fail the check:\n{text}");
    assert!(text.contains("`changed_rows`.`orders`") && text.contains("verification failed"), "{text}");
    assert!(text.contains("checksum") && text.contains("some row differs"), "{text}");
    assert!(text.contains("`changed_rows`.`texts`") && text.contains("ok, checksum matches"), "{text}");

    let (code, text) = run(&["--checksum", "optional"]);
    assert_eq!(code, Some(0), "optional makes it a warning:\n{text}");
    assert!(text.contains("WARNING, differs from the source") && text.contains("`changed_rows`.`orders`"), "{text}");

    let (code, text) = run(&["--checksum", "off"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("checksum matches") && !text.contains("WARNING"), "{text}");
}

/// CSV rows carry no time zone: their TIMESTAMP values are read in the server's, and hashed in
/// it when it is a fixed one (here the system's UTC, or an offset), else counted only.
#[test]
fn csv_timestamps_are_hashed_in_the_servers_time_zone() {
    let server = MariaDb::shared();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("csv_tz-schema-create.sql"), "CREATE DATABASE `csv_tz`;\n").unwrap();
    std::fs::write(
        src.join("csv_tz.t-schema.sql"),
        "CREATE TABLE `t` (`id` int PRIMARY KEY, `ts` timestamp(3) NULL, `note` varchar(10));\n",
    )
    .unwrap();
    let rows: String =
        (0..200).map(|i| format!("{i},2021-03-{:02} 1{}:00:0{}.5,n{i}\n", i % 28 + 1, i % 10, i % 10)).collect();
    std::fs::write(src.join("csv_tz.t.0.csv"), format!("id,ts,note\n{rows}")).unwrap();
    server.exec("DROP DATABASE IF EXISTS csv_tz");
    let run = crate::util::import(&src, &server.url(), dir.path(), &["--meta-schema", "csv_tz_meta"]);
    run.assert_ok();
    let zone = server.query_value("SELECT IF(@@time_zone = 'SYSTEM', @@system_time_zone, @@time_zone)").unwrap();
    let text = run.text();
    if zone == "UTC" || zone.starts_with('+') || zone.starts_with('-') {
        assert!(text.contains("`csv_tz`.`t`") && text.contains("ok, checksum matches"), "zone {zone}:\n{text}");
    } else {
        assert!(text.contains("rows counted") && text.contains("time zone"), "zone {zone}:\n{text}");
    }
}

/// A table of 100,000 rows or more with an integer key is checked in key ranges side by side.
/// The ranges cover every row: a row changed on its way in at the lowest key, at the highest,
/// or on a range's edge fails the check (a BEFORE INSERT trigger of the table, made before the
/// import, changes it); without the trigger the check matches. The general log shows that the
/// check ran in ranges.
#[test]
fn a_large_tables_check_in_key_ranges_covers_every_row() {
    const ROWS: i64 = 120_000;
    let server = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("ranges-schema-create.sql"), "CREATE DATABASE `ranges`;\n").unwrap();
    let schema = "CREATE TABLE `t` (`id` BIGINT NOT NULL PRIMARY KEY, `v` VARCHAR(40));\n";
    std::fs::write(src.join("ranges.t-schema.sql"), schema).unwrap();
    let mut sql = String::new();
    for i in 1..=ROWS {
        sql.push_str(if i % 1000 == 1 { "INSERT INTO `t` VALUES " } else { "," });
        sql.push_str(&format!("({i},'row {i}')"));
        if i % 1000 == 0 || i == ROWS {
            sql.push_str(";\n");
        }
    }
    std::fs::write(src.join("ranges.t.00000.sql"), sql).unwrap();
    server.exec("SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1");
    // With 4 ranges of (ROWS - 1) / 4 keys from 1: the second one starts at 1 + 29,999.
    for changed in [None, Some(1), Some(ROWS), Some(1 + (ROWS - 1) / 4), Some((ROWS - 1) / 4)] {
        server.exec("DROP DATABASE IF EXISTS ranges; DROP DATABASE IF EXISTS hoist_meta; TRUNCATE mysql.general_log");
        if let Some(id) = changed {
            server.exec(&format!(
                "CREATE DATABASE ranges; CREATE TABLE ranges.t (`id` BIGINT NOT NULL PRIMARY KEY, `v` VARCHAR(40)); \
                 CREATE TRIGGER ranges.change BEFORE INSERT ON ranges.t FOR EACH ROW \
                 SET NEW.v = IF(NEW.id = {id}, 'changed', NEW.v)"
            ));
        }
        let work = tempfile::tempdir().unwrap();
        let run = crate::util::import(&src, &server.url(), work.path(), &["--region-concurrency", "4"]);
        let text = run.text();
        let ranged = server.query_value(
            "SELECT COUNT(*) FROM mysql.general_log WHERE argument LIKE '%SUM(CRC32(%FROM `ranges`.`t` WHERE `id`%' \
             AND argument NOT LIKE '%general_log%'",
        );
        let sums = server.query(
            "SELECT argument FROM mysql.general_log WHERE argument LIKE '%SUM(CRC32(%' AND argument NOT LIKE '%general_log%'",
        );
        let sums: Vec<String> =
            sums.iter().map(|r| String::from_utf8_lossy(r[0].as_deref().unwrap_or_default()).into()).collect();
        assert_eq!(ranged.as_deref(), Some("4"), "{changed:?}: the check ran in 4 key ranges:\n{text}\n{sums:#?}");
        match changed {
            None => {
                run.assert_ok();
                assert!(text.contains("ok, checksum matches"), "{text}");
            }
            Some(id) => {
                assert_ne!(run.code(), Some(0), "row {id} changed: the check must fail:\n{text}");
                assert!(text.contains("verification failed") && text.contains("some row differs"), "{id}: {text}");
            }
        }
    }
    server.exec("SET GLOBAL general_log = 0");
}
