//! Reading a `CREATE TABLE`.
//!
//! The statement is taken apart at token level first: the header (`CREATE TABLE [IF NOT
//! EXISTS] name`), the parenthesised list of elements (split at top-level commas), and the
//! table options after it, which are never needed and therefore never parsed. Each element
//! is then parsed on its own by `sqlparser` (`parse_column_def`-like steps, or
//! `parse_optional_table_constraint`), which ties every AST node to the exact tokens it came
//! from. A few MySQL spellings that `sqlparser` 0.63 does not know but that change nothing
//! for hoist (`ZEROFILL`, `CHARSET x`, `VARCHAR(n) BINARY`, `COLUMN_FORMAT`, `STORAGE`,
//! index options after the key list such as `WITH PARSER`) are left out of the tokens given
//! to the parser; the text itself is never changed here.

use sqlparser::ast::{
    ColumnDef, ColumnOption, ColumnOptionDef, DataType, ExactNumberInfo, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, IndexColumn, ObjectName, OrderBySort, ReferentialAction, TableConstraint, Value,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Span, Token};

use crate::lex::{dialect, lex, matching_paren, parse_error, parser, Lexed, Tok};
use crate::{Column, ColumnKind, SchemaError, TableSchema};

/// Reads what hoist needs to know about a table from its `CREATE TABLE`.
pub fn parse_create_table(sql: &str) -> Result<TableSchema, SchemaError> {
    parse_table(sql).map(|t| t.schema)
}

/// A parsed `CREATE TABLE`, with the token positions of its parts.
#[derive(Debug)]
pub(crate) struct Table {
    pub lexed: Lexed,
    pub header: Header,
    pub elements: Vec<Element>,
    pub schema: TableSchema,
    /// Every key (PRIMARY, UNIQUE, KEY/INDEX, FULLTEXT, SPATIAL), inline ones included, in
    /// definition order.
    pub keys: Vec<Key>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Names (if any) of CHECK constraints, column-level ones included.
    pub checks: Vec<Option<String>>,
}

/// Token indexes (into `Lexed::toks`) of the parts of `CREATE TABLE ... (`.
#[derive(Debug)]
pub(crate) struct Header {
    /// `OR` and `REPLACE` (MariaDB's `CREATE OR REPLACE TABLE`).
    pub or_replace: Option<(usize, usize)>,
    pub if_not_exists: bool,
    pub name_first: usize,
    pub name_last: usize,
    pub list_open: usize,
    pub list_close: usize,
}

/// One element of the column list.
#[derive(Debug)]
pub(crate) struct Element {
    /// First and last token (inclusive).
    pub first: usize,
    pub last: usize,
    /// The comma after it, if it is not the last element.
    pub comma_after: Option<usize>,
    pub def: Def,
}

#[derive(Debug)]
pub(crate) enum Def {
    Column(Box<ColumnElem>),
    Constraint(Box<TableConstraint>),
}

#[derive(Debug)]
pub(crate) struct ColumnElem {
    pub def: ColumnDef,
    pub column: Column,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Primary,
    Unique,
    Index,
    Fulltext,
    Spatial,
}

#[derive(Clone, Debug)]
pub(crate) struct Key {
    /// The element the key is defined in (a column element for inline keys).
    pub element: usize,
    pub inline: bool,
    pub kind: KeyKind,
    /// The name as written, or the one MySQL gives an unnamed key; `PRIMARY` for the
    /// primary key.
    pub name: String,
    pub named: bool,
    pub parts: Vec<KeyPart>,
}

#[derive(Clone, Debug)]
pub(crate) enum KeyPart {
    /// A column (name as declared), with an optional prefix length.
    Column { name: String, prefix: Option<u64>, desc: bool },
    /// A MySQL 8 functional key part.
    Expr { expr: Box<Expr>, desc: bool },
}

impl KeyPart {
    pub fn column(&self) -> Option<&str> {
        match self {
            KeyPart::Column { name, .. } => Some(name),
            KeyPart::Expr { .. } => None,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct ForeignKey {
    pub name: Option<String>,
    /// Columns of this table (names as declared).
    pub columns: Vec<String>,
    /// The referenced table, without a database qualifier.
    pub table: String,
    pub referred: Vec<String>,
    pub on_delete: Option<ReferentialAction>,
    pub on_update: Option<ReferentialAction>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ElemKind {
    Column,
    Primary,
    Unique,
    Foreign,
    Check,
    Index,
    FulltextOrSpatial,
}

pub(crate) fn parse_table(sql: &str) -> Result<Table, SchemaError> {
    let lexed = lex(sql)?;
    let header = parse_header(&lexed.toks)?;
    let toks = &lexed.toks;

    let mut elements = Vec::new();
    let mut start = header.list_open + 1;
    let mut depth = 0usize;
    // Elements end at a comma or at the closing parenthesis, at depth 0.
    for (i, t) in toks.iter().enumerate().take(header.list_close + 1).skip(header.list_open + 1) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen if depth > 0 => depth -= 1,
            Token::Comma | Token::RParen if depth == 0 => {
                if i == start {
                    return Err(parse_error(format!("empty element in the column list at {}", t.location())));
                }
                let comma_after = (i != header.list_close).then_some(i);
                let def = parse_element(&lexed, start, i - 1)?;
                elements.push(Element { first: start, last: i - 1, comma_after, def });
                start = i + 1;
            }
            _ => {}
        }
    }
    let name = toks[header.name_last].ident().unwrap_or_default().to_string();
    build(lexed, header, elements, name)
}

fn parse_header(toks: &[Tok]) -> Result<Header, SchemaError> {
    let at = |i: usize| toks.get(i);
    let is = |i: usize, kw: &str| at(i).is_some_and(|t| t.is_kw(kw));
    if !is(0, "CREATE") {
        return Err(SchemaError::NotCreateTable);
    }
    let mut i = 1;
    let mut or_replace = None;
    if is(i, "OR") && is(i + 1, "REPLACE") {
        or_replace = Some((i, i + 1));
        i += 2;
    }
    if is(i, "TEMPORARY") {
        return Err(SchemaError::Unsupported { what: "CREATE TEMPORARY TABLE".into() });
    }
    if !is(i, "TABLE") {
        return Err(SchemaError::NotCreateTable);
    }
    i += 1;
    let mut if_not_exists = false;
    if is(i, "IF") && is(i + 1, "NOT") && is(i + 2, "EXISTS") {
        if_not_exists = true;
        i += 3;
    }
    let name_first = i;
    let mut parts = 0;
    loop {
        match at(i) {
            Some(t) if t.ident().is_some() => parts += 1,
            Some(t) => {
                return Err(parse_error(format!("expected a table name, found {} at {}", t.token, t.location())))
            }
            None => return Err(parse_error("expected a table name after CREATE TABLE")),
        }
        if matches!(at(i + 1).map(|t| &t.token), Some(Token::Period)) && parts < 2 {
            i += 2;
        } else {
            break;
        }
    }
    let name_last = i;
    i += 1;
    match at(i) {
        Some(t) if t.token == Token::LParen => {}
        Some(t) if t.is_kw("LIKE") => return Err(SchemaError::Unsupported { what: "CREATE TABLE ... LIKE".into() }),
        Some(t) if t.is_kw("AS") || t.is_kw("SELECT") => {
            return Err(SchemaError::Unsupported { what: "CREATE TABLE ... SELECT".into() })
        }
        Some(t) => {
            return Err(parse_error(format!(
                "expected `(` after the table name, found {} at {}",
                t.token,
                t.location()
            )))
        }
        None => return Err(parse_error("expected a column list after the table name")),
    }
    let list_open = i;
    let list_close =
        matching_paren(toks, list_open).ok_or_else(|| parse_error("the column list is not closed with `)`"))?;
    if let Some(t) = toks[list_close + 1..].iter().find(|t| t.is_kw("SELECT") || t.is_kw("AS") || t.is_kw("LIKE")) {
        return Err(SchemaError::Unsupported { what: format!("CREATE TABLE ... {} (at {})", t.token, t.location()) });
    }
    Ok(Header { or_replace, if_not_exists, name_first, name_last, list_open, list_close })
}

fn classify(toks: &[Tok]) -> ElemKind {
    let mut j = 0;
    if toks[0].is_kw("CONSTRAINT") {
        j = 1;
        let keyword = |t: &Tok| ["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"].iter().any(|k| t.is_kw(k));
        if toks.get(1).is_some_and(|t| !keyword(t)) {
            j = 2;
        }
    }
    let Some(t) = toks.get(j) else {
        return ElemKind::Check; // `CONSTRAINT name` alone: let the parser complain
    };
    if t.is_kw("PRIMARY") {
        ElemKind::Primary
    } else if t.is_kw("UNIQUE") {
        ElemKind::Unique
    } else if t.is_kw("FOREIGN") {
        ElemKind::Foreign
    } else if t.is_kw("CHECK") || j > 0 {
        ElemKind::Check
    } else if t.is_kw("KEY") || t.is_kw("INDEX") {
        ElemKind::Index
    } else if t.is_kw("FULLTEXT") || t.is_kw("SPATIAL") {
        ElemKind::FulltextOrSpatial
    } else {
        ElemKind::Column
    }
}

fn parse_element(lexed: &Lexed, first: usize, last: usize) -> Result<Def, SchemaError> {
    let toks = &lexed.toks[first..=last];
    let kind = classify(toks);
    if kind == ElemKind::Column {
        return parse_column(lexed, toks).map(|c| Def::Column(Box::new(c)));
    }
    let mut toks = toks;
    if matches!(kind, ElemKind::Primary | ElemKind::Unique | ElemKind::Index | ElemKind::FulltextOrSpatial) {
        // Index options after the key list (`USING BTREE`, `COMMENT`, `WITH PARSER`,
        // `INVISIBLE`, `KEY_BLOCK_SIZE`, ...) matter to the server only.
        if let Some(open) = toks.iter().position(|t| t.token == Token::LParen) {
            if let Some(close) = matching_paren(toks, open) {
                toks = &toks[..=close];
            }
        }
    }
    let d = dialect();
    let mut p = parser(&d, toks);
    match p.parse_optional_table_constraint() {
        Ok(Some(c)) => {
            expect_end(&p)?;
            Ok(Def::Constraint(Box::new(c)))
        }
        Ok(None) => Err(unexpected(&p)),
        Err(e) => Err(from_parser(e, toks)),
    }
}

/// The parser's message; one about the end of the tokens (an element is parsed alone)
/// gets the position where the element ends.
fn from_parser(e: ParserError, toks: &[Tok]) -> SchemaError {
    let mut message = e.to_string();
    if !message.contains(" at Line: ") {
        if let Some(t) = toks.last() {
            message.push_str(&format!(
                " at line {}, column {} (the end of the definition)",
                t.span.end.line, t.span.end.column
            ));
        }
    }
    parse_error(message)
}

fn unexpected(p: &Parser) -> SchemaError {
    let t = p.peek_token();
    parse_error(format!("unexpected {} at line {}, column {}", t.token, t.span.start.line, t.span.start.column))
}

fn expect_end(p: &Parser) -> Result<(), SchemaError> {
    if p.peek_token().token == Token::EOF {
        Ok(())
    } else {
        Err(unexpected(p))
    }
}

fn word(text: &str, from: &Tok, to: &Tok) -> Tok {
    Tok {
        token: Token::make_word(text, None),
        span: Span::new(from.span.start, to.span.end),
        start: from.start,
        end: to.end,
    }
}

/// `NATIONAL VARCHAR(10)`, `LONG VARCHAR` and `LONG VARBINARY` in terms `sqlparser` knows.
fn rewrite_type_start(toks: &mut Vec<Tok>) {
    if toks.get(1).is_some_and(|t| t.is_kw("NATIONAL")) {
        toks.remove(1);
    }
    if toks.get(1).is_some_and(|t| t.is_kw("LONG")) {
        let merged = match toks.get(2) {
            Some(t) if t.is_kw("VARCHAR") => Some("MEDIUMTEXT"),
            Some(t) if t.is_kw("VARBINARY") => Some("MEDIUMBLOB"),
            _ => None,
        };
        if let Some(m) = merged {
            let w = word(m, &toks[1], &toks[2]);
            toks.splice(1..3, [w]);
        }
    }
}

/// Column attributes after the type that change nothing for hoist and that `sqlparser`
/// does not parse. Returns the tokens to parse, and the sign words (`UNSIGNED`,
/// `ZEROFILL`, `SIGNED`) found among them.
fn clean_column_options(rest: &[Tok]) -> (Vec<Tok>, Vec<Tok>) {
    let mut out = Vec::with_capacity(rest.len());
    let mut signs = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let is = |i: usize, kw: &str| rest.get(i).is_some_and(|t| t.is_kw(kw));
    while i < rest.len() {
        let t = &rest[i];
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 || !matches!(t.token, Token::Word(_)) {
            out.push(t.clone());
            i += 1;
            continue;
        }
        // Attributes with an argument that may look like one of the words below.
        if is(i, "COLLATE") || is(i, "COMMENT") {
            out.extend(rest.iter().skip(i).take(2).cloned());
            i += 2;
        } else if is(i, "CHARACTER") && is(i + 1, "SET") {
            out.extend(rest.iter().skip(i).take(3).cloned());
            i += 3;
        } else if is(i, "CHARSET") || is(i, "COLUMN_FORMAT") || is(i, "STORAGE") {
            i += 2;
        } else if is(i, "ENGINE_ATTRIBUTE") || is(i, "SECONDARY_ENGINE_ATTRIBUTE") || is(i, "COMPRESSED") {
            i += 1;
            if rest.get(i).is_some_and(|t| t.token == Token::Eq) {
                i += 2;
            } else if !t.is_kw("COMPRESSED") {
                i += 1;
            }
        } else if (is(i, "WITH") || is(i, "WITHOUT")) && is(i + 1, "SYSTEM") && is(i + 2, "VERSIONING") {
            i += 3;
        } else if is(i, "SERIAL") && is(i + 1, "DEFAULT") && is(i + 2, "VALUE") {
            let (a, b) = (&rest[i], &rest[i + 2]);
            out.extend(["NOT", "NULL", "AUTO_INCREMENT", "UNIQUE"].map(|w| word(w, a, b)));
            i += 3;
        } else if is(i, "PERSISTENT") {
            out.push(word("STORED", t, t));
            i += 1;
        } else if is(i, "ZEROFILL") || is(i, "UNSIGNED") || is(i, "SIGNED") {
            signs.push(t.clone());
            i += 1;
        } else if ["VISIBLE", "BINARY", "ASCII", "UNICODE", "BYTE"].iter().any(|k| t.is_kw(k)) {
            i += 1;
        } else {
            out.push(t.clone());
            i += 1;
        }
    }
    (out, signs)
}

fn parse_column(lexed: &Lexed, toks: &[Tok]) -> Result<ColumnElem, SchemaError> {
    let d = dialect();
    let mut head = toks.to_vec();
    rewrite_type_start(&mut head);
    let mut p = parser(&d, &head);
    let name = p.parse_identifier().map_err(|e| from_parser(e, toks))?;
    let data_type = p.parse_data_type().map_err(|e| from_parser(e, toks))?;
    let used = p.index().min(head.len());
    let type_end = head[..used].last().map_or(0, |t| t.end);

    let (rest, signs) = clean_column_options(&head[used..]);
    let mut p = parser(&d, &rest);
    let mut options = Vec::new();
    while p.peek_token().token != Token::EOF {
        let name = if p.parse_keyword(Keyword::CONSTRAINT) {
            let next = p.peek_token();
            let named = !["CHECK", "PRIMARY", "UNIQUE", "REFERENCES"].iter().any(
                |k| matches!(&next.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k)),
            );
            if named {
                Some(p.parse_identifier().map_err(|e| from_parser(e, toks))?)
            } else {
                None
            }
        } else {
            None
        };
        match p.parse_optional_column_option().map_err(|e| from_parser(e, toks))? {
            Some(option) => options.push(ColumnOptionDef { name, option }),
            None => return Err(unexpected(&p)),
        }
    }

    let mut type_toks: Vec<&Tok> = toks.iter().skip(1).take_while(|t| t.end <= type_end).collect();
    type_toks.extend(signs.iter());
    let type_text = type_text(&lexed.analysis, &type_toks);
    let zerofill = signs.iter().any(|t| t.is_kw("ZEROFILL"));
    let unsigned = zerofill || signs.iter().any(|t| t.is_kw("UNSIGNED"));
    let mut kind = column_kind(&data_type)?;
    if let ColumnKind::Integer { unsigned: u } = &mut kind {
        *u |= unsigned;
    }
    let serial = is_custom(&data_type, &["serial"]);
    let has = |f: &dyn Fn(&ColumnOption) -> bool| options.iter().any(|o| f(&o.option));
    let column = Column {
        name: name.value.clone(),
        kind,
        type_text,
        nullable: !serial && !has(&|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_))),
        has_default: has(&|o| matches!(o, ColumnOption::Default(_))),
        auto_increment: serial || has(&is_auto_increment),
        generated: has(&|o| matches!(o, ColumnOption::Generated { generation_expr: Some(_), .. })),
    };
    Ok(ColumnElem { def: ColumnDef { name, data_type, options }, column })
}

pub(crate) fn is_auto_increment(o: &ColumnOption) -> bool {
    matches!(o, ColumnOption::DialectSpecific(t) if t.iter().any(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTO_INCREMENT"))))
}

/// The type as written: keywords lowercased, one space between words, none around
/// punctuation; quoted strings kept as written.
fn type_text(text: &str, toks: &[&Tok]) -> String {
    let mut out = String::new();
    let mut prev: Option<&Token> = None;
    for t in toks {
        let tight = |tok: &Token| matches!(tok, Token::LParen | Token::RParen | Token::Comma | Token::Period);
        if let Some(p) = prev {
            let p_open = matches!(p, Token::LParen | Token::Comma | Token::Period);
            if !p_open && !tight(&t.token) {
                out.push(' ');
            }
        }
        match &t.token {
            Token::Word(w) if w.quote_style.is_none() => out.push_str(&w.value.to_lowercase()),
            _ => out.push_str(text.get(t.start..t.end).unwrap_or_default()),
        }
        prev = Some(&t.token);
    }
    out
}

fn custom_name(dt: &DataType) -> Option<String> {
    match dt {
        DataType::Custom(name, _) => name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

fn is_custom(dt: &DataType, names: &[&str]) -> bool {
    custom_name(dt).is_some_and(|n| names.contains(&n.as_str()))
}

const SPATIAL_TYPES: &[&str] = &[
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
];

fn column_kind(dt: &DataType) -> Result<ColumnKind, SchemaError> {
    use ColumnKind as K;
    use DataType as D;
    Ok(match dt {
        D::TinyInt(_)
        | D::SmallInt(_)
        | D::MediumInt(_)
        | D::Int(_)
        | D::Integer(_)
        | D::BigInt(_)
        | D::Int2(_)
        | D::Int4(_)
        | D::Int8(_)
        | D::Bool
        | D::Boolean => K::Integer { unsigned: false },
        D::TinyIntUnsigned(_)
        | D::SmallIntUnsigned(_)
        | D::MediumIntUnsigned(_)
        | D::IntUnsigned(_)
        | D::IntegerUnsigned(_)
        | D::BigIntUnsigned(_)
        | D::Int2Unsigned(_)
        | D::Int4Unsigned(_)
        | D::Int8Unsigned(_) => K::Integer { unsigned: true },
        D::Decimal(i) | D::DecimalUnsigned(i) | D::Numeric(i) | D::Dec(i) | D::DecUnsigned(i) => decimal(i)?,
        D::Float(_)
        | D::FloatUnsigned(_)
        | D::Real
        | D::RealUnsigned
        | D::Double(_)
        | D::DoubleUnsigned(_)
        | D::DoublePrecision
        | D::DoublePrecisionUnsigned
        | D::Float4
        | D::Float8 => K::Float,
        D::Char(_)
        | D::Character(_)
        | D::Varchar(_)
        | D::CharVarying(_)
        | D::CharacterVarying(_)
        | D::Nvarchar(_)
        | D::Text
        | D::TinyText
        | D::MediumText
        | D::LongText => K::Text,
        D::Binary(_) | D::Varbinary(_) | D::Blob(_) | D::TinyBlob | D::MediumBlob | D::LongBlob => K::Binary,
        D::Date | D::Time(..) | D::Datetime(_) | D::Timestamp(..) => K::Temporal,
        D::Bit(_) => K::Bit,
        D::JSON => K::Json,
        D::Enum(..) => K::Enum,
        D::Set(_) => K::Set,
        D::GeometricType(_) => K::Spatial,
        D::Custom(_, mods) => match custom_name(dt).as_deref() {
            Some("year") => K::Year,
            Some("serial") => K::Integer { unsigned: true },
            Some("int1" | "int3" | "middleint") => K::Integer { unsigned: false },
            Some("fixed") => {
                let n = |i: usize| mods.get(i).and_then(|m| m.trim().parse::<u64>().ok());
                match (n(0), n(1)) {
                    (Some(p), Some(s)) => decimal(&ExactNumberInfo::PrecisionAndScale(p, s as i64))?,
                    (Some(p), None) => decimal(&ExactNumberInfo::Precision(p))?,
                    _ => decimal(&ExactNumberInfo::None)?,
                }
            }
            Some("nchar" | "long" | "text" | "tinytext" | "mediumtext" | "longtext") => K::Text,
            Some(n) if SPATIAL_TYPES.contains(&n) => K::Spatial,
            _ => K::Other,
        },
        _ => K::Other,
    })
}

fn decimal(info: &ExactNumberInfo) -> Result<ColumnKind, SchemaError> {
    let (p, s) = match *info {
        ExactNumberInfo::None => (10, 0),
        ExactNumberInfo::Precision(p) => (p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (p, s.max(0) as u64),
    };
    match (u8::try_from(p), u8::try_from(s)) {
        (Ok(precision), Ok(scale)) => Ok(ColumnKind::Decimal { precision, scale }),
        _ => Err(SchemaError::Invalid { message: format!("DECIMAL({p},{s}) is too large") }),
    }
}

fn key_part(ic: &IndexColumn) -> KeyPart {
    let desc = matches!(ic.column.options.sort, Some(OrderBySort::Desc));
    match &ic.column.expr {
        Expr::Identifier(id) => KeyPart::Column { name: id.value.clone(), prefix: None, desc },
        Expr::Function(f) => {
            let prefix = match &f.args {
                FunctionArguments::List(l) if l.duplicate_treatment.is_none() && l.clauses.is_empty() => {
                    match l.args.as_slice() {
                        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] => match &v.value {
                            Value::Number(n, _) => n.parse::<u64>().ok(),
                            _ => None,
                        },
                        _ => None,
                    }
                }
                _ => None,
            };
            match (single_ident(&f.name), prefix) {
                (Some(name), Some(prefix)) => KeyPart::Column { name: name.value.clone(), prefix: Some(prefix), desc },
                _ => KeyPart::Expr { expr: Box::new(ic.column.expr.clone()), desc },
            }
        }
        Expr::Nested(e) => KeyPart::Expr { expr: e.clone(), desc },
        other => KeyPart::Expr { expr: Box::new(other.clone()), desc },
    }
}

fn single_ident(name: &ObjectName) -> Option<&Ident> {
    match name.0.as_slice() {
        [p] => p.as_ident(),
        _ => None,
    }
}

pub(crate) fn last_ident(name: &ObjectName) -> String {
    name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()).unwrap_or_else(|| name.to_string())
}

/// Checks the column list and gathers keys, foreign keys and checks.
fn build(lexed: Lexed, header: Header, elements: Vec<Element>, name: String) -> Result<Table, SchemaError> {
    let mut columns: Vec<Column> = Vec::new();
    for e in &elements {
        if let Def::Column(c) = &e.def {
            if columns.iter().any(|x| x.name.eq_ignore_ascii_case(&c.column.name)) {
                return Err(SchemaError::Invalid { message: format!("column `{}` is defined twice", c.column.name) });
            }
            columns.push(c.column.clone());
        }
    }
    if columns.is_empty() {
        return Err(SchemaError::Invalid { message: "the table has no columns".into() });
    }
    let resolve = |n: &str| -> Result<String, SchemaError> {
        columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(n))
            .map(|c| c.name.clone())
            .ok_or_else(|| SchemaError::Invalid { message: format!("key column `{n}` does not exist") })
    };
    let resolve_parts = |cols: &[IndexColumn]| -> Result<Vec<KeyPart>, SchemaError> {
        cols.iter()
            .map(|ic| match key_part(ic) {
                KeyPart::Column { name, prefix, desc } => Ok(KeyPart::Column { name: resolve(&name)?, prefix, desc }),
                e => Ok(e),
            })
            .collect()
    };

    let mut keys: Vec<(Key, Option<String>)> = Vec::new();
    let mut foreign_keys = Vec::new();
    let mut checks = Vec::new();
    let mut add_key = |element: usize, inline: bool, kind: KeyKind, name: Option<&Ident>, parts| {
        let key = Key {
            element,
            inline,
            kind,
            name: String::new(),
            named: name.is_some() || kind == KeyKind::Primary,
            parts,
        };
        keys.push((key, name.map(|n| n.value.clone())));
    };
    for (idx, e) in elements.iter().enumerate() {
        match &e.def {
            Def::Column(c) => {
                let col = KeyPart::Column { name: c.column.name.clone(), prefix: None, desc: false };
                if is_custom(&c.def.data_type, &["serial"]) {
                    add_key(idx, true, KeyKind::Unique, None, vec![col.clone()]);
                }
                for o in &c.def.options {
                    match &o.option {
                        ColumnOption::PrimaryKey(_) => add_key(idx, true, KeyKind::Primary, None, vec![col.clone()]),
                        ColumnOption::Unique(_) => add_key(idx, true, KeyKind::Unique, None, vec![col.clone()]),
                        ColumnOption::ForeignKey(fk) => foreign_keys.push(ForeignKey {
                            name: o.name.as_ref().map(|n| n.value.clone()),
                            columns: vec![c.column.name.clone()],
                            table: last_ident(&fk.foreign_table),
                            referred: fk.referred_columns.iter().map(|i| i.value.clone()).collect(),
                            on_delete: fk.on_delete,
                            on_update: fk.on_update,
                        }),
                        ColumnOption::Check(_) => checks.push(o.name.as_ref().map(|n| n.value.clone())),
                        _ => {}
                    }
                }
            }
            Def::Constraint(c) => match c.as_ref() {
                TableConstraint::PrimaryKey(pk) => {
                    add_key(idx, false, KeyKind::Primary, None, resolve_parts(&pk.columns)?)
                }
                TableConstraint::Unique(u) => add_key(
                    idx,
                    false,
                    KeyKind::Unique,
                    u.index_name.as_ref().or(u.name.as_ref()),
                    resolve_parts(&u.columns)?,
                ),
                TableConstraint::Index(i) => {
                    add_key(idx, false, KeyKind::Index, i.name.as_ref(), resolve_parts(&i.columns)?)
                }
                TableConstraint::FulltextOrSpatial(f) => add_key(
                    idx,
                    false,
                    if f.fulltext { KeyKind::Fulltext } else { KeyKind::Spatial },
                    f.opt_index_name.as_ref(),
                    resolve_parts(&f.columns)?,
                ),
                TableConstraint::ForeignKey(fk) => foreign_keys.push(ForeignKey {
                    name: fk.name.as_ref().map(|n| n.value.clone()),
                    columns: fk.columns.iter().map(|c| resolve(&c.value)).collect::<Result<_, _>>()?,
                    table: last_ident(&fk.foreign_table),
                    referred: fk.referred_columns.iter().map(|i| i.value.clone()).collect(),
                    on_delete: fk.on_delete,
                    on_update: fk.on_update,
                }),
                TableConstraint::Check(ch) => checks.push(ch.name.as_ref().map(|n| n.value.clone())),
                other => return Err(SchemaError::Unsupported { what: format!("table constraint `{other}`") }),
            },
        }
    }

    // Names: as written, or the one MySQL derives from the first column (`c`, `c_2`, ...).
    let mut used: Vec<String> = vec!["primary".into()];
    used.extend(keys.iter().filter_map(|(_, n)| n.as_ref().map(|n| n.to_lowercase())));
    let mut named_keys = Vec::with_capacity(keys.len());
    for (mut key, name) in keys {
        key.name = match (key.kind, name) {
            (KeyKind::Primary, _) => "PRIMARY".into(),
            (_, Some(n)) => n,
            (_, None) => {
                let base = key.parts.first().and_then(KeyPart::column).unwrap_or("functional_index").to_string();
                let mut candidate = base.clone();
                let mut n = 2;
                while used.contains(&candidate.to_lowercase()) {
                    candidate = format!("{base}_{n}");
                    n += 1;
                }
                used.push(candidate.to_lowercase());
                candidate
            }
        };
        named_keys.push(key);
    }
    let keys = named_keys;

    let primaries: Vec<&Key> = keys.iter().filter(|k| k.kind == KeyKind::Primary).collect();
    if primaries.len() > 1 {
        return Err(SchemaError::Invalid { message: "more than one PRIMARY KEY".into() });
    }
    let primary_key: Vec<String> = primaries
        .first()
        .map(|k| k.parts.iter().filter_map(|p| p.column().map(str::to_string)).collect())
        .unwrap_or_default();
    for c in &mut columns {
        if primary_key.iter().any(|p| p == &c.name) {
            c.nullable = false;
        }
    }
    let mut elements = elements;
    for e in &mut elements {
        if let Def::Column(c) = &mut e.def {
            if primary_key.iter().any(|p| p == &c.column.name) {
                c.column.nullable = false;
            }
        }
    }
    let unique_keys = keys
        .iter()
        .filter(|k| k.kind == KeyKind::Unique)
        .filter_map(|k| k.parts.iter().map(|p| p.column().map(str::to_string)).collect::<Option<Vec<_>>>())
        .collect();
    let schema = TableSchema { name, columns, primary_key, unique_keys };
    Ok(Table { lexed, header, elements, schema, keys, foreign_keys, checks })
}
