//! A fake MySQL server that speaks just enough of the protocol to stand where a real one
//! would and misbehave on cue: the hostile server of a security test.
//!
//! It accepts any user and password (handshake v10, `mysql_native_password`, answered OK
//! without checking), then answers every command: `COM_QUERY` and prepared statements
//! (`COM_STMT_PREPARE` / `EXECUTE`) by the first [`Rule`] whose text the statement contains,
//! else with OK, an empty result. That is enough for a client's session setup, DDL and
//! metadata queries; a test scripts only the statements that matter (a variable the client
//! checks, the columns of a table, the statement it attacks).
//!
//! [`Answer::LocalInfile`] is the attack: the server answers a query with a LOCAL INFILE
//! request (`0xFB` + file name) for a file of its choosing. A client then sends that file's
//! bytes, ended by an empty packet, unless it refuses. Everything a client sends is kept
//! ([`FakeMysql::received`]), and what it sent after such a request separately
//! ([`FakeMysql::infile_data`]), so a test can assert that nothing of the file left.
//!
//! Without `CLIENT_DEPRECATE_EOF`: result sets end their column definitions and rows with EOF
//! packets, the classic form every client reads. No TLS, no compression.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the server answers to a statement.
#[derive(Debug, Clone)]
pub enum Answer {
    /// OK: no rows.
    Ok,
    /// A result set: column names, and rows of text values (`None` is NULL).
    Rows { columns: Vec<String>, rows: Vec<Vec<Option<String>>> },
    /// A LOCAL INFILE request for this file name, in place of the statement's result.
    LocalInfile(String),
    /// An error packet with this code and message.
    Error(u16, String),
}

impl Answer {
    /// One row of one column.
    pub fn value(column: &str, value: &str) -> Answer {
        Answer::Rows { columns: vec![column.into()], rows: vec![vec![Some(value.into())]] }
    }
}

/// Statements containing `contains` (ASCII case-insensitive) get `answer`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub contains: String,
    pub answer: Answer,
}

impl Rule {
    pub fn new(contains: &str, answer: Answer) -> Rule {
        Rule { contains: contains.to_ascii_lowercase(), answer }
    }
}

#[derive(Default)]
struct Log {
    statements: Vec<String>,
    received: Vec<u8>,
    infile_data: Vec<u8>,
    infile_requests: usize,
}

/// A running fake server on a free local port; its threads end with the test process.
pub struct FakeMysql {
    port: u16,
    log: Arc<Mutex<Log>>,
}

impl FakeMysql {
    pub fn start(rules: Vec<Rule>) -> FakeMysql {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let port = listener.local_addr().expect("local address").port();
        let log = Arc::new(Mutex::new(Log::default()));
        let (rules, accept_log) = (Arc::new(rules), log.clone());
        std::thread::spawn(move || {
            for (id, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let (rules, log) = (rules.clone(), accept_log.clone());
                std::thread::spawn(move || {
                    // A client that hangs up ends its session; nothing to report.
                    let _ = Session { stream, rules: &rules, log: &log, statements: Vec::new() }.run(id as u32 + 1);
                });
            }
        });
        FakeMysql { port, log }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for it (any user and password are accepted).
    pub fn url(&self) -> String {
        format!("mysql://root:any@127.0.0.1:{}", self.port)
    }

    /// Every statement received (queries and prepared statements), in order.
    pub fn statements(&self) -> Vec<String> {
        self.log.lock().unwrap().statements.clone()
    }

    /// Every byte every client sent.
    pub fn received(&self) -> Vec<u8> {
        self.log.lock().unwrap().received.clone()
    }

    /// The bytes clients sent in answer to LOCAL INFILE requests (the files' contents).
    pub fn infile_data(&self) -> Vec<u8> {
        self.log.lock().unwrap().infile_data.clone()
    }

    /// How many LOCAL INFILE requests the server made.
    pub fn infile_requests(&self) -> usize {
        self.log.lock().unwrap().infile_requests
    }
}

// Capability flags (mysql_common's CapabilityFlags).
const LONG_PASSWORD: u32 = 0x1;
const FOUND_ROWS: u32 = 0x2;
const LONG_FLAG: u32 = 0x4;
const CONNECT_WITH_DB: u32 = 0x8;
const LOCAL_FILES: u32 = 0x80;
const PROTOCOL_41: u32 = 0x200;
const TRANSACTIONS: u32 = 0x2000;
const SECURE_CONNECTION: u32 = 0x8000;
const MULTI_STATEMENTS: u32 = 0x1_0000;
const MULTI_RESULTS: u32 = 0x2_0000;
const PS_MULTI_RESULTS: u32 = 0x4_0000;
const PLUGIN_AUTH: u32 = 0x8_0000;
const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x20_0000;
const CAPABILITIES: u32 = LONG_PASSWORD
    | FOUND_ROWS
    | LONG_FLAG
    | CONNECT_WITH_DB
    | LOCAL_FILES
    | PROTOCOL_41
    | TRANSACTIONS
    | SECURE_CONNECTION
    | MULTI_STATEMENTS
    | MULTI_RESULTS
    | PS_MULTI_RESULTS
    | PLUGIN_AUTH
    | PLUGIN_AUTH_LENENC_CLIENT_DATA;

const STATUS_AUTOCOMMIT: u16 = 0x2;
const UTF8MB4_GENERAL_CI: u16 = 45;
const TYPE_VAR_STRING: u8 = 0xFD;

// Commands.
const COM_QUIT: u8 = 0x01;
const COM_QUERY: u8 = 0x03;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;
const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
const COM_STMT_CLOSE: u8 = 0x19;

struct Session<'a> {
    stream: TcpStream,
    rules: &'a [Rule],
    log: &'a Mutex<Log>,
    /// Prepared statements by id - 1.
    statements: Vec<String>,
}

impl Session<'_> {
    fn run(&mut self, connection_id: u32) -> std::io::Result<()> {
        self.write(0, &handshake(connection_id))?;
        // The handshake response: any user, any password.
        let (seq, _) = self.read()?;
        self.write(seq + 1, &ok())?;
        let mut pending = None;
        loop {
            let (_, packet) = match pending.take() {
                Some(p) => p,
                None => self.read()?,
            };
            let Some((&command, body)) = packet.split_first() else { continue };
            match command {
                COM_QUIT => return Ok(()),
                COM_QUERY => {
                    let text = String::from_utf8_lossy(body).into_owned();
                    match self.answer_for(&text) {
                        Answer::Ok => self.write(1, &ok())?,
                        Answer::Error(code, message) => self.write(1, &error(code, &message))?,
                        Answer::Rows { columns, rows } => self.result_set(&columns, &rows, false)?,
                        Answer::LocalInfile(file) => pending = self.local_infile(&file)?,
                    }
                }
                COM_STMT_PREPARE => {
                    let text = String::from_utf8_lossy(body).into_owned();
                    let answer = self.answer_for(&text);
                    if let Answer::Error(code, message) = answer {
                        self.write(1, &error(code, &message))?;
                        continue;
                    }
                    self.statements.push(text.clone());
                    let columns = match answer {
                        Answer::Rows { columns, .. } => columns,
                        _ => Vec::new(),
                    };
                    self.prepared(self.statements.len() as u32, &columns, text.matches('?').count())?;
                }
                COM_STMT_EXECUTE => {
                    let id = body.get(..4).map_or(0, |b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
                    let text = self.statements.get(id.wrapping_sub(1) as usize).cloned().unwrap_or_default();
                    match self.rule(&text) {
                        Some(Answer::Rows { columns, rows }) => self.result_set(&columns, &rows, true)?,
                        _ => self.write(1, &ok())?,
                    }
                }
                // No answer is expected to these.
                COM_STMT_SEND_LONG_DATA | COM_STMT_CLOSE => {}
                // Ping, init db, reset connection, statement reset...: fine.
                _ => self.write(1, &ok())?,
            }
        }
    }

    fn rule(&self, statement: &str) -> Option<Answer> {
        let lower = statement.to_ascii_lowercase();
        self.rules.iter().find(|r| lower.contains(&r.contains)).map(|r| r.answer.clone())
    }

    /// The answer to a statement, which is logged.
    fn answer_for(&self, statement: &str) -> Answer {
        self.log.lock().unwrap().statements.push(statement.to_string());
        self.rule(statement).unwrap_or(Answer::Ok)
    }

    /// Ask for `file`, then take what the client sends until its empty packet. A client that
    /// sends a new command instead (seq 0) refused without the empty packet: that command is
    /// returned to be answered.
    fn local_infile(&mut self, file: &str) -> std::io::Result<Option<(u8, Vec<u8>)>> {
        self.log.lock().unwrap().infile_requests += 1;
        let mut request = vec![0xFB];
        request.extend_from_slice(file.as_bytes());
        self.write(1, &request)?;
        loop {
            let (seq, data) = self.read()?;
            if seq == 0 {
                return Ok(Some((seq, data)));
            }
            if data.is_empty() {
                self.write(seq + 1, &ok())?;
                return Ok(None);
            }
            self.log.lock().unwrap().infile_data.extend_from_slice(&data);
        }
    }

    fn prepared(&mut self, id: u32, columns: &[String], params: usize) -> std::io::Result<()> {
        let mut p = vec![0x00];
        p.extend_from_slice(&id.to_le_bytes());
        p.extend_from_slice(&(columns.len() as u16).to_le_bytes());
        p.extend_from_slice(&(params as u16).to_le_bytes());
        p.push(0);
        p.extend_from_slice(&0u16.to_le_bytes());
        let mut seq = 1;
        self.write(seq, &p)?;
        for names in [vec!["?".to_string(); params], columns.to_vec()] {
            if names.is_empty() {
                continue;
            }
            for name in &names {
                seq += 1;
                self.write(seq, &column_definition(name))?;
            }
            seq += 1;
            self.write(seq, &eof())?;
        }
        Ok(())
    }

    /// Column count, definitions, EOF, rows (text or binary protocol), EOF.
    fn result_set(&mut self, columns: &[String], rows: &[Vec<Option<String>>], binary: bool) -> std::io::Result<()> {
        let mut seq = 1;
        let mut count = Vec::new();
        lenenc_int(&mut count, columns.len() as u64);
        self.write(seq, &count)?;
        for name in columns {
            seq += 1;
            self.write(seq, &column_definition(name))?;
        }
        seq += 1;
        self.write(seq, &eof())?;
        for row in rows {
            seq += 1;
            self.write(seq, &if binary { binary_row(row) } else { text_row(row) })?;
        }
        self.write(seq + 1, &eof())
    }

    fn read(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header)?;
        let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
        let mut payload = vec![0; len];
        self.stream.read_exact(&mut payload)?;
        let mut log = self.log.lock().unwrap();
        log.received.extend_from_slice(&header);
        log.received.extend_from_slice(&payload);
        Ok((header[3], payload))
    }

    fn write(&mut self, seq: u8, payload: &[u8]) -> std::io::Result<()> {
        let len = (payload.len() as u32).to_le_bytes();
        let mut packet = vec![len[0], len[1], len[2], seq];
        packet.extend_from_slice(payload);
        self.stream.write_all(&packet)
    }
}

/// Protocol 10, a MySQL 5.7 version (so clients use COM_RESET_CONNECTION), the scramble in
/// its two parts, and the plugin that lets any password through.
fn handshake(connection_id: u32) -> Vec<u8> {
    let mut p = vec![10];
    p.extend_from_slice(b"5.7.99-hoist-fake\0");
    p.extend_from_slice(&connection_id.to_le_bytes());
    p.extend_from_slice(b"abcdefgh\0");
    p.extend_from_slice(&(CAPABILITIES as u16).to_le_bytes());
    p.push(UTF8MB4_GENERAL_CI as u8);
    p.extend_from_slice(&STATUS_AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&((CAPABILITIES >> 16) as u16).to_le_bytes());
    p.push(21); // scramble length, its NUL included
    p.extend_from_slice(&[0; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0");
    p.extend_from_slice(b"mysql_native_password\0");
    p
}

fn ok() -> Vec<u8> {
    let mut p = vec![0x00, 0, 0]; // header, affected rows, last insert id
    p.extend_from_slice(&STATUS_AUTOCOMMIT.to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes()); // warnings
    p
}

fn eof() -> Vec<u8> {
    let mut p = vec![0xFE];
    p.extend_from_slice(&0u16.to_le_bytes());
    p.extend_from_slice(&STATUS_AUTOCOMMIT.to_le_bytes());
    p
}

fn error(code: u16, message: &str) -> Vec<u8> {
    let mut p = vec![0xFF];
    p.extend_from_slice(&code.to_le_bytes());
    p.extend_from_slice(b"#HY000");
    p.extend_from_slice(message.as_bytes());
    p
}

/// Every column is a utf8mb4 VARCHAR: clients convert its text to what they want.
fn column_definition(name: &str) -> Vec<u8> {
    let mut p = Vec::new();
    for s in ["def", "", "", "", name, name] {
        lenenc_str(&mut p, s.as_bytes());
    }
    p.push(0x0C);
    p.extend_from_slice(&UTF8MB4_GENERAL_CI.to_le_bytes());
    p.extend_from_slice(&1024u32.to_le_bytes());
    p.push(TYPE_VAR_STRING);
    p.extend_from_slice(&0u16.to_le_bytes()); // flags
    p.push(0); // decimals
    p.extend_from_slice(&[0, 0]);
    p
}

fn text_row(row: &[Option<String>]) -> Vec<u8> {
    let mut p = Vec::new();
    for value in row {
        match value {
            Some(v) => lenenc_str(&mut p, v.as_bytes()),
            None => p.push(0xFB),
        }
    }
    p
}

/// 0x00, the NULL bitmap (offset by 2 bits), then each value that is not NULL.
fn binary_row(row: &[Option<String>]) -> Vec<u8> {
    let mut bitmap = vec![0u8; (row.len() + 7 + 2) / 8];
    let mut values = Vec::new();
    for (i, value) in row.iter().enumerate() {
        match value {
            Some(v) => lenenc_str(&mut values, v.as_bytes()),
            None => bitmap[(i + 2) / 8] |= 1 << ((i + 2) % 8),
        }
    }
    let mut p = vec![0x00];
    p.extend_from_slice(&bitmap);
    p.extend_from_slice(&values);
    p
}

fn lenenc_int(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=250 => out.push(n as u8),
        251..=0xFFFF => {
            out.push(0xFC);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xFF_FFFF => {
            out.push(0xFD);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xFE);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mysql_async, the driver hoist uses, gets through the handshake, scripted rows in both
    /// protocols, and a LOCAL INFILE request that its handler refuses.
    #[test]
    fn a_real_driver_talks_to_it() {
        use mysql_async::prelude::*;
        let fake = FakeMysql::start(vec![
            Rule::new("@@local_infile", Answer::value("@@local_infile", "1")),
            Rule::new(
                "from t where",
                Answer::Rows { columns: vec!["a".into(), "b".into()], rows: vec![vec![Some("x".into()), None]] },
            ),
            Rule::new("load data", Answer::LocalInfile("/etc/passwd".into())),
        ]);
        let url = fake.url();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let mut conn = mysql_async::Conn::new(mysql_async::Opts::from_url(&url).unwrap()).await.unwrap();
            conn.query_drop("SET NAMES utf8mb4").await.unwrap();
            let v: Option<u8> = conn.query_first("SELECT @@local_infile").await.unwrap();
            assert_eq!(v, Some(1));
            let row: Option<(String, Option<String>)> =
                conn.exec_first("SELECT a, b FROM t WHERE id = ?", (1,)).await.unwrap();
            assert_eq!(row, Some(("x".into(), None)));
            let none: Option<u8> = conn.exec_first("SELECT 1 FROM u WHERE id = ?", (1,)).await.unwrap();
            assert_eq!(none, None);
            // No handler: the driver refuses and sends nothing of the file.
            assert!(conn.query_drop("LOAD DATA LOCAL INFILE 'x' INTO TABLE t").await.is_err());
        });
        assert_eq!(fake.infile_requests(), 1);
        assert!(fake.infile_data().is_empty());
        assert!(fake.statements().iter().any(|s| s.starts_with("LOAD DATA")));
    }
}
