//! What one statement of a mysqldump file is, read from its first words: the version-comment
//! markers mysqldump wraps its DDL in (`/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003
//! TRIGGER ...`) are code and are read through; quoted names are names, never keywords.

/// A name as written, maybe qualified with its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub database: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A session `SET` (also `/*!40101 SET ... */`).
    Set,
    Use(String),
    CreateDatabase(String),
    /// `CREATE TABLE`, also the placeholder of a view that older mysqldump versions write.
    CreateTable(Name),
    CreateView(Name),
    CreateTrigger {
        name: Name,
        table: Name,
    },
    /// A function, procedure or event: what a directory dump's `-schema-post.sql` holds.
    CreateRoutine(Name),
    /// mysqldump switches a database's character set around a routine written under another.
    AlterDatabase(Option<String>),
    Insert,
    /// What mysqldump writes around the data and that means nothing to a load into empty
    /// tables: `DROP ... IF EXISTS`, `LOCK`/`UNLOCK TABLES`, `ALTER TABLE ... DISABLE KEYS`,
    /// transaction statements.
    Ignored,
    /// Anything else (`CHANGE MASTER TO`, `SET GLOBAL`, `GRANT`...): not loaded, and said so.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word { text: String, quoted: bool },
    Punct(char),
}

/// The kind of a statement (its text without the delimiter).
pub fn kind(text: &str) -> Kind {
    let tokens = tokens(text, 64);
    let mut at = 0;
    let Some(first) = keyword(&tokens, 0) else { return Kind::Other };
    match first.as_str() {
        "set" => match keyword(&tokens, 1).as_deref() {
            Some("global" | "persist" | "persist_only") => Kind::Other,
            _ if text.to_ascii_lowercase().contains("@@global.") => Kind::Other,
            _ => Kind::Set,
        },
        "use" => name_at(&tokens, 1).map_or(Kind::Other, |(n, _)| Kind::Use(n.name)),
        "insert" | "replace" => Kind::Insert,
        "lock" | "unlock" | "drop" | "begin" | "commit" | "rollback" | "start" => Kind::Ignored,
        "alter" => match keyword(&tokens, 1).as_deref() {
            Some("database" | "schema") => {
                let name = skip_if_exists(&tokens, 2);
                Kind::AlterDatabase(name_at(&tokens, name).map(|(n, _)| n.name))
            }
            Some("table") if keys_switch(&tokens) => Kind::Ignored,
            _ => Kind::Other,
        },
        "create" => {
            at += 1;
            // Modifiers before the object keyword; DEFINER's user may be any word.
            while let Some(word) = keyword(&tokens, at) {
                match word.as_str() {
                    "database" | "schema" => {
                        return name_at(&tokens, skip_if_exists(&tokens, at + 1))
                            .map_or(Kind::Other, |(n, _)| Kind::CreateDatabase(n.name))
                    }
                    "table" => {
                        return name_at(&tokens, skip_if_exists(&tokens, at + 1))
                            .map_or(Kind::Other, |(n, _)| Kind::CreateTable(n))
                    }
                    "view" => {
                        return name_at(&tokens, skip_if_exists(&tokens, at + 1))
                            .map_or(Kind::Other, |(n, _)| Kind::CreateView(n))
                    }
                    "function" | "procedure" | "event" => {
                        return name_at(&tokens, skip_if_exists(&tokens, at + 1))
                            .map_or(Kind::Other, |(n, _)| Kind::CreateRoutine(n))
                    }
                    "trigger" => return trigger(&tokens, skip_if_exists(&tokens, at + 1)),
                    "definer" => at = after_definer(&tokens, at + 1),
                    // `SQL SECURITY DEFINER|INVOKER`: its value is not a DEFINER clause.
                    "security" => at += 2,
                    "or" | "replace" | "temporary" | "algorithm" | "sql" | "aggregate" => at += 1,
                    _ => return Kind::Other,
                }
                // `ALGORITHM=UNDEFINED`: the `=` and the value.
                while matches!(tokens.get(at), Some(Token::Punct('='))) {
                    at += 2;
                }
            }
            Kind::Other
        }
        _ => Kind::Other,
    }
}

/// `TRIGGER name {BEFORE|AFTER} event ON table` from the trigger's name at `at`.
fn trigger(tokens: &[Token], at: usize) -> Kind {
    let Some((name, after)) = name_at(tokens, at) else { return Kind::Other };
    let on = (after..tokens.len()).find(|&i| keyword(tokens, i).as_deref() == Some("on"));
    match on.and_then(|i| name_at(tokens, i + 1)) {
        Some((table, _)) => Kind::CreateTrigger { name, table },
        None => Kind::Other,
    }
}

/// `ALTER TABLE t DISABLE KEYS` / `ENABLE KEYS`, which mysqldump writes around the rows.
fn keys_switch(tokens: &[Token]) -> bool {
    let n = tokens.len();
    n >= 2
        && keyword(tokens, n - 1).as_deref() == Some("keys")
        && matches!(keyword(tokens, n - 2).as_deref(), Some("disable" | "enable"))
}

/// The index after `IF [NOT] EXISTS` at `at`, or `at`.
fn skip_if_exists(tokens: &[Token], at: usize) -> usize {
    if keyword(tokens, at).as_deref() != Some("if") {
        return at;
    }
    match keyword(tokens, at + 1).as_deref() {
        Some("not") => at + 3,
        _ => at + 2,
    }
}

/// After `DEFINER = user@host` (or `CURRENT_USER[()]`), from the token after DEFINER.
fn after_definer(tokens: &[Token], mut at: usize) -> usize {
    if matches!(tokens.get(at), Some(Token::Punct('='))) {
        at += 1;
    }
    at += 1;
    match tokens.get(at) {
        Some(Token::Punct('@')) => at + 2,
        Some(Token::Punct('(')) => at + 2,
        _ => at,
    }
}

/// An unquoted word at `i`, lower case.
fn keyword(tokens: &[Token], i: usize) -> Option<String> {
    match tokens.get(i) {
        Some(Token::Word { text, quoted: false }) => Some(text.to_ascii_lowercase()),
        _ => None,
    }
}

/// `name` or `db.name` at `i`, and the index after it.
fn name_at(tokens: &[Token], i: usize) -> Option<(Name, usize)> {
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word { text, .. }) => Some(text.clone()),
        _ => None,
    };
    let first = word(i)?;
    match (tokens.get(i + 1), word(i + 2)) {
        (Some(Token::Punct('.')), Some(second)) => Some((Name { database: Some(first), name: second }, i + 3)),
        _ => Some((Name { database: None, name: first }, i + 1)),
    }
}

/// The first `limit` tokens of SQL text: words (names and strings unquoted, marked as quoted)
/// and punctuation; comments and version-comment markers skipped.
fn tokens(text: &str, limit: usize) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < limit {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let marker = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(b'!'), _) => Some(i + 3),
                    (Some(b'M'), Some(b'!')) => Some(i + 4),
                    _ => None,
                };
                match marker {
                    // Version-comment code: drop the marker and its version number.
                    Some(mut j) => {
                        while j < b.len() && b[j].is_ascii_digit() {
                            j += 1;
                        }
                        i = j;
                    }
                    None => i = find(b, i + 2, b"*/").map_or(b.len(), |e| e + 2),
                }
            }
            b'*' if b.get(i + 1) == Some(&b'/') => i += 2,
            b'#' => i = find(b, i, b"\n").unwrap_or(b.len()),
            b'-' if b.get(i + 1) == Some(&b'-') && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) => {
                i = find(b, i, b"\n").unwrap_or(b.len())
            }
            // Names and strings alike (`'user'@'host'` is a DEFINER's name).
            q @ (b'`' | b'"' | b'\'') => {
                let mut name = Vec::new();
                let mut j = i + 1;
                while j < b.len() {
                    if b[j] == b'\\' && q != b'`' {
                        name.extend(b.get(j + 1));
                        j += 2;
                        continue;
                    }
                    if b[j] == q {
                        if b.get(j + 1) == Some(&q) {
                            name.push(q);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    name.push(b[j]);
                    j += 1;
                }
                out.push(Token::Word { text: String::from_utf8_lossy(&name).into_owned(), quoted: true });
                i = j + 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80) {
                    i += 1;
                }
                out.push(Token::Word { text: text[start..i].to_string(), quoted: false });
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                out.push(Token::Punct(c as char));
                i += 1;
            }
        }
    }
    out
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(db: Option<&str>, n: &str) -> Name {
        Name { database: db.map(String::from), name: n.into() }
    }

    #[test]
    fn mysqldump_statements() {
        let cases: Vec<(&str, Kind)> = vec![
            ("/*!40101 SET NAMES utf8mb4 */", Kind::Set),
            ("SET @saved_cs_client     = @@character_set_client", Kind::Set),
            ("SET GLOBAL gtid_slave_pos='0-1-5'", Kind::Other),
            ("/*!40101 SET @@GLOBAL.GTID_PURGED='x' */", Kind::Other),
            ("USE `sakila`", Kind::Use("sakila".into())),
            (
                "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a``b` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
                Kind::CreateDatabase("a`b".into()),
            ),
            ("CREATE TABLE `actor` (\n  `actor_id` smallint", Kind::CreateTable(name(None, "actor"))),
            (
                "/*!50001 CREATE TABLE `v` (\n `a` tinyint NOT NULL\n) ENGINE=MyISAM */",
                Kind::CreateTable(name(None, "v")),
            ),
            ("CREATE TABLE IF NOT EXISTS `d`.`t` (a int)", Kind::CreateTable(name(Some("d"), "t"))),
            (
                "/*!50001 CREATE VIEW `actor_info` AS SELECT\n 1 AS `actor_id` */",
                Kind::CreateView(name(None, "actor_info")),
            ),
            (
                "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`view`@`localhost` SQL SECURITY INVOKER */\n\
                 /*!50001 VIEW `film_list` AS select 1 */",
                Kind::CreateView(name(None, "film_list")),
            ),
            (
                "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER customer_create_date \
                 BEFORE INSERT ON customer\n\tFOR EACH ROW SET NEW.create_date = NOW() */",
                Kind::CreateTrigger { name: name(None, "customer_create_date"), table: name(None, "customer") },
            ),
            (
                "CREATE DEFINER=`root`@`localhost` FUNCTION `get_customer_balance`(p INT) RETURNS decimal(5,2)",
                Kind::CreateRoutine(name(None, "get_customer_balance")),
            ),
            ("CREATE DEFINER=CURRENT_USER() PROCEDURE p() BEGIN END", Kind::CreateRoutine(name(None, "p"))),
            ("CREATE DEFINER='a'@'%' SQL SECURITY DEFINER VIEW v AS SELECT 1", Kind::CreateView(name(None, "v"))),
            (
                "/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DO",
                Kind::CreateRoutine(name(None, "e")),
            ),
            ("ALTER DATABASE `sakila` CHARACTER SET latin1", Kind::AlterDatabase(Some("sakila".into()))),
            ("/*!40000 ALTER TABLE `actor` DISABLE KEYS */", Kind::Ignored),
            ("ALTER TABLE `actor` ADD KEY (a)", Kind::Other),
            ("INSERT INTO `actor` VALUES (1)", Kind::Insert),
            ("LOCK TABLES `actor` WRITE", Kind::Ignored),
            ("/*!50001 DROP VIEW IF EXISTS `actor_info`*/", Kind::Ignored),
            ("CHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=4", Kind::Other),
            ("CREATE SEQUENCE s start with 1", Kind::Other),
            // A quoted name is never a keyword.
            ("CREATE TABLE `view` (a int)", Kind::CreateTable(name(None, "view"))),
        ];
        for (sql, want) in cases {
            assert_eq!(kind(sql), want, "{sql}");
        }
    }
}
