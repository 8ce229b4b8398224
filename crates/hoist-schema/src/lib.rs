//! MySQL DDL for hoist: what a dump's `CREATE TABLE` / `CREATE VIEW` says, and the DDL to
//! run on each kind of target.
//!
//! A mydumper or Dumpling dump holds one `CREATE TABLE` per `{db}.{tbl}-schema.sql` file and
//! one `CREATE VIEW` per `{db}.{tbl}-schema-view.sql` file, as written by `SHOW CREATE TABLE`,
//! or by hand. The caller splits a file into statements; every function here takes the text
//! of one statement without its trailing `;`. Nothing here does I/O.
//!
//! * [`parse_create_table`] tells the importer what the rows look like: columns in order,
//!   their kinds, which are generated, the primary and unique keys.
//! * [`mysql_table_ddl`] prepares the DDL for a MySQL-family target (MySQL, MariaDB, TiDB):
//!   the table under its target name, `IF NOT EXISTS`, and the secondary indexes split off
//!   so that they are built once, after the data ([`MysqlTableDdl`]).
//! * [`sqlite_table_ddl`] translates the table into SQLite DDL ([`SqliteTableDdl`]).
//! * [`mysql_view_ddl`] and [`sqlite_view_ddl`] do the same for views.
//!
//! # Why text edits, not `Display`, for MySQL targets
//!
//! The analysis uses `sqlparser`'s AST ([`sqlparser::dialect::MySqlDialect`]). But the AST
//! does not keep everything a MySQL server understands: table options (`ROW_FORMAT`,
//! `KEY_BLOCK_SIZE`, `PARTITION BY`, `STATS_PERSISTENT`, TiDB's `/*T! ... */` hints),
//! index options (`WITH PARSER`, `INVISIBLE`), column formats, and the version comments
//! around them would be dropped, rewritten or refused by a round trip through `Display`.
//! A loader must give the server the user's table. So for MySQL-family targets the DDL is
//! the original text with a few splices at token positions found by `sqlparser`'s
//! tokenizer: the table name, `IF NOT EXISTS`, and the removed index definitions with
//! their commas. Everything else reaches the server byte for byte.
//!
//! # Version comments
//!
//! `/*!50100 ... */` (and MariaDB's `/*M!100100 ... */`) is code that every supported
//! server runs, so the analysis reads its content as ordinary SQL: the comment markers are
//! replaced by spaces of the same length, which keeps every byte offset valid for the
//! text edits. Edits never cut a version comment in two: an index definition that cannot be
//! removed without doing so stays in the `CREATE TABLE`. TiDB's `/*T![feature] ... */` is a
//! plain comment for MySQL and MariaDB, and for this crate too.
//!
//! # Invariants
//!
//! * No input panics; every problem is a [`SchemaError`].
//! * [`MysqlTableDdl::create`] differs from the input only by the edits listed on the type.
//! * PRIMARY and UNIQUE keys are never deferred (duplicates must be detected while loading),
//!   and neither is an index that a FOREIGN KEY or the AUTO_INCREMENT column needs.

mod lex;
mod logged;
mod mysql;
mod sqlite;
mod table;
mod view;

pub use logged::{logged_ddl, LoggedDdl, NamedTable};
pub use mysql::mysql_table_ddl;
pub use sqlite::sqlite_table_ddl;
pub use table::parse_create_table;
pub use view::{mysql_view_ddl, sqlite_view_ddl, OLDEST_SQLITE};

/// What went wrong with a DDL statement. The caller adds the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The text is not valid SQL as far as the MySQL grammar goes. The message comes from
    /// `sqlparser` or from this crate, and names the line and column.
    #[error("cannot parse DDL: {message}")]
    Parse { message: String },
    /// The statement is valid but is not a `CREATE TABLE`.
    #[error("the statement is not a CREATE TABLE")]
    NotCreateTable,
    /// The statement is valid but is not a `CREATE VIEW`.
    #[error("the statement is not a CREATE VIEW")]
    NotCreateView,
    /// A form that hoist cannot import, such as `CREATE TABLE ... LIKE`.
    #[error("unsupported DDL: {what}")]
    Unsupported { what: String },
    /// The statement parses but describes an impossible table, e.g. a key on a column that
    /// does not exist; the server would refuse it as well.
    #[error("invalid CREATE TABLE: {message}")]
    Invalid { message: String },
}

/// How the values of a column look in a dump and how they are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT, BOOL and SERIAL. ZEROFILL implies
    /// UNSIGNED, as in MySQL.
    Integer {
        unsigned: bool,
    },
    /// DECIMAL / NUMERIC / DEC / FIXED; the MySQL defaults (10, 0) when not written.
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// FLOAT, DOUBLE, REAL.
    Float,
    /// CHAR, VARCHAR and the TEXT types.
    Text,
    /// BINARY, VARBINARY and the BLOB types.
    Binary,
    /// DATE, TIME, DATETIME, TIMESTAMP.
    Temporal,
    Year,
    Bit,
    Json,
    Enum,
    Set,
    /// GEOMETRY, POINT, POLYGON and the other spatial types.
    Spatial,
    /// A type this crate does not know (e.g. MariaDB's UUID or INET6).
    Other,
}

/// One column of a table, in definition order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The name as declared (MySQL compares column names ignoring case).
    pub name: String,
    pub kind: ColumnKind,
    /// The type as written, keywords lowercased and spaces normalised, e.g. `varchar(64)`,
    /// `int(10) unsigned zerofill`, `enum('A','b')` (string values are kept as written).
    pub type_text: String,
    /// False for NOT NULL columns and for primary key columns.
    pub nullable: bool,
    /// An explicit DEFAULT clause is present (a nullable column without one still
    /// defaults to NULL).
    pub has_default: bool,
    pub auto_increment: bool,
    /// A generated (`AS (expr)`) column: it cannot be given a value on insert.
    pub generated: bool,
}

/// What hoist needs to know about a table to load rows into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    /// The table name as written, without a database qualifier.
    pub name: String,
    pub columns: Vec<Column>,
    /// Column names (as declared) of the primary key, in key order; empty if none.
    pub primary_key: Vec<String>,
    /// Column names of each UNIQUE key, in definition order. A key with an expression part
    /// (MySQL 8 functional key part) is not listed.
    pub unique_keys: Vec<Vec<String>>,
}

impl TableSchema {
    /// The column called `name`, ignoring ASCII case as MySQL does, with its position.
    pub fn column(&self, name: &str) -> Option<(usize, &Column)> {
        self.columns.iter().enumerate().find(|(_, c)| c.name.eq_ignore_ascii_case(name))
    }

    /// The columns that an INSERT can give values to, in order (all but generated ones).
    pub fn insertable_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| !c.generated)
    }
}

/// DDL for a MySQL-family target, prepared from a dump's CREATE TABLE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MysqlTableDdl {
    /// The original text with: the table name replaced by the target name (backquoted; a
    /// qualified `db`.`t` name becomes just `t`), `IF NOT EXISTS` inserted when missing,
    /// `OR REPLACE` removed (a rerun must never drop loaded data), and the deferred
    /// indexes removed together with their separating commas.
    pub create: String,
    /// Statements that add the deferred indexes back: one `ALTER TABLE `t` ADD KEY ...,
    /// ADD KEY ...` for all ordinary indexes, then one ALTER per FULLTEXT or SPATIAL index
    /// (InnoDB builds one FULLTEXT index per ALTER). An index that had no name gets the
    /// name MySQL would have given it in the CREATE TABLE, so reruns and checks see the same
    /// name. Empty if nothing was deferred.
    pub add_indexes: Vec<String>,
}

/// DDL for the SQLite target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteTableDdl {
    /// `CREATE TABLE IF NOT EXISTS "name" (...)`, with the primary key, unique keys and
    /// foreign keys.
    pub create: String,
    /// `CREATE [UNIQUE] INDEX IF NOT EXISTS` statements, to run after the data.
    pub indexes: Vec<String>,
    /// Sentences about what could not be kept, for the user.
    pub notes: Vec<String>,
}

/// A view for the SQLite target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SqliteView {
    /// `CREATE VIEW IF NOT EXISTS ...`, in what SQLite 3.31 reads and runs.
    Create(String),
    /// The view needs more than SQLite 3.31 has; the sentence says what.
    LeftOut(String),
}

/// Quotes a MySQL identifier: `` a`b `` becomes `` `a``b` ``.
pub fn quote_mysql_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A table as MySQL names it, each part quoted: `` `db`.`t` ``. Also the label messages use.
pub fn qualified_mysql_name(database: &str, table: &str) -> String {
    format!("{}.{}", quote_mysql_ident(database), quote_mysql_ident(table))
}

/// Quotes a SQLite identifier: `a"b` becomes `"a""b"`.
pub fn quote_sqlite_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
