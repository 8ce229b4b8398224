//! `CREATE VIEW` for both kinds of target.
//!
//! Views are created after every table is loaded. For MySQL-family targets the text is
//! kept (definer, algorithm, security and check option included) and only the name and
//! `OR REPLACE` are spliced in, so that a rerun replaces the view instead of failing. For
//! SQLite the SELECT is parsed and printed back with the MySQL-only spellings that have a
//! SQLite equivalent rewritten (see [`sqlite_view_ddl`]).

use std::ops::ControlFlow;

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArgumentList, FunctionArguments, Ident, JoinOperator, ObjectName, ObjectNamePart, Query, SetExpr,
    Statement, TableFactor, TableWithJoins, Value, ValueWithSpan, VisitMut, VisitorMut,
};
use sqlparser::tokenizer::Token;

use crate::lex::{dialect, lex, parse_error, parser, Lexed, Tok};
use crate::mysql::Edits;
use crate::{quote_mysql_ident, quote_sqlite_ident, SchemaError, SqliteView};

/// Token indexes of the parts of `CREATE [OR REPLACE] [options] VIEW name`.
struct ViewHeader {
    or_replace: bool,
    name_first: usize,
    name_last: usize,
}

fn parse_view_header(toks: &[Tok]) -> Result<ViewHeader, SchemaError> {
    let is = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is_kw(kw));
    if !is(0, "CREATE") {
        return Err(SchemaError::NotCreateView);
    }
    let or_replace = is(1, "OR") && is(2, "REPLACE");
    // ALGORITHM = x, DEFINER = user, SQL SECURITY x: anything up to VIEW, but no other
    // kind of CREATE.
    let view = toks
        .iter()
        .position(|t| {
            t.is_kw("VIEW")
                || ["TABLE", "AS", "SELECT", "INDEX", "PROCEDURE", "FUNCTION", "TRIGGER"].iter().any(|k| t.is_kw(k))
        })
        .filter(|&i| toks[i].is_kw("VIEW"))
        .ok_or(SchemaError::NotCreateView)?;
    let name_first = view + 1;
    let mut i = name_first;
    match toks.get(i) {
        Some(t) if t.ident().is_some() => {}
        _ => return Err(parse_error("expected a view name after VIEW")),
    }
    if matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::Period))
        && toks.get(i + 2).is_some_and(|t| t.ident().is_some())
    {
        i += 2;
    }
    Ok(ViewHeader { or_replace, name_first, name_last: i })
}

/// The dump's `CREATE VIEW` for a MySQL-family target: the view renamed to `target_name`
/// and `CREATE` made `CREATE OR REPLACE` when it was not, so that a rerun works. ALGORITHM,
/// DEFINER, SQL SECURITY and the check option are kept as written.
pub fn mysql_view_ddl(sql: &str, target_name: &str) -> Result<String, SchemaError> {
    let lexed = lex(sql)?;
    let h = parse_view_header(&lexed.toks)?;
    let toks = &lexed.toks;
    let mut edits = Edits::new(&lexed);
    if !h.or_replace {
        let at = toks[0].end;
        edits.push(at..at, " OR REPLACE", "CREATE")?;
    }
    edits.push(toks[h.name_first].start..toks[h.name_last].end, &quote_mysql_ident(target_name), "the view name")?;
    Ok(edits.apply(sql))
}

/// The dump's `CREATE VIEW` for SQLite: `CREATE VIEW IF NOT EXISTS "name" [(columns)] AS
/// <select>`, or the reason the view is left out.
///
/// ALGORITHM, DEFINER, SQL SECURITY and WITH CHECK OPTION are dropped. In the SELECT,
/// database qualifiers are removed from table names (SQLite views cannot reach into other
/// databases), charset introducers (`_utf8'x'`) are removed, `"x"` strings become `'x'`,
/// `IF(c, a, b)` becomes `CASE WHEN c THEN a ELSE b END`, `UCASE`/`LCASE` become
/// `upper`/`lower`, `SUBSTRING` becomes `substr`, `LENGTH` and `OCTET_LENGTH` (bytes)
/// become `length(CAST(x AS BLOB))`, `CHAR_LENGTH` becomes `length`, `<=>` and
/// `IS [NOT] DISTINCT FROM` become `IS [NOT]`, `STRAIGHT_JOIN` becomes `JOIN`, `CONCAT(a,
/// b)` becomes `(a || b)`, and `GROUP_CONCAT(x SEPARATOR s)` becomes `group_concat(x, s)`
/// (SQLite allows no separator with DISTINCT, so there a separator other than `,` is lost).
///
/// The file must open in every SQLite still in wide use, and SQLite parses every view when
/// it opens a file: one view newer SQLite accepts makes the whole file "malformed" for an
/// older one. So the view is written only in what SQLite 3.31 reads and runs
/// ([`OLDEST_SQLITE`]); it is left out ([`SqliteView::LeftOut`]) when it needs more: a
/// function that SQLite 3.31 lacks (MySQL's own, or one SQLite added later, such as
/// `concat` or `iif`), `ORDER BY` or another clause inside an aggregate's parentheses
/// (3.44), RIGHT or FULL joins (3.39), `->` and `->>` (3.38), `CEIL` and `FLOOR` (3.35).
pub fn sqlite_view_ddl(sql: &str, target_name: &str) -> Result<SqliteView, SchemaError> {
    let lexed = lex(sql)?;
    parse_view_header(&lexed.toks)?;
    let toks = strip_check_option(&lexed);
    let d = dialect();
    let mut p = parser(&d, toks);
    let statement = p.parse_statement().map_err(|e| parse_error(e.to_string()))?;
    if p.peek_token().token != Token::EOF {
        let t = p.peek_token();
        return Err(parse_error(format!(
            "unexpected {} at line {}, column {}",
            t.token, t.span.start.line, t.span.start.column
        )));
    }
    let Statement::CreateView(view) = statement else {
        return Err(SchemaError::NotCreateView);
    };
    let mut query = view.query;
    let mut visitor = ToSqlite { left_out: None };
    let _ = query.visit(&mut visitor);
    if let Some(reason) = visitor.left_out {
        return Ok(SqliteView::LeftOut(reason));
    }
    let columns = if view.columns.is_empty() {
        String::new()
    } else {
        let cols: Vec<String> = view.columns.iter().map(|c| quote_sqlite_ident(&c.name.value)).collect();
        format!("({}) ", cols.join(", "))
    };
    Ok(SqliteView::Create(format!("CREATE VIEW IF NOT EXISTS {} {columns}AS {query}", quote_sqlite_ident(target_name))))
}

/// The tokens without a trailing `WITH [CASCADED | LOCAL] CHECK OPTION`.
fn strip_check_option(lexed: &Lexed) -> &[Tok] {
    let toks = lexed.toks.as_slice();
    let n = toks.len();
    let is = |i: usize, kw: &str| toks.get(i).is_some_and(|t| t.is_kw(kw));
    if n >= 3 && is(n - 1, "OPTION") && is(n - 2, "CHECK") {
        if is(n - 3, "WITH") {
            return &toks[..n - 3];
        }
        if n >= 4 && (is(n - 3, "CASCADED") || is(n - 3, "LOCAL")) && is(n - 4, "WITH") {
            return &toks[..n - 4];
        }
    }
    toks
}

/// The SQLite release whose reader every file hoist writes must satisfy: Ubuntu 20.04's,
/// the oldest still in wide use, and the first with generated columns.
pub const OLDEST_SQLITE: &str = "3.31";

/// The built-in functions of SQLite 3.31 (core, date and time, aggregate, window, JSON1).
/// Not `iif` (3.32), `substring` (3.34), the math functions (3.35), `format` and `unixepoch`
/// (3.38), `unhex` (3.41), `octet_length` and `timediff` (3.43), `concat`, `concat_ws` and
/// `string_agg` (3.44).
const SQLITE_3_31_FUNCTIONS: &[&str] = &[
    "abs",
    "changes",
    "char",
    "coalesce",
    "glob",
    "hex",
    "ifnull",
    "instr",
    "last_insert_rowid",
    "length",
    "like",
    "likelihood",
    "likely",
    "lower",
    "ltrim",
    "max",
    "min",
    "nullif",
    "printf",
    "quote",
    "random",
    "randomblob",
    "replace",
    "round",
    "rtrim",
    "soundex",
    "sqlite_source_id",
    "sqlite_version",
    "substr",
    "total_changes",
    "trim",
    "typeof",
    "unicode",
    "unlikely",
    "upper",
    "zeroblob",
    "date",
    "time",
    "datetime",
    "julianday",
    "strftime",
    "avg",
    "count",
    "group_concat",
    "sum",
    "total",
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    "json",
    "json_array",
    "json_array_length",
    "json_extract",
    "json_insert",
    "json_object",
    "json_patch",
    "json_remove",
    "json_replace",
    "json_set",
    "json_type",
    "json_valid",
    "json_quote",
    "json_group_array",
    "json_group_object",
];

/// Rewrites MySQL spellings in a SELECT into SQLite ones, and records the first thing that
/// SQLite 3.31 cannot read or run.
struct ToSqlite {
    left_out: Option<String>,
}

impl ToSqlite {
    fn leave_out(&mut self, reason: impl FnOnce() -> String) {
        if self.left_out.is_none() {
            self.left_out = Some(reason());
        }
    }

    /// RIGHT and FULL joins, which SQLite 3.31 does not have; STRAIGHT_JOIN, which it spells JOIN.
    fn joins(&mut self, set: &mut SetExpr) {
        match set {
            SetExpr::Select(select) => {
                for twj in &mut select.from {
                    self.table_with_joins(twj);
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.joins(left);
                self.joins(right);
            }
            _ => {}
        }
    }

    fn table_with_joins(&mut self, twj: &mut TableWithJoins) {
        self.table_factor(&mut twj.relation);
        for join in &mut twj.joins {
            self.table_factor(&mut join.relation);
            match &join.join_operator {
                JoinOperator::Join(_)
                | JoinOperator::Inner(_)
                | JoinOperator::Left(_)
                | JoinOperator::LeftOuter(_)
                | JoinOperator::CrossJoin(_) => {}
                JoinOperator::StraightJoin(c) => join.join_operator = JoinOperator::Join(c.clone()),
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) => {
                    self.leave_out(|| "RIGHT JOIN needs SQLite 3.39".into())
                }
                JoinOperator::FullOuter(_) => self.leave_out(|| "FULL JOIN needs SQLite 3.39".into()),
                other => {
                    let text = other.clone();
                    self.leave_out(|| format!("{text:?} is not a join SQLite {OLDEST_SQLITE} knows"))
                }
            }
        }
    }

    fn table_factor(&mut self, factor: &mut TableFactor) {
        if let TableFactor::NestedJoin { table_with_joins, .. } = factor {
            self.table_with_joins(table_with_joins);
        }
    }
}

fn function_name(f: &Function) -> Option<String> {
    f.name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase())
}

fn rename(f: &mut Function, to: &str) {
    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
}

/// The arguments of a call written `f(a, b, ...)`, without DISTINCT or clauses.
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(l) = &f.args else { return None };
    if l.duplicate_treatment.is_some() || !l.clauses.is_empty() || f.over.is_some() || f.filter.is_some() {
        return None;
    }
    l.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

impl VisitorMut for ToSqlite {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.joins(&mut query.body);
        ControlFlow::Continue(())
    }

    fn post_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        if relation.0.len() > 1 {
            let last = relation.0.pop();
            relation.0 = last.into_iter().collect();
        }
        ControlFlow::Continue(())
    }

    fn post_visit_ident(&mut self, ident: &mut Ident) -> ControlFlow<()> {
        if ident.quote_style == Some('`') {
            ident.quote_style = Some('"');
        }
        ControlFlow::Continue(())
    }

    fn post_visit_value(&mut self, value: &mut ValueWithSpan) -> ControlFlow<()> {
        if let Value::DoubleQuotedString(s) = &value.value {
            value.value = Value::SingleQuotedString(s.clone());
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Prefixed { prefix, value } if prefix.value.starts_with('_') => {
                let inner = std::mem::replace(value.as_mut(), Expr::value(Value::Null));
                *expr = inner;
            }
            Expr::CompoundIdentifier(parts) if parts.len() > 2 => {
                parts.remove(0);
            }
            // `SUBSTR(x, a, b)`, the only spelling SQLite 3.31 reads.
            Expr::Substring { special, shorthand, .. } => {
                *special = true;
                *shorthand = true;
            }
            // SQLite's IS compares as MySQL's <=> does; `IS [NOT] DISTINCT FROM` needs 3.39.
            Expr::BinaryOp { op: op @ BinaryOperator::Spaceship, .. } => *op = BinaryOperator::Custom("IS".into()),
            Expr::IsNotDistinctFrom(a, b) => {
                *expr = Expr::BinaryOp { left: a.clone(), op: BinaryOperator::Custom("IS".into()), right: b.clone() }
            }
            Expr::IsDistinctFrom(a, b) => {
                *expr =
                    Expr::BinaryOp { left: a.clone(), op: BinaryOperator::Custom("IS NOT".into()), right: b.clone() }
            }
            Expr::BinaryOp { op: BinaryOperator::Arrow | BinaryOperator::LongArrow, .. } => {
                self.leave_out(|| "the JSON operators -> and ->> need SQLite 3.38".into())
            }
            Expr::Ceil { .. } | Expr::Floor { .. } => self.leave_out(|| "CEIL and FLOOR need SQLite 3.35".into()),
            Expr::Function(f) => {
                let Some(name) = function_name(f) else {
                    return ControlFlow::Continue(());
                };
                match name.as_str() {
                    "if" => {
                        if let Some([c, a, b]) = plain_args(f).as_deref() {
                            *expr = Expr::Case {
                                case_token: AttachedToken::empty(),
                                end_token: AttachedToken::empty(),
                                operand: None,
                                conditions: vec![CaseWhen { condition: c.clone(), result: a.clone() }],
                                else_result: Some(Box::new(b.clone())),
                            };
                        }
                    }
                    "ucase" => rename(f, "upper"),
                    "lcase" => rename(f, "lower"),
                    "substring" | "mid" => rename(f, "substr"),
                    "char_length" | "character_length" => rename(f, "length"),
                    // MySQL counts bytes.
                    "length" | "octet_length" => {
                        if let Some([x]) = plain_args(f).as_deref() {
                            let bytes = Expr::Cast {
                                kind: CastKind::Cast,
                                expr: Box::new(x.clone()),
                                data_type: DataType::Blob(None),
                                format: None,
                            };
                            *expr = call("length", vec![bytes]);
                        }
                    }
                    "group_concat" => {
                        if let FunctionArguments::List(l) = &mut f.args {
                            let sep = l.clauses.iter().position(|c| matches!(c, FunctionArgumentClause::Separator(_)));
                            if let Some(i) = sep {
                                if let FunctionArgumentClause::Separator(v) = l.clauses.remove(i) {
                                    if l.duplicate_treatment.is_none() {
                                        l.args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v))));
                                    }
                                }
                            }
                        }
                    }
                    "concat" => {
                        if let Some(args) = plain_args(f).filter(|a| !a.is_empty()) {
                            let joined = args.into_iter().reduce(|a, b| Expr::BinaryOp {
                                left: Box::new(a),
                                op: BinaryOperator::StringConcat,
                                right: Box::new(b),
                            });
                            if let Some(j) = joined {
                                *expr = Expr::Nested(Box::new(j));
                            }
                        }
                    }
                    _ => {}
                }
                self.check_call(expr);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl ToSqlite {
    /// A call that is still a call after the rewrites must be one SQLite 3.31 can run.
    fn check_call(&mut self, expr: &Expr) {
        let Expr::Function(f) = expr else { return };
        let name = function_name(f).unwrap_or_default();
        if f.name.0.len() > 1 || !SQLITE_3_31_FUNCTIONS.contains(&name.as_str()) {
            let written = f.name.to_string();
            self.leave_out(|| format!("SQLite {OLDEST_SQLITE} has no function {written}()"));
            return;
        }
        if let FunctionArguments::List(l) = &f.args {
            if let Some(c) = l.clauses.first() {
                let what = match c {
                    FunctionArgumentClause::OrderBy(_) => "ORDER BY".to_string(),
                    other => other.to_string(),
                };
                self.leave_out(|| format!("{}(... {what} ...) needs SQLite 3.44", name.to_ascii_uppercase()));
            }
        }
    }
}
