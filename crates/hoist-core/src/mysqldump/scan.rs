//! The one pass over a mysqldump file: statement by statement, split by the data scanner's own
//! rules (quotes, comments, `/*!...*/` code, `DELIMITER` blocks), in memory bounded by the
//! longest statement. INSERT statements are looked at only up to their table name; everything
//! else is kept as text. A compressed file is decompressed once, here.

use std::collections::BTreeMap;

use hoist_parse::sql::{SqlEvent, SqlOptions, SqlScanner, SqlStep};

use super::statement::{self, Kind, Name};
use super::{Scan, ScannedObject, ScannedTable, Statement};
use crate::error::{DataError, FileChanged, FilePosition, SourceError};
use crate::input::Input;
use crate::reader::{is_ignorable_statement, no_backslash_escapes_set_by};
use crate::source::{compression_of, Compression, Source, SourceFile};

/// Scan `file` of `source`; `region`: about how many bytes of an uncompressed file's INSERTs
/// make one chunk. Blocking (call from a blocking thread).
pub(super) fn scan(
    source: &Source,
    handle: &tokio::runtime::Handle,
    file: &SourceFile,
    region: u64,
) -> Result<Scan, SourceError> {
    let compression = compression_of(&file.path);
    let mut input = Input::new(source.open_at(handle, &file.path, compression, 0)?, 0, u64::MAX);
    // Line ends before the input's first byte held, for messages.
    let mut lines = 0u64;
    let fail = |input: &Input, lines: u64, offset: u64, message: String| {
        let line = line_of(input, lines, offset);
        SourceError::Data(DataError { position: FilePosition { file: file.path.clone(), offset, line }, message })
    };
    let fill = |input: &mut Input, lines: u64| -> Result<(), SourceError> {
        input.fill().map_err(|e| {
            if let Some(changed) = e.get_ref().and_then(|i| i.downcast_ref::<FileChanged>()) {
                return SourceError::Changed(changed.clone());
            }
            match crate::error_class::io_is_transient(&e) {
                true => SourceError::io(source.location(), &file.path, &e),
                false => {
                    let message = format!("cannot read the file (truncated or corrupt?): {e}");
                    fail(input, lines, input.read_to(), message)
                }
            }
        })
    };
    fill(&mut input, lines)?;
    let header = Header::of(input.data());
    let mut builder = Builder {
        file: file.path.clone(),
        region: if compression == Compression::None { region.max(1) } else { u64::MAX },
        database: header.database.clone(),
        ..Default::default()
    };
    let mut scanner = SqlScanner::statements_only(SqlOptions::default());
    loop {
        let at = input.position();
        // Offsets into `data()` of the statement's text, and the bytes it used.
        let found = match scanner.next(input.data(), input.eof()) {
            Err(e) => return Err(fail(&input, lines, at + e.offset as u64, e.kind.to_string())),
            Ok(SqlStep::NeedMore) => None,
            Ok(SqlStep::End) => break,
            Ok(SqlStep::Event { event, consumed }) => match event {
                SqlEvent::Set(text) | SqlEvent::Other(text) => {
                    let offset = text.as_ptr() as usize - input.data().as_ptr() as usize;
                    Some((offset, text.len(), consumed, matches!(event, SqlEvent::Set(_))))
                }
                // A statements-only scanner gives no rows.
                _ => Some((0, 0, consumed, false)),
            },
        };
        let Some((offset, len, consumed, set)) = found else {
            if input.eof() {
                return Err(fail(&input, lines, at, "the file ends inside a statement".into()));
            }
            fill(&mut input, lines)?;
            continue;
        };
        let text = &input.data()[offset..offset + len];
        let delimiter = String::from_utf8_lossy(scanner.delimiter()).into_owned();
        // As the reader follows it: strings after it read another way.
        if let Some(nbe) = no_backslash_escapes_set_by(&String::from_utf8_lossy(head(text))).filter(|_| set) {
            scanner.set_options(SqlOptions { no_backslash_escapes: nbe });
        }
        let start = at + offset as u64;
        builder
            .statement(start, at + consumed as u64, text, &delimiter, scanner.options())
            .map_err(|message| fail(&input, lines, start, message))?;
        lines += hoist_parse::count_lines(&input.data()[..consumed]) as u64;
        input.consume(consumed);
    }
    // A dump that mysqldump began with its comment header ends with `-- Dump completed`: a
    // file without it was cut short, even where the cut fell between two statements.
    if header.by_mysqldump && !String::from_utf8_lossy(input.data()).contains("-- Dump completed") {
        return Err(fail(
            &input,
            lines,
            input.read_to(),
            "the file ends here without the `-- Dump completed` line that mysqldump writes last: it is cut short \
             (the dump did not finish, or the file was not copied whole); dump again or copy the whole file"
                .into(),
        ));
    }
    Ok(builder.finish())
}

/// The 1-based line of `offset` (in the bytes `input` holds), `lines` line ends before them.
fn line_of(input: &Input, lines: u64, offset: u64) -> Option<u64> {
    let held = input.data();
    let upto = usize::try_from(offset.checked_sub(input.position())?).ok()?.min(held.len());
    Some(lines + hoist_parse::count_lines(&held[..upto]) as u64 + 1)
}

/// What the comment lines at the top of the file say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Header {
    /// `-- MySQL dump ...` / `-- MariaDB dump ...`: the file must end with `-- Dump completed`.
    by_mysqldump: bool,
    /// `-- Host: ...    Database: sakila`: a dump of one database without `--databases` has no
    /// USE statement, and its tables belong to this one.
    database: Option<String>,
}

impl Header {
    fn of(start: &[u8]) -> Header {
        let text = String::from_utf8_lossy(&start[..start.len().min(8192)]);
        let mut header = Header::default();
        for line in text.lines().take(20) {
            if line.starts_with("-- MySQL dump") || line.starts_with("-- MariaDB dump") {
                header.by_mysqldump = true;
            }
            if let Some(at) = line.strip_prefix("-- Host:").and_then(|rest| rest.find("Database:").map(|i| (rest, i))) {
                let name = at.0[at.1 + "Database:".len()..].trim();
                header.database = (!name.is_empty()).then(|| name.to_string());
            }
        }
        header
    }
}

/// The start of a statement: enough to know what it is (an INSERT is not read further).
fn head(text: &[u8]) -> &[u8] {
    &text[..text.len().min(4096)]
}

#[derive(Default)]
struct Builder {
    file: String,
    /// An uncompressed file's INSERT runs are cut about this often; a compressed one's never.
    region: u64,
    /// The database in force: the last USE, else the header's.
    database: Option<String>,
    databases: BTreeMap<String, Option<Statement>>,
    tables: Vec<ScannedTable>,
    table_at: BTreeMap<(String, String), usize>,
    views: BTreeMap<(String, String), ScannedObject>,
    triggers: BTreeMap<(String, String), ScannedObject>,
    routines: BTreeMap<String, ScannedObject>,
    /// The SETs since the last other statement: what the next view, trigger or routine is
    /// created under.
    settings: Vec<Statement>,
    /// The run of INSERT statements being read: the table's index, its start and end.
    open: Option<(usize, u64, u64)>,
    /// NO_BACKSLASH_ESCAPES as the file's header leaves it (what every chunk is read under),
    /// once the header is over.
    header_nbe: Option<bool>,
    /// Statements not loaded: how many, and the first few with their offset.
    left_out: (usize, Vec<String>),
}

impl Builder {
    fn statement(
        &mut self,
        start: u64,
        end: u64,
        text: &[u8],
        delimiter: &str,
        options: SqlOptions,
    ) -> Result<(), String> {
        let kind = statement::kind(&String::from_utf8_lossy(head(text)));
        if kind != Kind::Set && self.header_nbe.is_none() && !is_ignorable_statement(text) {
            self.header_nbe = Some(options.no_backslash_escapes);
        }
        if kind == Kind::Insert {
            return self.insert(start, end, text, options);
        }
        self.close_run();
        let statement = || Statement {
            at: start,
            delimiter: delimiter.to_string(),
            text: String::from_utf8_lossy(text).into_owned(),
        };
        match kind {
            Kind::Set => {
                // Saving to or restoring from a user variable (`@saved_sql_mode`) is left out:
                // each object sets what it needs, and a restore in another session sets NULL.
                if !text.contains(&b'@') {
                    self.settings.push(statement());
                }
                return Ok(());
            }
            Kind::Use(db) => self.database = Some(db),
            Kind::CreateDatabase(db) => {
                self.databases.insert(db, Some(statement()));
            }
            Kind::CreateTable(name) => {
                let at = self.table(&name)?;
                self.tables[at].create = Some(statement());
            }
            Kind::CreateView(name) => {
                let key = (self.database_of(&name)?, name.name.clone());
                // The placeholder view mysqldump writes first is replaced by the final one.
                let mut statements = std::mem::take(&mut self.settings);
                statements.push(statement());
                self.views.insert(key.clone(), ScannedObject { database: key.0, name: key.1, statements });
            }
            Kind::CreateTrigger { table, .. } => {
                let key = (self.database_of(&table)?, table.name.clone());
                let object = self.triggers.entry(key.clone()).or_insert_with(|| ScannedObject::named(key));
                object.statements.append(&mut self.settings);
                object.statements.push(statement());
            }
            Kind::CreateRoutine(name) => {
                let db = self.database_of(&name)?;
                self.routine(db, statement());
            }
            Kind::AlterDatabase(name) => {
                let name = Name { database: name, name: "ALTER DATABASE".into() };
                let db = self.database_of(&name)?;
                self.routine(db, statement());
            }
            Kind::Insert | Kind::Ignored => {}
            Kind::Other => {
                self.left_out.0 += 1;
                if self.left_out.1.len() < 3 {
                    let shown: String = String::from_utf8_lossy(head(text)).chars().take(40).collect();
                    self.left_out.1.push(format!("{shown:?} (byte {start})"));
                }
            }
        }
        self.settings.clear();
        Ok(())
    }

    /// An INSERT: its rows join the run of the table's INSERTs right before it, unless that
    /// run is a chunk's worth already.
    fn insert(&mut self, start: u64, end: u64, text: &[u8], options: SqlOptions) -> Result<(), String> {
        self.settings.clear();
        if self.header_nbe.is_some_and(|nbe| nbe != options.no_backslash_escapes) {
            return Err("this INSERT is read under another sql_mode (NO_BACKSLASH_ESCAPES) than the file's header \
                 sets; hoist reads every table of the file under the header's settings"
                .into());
        }
        let mut scanner = SqlScanner::new(options);
        let header = match scanner.next(text, true) {
            Ok(SqlStep::Event { event: SqlEvent::Insert(h), .. }) => h.clone(),
            Ok(_) => return Err("an INSERT statement that has no table".into()),
            Err(e) => return Err(format!("{} (byte {} of the INSERT statement)", e.kind, e.offset)),
        };
        let name = Name { database: header.database, name: header.table };
        let table = self.table(&name)?;
        match self.open {
            Some((at, first, last)) if at == table && last - first < self.region => {
                self.open = Some((at, first, end));
            }
            _ => {
                self.close_run();
                self.open = Some((table, start, end));
            }
        }
        Ok(())
    }

    fn close_run(&mut self) {
        if let Some((at, first, last)) = self.open.take() {
            self.tables[at].data.push((first, last));
        }
    }

    fn routine(&mut self, db: String, statement: Statement) {
        let object = self.routines.entry(db.clone()).or_insert_with(|| ScannedObject::named((db.clone(), db)));
        object.statements.append(&mut self.settings);
        object.statements.push(statement);
    }

    /// The database `name` is in: its qualifier, else the one in force.
    fn database_of(&self, name: &Name) -> Result<String, String> {
        name.database.clone().or_else(|| self.database.clone()).ok_or_else(|| {
            format!(
                "`{}` names no database, and the file chose none before it (no USE statement, no `Database:` in \
                 its header comment); dump with --databases, or add `USE db;` at the top of the file",
                name.name
            )
        })
    }

    /// The index of the table `name` (in the database in force unless qualified).
    fn table(&mut self, name: &Name) -> Result<usize, String> {
        let key = (self.database_of(name)?, name.name.clone());
        let next = self.tables.len();
        let at = *self.table_at.entry(key.clone()).or_insert(next);
        if at == next {
            self.tables.push(ScannedTable { database: key.0, name: key.1, create: None, data: Vec::new() });
        }
        Ok(at)
    }

    fn finish(mut self) -> Scan {
        self.close_run();
        if self.left_out.0 > 0 {
            tracing::warn!(
                "{}: {} statement(s) are not loaded (hoist loads databases, tables and their rows, views, triggers, \
                 routines and events), the first: {}",
                self.file,
                self.left_out.0,
                self.left_out.1.join(", ")
            );
        }
        // A view's placeholder table (older mysqldump versions) is not a table.
        let views = self.views;
        self.tables.retain(|t| !(t.data.is_empty() && views.contains_key(&(t.database.clone(), t.name.clone()))));
        for t in &self.tables {
            self.databases.entry(t.database.clone()).or_insert(None);
        }
        Scan {
            version: super::SCAN_VERSION,
            databases: self.databases,
            tables: self.tables,
            views: views.into_values().collect(),
            triggers: self.triggers.into_values().collect(),
            routines: self.routines.into_values().collect(),
        }
    }
}

impl ScannedObject {
    fn named((database, name): (String, String)) -> ScannedObject {
        ScannedObject { database, name, statements: Vec::new() }
    }
}
