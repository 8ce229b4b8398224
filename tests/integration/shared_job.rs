//! Several `hoist import` processes share one job through the mysql checkpoint driver
//! (DESIGN.md, "Scale beyond one machine"): started together with the same command, they divide
//! the chunks by leases, one plans and the others wait for its plan, a hung process's work is
//! taken over once its leases expire, a killed one's at once, and the job ends once.
//!
//! The dump is the crash tests' (five tables, one of them keyless with duplicate rows, split
//! SQL files and one-chunk gzip and zstd files). A chunk loaded twice would fail the check: a
//! keyed table refuses the duplicate key (a table error, exit 1), and the keyless one would hold
//! more rows than the dump, which its count and checksum over every row show.
//!
//! Every test prints its seed; `HOIST_CRASH_SEED=<seed>` replays its delays.

use std::time::{Duration, Instant};

use crate::crash::{backup_of, crash_dump, describe, private_server, scratch, seed, text, Driver, Proc, Rng, Setup};
use hoist_testkit::mariadb::MariaDb;

/// Seconds a lease lasts unless renewed: short, so that a hung process's work is taken over
/// within the test.
const EXPIRY: &str = "3";

/// The chunks whose lease the process `pid` holds, and its owner name (`host:pid:random`).
fn leases_of(server: &MariaDb, setup: &Setup<'_>, pid: libc::pid_t) -> (Option<String>, Vec<i64>) {
    if !crate::crash::maria_table_exists(server, &setup.cp_schema, "chunks") {
        return (None, Vec::new());
    }
    let rows = server.query(&format!(
        "SELECT id, lease_owner FROM `{}`.chunks WHERE lease_owner LIKE '%:{pid}:%' ORDER BY id",
        setup.cp_schema
    ));
    let owner = rows.first().map(|r| text(&r[1]));
    (owner, rows.iter().map(|r| text(&r[0]).parse().expect("a chunk id")).collect())
}

/// Wait until `p` holds a chunk's lease (it is loading data); None when it ended first.
fn wait_holding(server: &MariaDb, setup: &Setup<'_>, p: &mut Proc, deadline: Duration) -> Option<Vec<i64>> {
    let until = Instant::now() + deadline;
    while Instant::now() < until {
        if p.wait_for(Duration::ZERO).is_some() {
            return None;
        }
        let (_, held) = leases_of(server, setup, p.pid());
        if !held.is_empty() {
            return Some(held);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{}: the process holds no chunk within {deadline:?}:\n{}", setup.test, p.tail());
}

/// Stop `p` (SIGSTOP: a hung process, whose sessions stay open) at a seeded moment while it
/// holds chunks; returns its owner name and the chunks it holds, as the store has them.
fn hang_while_holding(server: &MariaDb, setup: &Setup<'_>, p: &mut Proc, rng: &mut Rng) -> (String, Vec<i64>) {
    loop {
        if wait_holding(server, setup, p, Duration::from_secs(60)).is_none() {
            panic!("{}: the first process ended before it could be stopped:\n{}", setup.test, p.tail());
        }
        std::thread::sleep(rng.between(Duration::ZERO, Duration::from_millis(300)));
        p.signal(libc::SIGSTOP);
        // A release it sent just before may still be landing.
        std::thread::sleep(Duration::from_millis(200));
        if let (Some(owner), held) = leases_of(server, setup, p.pid()) {
            return (owner, held);
        }
        p.signal(libc::SIGCONT);
    }
}

#[test]
fn three_processes_share_a_job_through_a_hang_and_two_kills() {
    let test = "three_processes_share_a_job_through_a_hang_and_two_kills";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let server = private_server(test);
    let work = scratch("shared");
    let mut setup = Setup::new(test, crash_dump(), work.path(), Some(&server), Driver::Mysql);
    setup.extra = vec!["--lease-expiry".into(), EXPIRY.into()];
    // The indexes a run alone ends with; then each batch waits after its commit, so that the
    // shared runs last long enough for a hang and two kills.
    setup.calibrate();
    setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=100ms")];
    setup.fresh();
    let started = Instant::now();
    let mut first = setup.spawn();
    let mut second = setup.spawn();
    let mut third = setup.spawn();

    // The first hangs while it loads: the others wait out its leases, then take its chunks.
    let (hung, chunks) = hang_while_holding(&server, &setup, &mut first, &mut rng);
    eprintln!("{test}: {hung} hung at {:.2} s holding chunks {chunks:?}", started.elapsed().as_secs_f64());
    let until = Instant::now() + Duration::from_secs(30);
    while !leases_of(&server, &setup, first.pid()).1.is_empty() {
        assert!(
            Instant::now() < until,
            "{test}: seed {seed}: the chunks of the hung process were not taken over within 30 s (lease expiry \
             {EXPIRY} s):\n{}\n{}",
            second.tail(),
            third.tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{test}: its chunks were taken over at {:.2} s; killing it for good", started.elapsed().as_secs_f64());
    first.kill9();

    // The second is killed while it loads, and started again.
    let delay = rng.between(Duration::ZERO, Duration::from_millis(1500));
    std::thread::sleep(delay);
    let held = wait_holding(&server, &setup, &mut second, Duration::from_secs(30)).unwrap_or_else(|| {
        panic!(
            "{test}: seed {seed}: the second process ended before it was killed (the job is too short):\n{}",
            second.tail()
        )
    });
    second.kill9();
    eprintln!(
        "{test}: killed the second process {} ms later, holding chunks {held:?}, at {:.2} s ({})",
        delay.as_millis(),
        started.elapsed().as_secs_f64(),
        setup.phase()
    );
    let mut again = setup.spawn();

    for (name, p) in [("the third process", &mut third), ("the restarted second process", &mut again)] {
        let status = p.wait_for(Duration::from_secs(300));
        assert!(
            status.is_some_and(|s| s.success()),
            "{test}: seed {seed}: {name} ended with {}:\n{}",
            describe(status),
            p.tail()
        );
    }
    eprintln!("{test}: the job finished at {:.2} s", started.elapsed().as_secs_f64());
    if let Err(e) = setup.check() {
        panic!("{test}: seed {seed}: the target differs from the source:\n{e}\n{}\n{}", third.tail(), again.tail());
    }
    let logs = format!("{}{}{}", second.output(), third.output(), again.output());
    let taken: Vec<i64> =
        chunks.iter().copied().filter(|id| logs.contains(&format!("took chunk {id} over from {hung}"))).collect();
    assert!(
        !taken.is_empty(),
        "{test}: seed {seed}: no process says it took over a chunk of the hung one ({chunks:?} of {hung}):\n{}\n{}",
        third.tail(),
        again.tail()
    );
    let ends = [&third, &again]
        .iter()
        .filter(|p| !p.output().contains("another hoist process sharing the job finished it"))
        .count();
    assert_eq!(
        ends,
        1,
        "{test}: seed {seed}: the job's end must run in one process:\n{}\n{}",
        third.tail(),
        again.tail()
    );
}

/// `restore full` shares a job the same way (it is an import of the backup): three processes,
/// one killed while it loads and never started again; the two others finish, each file's key
/// range and each table verified against the manifest.
#[test]
fn three_restores_share_a_job_through_a_kill() {
    let test = "three_restores_share_a_job_through_a_kill";
    let seed = seed(test);
    let mut rng = Rng::new(seed);
    let work = scratch("shared-restore");
    let backup = backup_of(test, crash_dump(), work.path());
    let server = private_server(test);
    let mut setup = Setup::new(test, crash_dump(), work.path(), Some(&server), Driver::Mysql);
    setup.restore_from = Some(backup);
    setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=50ms")];
    setup.fresh();
    let mut procs: Vec<Proc> = (0..3).map(|_| setup.spawn()).collect();
    let held = wait_holding(&server, &setup, &mut procs[0], Duration::from_secs(60))
        .unwrap_or_else(|| panic!("{test}: the first restore ended before it was killed:\n{}", procs[0].tail()));
    std::thread::sleep(rng.between(Duration::ZERO, Duration::from_millis(500)));
    procs[0].kill9();
    eprintln!("{test}: killed the first restore holding chunks {held:?} ({})", setup.phase());
    for p in &mut procs[1..] {
        let status = p.wait_for(Duration::from_secs(300));
        assert!(status.is_some_and(|s| s.success()), "{test}: seed {seed}: {}:\n{}", describe(status), p.tail());
    }
    if let Err(e) = setup.check() {
        panic!("{test}: seed {seed}: the target differs from the source:\n{e}\n{}", procs[1].tail());
    }
}

/// An SQLite checkpoint serves one process: a second one started on it is refused at once,
/// naming the first, and the first finishes the job alone.
#[test]
fn a_second_process_on_an_sqlite_checkpoint_is_refused() {
    let test = "a_second_process_on_an_sqlite_checkpoint_is_refused";
    let server = private_server(test);
    let work = scratch("shared-sqlite");
    let mut setup = Setup::new(test, crash_dump(), work.path(), Some(&server), Driver::File);
    setup.env = vec![("HOIST_FAILPOINTS", "import.batch-committed=30ms")];
    setup.fresh();
    let mut first = setup.spawn();
    // Once the first is in the job: it holds FILE.lock, with its pid in it.
    let lock = format!("{}.lock", setup.checkpoint_file().display());
    let until = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&lock).ok() != Some(first.pid().to_string()) {
        assert!(Instant::now() < until && first.wait_for(Duration::ZERO).is_none(), "{test}:\n{}", first.tail());
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut second = setup.spawn();
    let status = second.wait_for(Duration::from_secs(60));
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{test}: the second run must be refused:\n{}", second.tail());
    let said = second.output();
    assert!(
        said.contains(&format!("another hoist process (pid {}) runs this job", first.pid()))
            && said.contains("--checkpoint-driver mysql"),
        "{test}: the refusal names the first process and the way to share a job:\n{}",
        second.tail()
    );
    let status = first.wait_for(Duration::from_secs(300));
    assert!(status.is_some_and(|s| s.success()), "{test}: the first run: {}:\n{}", describe(status), first.tail());
    if let Err(e) = setup.check() {
        panic!("{test}: the target differs from the source:\n{e}\n{}", first.tail());
    }
}
