//! A hostile server: it answers hoist's LOAD DATA LOCAL INFILE with a request for another
//! file. hoist must send nothing of it, stop the batch, say which file was asked for, and not
//! take the refusal for a hiccup to retry.

use hoist_testkit::fake_mysql::{Answer, FakeMysql, Rule};

use crate::util::import;

/// A dump of one table of two rows.
fn small_dump(dir: &std::path::Path) -> std::path::PathBuf {
    let dump = dir.join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    std::fs::write(dump.join("shop-schema-create.sql"), "CREATE DATABASE `shop`;\n").unwrap();
    std::fs::write(
        dump.join("shop.items-schema.sql"),
        "CREATE TABLE `items` (`id` int NOT NULL, `name` varchar(20), PRIMARY KEY (`id`));\n",
    )
    .unwrap();
    std::fs::write(dump.join("shop.items.000000000.sql"), "INSERT INTO `items` VALUES (1,'a'),(2,'b');\n").unwrap();
    dump
}

/// What hoist must see to get as far as LOAD DATA; everything else is answered OK.
fn hostile_server() -> FakeMysql {
    let columns = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    let text = |values: &[&str]| values.iter().map(|v| Some(v.to_string())).collect();
    FakeMysql::start(vec![
        Rule::new("@@local_infile", Answer::value("@@local_infile", "1")),
        // The columns with their types, for the content checksum's row hashes.
        Rule::new(
            "column_type",
            Answer::Rows {
                columns: columns(&[
                    "COLUMN_NAME",
                    "DATA_TYPE",
                    "COLUMN_TYPE",
                    "CHARACTER_SET_NAME",
                    "EXTRA",
                    "IS_NULLABLE",
                ]),
                rows: vec![
                    text(&["id", "int", "int(11)", "", "", "NO"]),
                    text(&["name", "varchar", "varchar(20)", "utf8mb4", "", "YES"]),
                ],
            },
        ),
        Rule::new(
            "information_schema.COLUMNS",
            Answer::Rows {
                columns: columns(&["COLUMN_NAME", "DATA_TYPE", "EXTRA"]),
                rows: vec![text(&["id", "int", ""]), text(&["name", "varchar", ""])],
            },
        ),
        Rule::new("GET_LOCK", Answer::value("GET_LOCK", "1")),
        Rule::new("LOAD DATA LOCAL INFILE", Answer::LocalInfile("/etc/passwd".into())),
    ])
}

#[test]
fn a_server_asking_for_another_file_gets_nothing_and_the_batch_stops() {
    let dir = tempfile::tempdir().unwrap();
    let dump = small_dump(dir.path());
    let server = hostile_server();
    let run = import(&dump, &server.url(), dir.path(), &["--write-mode", "load-data", "--max-retries", "2"]);
    let text = run.text();

    assert!(!run.ok(), "the import cannot succeed:\n{text}");
    assert!(server.statements().iter().any(|s| s.contains("LOAD DATA LOCAL INFILE")), "{text}");
    // Nothing of the file left: no infile bytes, and none of its lines in anything sent.
    assert!(server.infile_data().is_empty(), "hoist sent {:?}", String::from_utf8_lossy(&server.infile_data()));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let first = passwd.lines().next().unwrap();
    let sent = String::from_utf8_lossy(&server.received()).into_owned();
    assert!(!sent.contains(first), "hoist sent a line of /etc/passwd");
    // It says why, naming the file the server asked for.
    assert!(text.contains("\"/etc/passwd\"") && text.contains("sent nothing of it"), "{text}");
    assert!(text.contains("shop.items.000000000.sql"), "the message names the batch's file:\n{text}");
    // A refusal, not a hiccup: asked once, never retried, and not called transient.
    assert_eq!(server.infile_requests(), 1, "a refused LOCAL INFILE request is not retried:\n{text}");
    assert!(!text.contains("usually passes") && !text.contains("retry"), "{text}");
}
