//! SQLite DDL from the AST of a MySQL `CREATE TABLE`.
//!
//! SQLite stores values by type affinity, so a MySQL type maps to the affinity that keeps
//! its values: INTEGER, NUMERIC, REAL, TEXT or BLOB. What only shapes storage or checks
//! (charsets, collations, comments, ON UPDATE, table options) is dropped without a word;
//! what SQLite cannot express (FULLTEXT, CHECK, some DEFAULTs and generated expressions) is
//! dropped with a note for the user. The DDL is written here, never by `Display` of MySQL
//! AST nodes; the few expressions kept (defaults, generated columns, functional key parts)
//! go through a small printer that accepts only what means the same in both databases.

use sqlparser::ast::{
    BinaryOperator, ColumnOption, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GeneratedExpressionMode,
    ReferentialAction, UnaryOperator, Value,
};

use crate::table::{parse_table, Def, Key, KeyKind, KeyPart, Table};
use crate::{quote_sqlite_ident as q, ColumnKind, SchemaError, SqliteTableDdl};

/// Translates a dump's `CREATE TABLE` into SQLite DDL for the table `target_name`.
///
/// * Types map to affinities: integers, YEAR and BIT to INTEGER, DECIMAL to NUMERIC,
///   FLOAT/DOUBLE to REAL, strings, ENUM, SET, JSON and dates to TEXT, binary strings and
///   spatial types to BLOB; an unknown type gets no declared type (with a note).
/// * A single integer primary key column becomes `INTEGER PRIMARY KEY` (SQLite's rowid),
///   with `AUTOINCREMENT` if it was AUTO_INCREMENT; other primary keys and UNIQUE keys are
///   table constraints, so duplicates are refused while loading. A UNIQUE key with prefix
///   lengths or expressions becomes a `CREATE UNIQUE INDEX` in `indexes` instead.
/// * Ordinary indexes become `CREATE INDEX "<target>_<index>"` in `indexes` (SQLite index
///   names are global to the database), without prefix lengths.
/// * FOREIGN KEYs are kept, naming the referenced table without its database. The bundled
///   SQLite enforces them by default, so a load runs with `PRAGMA foreign_keys = OFF`, as
///   it runs with `foreign_key_checks=0` on MySQL.
/// * Generated columns keep their expression when it means the same in SQLite; otherwise
///   they become plain (nullable) columns, with a note.
/// * FULLTEXT and SPATIAL indexes, CHECK constraints, AUTO_INCREMENT on anything but the
///   rowid, and DEFAULTs that are not constants are dropped with a note.
pub fn sqlite_table_ddl(sql: &str, target_name: &str) -> Result<SqliteTableDdl, SchemaError> {
    let t = parse_table(sql)?;
    let mut notes = Vec::new();
    let mut lines = Vec::new();
    let mut indexes = Vec::new();
    let table = q(target_name);

    let pk = t.keys.iter().find(|k| k.kind == KeyKind::Primary);
    let pk_cols: Vec<&str> = pk.map(|k| k.parts.iter().filter_map(KeyPart::column).collect()).unwrap_or_default();
    // A single integer column key becomes SQLite's rowid alias, declared inline.
    let rowid = match pk.map(|k| k.parts.as_slice()) {
        Some([KeyPart::Column { name, .. }]) => t
            .schema
            .column(name)
            .filter(|(_, c)| matches!(c.kind, ColumnKind::Integer { .. }) && !c.generated)
            .map(|(_, c)| c.name.clone()),
        _ => None,
    };

    for e in &t.elements {
        let Def::Column(ce) = &e.def else { continue };
        let c = &ce.column;
        let mut s = q(&c.name);
        let ty = sqlite_type(&c.kind);
        if ty.is_empty() {
            notes.push(format!(
                "column `{}` has type `{}`, which hoist does not know: created without a declared type",
                c.name, c.type_text
            ));
        } else {
            s.push(' ');
            s.push_str(ty);
        }
        // Some(None): generated in MySQL, but the expression does not translate.
        let generated = ce.def.options.iter().find_map(|o| match &o.option {
            ColumnOption::Generated { generation_expr: Some(expr), generation_expr_mode, .. } => {
                Some(print_expr(expr, &t).map(|x| {
                    let mode = match generation_expr_mode {
                        Some(GeneratedExpressionMode::Stored) => "STORED",
                        _ => "VIRTUAL",
                    };
                    format!(" GENERATED ALWAYS AS ({x}) {mode}")
                }))
            }
            _ => None,
        });
        if rowid.as_deref() == Some(c.name.as_str()) {
            s.push_str(" PRIMARY KEY");
            if c.auto_increment {
                s.push_str(" AUTOINCREMENT");
            }
        } else {
            if c.auto_increment {
                notes.push(format!(
                    "AUTO_INCREMENT on `{}` dropped: SQLite only auto-increments a single-column INTEGER PRIMARY KEY",
                    c.name
                ));
            }
            // A plain column that the import leaves empty must accept NULL.
            if !c.nullable && !matches!(generated, Some(None)) {
                s.push_str(" NOT NULL");
            }
        }
        match &generated {
            Some(Some(g)) => s.push_str(g),
            Some(None) => notes.push(format!(
                "generated column `{}` became a plain column, left NULL by the import: its expression cannot be translated to SQLite",
                c.name
            )),
            None => {}
        }
        if generated.is_none() {
            if let Some(expr) = ce.def.options.iter().find_map(|o| match &o.option {
                ColumnOption::Default(e) => Some(e),
                _ => None,
            }) {
                match default_value(expr, &c.kind) {
                    Some(d) => {
                        s.push_str(" DEFAULT ");
                        s.push_str(&d);
                    }
                    None => notes.push(format!("DEFAULT {expr} on `{}` dropped: SQLite cannot compute it", c.name)),
                }
            }
        }
        lines.push(s);
    }

    if let Some(k) = pk.filter(|_| rowid.is_none()) {
        if k.parts.iter().any(|p| matches!(p, KeyPart::Column { prefix: Some(_), .. })) {
            notes.push("prefix lengths dropped from the PRIMARY KEY: SQLite compares whole values".into());
        }
        let cols: Vec<String> = pk_cols.iter().map(|c| q(c)).collect();
        let on_generated = pk_cols.iter().any(|c| t.schema.column(c).is_some_and(|(_, c)| c.generated));
        if on_generated {
            notes.push(
                "the PRIMARY KEY became a UNIQUE constraint: SQLite allows no generated column in a PRIMARY KEY".into(),
            );
            lines.push(format!("UNIQUE ({})", cols.join(", ")));
        } else if !cols.is_empty() {
            lines.push(format!("PRIMARY KEY ({})", cols.join(", ")));
        }
    }

    for k in &t.keys {
        match k.kind {
            KeyKind::Primary => {}
            KeyKind::Unique => {
                let plain = k.parts.iter().all(|p| matches!(p, KeyPart::Column { prefix: None, .. }));
                if plain {
                    let cols: Vec<String> = k.parts.iter().filter_map(KeyPart::column).map(q).collect();
                    lines.push(format!("UNIQUE ({})", cols.join(", ")));
                } else {
                    match index_parts(k, &t, true) {
                        Some(parts) => indexes.push(format!(
                            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {table} ({parts})",
                            q(&format!("{target_name}_{}", k.name))
                        )),
                        None => notes.push(format!(
                            "UNIQUE key `{}` dropped: its expression cannot be translated to SQLite",
                            k.name
                        )),
                    }
                }
            }
            KeyKind::Index => match index_parts(k, &t, false) {
                Some(parts) => indexes.push(format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {table} ({parts})",
                    q(&format!("{target_name}_{}", k.name))
                )),
                None => {
                    notes.push(format!("index `{}` dropped: its expression cannot be translated to SQLite", k.name))
                }
            },
            KeyKind::Fulltext => {
                notes.push(format!("FULLTEXT index `{}` dropped: SQLite has no FULLTEXT indexes", k.name))
            }
            KeyKind::Spatial => {
                notes.push(format!("SPATIAL index `{}` dropped: SQLite has no SPATIAL indexes", k.name))
            }
        }
    }

    for fk in &t.foreign_keys {
        let mut s = String::new();
        if let Some(n) = &fk.name {
            s.push_str(&format!("CONSTRAINT {} ", q(n)));
        }
        let cols: Vec<String> = fk.columns.iter().map(|c| q(c)).collect();
        s.push_str(&format!("FOREIGN KEY ({}) REFERENCES {}", cols.join(", "), q(&fk.table)));
        if !fk.referred.is_empty() {
            let refs: Vec<String> = fk.referred.iter().map(|c| q(c)).collect();
            s.push_str(&format!(" ({})", refs.join(", ")));
        }
        for (on, action) in [("DELETE", fk.on_delete), ("UPDATE", fk.on_update)] {
            if let Some(a) = action {
                s.push_str(&format!(" ON {on} {}", referential_action(a)));
            }
        }
        lines.push(s);
    }

    let mut unnamed_checks = 0;
    for name in &t.checks {
        match name {
            Some(n) => notes.push(format!("CHECK constraint `{n}` dropped: MySQL expressions are not translated")),
            None => unnamed_checks += 1,
        }
    }
    if unnamed_checks > 0 {
        notes.push(format!(
            "{unnamed_checks} unnamed CHECK constraint(s) dropped: MySQL expressions are not translated"
        ));
    }

    let create = format!("CREATE TABLE IF NOT EXISTS {table} (\n  {}\n)", lines.join(",\n  "));
    Ok(SqliteTableDdl { create, indexes, notes })
}

fn referential_action(a: ReferentialAction) -> &'static str {
    match a {
        ReferentialAction::Restrict => "RESTRICT",
        ReferentialAction::Cascade => "CASCADE",
        ReferentialAction::SetNull => "SET NULL",
        ReferentialAction::NoAction => "NO ACTION",
        ReferentialAction::SetDefault => "SET DEFAULT",
    }
}

/// The declared type: the affinity that keeps the values of a MySQL type.
pub(crate) fn sqlite_type(kind: &ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Integer { .. } | ColumnKind::Year | ColumnKind::Bit => "INTEGER",
        ColumnKind::Decimal { .. } => "NUMERIC",
        ColumnKind::Float => "REAL",
        ColumnKind::Text | ColumnKind::Enum | ColumnKind::Set | ColumnKind::Json | ColumnKind::Temporal => "TEXT",
        ColumnKind::Binary | ColumnKind::Spatial => "BLOB",
        ColumnKind::Other => "",
    }
}

/// Key parts for `CREATE INDEX`. An ordinary index drops prefix lengths (SQLite indexes
/// whole values); a unique one keeps them as `substr(...)`, so that it accepts what MySQL
/// accepted. `None` if a functional part cannot be translated.
fn index_parts(k: &Key, t: &Table, unique: bool) -> Option<String> {
    let parts: Option<Vec<String>> = k
        .parts
        .iter()
        .map(|p| {
            let (text, desc) = match p {
                KeyPart::Column { name, prefix, desc } => match prefix {
                    Some(n) if unique => (format!("substr({}, 1, {n})", q(name)), *desc),
                    _ => (q(name), *desc),
                },
                KeyPart::Expr { expr, desc } => (operand(expr, t)?, *desc),
            };
            Some(if desc { format!("{text} DESC") } else { text })
        })
        .collect();
    parts.map(|p| p.join(", "))
}

/// A SQLite string literal; one with a NUL byte is spelled through a blob.
fn string_literal(s: &str) -> String {
    if s.contains('\0') {
        format!("(CAST(X'{}' AS TEXT))", hex(s.as_bytes()))
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(h: &str) -> Option<Vec<u8>> {
    let h = if h.len() % 2 == 1 { format!("0{h}") } else { h.to_string() };
    (0..h.len()).step_by(2).map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

fn fn_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => f.name.0.last()?.as_ident().map(|i| i.value.to_ascii_lowercase()),
        Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// A DEFAULT clause SQLite accepts: literals, and the current date/time.
fn default_value(expr: &Expr, kind: &ColumnKind) -> Option<String> {
    match expr {
        Expr::Value(v) => literal(&v.value, kind),
        Expr::UnaryOp { op: op @ (UnaryOperator::Minus | UnaryOperator::Plus), expr } => match expr.as_ref() {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(match op {
                    UnaryOperator::Minus => format!("-{n}"),
                    _ => n.clone(),
                }),
                _ => None,
            },
            _ => None,
        },
        Expr::Prefixed { value, .. } | Expr::Nested(value) => default_value(value, kind),
        Expr::Function(_) | Expr::Identifier(_) => {
            let args_ok = match expr {
                Expr::Function(f) => match &f.args {
                    FunctionArguments::None => true,
                    FunctionArguments::List(l) => l.args.len() <= 1 && l.clauses.is_empty(),
                    FunctionArguments::Subquery(_) => false,
                },
                _ => true,
            };
            if !args_ok {
                return None;
            }
            match fn_name(expr)?.as_str() {
                "current_timestamp" | "now" | "localtime" | "localtimestamp" => Some("CURRENT_TIMESTAMP".into()),
                "current_date" | "curdate" => Some("CURRENT_DATE".into()),
                "current_time" | "curtime" => Some("CURRENT_TIME".into()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn literal(v: &Value, kind: &ColumnKind) -> Option<String> {
    let numeric = matches!(kind, ColumnKind::Integer { .. } | ColumnKind::Bit | ColumnKind::Year);
    match v {
        Value::Number(n, _) => Some(n.clone()),
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) | Value::NationalStringLiteral(s) => {
            Some(string_literal(s))
        }
        Value::Boolean(b) => Some(if *b { "1" } else { "0" }.into()),
        Value::Null => Some("NULL".into()),
        Value::SingleQuotedByteStringLiteral(bits) => {
            u64::from_str_radix(bits, 2).ok().map(|n| n.to_string()).or_else(|| bits.is_empty().then(|| "0".into()))
        }
        Value::HexStringLiteral(h) => {
            let bytes = unhex(h)?;
            if numeric {
                (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)).to_string())
            } else if matches!(kind, ColumnKind::Binary | ColumnKind::Spatial | ColumnKind::Other) {
                Some(format!("X'{}'", hex(&bytes)))
            } else {
                match String::from_utf8(bytes) {
                    Ok(s) => Some(string_literal(&s)),
                    Err(e) => Some(format!("X'{}'", hex(e.as_bytes()))),
                }
            }
        }
        _ => None,
    }
}

/// Prints an expression that means the same in MySQL and SQLite: column references,
/// literals, arithmetic other than division, comparisons, logic, and a few functions.
/// `None` for anything else.
pub(crate) fn print_expr(expr: &Expr, t: &Table) -> Option<String> {
    Some(match expr {
        Expr::Identifier(id) => q(&t.schema.column(&id.value)?.1.name),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.clone(),
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) if !s.contains('\0') => string_literal(s),
            Value::Boolean(b) => if *b { "1" } else { "0" }.into(),
            Value::Null => "NULL".into(),
            _ => return None,
        },
        Expr::Prefixed { value, .. } => print_expr(value, t)?,
        Expr::Nested(e) => format!("({})", print_expr(e, t)?),
        Expr::UnaryOp { op, expr } => {
            let op = match op {
                UnaryOperator::Minus => "-",
                UnaryOperator::Plus => "+",
                UnaryOperator::Not => "NOT ",
                _ => return None,
            };
            format!("{op}{}", operand(expr, t)?)
        }
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Plus => "+",
                BinaryOperator::Minus => "-",
                BinaryOperator::Multiply => "*",
                BinaryOperator::Eq => "=",
                BinaryOperator::NotEq => "<>",
                BinaryOperator::Lt => "<",
                BinaryOperator::LtEq => "<=",
                BinaryOperator::Gt => ">",
                BinaryOperator::GtEq => ">=",
                BinaryOperator::And => "AND",
                BinaryOperator::Or => "OR",
                BinaryOperator::BitwiseAnd => "&",
                BinaryOperator::BitwiseOr => "|",
                _ => return None,
            };
            format!("{} {op} {}", operand(left, t)?, operand(right, t)?)
        }
        Expr::IsNull(e) => format!("{} IS NULL", operand(e, t)?),
        Expr::IsNotNull(e) => format!("{} IS NOT NULL", operand(e, t)?),
        Expr::Function(f) => {
            let name = fn_name(expr)?;
            if !["lower", "upper", "abs", "coalesce", "ifnull", "nullif"].contains(&name.as_str()) {
                return None;
            }
            let FunctionArguments::List(l) = &f.args else {
                return None;
            };
            if l.duplicate_treatment.is_some() || !l.clauses.is_empty() || f.over.is_some() {
                return None;
            }
            let args: Option<Vec<String>> = l
                .args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => print_expr(e, t),
                    _ => None,
                })
                .collect();
            format!("{name}({})", args?.join(", "))
        }
        _ => return None,
    })
}

/// [`print_expr`], in parentheses when it is an operation: the operator precedences of
/// MySQL and SQLite differ (`&` and `|`, for one), so nesting is always spelled out.
pub(crate) fn operand(expr: &Expr, t: &Table) -> Option<String> {
    let s = print_expr(expr, t)?;
    Some(match expr {
        Expr::BinaryOp { .. } | Expr::UnaryOp { .. } | Expr::IsNull(_) | Expr::IsNotNull(_) => {
            format!("({s})")
        }
        _ => s,
    })
}
