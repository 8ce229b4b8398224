#!/usr/bin/env python3
"""Helpers of bench/run.sh (not meant to be run by hand).

    helpers.py sqlite-prepare CSV_DIR OUT_DIR     RFC 4180 copy of a Dumpling CSV dump for the
                                                  sqlite3 shell, the shell script that loads it,
                                                  and the expected fingerprints of every table
    helpers.py sqlite-check DB OUT_DIR exact|shell
                                                  row counts, indexes and fingerprints of DB
    helpers.py report TSV                         the summary table of a run
    helpers.py backupmeta FILE DB                 writers_blocked_ms, data files and rows per
                                                  table of DB in a hoist backupmeta.json
    helpers.py backup-report TSV                  the summary table of backup_restore.sh

Why a copy for sqlite3: the shell's `.import --csv` reads RFC 4180 only (quotes doubled, no
backslash escapes, no NULL), so Dumpling's `\\"`, `\\n` and bare `\\N` would be read wrong.
The copy holds the same values: quoted as RFC 4180 wants, NULL written as a sentinel that
the timed script turns into NULL with one UPDATE per table. One thing the shell cannot do at
all: it binds every field as a C string, so a value holding a NUL byte is cut at the NUL
(the dump has such values in orders.label, events.note and the blobs). The `shell`
fingerprint therefore compares values up to their first NUL byte; hoist's SQLite load is
checked with the `exact` one.

A fingerprint is, per table, the row count and the sum (mod 2^64) of a 64-bit BLAKE2b hash
of each row, so row order does not matter (events has no key). Values are compared as
bytes, and numbers by their value, so storage classes (TEXT or BLOB, INTEGER or REAL) do not
matter.
"""
import hashlib
import json
import os
import re
import sqlite3
import statistics
import sys

NULL_SENTINEL = b"#HOIST_BENCH_NULL#"

# The schema hoist creates in SQLite for gen_dump.py's tables (checked against a hoist-made
# file: same names, types, keys; the secondary index is created after the data).
SQLITE_TABLES = {
    "orders": [("id", "INTEGER PRIMARY KEY"), ("customer_id", "INTEGER NOT NULL"),
               ("amount", "NUMERIC NOT NULL"), ("label", "TEXT NOT NULL"),
               ("created_at", "TEXT NOT NULL"), ("body", "TEXT NOT NULL")],
    "events": [("ts", "TEXT NOT NULL"), ("kind", "TEXT NOT NULL"),
               ("user_id", "INTEGER DEFAULT NULL"), ("score", "REAL DEFAULT NULL"),
               ("note", "TEXT DEFAULT NULL")],
    "blobs": [("id", "INTEGER PRIMARY KEY"), ("tag", "BLOB NOT NULL"),
              ("data", "BLOB DEFAULT NULL")],
}


def numeric_cols(table):
    return [t.split()[0] in ("INTEGER", "REAL", "NUMERIC") for _, t in SQLITE_TABLES[table]]


def nullable_cols(table):
    return [c for c, t in SQLITE_TABLES[table] if "NOT NULL" not in t and "PRIMARY KEY" not in t]


def q(name):
    return '"' + name.replace('"', '""') + '"'


# ------------------------------------------------------------- fingerprints --
def norm(v, numeric, shell):
    if v is None:
        return b"\xffNULL"
    if numeric:
        try:
            return repr(float(v)).encode()
        except (TypeError, ValueError):
            pass
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    elif isinstance(v, (int, float)):
        v = repr(v).encode()
    if shell:
        v = v.split(b"\0", 1)[0]
    return v


class Fingerprint:
    def __init__(self, table, shell):
        self.numeric = numeric_cols(table)
        self.shell = shell
        self.rows = 0
        self.sum = 0

    def add(self, values):
        h = hashlib.blake2b(digest_size=8)
        for v, num in zip(values, self.numeric):
            b = norm(v, num, self.shell)
            h.update(len(b).to_bytes(4, "little"))
            h.update(b)
        self.rows += 1
        self.sum = (self.sum + int.from_bytes(h.digest(), "little")) & 0xFFFFFFFFFFFFFFFF

    def value(self):
        return {"rows": self.rows, "sum": "%016x" % self.sum}


# ------------------------------------------------------------ Dumpling CSV --
QUOTED = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"', re.S)
ESCAPE = re.compile(rb"\\(.)", re.S)
UNESCAPE = {b"0": b"\0", b"b": b"\x08", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"Z": b"\x1a"}


def unescape(s):
    if b"\\" not in s:
        return s
    return ESCAPE.sub(lambda m: UNESCAPE.get(m.group(1), m.group(1)), s)


def dumpling_fields(line):
    """Fields of one Dumpling CSV record (bytes; None for a bare \\N)."""
    out, pos, n = [], 0, len(line)
    while True:
        if pos < n and line[pos] == 0x22:
            m = QUOTED.match(line, pos)
            if not m:
                raise ValueError("bad quoted field at byte %d: %r" % (pos, line[pos:pos + 60]))
            out.append(unescape(m.group(1)))
            pos = m.end()
        else:
            end = line.find(b",", pos)
            end = n if end < 0 else end
            raw = line[pos:end]
            out.append(None if raw == b"\\N" else unescape(raw))
            pos = end
        if pos == n:
            return out
        if line[pos] != 0x2C:
            raise ValueError("text after a quoted field at byte %d: %r" % (pos, line[pos:pos + 60]))
        pos += 1


def rfc4180(v):
    if v is None:
        return NULL_SENTINEL
    if v == NULL_SENTINEL:
        raise ValueError("a value equals the NULL sentinel")
    if any(c in v for c in (b",", b'"', b"\r", b"\n")) or v[:1] in (b" ", b"\t"):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def sqlite_prepare(csv_dir, out_dir):
    with open(os.path.join(csv_dir, "manifest.json")) as f:
        m = json.load(f)
    eol = m["csv"]["line_terminator"].encode()
    os.makedirs(out_dir, exist_ok=True)
    expected = {"source_manifest": m, "tables": {}}
    files = []
    for table, info in m["tables"].items():
        width = len(SQLITE_TABLES[table])
        exact, shell = Fingerprint(table, False), Fingerprint(table, True)
        for fi in info["files"]:
            with open(os.path.join(csv_dir, fi["file"]), "rb") as f:
                data = f.read()
            lines = data.split(eol)
            if lines and lines[-1] == b"":
                lines.pop()
            name = fi["file"].rsplit(".", 1)[0] + ".rfc4180.csv"
            with open(os.path.join(out_dir, name), "wb", buffering=1 << 20) as out:
                out.write(b",".join(rfc4180(x) for x in dumpling_fields(lines[0])) + b"\n")
                for ln in lines[1:]:
                    vals = dumpling_fields(ln)
                    if len(vals) != width:
                        raise ValueError("%s: %d fields, want %d: %r" % (fi["file"], len(vals), width, ln[:80]))
                    exact.add(vals)
                    shell.add(vals)
                    out.write(b",".join(rfc4180(x) for x in vals) + b"\n")
            files.append((table, name))
        if exact.rows != info["rows"]:
            raise ValueError("%s: %d rows parsed, manifest says %d" % (table, exact.rows, info["rows"]))
        expected["tables"][table] = {"exact": exact.value(), "shell": shell.value(),
                                     "secondary_indexes": len(info["secondary_indexes"])}

    # The timed sqlite3 script: same pragmas as hoist's SQLite target, tables, one .import
    # per file (the shell wraps each in one transaction), NULLs, then the secondary indexes.
    s = [".bail on", "PRAGMA journal_mode = WAL;", "PRAGMA synchronous = NORMAL;"]
    for table in m["tables"]:
        cols = ", ".join("%s %s" % (q(c), t) for c, t in SQLITE_TABLES[table])
        s.append("CREATE TABLE %s (%s);" % (q(table), cols))
    for table, name in files:
        s.append(".import --csv --skip 1 '%s' %s" % (os.path.join(os.path.abspath(out_dir), name), table))
    sentinel = "'%s'" % NULL_SENTINEL.decode()
    s.append("BEGIN;")
    for table in m["tables"]:
        cols = nullable_cols(table)
        if cols:
            s.append("UPDATE %s SET %s WHERE %s;" % (
                q(table), ", ".join("%s = NULLIF(%s, %s)" % (q(c), q(c), sentinel) for c in cols),
                " OR ".join("%s = %s" % (q(c), sentinel) for c in cols)))
    s.append("COMMIT;")
    for table, info in m["tables"].items():
        for ix in info["secondary_indexes"]:
            cols = ", ".join(q(c) for c in re.findall(r"`([^`]+)`", ix["columns"]))
            s.append("CREATE INDEX %s ON %s (%s);" % (q(table + "_" + ix["name"]), q(table), cols))
    with open(os.path.join(out_dir, "import.sql"), "w") as f:
        f.write("\n".join(s) + "\n")
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def sqlite_check(db, out_dir, mode):
    with open(os.path.join(out_dir, "expected.json")) as f:
        expected = json.load(f)
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.text_factory = bytes
    ok, parts = True, []
    for table, want in expected["tables"].items():
        fp = Fingerprint(table, mode == "shell")
        try:
            for row in con.execute("SELECT * FROM %s" % q(table)):
                fp.add(row)
        except sqlite3.Error as e:
            print("%s: %s" % (table, e), file=sys.stderr)
            ok = False
            continue
        got = fp.value()
        nidx = con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                           "AND sql IS NOT NULL", (table,)).fetchone()[0]
        if got != want[mode]:
            ok = False
            print("%s: MISMATCH rows %d (want %d), fingerprint %s (want %s)"
                  % (table, got["rows"], want[mode]["rows"], got["sum"], want[mode]["sum"]), file=sys.stderr)
        if nidx != want["secondary_indexes"]:
            ok = False
            print("%s: %d secondary indexes, want %d" % (table, nidx, want["secondary_indexes"]), file=sys.stderr)
        parts.append("%s=%s" % (table, got["sum"]))
    print("%s:%s" % (mode, ",".join(parts)))
    sys.exit(0 if ok else 1)


# ------------------------------------------------------------------ report --
def fmt_table(hdrs, rows, left=("case", "tool")):
    table = [hdrs] + rows
    w = [max(len(x[j]) for x in table) for j in range(len(hdrs))]
    out = []
    for k, x in enumerate(table):
        out.append("  ".join(v.ljust(w[j]) if hdrs[j] in left else v.rjust(w[j]) for j, v in enumerate(x)))
        if k == 0:
            out.append("  ".join("-" * n for n in w))
    return "\n".join(out)


def report(tsv):
    with open(tsv) as f:
        lines = [ln.rstrip("\n").split("\t") for ln in f if not ln.startswith("#")]
    hdr, body = lines[0], lines[1:]
    col = {h: i for i, h in enumerate(hdr)}
    order = []
    for r in body:
        if r[col["case"]] not in order:
            order.append(r[col["case"]])
    stats = {}
    for c in order:
        rs = sorted((r for r in body if r[col["case"]] == c), key=lambda r: float(r[col["wall_s"]]))
        walls = [float(r[col["wall_s"]]) for r in rs]
        stats[c] = (rs, walls, statistics.median(walls))
    base = {"mariadb": "hoist-sql", "sqlite": "hoist-sqlite"}
    out = []
    for c in order:
        rs, walls, med = stats[c]
        r = rs[(len(rs) - 1) // 2]              # lower median: an actual run
        rows = int(r[col["rows"]])
        src_mb = float(r[col["src_MB"]])
        b = base[r[col["target"]]]
        ratio = "%.2f" % (med / stats[b][2]) if b in stats and stats[b][2] > 0 else "-"
        good = all(x[col["rc"]] == "0" and x[col["check"]] == "ok" for x in rs)
        out.append([c, r[col["tool"]], "%.2f" % med,
                    "%.2f-%.2f" % (walls[0], walls[-1]) if len(walls) > 1 else "-",
                    "%.0f" % (rows / med if med else 0), "%.1f" % (src_mb / med if med else 0),
                    r[col["client_peak_rss_MiB"]], r[col["client_cpu_s"]], r[col["server_cpu_s"]],
                    r[col["binlog_MB"]], ratio, "ok" if good else "FAIL"])
    print(fmt_table(["case", "tool", "wall s (median)", "range", "rows/s", "MB/s", "RSS MiB",
                     "client CPU s", "server CPU s", "binlog MB", "x hoist", "check"], out))
    print("x hoist: median wall / median wall of hoist-sql (MariaDB cases) or hoist-sqlite (SQLite cases).")
    print("MB/s: bytes of the files the case reads (SQL dump, CSV dump, or the RFC 4180 copy for sqlite3)"
          " / median wall; RSS, CPU and binlog from the lower-median run.")


# ------------------------------------------------------ backup_restore.sh --
def backupmeta(path, db):
    with open(path) as f:
        m = json.load(f)
    print("blocked_ms %.1f" % m["writers_blocked_ms"])
    tables = [t for t in m["tables"] if t["database"] == db]
    print("chunks %d" % sum(len(t["chunks"]) for t in tables))
    for t in tables:
        print("rows %s %d" % (t["name"], t["rows"]))


def backup_report(tsv):
    with open(tsv) as f:
        lines = [ln.rstrip("\n").split("\t") for ln in f if not ln.startswith("#")]
    hdr, body = lines[0], [r for r in lines[1:] if r[0] != "0"]
    col = {h: i for i, h in enumerate(hdr)}
    base = {"backup": "hoist-backup-t2", "restore": "hoist-restore"}
    order, stats = [], {}
    for r in body:
        if r[col["case"]] not in order:
            order.append(r[col["case"]])
    for c in order:
        rs = sorted((r for r in body if r[col["case"]] == c), key=lambda r: float(r[col["wall_s"]]))
        walls = [float(r[col["wall_s"]]) for r in rs]
        stats[c] = (rs, walls, statistics.median(walls))
    for phase in ("backup", "restore"):
        out = []
        for c in order:
            rs, walls, med = stats[c]
            if rs[0][col["phase"]] != phase:
                continue
            r = rs[(len(rs) - 1) // 2]              # lower median: an actual run
            b = base[phase]
            ratio = "%.2f" % (med / stats[b][2]) if b in stats and stats[b][2] > 0 else "-"
            good = all(x[col["rc"]] == "0" and x[col["check"]] == "ok" for x in rs)
            extra = ([r[col["sync_s"]], r[col["writers_blocked_ms"]]] if phase == "backup"
                     else [r[col["binlog_MB"]]])
            out.append([c, r[col["tool"]], "%.2f" % med,
                        "%.2f-%.2f" % (walls[0], walls[-1]) if len(walls) > 1 else "-",
                        "%.1f" % (float(r[col["src_MB"]]) / med if med else 0),
                        r[col["data_MB"]], r[col["data_files"]], r[col["client_peak_rss_MiB"]],
                        r[col["client_cpu_s"]], r[col["server_cpu_s"]]]
                       + ([r[col["other_cpu_s"]]] if "other_cpu_s" in col else []) + extra
                       + [ratio, "ok" if good else "FAIL"])
        if not out:
            continue
        extra_h = ["sync s", "blocked ms"] if phase == "backup" else ["binlog MB"]
        print("%s:" % phase)
        print(fmt_table(["case", "tool", "wall s (median)", "range", "MB/s", "out MB" if phase == "backup"
                         else "in MB", "files", "RSS MiB", "client CPU s", "server CPU s"]
                        + (["other CPU s"] if "other_cpu_s" in col else []) + extra_h
                        + ["x hoist", "check"], out))
        print()
    print("x hoist: median wall / median wall of hoist-backup-t2 (backups) or hoist-restore (restores)."
          " MB/s: the SQL dump's data bytes (the source data, same for every case) / median wall;"
          " out/in MB: size of the backup directory; files: data files (hoist: chunks in backupmeta.json);"
          " RSS, CPU, sync (after the backup, not in the wall), blocked ms and binlog from the lower-median run;"
          " other CPU: busy CPU of the machine during the case minus client and server (anything else running).")
    goals = []
    med = {c: stats[c][2] for c in stats}
    if "hoist-backup-t2" in med and "mydumper-t2" in med:
        goals.append("backup at least as fast as mydumper (same compression): mydumper-t2 / hoist-backup-t2 = %.2f"
                     " (goal >= 1.00)%s%s" % (med["mydumper-t2"] / med["hoist-backup-t2"],
                                              ", without checksums %.2f" % (med["mydumper-t2"] / med["hoist-backup-nosum"])
                                              if "hoist-backup-nosum" in med else "",
                                              ", with 4 threads %.2f" % (med["mydumper-t2"] / med["hoist-backup-t4"])
                                              if "hoist-backup-t4" in med else ""))
    if "hoist-restore" in med:
        for c in ("myloader-e", "myloader"):
            if c in med:
                goals.append("restore >= 1.3x faster than myloader: %s / hoist-restore = %.2f (goal >= 1.30)"
                             % (c, med[c] / med["hoist-restore"]))
    rss = [(c, max(int(r[col["client_peak_rss_MiB"]]) for r in stats[c][0])) for c in order if c.startswith("hoist")]
    if rss:
        goals.append("RSS under 256 MiB: hoist's largest peak RSS %d MiB (%s)" % max((v, c) for c, v in rss))
    if goals:
        print("goals (issue 7):")
        for g in goals:
            print("  " + g)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "sqlite-prepare":
        sqlite_prepare(*args)
    elif cmd == "sqlite-check":
        sqlite_check(*args)
    elif cmd == "report":
        report(*args)
    elif cmd == "backupmeta":
        backupmeta(*args)
    elif cmd == "backup-report":
        backup_report(*args)
    else:
        sys.exit("unknown command %r" % cmd)


if __name__ == "__main__":
    main()
