#!/usr/bin/env python3
"""CPU timelines of a bench case: how many cores the server and the client use, sampled.

    timeline.py sample --out F.tsv --server-pid PID [--interval 0.5] [--clients hoist,myloader,mariadb]
    timeline.py plot --out F.png A.tsv [B.tsv ...]

`sample` runs until it gets SIGTERM: every interval it reads the CPU time (user + system) of
the server process and of every process whose name is one of the clients, from /proc, and
writes one line per sample: seconds since the start, the server's cores, the clients' cores
(CPU seconds used in the interval divided by its length). A client that ends between two
samples loses at most its last interval.

`plot` draws each file as one panel (its name, without `.timeline.tsv`, is the title), the
server and the clients stacked, with the machine's core count as a line. It needs
matplotlib (`pip install matplotlib`).
"""
import argparse
import os
import signal
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # after the name: state is field 3; utime, stime are fields 14 and 15
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def clients(names):
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names:
            t = ticks(entry)
            if t is not None:
                found[entry] = t
    return found


def sample(a):
    names = set(a.clients.split(","))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    start = time.monotonic()
    last_t, last_server, last_clients = start, ticks(a.server_pid), clients(names)
    with open(a.out, "w") as out:
        out.write("seconds\tserver_cores\tclient_cores\n")
        while not stop:
            time.sleep(a.interval)
            now, server, cl = time.monotonic(), ticks(a.server_pid), clients(names)
            span = now - last_t
            s = 0.0 if server is None or last_server is None else (server - last_server) / HZ / span
            # a process first seen now started within the interval: all its CPU is in it
            c = sum(t - last_clients.get(pid, 0) for pid, t in cl.items())
            out.write(f"{now - start:.2f}\t{s:.3f}\t{c / HZ / span:.3f}\n")
            out.flush()
            last_t, last_server, last_clients = now, server, cl


def plot(a):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("timeline.py: plotting needs matplotlib: pip install matplotlib")
    fig, axes = plt.subplots(len(a.files), 1, figsize=(9, 2.4 * len(a.files)), sharex=True, squeeze=False)
    cores = os.cpu_count()
    for ax, path in zip(axes[:, 0], a.files):
        rows = [line.split("\t") for line in open(path).read().splitlines()[1:]]
        t = [float(r[0]) for r in rows]
        server = [float(r[1]) for r in rows]
        client = [float(r[2]) for r in rows]
        ax.stackplot(t, server, client, labels=["server (mariadbd)", "client"], step="pre", alpha=0.8)
        ax.axhline(cores, color="black", linewidth=0.8, linestyle="--")
        end = t[-1] if t else 0
        ax.set_title(f"{os.path.basename(path).replace('.timeline.tsv', '')}: {end:.1f} s", fontsize=10)
        ax.set_ylabel("cores")
        ax.set_ylim(0, cores + 0.5)
        ax.legend(loc="lower left", fontsize=8)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--out", required=True)
    s.add_argument("--server-pid", required=True)
    s.add_argument("--interval", type=float, default=0.5)
    s.add_argument("--clients", default="hoist,myloader,mariadb")
    p = sub.add_parser("plot")
    p.add_argument("--out", required=True)
    p.add_argument("files", nargs="+")
    a = ap.parse_args()
    sample(a) if a.cmd == "sample" else plot(a)


if __name__ == "__main__":
    main()
