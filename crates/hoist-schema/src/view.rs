//! `CREATE VIEW` for both kinds of target.
//!
//! Views are created after every table is loaded. For MySQL-family targets the text is
//! kept (definer, algorithm, security and check option included) and only the name and
//! `OR REPLACE` are spliced in, so that a rerun replaces the view instead of failing. For
//! SQLite the SELECT is parsed and printed back with the MySQL-only spellings that have a
//! SQLite equivalent rewritten (see [`sqlite_view_ddl`]).

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, Statement, Value, ValueWithSpan, VisitMut, VisitorMut,
};
use sqlparser::tokenizer::Token;

use crate::lex::{dialect, lex, parse_error, parser, Lexed, Tok};
use crate::mysql::Edits;
use crate::{quote_mysql_ident, quote_sqlite_ident, SchemaError};

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

/// The dump's `CREATE VIEW` as `CREATE VIEW IF NOT EXISTS "name" [(columns)] AS <select>`
/// for SQLite.
///
/// ALGORITHM, DEFINER, SQL SECURITY and WITH CHECK OPTION are dropped. In the SELECT,
/// database qualifiers are removed from table names (SQLite views cannot reach into other
/// databases), charset introducers (`_utf8'x'`) are removed, `"x"` strings become `'x'`,
/// `IF` becomes `iif`, `UCASE`/`LCASE` become `upper`/`lower`, `CONCAT(a, b)` becomes
/// `(a || b)`, and `GROUP_CONCAT(x SEPARATOR s)` becomes `group_concat(x, s)` (SQLite
/// allows no separator with DISTINCT, so there a separator other than `,` is lost). Other
/// MySQL functions are left as they are and fail when SQLite creates or uses the view.
pub fn sqlite_view_ddl(sql: &str, target_name: &str) -> Result<String, SchemaError> {
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
    let _ = query.visit(&mut ToSqlite);
    let columns = if view.columns.is_empty() {
        String::new()
    } else {
        let cols: Vec<String> = view.columns.iter().map(|c| quote_sqlite_ident(&c.name.value)).collect();
        format!("({}) ", cols.join(", "))
    };
    Ok(format!("CREATE VIEW IF NOT EXISTS {} {columns}AS {query}", quote_sqlite_ident(target_name)))
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

/// Rewrites MySQL spellings in a SELECT into SQLite ones.
struct ToSqlite;

impl VisitorMut for ToSqlite {
    type Break = ();

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
            Expr::Function(f) => {
                let Some(name) = f.name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase())
                else {
                    return ControlFlow::Continue(());
                };
                let rename = |f: &mut sqlparser::ast::Function, to: &str| {
                    f.name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(to))]);
                };
                match name.as_str() {
                    "if" => rename(f, "iif"),
                    "ucase" => rename(f, "upper"),
                    "lcase" => rename(f, "lower"),
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
                        if let FunctionArguments::List(l) = &f.args {
                            let args: Option<Vec<Expr>> = l
                                .args
                                .iter()
                                .map(|a| match a {
                                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                                    _ => None,
                                })
                                .collect();
                            if let Some(args) = args.filter(|a| !a.is_empty() && l.clauses.is_empty()) {
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
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
