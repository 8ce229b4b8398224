//! Throughput of the scanners alone, on one core, over realistic dump data.
//!
//! The input is generated here, deterministically: about 64 MiB of rows shaped like the
//! `orders` table of `../shared/bench/gen_dump.py` (BIGINT, INT, DECIMAL, a label that is
//! an awkward string in ~6% of rows, DATETIME, ~200 B of text), written once as a mydumper
//! SQL file (~1 MiB multi-row INSERTs, one row per line, mysqldump escaping) and once as a
//! Dumpling CSV file (header, `,` and `"`, backslash escapes, CRLF).
//!
//! The scanners are driven the way `hoist-core`'s reader drives them: through a 1 MiB
//! window that is refilled (and grown when one item does not fit) whenever they answer
//! `NeedMore`. The copy into the window is part of the measurement, as it is in hoist.
//!
//! `cargo bench -p hoist-parse` prints the throughput in MiB/s or GiB/s of input.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hoist_parse::csv::{CsvOptions, CsvScanner, CsvStep};
use hoist_parse::split::StatementSplitter;
use hoist_parse::sql::{SqlEvent, SqlOptions, SqlScanner, SqlStep};

const TARGET_BYTES: usize = 64 << 20;
const WINDOW: usize = 1 << 20;
const STATEMENT_SIZE: usize = 1 << 20;

/// The awkward values of gen_dump.py's `SPECIAL_TEXT`.
const SPECIAL: &[&str] = &[
    "O'Brien & Sons",
    "He said \"hi\"",
    "back\\slash\\path",
    "C:\\temp\\new",
    "tab\there",
    "multi\nline",
    "cr\rlf\r\n",
    "nul\0byte",
    "ctrl-z\x1a",
    "comma, separated; semi;",
    "Ünïcödé café",
    "日本語テキスト",
    "emoji 😀🚀",
    "quote-mix '\"\\",
    "trailing backslash\\",
    "",
    "   spaces   ",
    "\\N",
    "NULL",
    "\"quoted\"",
    "a,b\r\nc",
    "\\",
    "'",
    "\"",
    ");\nDROP TABLE x;--",
];

/// Words of the ordinary text, as in gen_dump.py.
const WORDS: &str = "alpha beta gamma delta epsilon order shipment invoice customer product warehouse \
    pallet crate box express standard priority returned pending paid refunded north \
    south east west central region street avenue müller straße café 東京 大阪 €uro 😀";

/// xorshift64*: fixed seed, so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

struct OrderRow {
    id: u64,
    customer: u64,
    amount: String,
    label: String,
    created: String,
    body: String,
}

/// `YYYY-MM-DD HH:MM:SS` of Unix seconds (UTC), by Howard Hinnant's civil_from_days.
fn datetime(ts: u64) -> String {
    let (days, secs) = ((ts / 86_400) as i64, ts % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

fn text(rng: &mut Rng, words: &[&str], min: usize, max: usize, special_per_mille: u64) -> String {
    let target = min + rng.below((max - min + 1) as u64) as usize;
    let mut s = String::new();
    while s.len() < target {
        if !s.is_empty() {
            s.push(' ');
        }
        if rng.chance(special_per_mille) {
            s.push_str(SPECIAL[rng.below(SPECIAL.len() as u64) as usize]);
        } else {
            s.push_str(words[rng.below(words.len() as u64) as usize]);
        }
    }
    s
}

fn order_row(rng: &mut Rng, words: &[&str], id: u64) -> OrderRow {
    let cents = rng.below(1_000_100_000) as i64 - 100_000;
    let sign = if cents < 0 { "-" } else { "" };
    let amount = format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100);
    let label = if rng.chance(60) {
        SPECIAL[rng.below(SPECIAL.len() as u64) as usize].to_string()
    } else {
        format!("ORD-{:010x}", rng.below(1 << 40))
    };
    OrderRow {
        id,
        customer: 1 + rng.below(2_000_000),
        amount,
        label,
        created: datetime(1_577_836_800 + id * 9 + rng.below(9)),
        body: format!("#{id} {}", text(rng, words, 170, 200, 20)),
    }
}

/// mysqldump's escaping (mysql_real_escape_string), in single quotes.
fn sql_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'\'');
    for &b in s.as_bytes() {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            _ => out.push(b),
        }
    }
    out.push(b'\'');
}

/// Dumpling's CSV escaping with delimiter `"`, in double quotes.
fn csv_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

struct Data {
    sql: Vec<u8>,
    csv: Vec<u8>,
    rows: u64,
    /// Statements in `sql`, the `SET NAMES` line included.
    statements: u64,
}

/// The same rows as one SQL file of about [`TARGET_BYTES`] and as one CSV file.
fn generate() -> Data {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let prefix = b"INSERT INTO `orders` VALUES\n";
    let mut sql = b"/*!40101 SET NAMES binary*/;\n".to_vec();
    let mut csv = b"\"id\",\"customer_id\",\"amount\",\"label\",\"created_at\",\"body\"\r\n".to_vec();
    let mut statement: Vec<u8> = Vec::with_capacity(STATEMENT_SIZE + 4096);
    let mut tuple = Vec::with_capacity(1024);
    let (mut rows, mut statements) = (0u64, 1u64);
    while sql.len() + statement.len() < TARGET_BYTES {
        rows += 1;
        let r = order_row(&mut rng, &words, rows);

        tuple.clear();
        tuple.extend_from_slice(format!("({},{},{},", r.id, r.customer, r.amount).as_bytes());
        sql_str(&mut tuple, &r.label);
        tuple.extend_from_slice(format!(",'{}',", r.created).as_bytes());
        sql_str(&mut tuple, &r.body);
        tuple.push(b')');
        if !statement.is_empty() && statement.len() + tuple.len() + 2 > STATEMENT_SIZE {
            sql.extend_from_slice(&statement);
            sql.extend_from_slice(b";\n");
            statement.clear();
            statements += 1;
        }
        if statement.is_empty() {
            statement.extend_from_slice(prefix);
        } else {
            statement.extend_from_slice(b",\n");
        }
        statement.extend_from_slice(&tuple);

        csv.extend_from_slice(format!("{},{},{},", r.id, r.customer, r.amount).as_bytes());
        csv_str(&mut csv, &r.label);
        csv.extend_from_slice(format!(",\"{}\",", r.created).as_bytes());
        csv_str(&mut csv, &r.body);
        csv.extend_from_slice(b"\r\n");
    }
    sql.extend_from_slice(&statement);
    sql.extend_from_slice(b";\n");
    Data { sql, csv, rows, statements: statements + 1 }
}

/// A sliding window over an in-memory file, refilled like `hoist-core`'s `Input`: compact,
/// grow when full, copy up to the free room.
struct Window<'d> {
    src: &'d [u8],
    read: usize,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<'d> Window<'d> {
    fn new(src: &'d [u8]) -> Self {
        Window { src, read: 0, buf: vec![0; WINDOW], start: 0, end: 0 }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn eof(&self) -> bool {
        self.read == self.src.len()
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
    }

    fn fill(&mut self) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let n = (self.buf.len() - self.end).min(self.src.len() - self.read);
        self.buf[self.end..self.end + n].copy_from_slice(&self.src[self.read..self.read + n]);
        self.end += n;
        self.read += n;
    }
}

/// Rows and literals seen by the SQL scanner.
fn scan_sql(src: &[u8]) -> (u64, u64) {
    let mut scanner = SqlScanner::new(SqlOptions::default());
    let mut w = Window::new(src);
    w.fill();
    let (mut rows, mut fields) = (0u64, 0u64);
    loop {
        let eof = w.eof();
        let consumed = match scanner.next(w.data(), eof) {
            Ok(SqlStep::Event { event, consumed }) => {
                if let SqlEvent::Row(row) = event {
                    rows += 1;
                    fields += row.fields.len() as u64;
                    black_box(row.raw);
                }
                consumed
            }
            Ok(SqlStep::NeedMore) => {
                assert!(!eof, "SQL scanner wants more at the end of the input");
                w.fill();
                continue;
            }
            Ok(SqlStep::End) => break,
            Err(e) => panic!("SQL scan error: {e}"),
        };
        w.consume(consumed);
    }
    (rows, fields)
}

/// Records (the header included) and non-NULL field bytes seen by the CSV scanner.
fn scan_csv(src: &[u8]) -> (u64, u64) {
    let mut scanner = CsvScanner::new(CsvOptions::default());
    let mut w = Window::new(src);
    w.fill();
    let (mut records, mut bytes) = (0u64, 0u64);
    loop {
        let eof = w.eof();
        let consumed = match scanner.next(w.data(), eof) {
            Ok(CsvStep::Record { record, consumed }) => {
                records += 1;
                for field in record.iter().flatten() {
                    bytes += black_box(field).len() as u64;
                }
                consumed
            }
            Ok(CsvStep::NeedMore) => {
                assert!(!eof, "CSV scanner wants more at the end of the input");
                w.fill();
                continue;
            }
            Ok(CsvStep::End) => break,
            Err(e) => panic!("CSV scan error: {e}"),
        };
        w.consume(consumed);
    }
    (records, bytes)
}

/// Statement ends found by the splitter, fed in 1 MiB blocks.
fn split_sql(src: &[u8]) -> u64 {
    let mut splitter = StatementSplitter::new(SqlOptions::default(), b";");
    let mut ends = Vec::new();
    let mut found = 0u64;
    for (i, block) in src.chunks(WINDOW).enumerate() {
        splitter.feed(block, (i * WINDOW) as u64, &mut ends);
        found += ends.len() as u64;
        ends.clear();
    }
    found
}

fn scanners(c: &mut Criterion) {
    let data = generate();
    // The checks run once, outside the timing: a scanner that skipped rows would look fast.
    assert_eq!(scan_sql(&data.sql), (data.rows, data.rows * 6));
    assert_eq!(scan_csv(&data.csv).0, data.rows + 1);
    assert_eq!(split_sql(&data.sql), data.statements);
    eprintln!(
        "input: {} rows; SQL {:.1} MiB in {} statements, CSV {:.1} MiB",
        data.rows,
        data.sql.len() as f64 / 1048576.0,
        data.statements,
        data.csv.len() as f64 / 1048576.0
    );

    let mut g = c.benchmark_group("scan");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    g.throughput(Throughput::Bytes(data.sql.len() as u64));
    g.bench_function("sql_scanner_1MiB_windows", |b| b.iter(|| scan_sql(black_box(&data.sql))));
    g.bench_function("statement_splitter_1MiB_blocks", |b| b.iter(|| split_sql(black_box(&data.sql))));
    g.throughput(Throughput::Bytes(data.csv.len() as u64));
    g.bench_function("csv_scanner_1MiB_windows", |b| b.iter(|| scan_csv(black_box(&data.csv))));
    g.finish();
}

criterion_group!(benches, scanners);
criterion_main!(benches);
