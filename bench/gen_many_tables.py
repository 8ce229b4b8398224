#!/usr/bin/env python3
"""A mydumper-style dump of many small tables, or of one table holding the same rows, to
compare hoist's cost per row: `--tables 10000 --rows 20` against `--tables 1 --rows 200000`.

    gen_many_tables.py --out DIR --tables N --rows R [--database many]

Each table: `id` INT PRIMARY KEY, `name` VARCHAR(40), `amount` DECIMAL(10,2), `created`
DATETIME, KEY on `created` (so every table has a deferred index). Deterministic.
"""
import argparse
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--tables", type=int, required=True)
    ap.add_argument("--rows", type=int, required=True, help="rows per table")
    ap.add_argument("--database", default="many")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    db = a.database
    with open(os.path.join(a.out, f"{db}-schema-create.sql"), "w") as f:
        f.write(f"CREATE DATABASE `{db}`;\n")
    for t in range(a.tables):
        name = f"t{t:05d}"
        with open(os.path.join(a.out, f"{db}.{name}-schema.sql"), "w") as f:
            f.write(
                f"CREATE TABLE `{name}` (\n  `id` int NOT NULL,\n  `name` varchar(40) NOT NULL,\n"
                f"  `amount` decimal(10,2) DEFAULT NULL,\n  `created` datetime NOT NULL,\n"
                f"  PRIMARY KEY (`id`),\n  KEY `idx_created` (`created`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n"
            )
        lines = []
        for r in range(a.rows):
            i = t * a.rows + r
            amount = "NULL" if i % 17 == 0 else f"{(i * 7919) % 100000 / 100:.2f}"
            lines.append(
                f"({r + 1},'name-{i:08d} it''s',{amount},'2024-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00')"
            )
        with open(os.path.join(a.out, f"{db}.{name}.00000.sql"), "w") as f:
            f.write("/*!40101 SET NAMES binary*/;\n")
            for start in range(0, len(lines), 2000):
                f.write(f"INSERT INTO `{name}` VALUES\n" + ",\n".join(lines[start:start + 2000]) + ";\n")


if __name__ == "__main__":
    main()
