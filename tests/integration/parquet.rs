//! Parquet data files written by an independent writer, pyarrow (`parquet_files.py`): every
//! mapped type with NULLs, several row groups, every codec hoist reads, a Parquet 1.0 file with
//! INT96 timestamps, wide decimals. The same script writes the rows as SQL for the `mariadb`
//! client (database `pq_ref`): each imported table must equal it, count and a checksum over
//! every row, in MariaDB and in SQLite, and hoist's own content check must have matched the
//! server's. Also: `kill -9` rounds inside row groups, corrupt and truncated files, and a dump
//! in S3.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use hoist_testkit::dump::{ColType, ColumnSpec};
use hoist_testkit::mariadb::MariaDb;
use hoist_testkit::rows::{mysql_table_sum, sqlite_table_sum, TableSum};

use crate::crash::{kills_wanted, maria_table_exists, seed, Proc, Rng};
use crate::util::{import, remove_at_exit, sqlite_url};

/// Rows of `pq.big` (30 row groups of 2,000).
const BIG_ROWS: usize = 60_000;

struct Files {
    dump: PathBuf,
    /// Per table, the reference rows' sum (from `pq_ref` on the shared server).
    sums: BTreeMap<&'static str, TableSum>,
}

fn columns(table: &str) -> Vec<ColumnSpec> {
    use ColType::*;
    let spec: &[(&str, ColType)] = match table {
        "types" => &[
            ("id", Int),
            ("b", Int),
            ("i8", Int),
            ("u16", Int),
            ("i64", Int),
            ("u64", Int),
            ("f", Double),
            ("d", Double),
            ("dec1", Decimal { scale: 2 }),
            ("dec2", Decimal { scale: 10 }),
            ("dt", Date),
            ("tm", Text),
            ("tu", Text),
            ("ts", DateTime),
            ("tsm", DateTime),
            ("tz", DateTime),
            ("tn", DateTime),
            ("s", Text),
            ("bin", Binary),
        ],
        "wide" => &[("id", Int), ("d38", Decimal { scale: 10 }), ("d60", Decimal { scale: 8 }), ("u64", Int)],
        "legacy" => &[("id", Int), ("ts", DateTime), ("u32", Int), ("dt", Date), ("s", Text)],
        "big" => &[("id", Int), ("a", Int), ("s", Text), ("d", Double)],
        _ => panic!("no table {table}"),
    };
    spec.iter().map(|(name, ty)| ColumnSpec { name: name.to_string(), ty: *ty }).collect()
}

const TABLES: [&str; 4] = ["types", "wide", "legacy", "big"];

/// pyarrow from PyPI (`.ci/run` installs it when missing).
fn write_files(dump: &Path, reference: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/parquet_files.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dump)
        .arg(reference)
        .arg(BIG_ROWS.to_string())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "parquet_files.py failed (pip install pyarrow):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files, made once per test process, and the reference loaded once into the shared server.
fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("hoist-parquet-").tempdir().unwrap().keep();
        remove_at_exit(dir.clone());
        let (dump, reference) = (dir.join("dump"), dir.join("reference.sql"));
        write_files(&dump, &reference);
        let server = MariaDb::shared();
        server.exec("DROP DATABASE IF EXISTS pq_ref");
        server.load_sql_file(&reference);
        let sums = TABLES.iter().map(|&t| (t, mysql_table_sum(&server.url(), "pq_ref", t, &columns(t)))).collect();
        Files { dump, sums }
    })
}

#[test]
fn every_mapped_type_into_mariadb_and_sqlite_equals_what_pyarrow_wrote() {
    let files = files();
    let server = MariaDb::shared();
    let work = tempfile::tempdir().unwrap();
    server.exec("DROP DATABASE IF EXISTS pq; DROP DATABASE IF EXISTS pq_meta");
    let run = import(
        &files.dump,
        &server.url(),
        work.path(),
        &["--meta-schema", "pq_meta", "--max-region-size", "256KiB", "--checksum", "required"],
    );
    run.assert_ok();
    let text = run.text();
    for t in TABLES {
        let sum = mysql_table_sum(&server.url(), "pq", t, &columns(t));
        assert!(sum.count > 0, "{t}: rows were written");
        assert_eq!(sum, files.sums[t], "MariaDB table {t}: {}", first_difference(server, t));
        let line = text.lines().find(|l| l.contains(&format!("`pq`.`{t}`")) && l.contains("checksum"));
        assert!(
            line.is_some_and(|l| l.contains("checksum matches")),
            "hoist's content sum of {t} is the server's:\n{text}"
        );
    }
    // SQLite keeps what it is given: every table but `wide` (its decimals and unsigned values
    // beyond 2^63 are more than SQLite's numbers hold).
    let db = work.path().join("pq.db");
    let sqlite_work = work.path().join("sqlite");
    std::fs::create_dir_all(&sqlite_work).unwrap();
    let run = import(&files.dump, &sqlite_url(&db), &sqlite_work, &["--tables", "pq.*", "--tables", "!pq.wide"]);
    run.assert_ok();
    for t in ["types", "legacy", "big"] {
        assert_eq!(sqlite_table_sum(&db, t, &columns(t)), files.sums[t], "SQLite table {t}");
    }
}

/// The first row of `pq`.`table` that is not as in `pq_ref`, for a failure's message.
fn first_difference(server: &MariaDb, table: &str) -> String {
    let rows = |db: &str| server.query(&format!("SELECT * FROM `{db}`.`{table}` ORDER BY 1"));
    let show = |row: &Vec<Option<Vec<u8>>>| -> Vec<String> {
        row.iter().map(|v| v.as_ref().map_or("NULL".into(), |v| String::from_utf8_lossy(v).into_owned())).collect()
    };
    let (got, want) = (rows("pq"), rows("pq_ref"));
    match got.iter().zip(&want).find(|(g, w)| g != w) {
        Some((g, w)) => format!("first difference:\n  got  {:?}\n  want {:?}", show(g), show(w)),
        None => format!("{} rows against {}", got.len(), want.len()),
    }
}

/// How many chunks the plan in a checkpoint has for each file.
fn chunks_per_file(checkpoint: &Path) -> Option<BTreeMap<String, i64>> {
    let c = rusqlite::Connection::open_with_flags(checkpoint, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let mut stmt = c.prepare("SELECT path, COUNT(*) FROM chunks GROUP BY path").ok()?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).ok()?;
    let map: BTreeMap<String, i64> = rows.filter_map(Result::ok).collect();
    (!map.is_empty()).then_some(map)
}

/// Chunks whose marker stops inside a row group (the groups of `pq.big` hold 2,000 rows each).
fn markers_inside_a_group(target: &MariaDb) -> usize {
    if !maria_table_exists(target, "hoist_meta", "hoist_progress") {
        return 0;
    }
    let rows = target.query("SELECT rows_loaded FROM hoist_meta.hoist_progress WHERE done = 0");
    let loaded = rows.iter().filter_map(|r| r[0].as_ref().and_then(|v| String::from_utf8_lossy(v).parse::<u64>().ok()));
    loaded.filter(|n| n % 2000 != 0).count()
}

/// `kill -9` at seeded moments of the import of `pq.big` (30 row groups, chunks of several
/// groups, small batches, so most kills land inside a row group): the run that succeeds leaves
/// the table equal to what was written (a row loaded twice or lost changes count or checksum).
#[test]
fn kill9_inside_row_groups_resumes_without_loading_a_row_twice() {
    let test = "parquet_kill9";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let files = files();
    let target = MariaDb::start();
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("checkpoint.db");
    let kills = kills_wanted(8);
    let args: Vec<String> = [
        "import",
        "--source",
        files.dump.to_str().unwrap(),
        "--target",
        &target.url(),
        "--checkpoint",
        cp.to_str().unwrap(),
        "--tables",
        "pq.big",
        "--max-region-size",
        "256KiB",
        "--batch-size",
        "8KiB",
        "--region-concurrency",
        "2",
    ]
    .map(String::from)
    .to_vec();
    let fresh = || {
        target.exec("DROP DATABASE IF EXISTS pq; DROP DATABASE IF EXISTS hoist_meta");
        let _ = std::fs::remove_file(&cp);
    };
    fresh();
    let mut p = Proc::spawn(&args, &dir.path().join("clean.log"));
    let status = p.wait_for(Duration::from_secs(300));
    assert!(status.is_some_and(|s| s.success()), "the clean run failed:\n{}", p.tail());
    // How long a whole run takes, for the kill delays: the shortest seen from a fresh start (a
    // loaded machine's first run is no good measure of the next).
    let mut whole = p.elapsed();
    assert_eq!(mysql_table_sum(&target.url(), "pq", "big", &columns("big")), files.sums["big"]);
    let (mut delivered, mut runs, mut plan, mut inside) = (0, 0, None, 0);
    while delivered < kills {
        fresh();
        let mut left = whole;
        let mut in_round = 0;
        loop {
            runs += 1;
            assert!(runs < kills * 6 + 10, "seed {seed}: only {delivered} of {kills} kills landed in {runs} runs");
            let mut p = Proc::spawn(&args, &dir.path().join(format!("run-{runs}.log")));
            let kill_at = (in_round < 3 && delivered < kills).then(|| rng.between(left / 10, left.mul_f64(0.9)));
            match (p.wait_for(kill_at.unwrap_or(Duration::from_secs(300))), kill_at) {
                (None, Some(delay)) => {
                    p.kill9();
                    delivered += 1;
                    in_round += 1;
                    plan = plan.or_else(|| chunks_per_file(&cp));
                    inside += markers_inside_a_group(&target);
                    left = left.saturating_sub(delay.mul_f64(0.7)).max(whole / 4);
                }
                (Some(s), _) if s.success() => {
                    if in_round == 0 {
                        whole = whole.min(p.elapsed());
                    }
                    break;
                }
                (other, _) => panic!("seed {seed}: run {runs} ended with {other:?}:\n{}", p.tail()),
            }
        }
        let sum = mysql_table_sum(&target.url(), "pq", "big", &columns("big"));
        assert_eq!(
            sum, files.sums["big"],
            "seed {seed} (replay with HOIST_CRASH_SEED={seed}): after {delivered} kills"
        );
        assert!(!cp.exists(), "seed {seed}: the checkpoint is removed after success");
    }
    let plan = plan.unwrap_or_else(|| panic!("seed {seed}: no kill left a plan to look at"));
    let chunks = plan.get("pq.big.parquet").copied().unwrap_or(0);
    assert!(chunks > 2, "seed {seed}: the file is cut at row groups into several chunks: {plan:?}");
    assert!(inside > 0, "seed {seed}: no kill left a chunk stopped inside a row group");
    eprintln!(
        "{test}: seed {seed}: {delivered} kills in {runs} runs, {chunks} chunks of pq.big.parquet, \
         {inside} chunks left inside a row group"
    );
}

/// A file cut short, bytes overwritten inside a row group's pages, a codec hoist leaves out
/// and a nested column: each stops its table with the file's name and where.
#[test]
fn corrupt_and_truncated_files_are_refused_with_their_name() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(files.dump.join("pq.types.000.parquet")).unwrap();
    let schema = std::fs::read(files.dump.join("pq.types-schema.sql")).unwrap();
    let case = |name: &str, bytes: &[u8]| {
        let src = dir.path().join(name).join("dump");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("pq.types-schema.sql"), &schema).unwrap();
        std::fs::write(src.join("pq.types.000.parquet"), bytes).unwrap();
        let work = dir.path().join(name);
        let run = import(&src, &sqlite_url(&work.join("t.db")), &work, &[]);
        assert!(!run.ok(), "{name}: the import must fail:\n{}", run.text());
        run.text()
    };
    let cut = case("cut", &whole[..whole.len() / 2]);
    assert!(cut.contains("pq.types.000.parquet") && cut.contains("footer") && cut.contains("(byte "), "{cut}");
    // The pages of the second row group overwritten (the footer still says where they are).
    let mut garbled = whole.clone();
    let middle = whole.len() / 3;
    garbled[middle..middle + 2000].fill(0x5a);
    let text = case("garbled", &garbled);
    assert!(text.contains("pq.types.000.parquet (byte ") && text.contains("row group "), "{text}");

    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"id": [1, 2]}), sys.argv[1] + "/brotli.parquet", compression="brotli")
pq.write_table(pa.table({"id": [1], "tags": [["a", "b"]]}), sys.argv[1] + "/nested.parquet")
pq.write_table(pa.table({"id": [1], "nope": ["x"]}), sys.argv[1] + "/unknown.parquet")
"#;
    let out = Command::new("python3").args(["-c", script, dir.path().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let brotli = case("brotli", &std::fs::read(dir.path().join("brotli.parquet")).unwrap());
    assert!(brotli.contains("pq.types.000.parquet") && brotli.to_ascii_lowercase().contains("brotli"), "{brotli}");
    let nested = case("nested", &std::fs::read(dir.path().join("nested.parquet")).unwrap());
    assert!(
        nested.contains("pq.types.000.parquet") && nested.contains("tags") && nested.contains("nested"),
        "{nested}"
    );
    let unknown = case("unknown", &std::fs::read(dir.path().join("unknown.parquet")).unwrap());
    assert!(unknown.contains("pq.types.000.parquet") && unknown.contains("column `nope` does not exist"), "{unknown}");
}

/// A Parquet file compressed whole (`.parquet.gz`) is read from a decompressed copy.
#[test]
fn a_gzipped_parquet_file_is_imported_exactly() {
    let files = files();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dump");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(files.dump.join("pq.legacy-schema.sql"), src.join("pq.legacy-schema.sql")).unwrap();
    let plain = std::fs::read(files.dump.join("pq.legacy.parquet")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    std::fs::write(src.join("pq.legacy.parquet.gz"), gz.finish().unwrap()).unwrap();
    let db = dir.path().join("gz.db");
    import(&src, &sqlite_url(&db), dir.path(), &[]).assert_ok();
    assert_eq!(sqlite_table_sum(&db, "legacy", &columns("legacy")), files.sums["legacy"]);
}

/// A Parquet dump in S3 (moto): read by ranged requests through the same source layer.
#[test]
fn a_parquet_dump_in_s3_is_imported_exactly() {
    use hoist_testkit::s3::S3Server;
    let files = files();
    let s3 = S3Server::start();
    s3.create_bucket("parquet-dumps");
    s3.upload_dir("parquet-dumps", "export", &files.dump);
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("s3.db");
    let cp = work.path().join("checkpoint.db");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hoist"));
    cmd.args(["import", "--source", &s3.url("parquet-dumps", "export"), "--target", &sqlite_url(&db)])
        .args(["--checkpoint", cp.to_str().unwrap(), "--tables", "pq.types", "--tables", "pq.big"])
        .args(["--max-region-size", "256KiB", "--progress", "log"])
        .env("HOIST_LOG", "warn");
    for (k, v) in s3.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for t in ["types", "big"] {
        assert_eq!(sqlite_table_sum(&db, t, &columns(t)), files.sums[t], "SQLite table {t} from S3");
    }
}
