//! Cancelling calls (`wrun::cancel`, Ray's `ray.cancel`): one mode per
//! behaviour, each printing what the driver saw as JSON for the tests.
//!
//! `running`, `blocked [force]`, `recursive [false]`, `chain`, `finished`,
//! `pending N`, `retried`, `actor`, `actor_args` (a method waiting for its
//! argument holds back only its caller's later calls); in a cluster, `remote RES` (a task
//! placed on the node that has resource RES) and `owned_elsewhere RES` (an
//! object that node owns).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use wrun::prelude::*;

/// What tasks tell the driver: that they started, what they saw, and a
/// reference a task made.
pub struct Board {
    set: bool,
    notes: Vec<String>,
    kept: Option<ObjectRef<u64>>,
}

#[wrun::actor]
impl Board {
    /// Empty.
    pub fn new() -> Self {
        Board {
            set: false,
            notes: Vec::new(),
            kept: None,
        }
    }

    /// Raises the flag.
    pub fn set(&mut self) -> bool {
        self.set = true;
        true
    }

    /// Whether the flag is up.
    pub fn is_set(&self) -> bool {
        self.set
    }

    /// Notes a line.
    pub fn note(&mut self, line: String) -> usize {
        self.notes.push(line);
        self.notes.len()
    }

    /// The lines noted, in order.
    pub fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    /// Keeps a reference for the driver.
    pub fn keep(&mut self, r: ObjectRef<u64>) -> bool {
        self.kept = Some(r);
        true
    }

    /// The kept reference.
    pub fn kept(&self) -> Option<ObjectRef<u64>> {
        self.kept.clone()
    }

    /// `x`, once its argument is ready.
    pub fn echo(&self, x: u64) -> u64 {
        x
    }

    /// Counts to `n` (a method that runs a while).
    pub fn busy(&mut self, n: u64) -> u64 {
        let mut i = 0u64;
        while i < n {
            i = std::hint::black_box(i + 1);
        }
        i
    }
}

/// Raises the board's flag (when given one), then runs until interrupted.
#[wrun::task]
fn spin_forever(board: Option<BoardHandle>) -> wrun::Result<u64> {
    if let Some(b) = board {
        b.set()?;
    }
    let mut i = 0u64;
    loop {
        i = std::hint::black_box(i.wrapping_add(1));
        if std::hint::black_box(i) == u64::MAX {
            return Ok(i);
        }
    }
}

/// Raises the flag and waits for `r`; a failure of the wait is noted on
/// the board (the guest sees an unforced cancel where it waits).
#[wrun::task]
fn wait_on(board: BoardHandle, r: ObjectRef<u64>) -> wrun::Result<u64> {
    board.set()?;
    match r.get() {
        Ok(v) => Ok(v),
        Err(e) => {
            // Sent, not awaited: the call is queued before this returns.
            board.note(e.kind.as_str().to_string())?;
            Err(e)
        }
    }
}

/// Submits a task that runs until cancelled, hands its reference to the
/// board, raises the flag and waits for it.
#[wrun::task]
fn parent(board: BoardHandle) -> wrun::Result<u64> {
    let child = spin_forever::remote(None)?;
    board.keep(child.clone())?.get()?;
    board.set()?;
    child.get()
}

/// Submits a task that runs until cancelled, hands its reference to the
/// board and returns (the reference's owner is this task's node).
#[wrun::task]
fn spawn_child(board: BoardHandle) -> wrun::Result<u64> {
    let child = spin_forever::remote(None)?;
    board.keep(child)?.get()?;
    Ok(0)
}

/// Calls `worker` from another caller than the driver.
#[wrun::task]
fn poke(worker: BoardHandle) -> wrun::Result<bool> {
    worker.is_set()?.get()
}

/// `x + 1`.
#[wrun::task]
fn add_one(x: u64) -> wrun::Result<u64> {
    Ok(x + 1)
}

/// Notes `k` on the board and returns it.
#[wrun::task]
fn mark(board: BoardHandle, k: u64) -> wrun::Result<u64> {
    board.note(k.to_string())?;
    Ok(k)
}

/// Waits until a task raised the board's flag.
fn until_set(board: &BoardHandle) -> wrun::Result<()> {
    while !board.is_set()?.get()? {}
    Ok(())
}

/// The kind of a result's failure (`ok` when it has a value).
fn kind_of(r: &ObjectRef<u64>) -> String {
    match r.get_timeout(Duration::from_secs(60)) {
        Ok(_) => "ok".into(),
        Err(e) => e.kind.as_str().into(),
    }
}

#[derive(Serialize, Default)]
struct Report {
    /// Kinds of the results, by name.
    kinds: BTreeMap<String, String>,
    /// What the board noted.
    notes: Vec<String>,
    /// Counts, by name.
    counts: BTreeMap<String, u64>,
}

impl Report {
    fn kind(&mut self, name: &str, r: &ObjectRef<u64>) {
        self.kinds.insert(name.into(), kind_of(r));
    }
}

fn main(args: Vec<String>) -> wrun::Result<Report> {
    let mode = args.first().map(String::as_str).unwrap_or("running");
    let flag = |i: usize, word: &str| args.get(i).map(String::as_str) == Some(word);
    let board = Board::remote()?;
    let mut out = Report::default();
    match mode {
        // A running task is interrupted.
        "running" => {
            let r = spin_forever::remote(Some(board))?;
            until_set(&board)?;
            r.cancel()?;
            out.kind("spinner", &r);
        }
        // A task blocked in `get`: unforced, the guest sees the cancel
        // (and notes it); forced, its instance is dropped where it waits.
        "blocked" => {
            let force = flag(1, "force");
            let never = spin_forever::remote(None)?;
            let w = wait_on::remote(board, never.clone())?;
            until_set(&board)?;
            wrun::cancel(&w, force, false)?;
            out.kind("waiter", &w);
            out.notes = board.notes()?.get()?;
            never.cancel()?;
            out.kind("never", &never);
        }
        // What a task submitted is cancelled with it, unless not recursive.
        "recursive" => {
            let recursive = !flag(1, "false");
            let p = parent::remote(board)?;
            until_set(&board)?;
            wrun::cancel(&p, false, recursive)?;
            out.kind("parent", &p);
            let child = board.kept()?.get()?.ok_or("the parent kept no child")?;
            if recursive {
                out.kind("child", &child);
            } else {
                let still = match child.get_timeout(Duration::from_millis(300)) {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.kind.as_str().to_string(),
                };
                out.kinds.insert("child_after_300ms".into(), still);
                child.cancel()?;
                out.kind("child", &child);
            }
        }
        // A call waiting on a cancelled one fails with it, never runs.
        "chain" => {
            let a = spin_forever::remote(None)?;
            let b = add_one::remote(&a)?;
            let c = add_one::remote(&b)?;
            a.cancel()?;
            out.kind("head", &a);
            out.kind("next", &b);
            out.kind("last", &c);
        }
        // Cancelling a finished call changes nothing.
        "finished" => {
            let q = add_one::remote(6u64)?;
            let before = q.get()?;
            q.cancel()?;
            out.counts.insert("before".into(), before);
            out.counts.insert("after".into(), q.get()?);
        }
        // Many parked tasks, every 20th cancelled: every get returns a value
        // or the cancel, and no cancelled task ran.
        "pending" => {
            let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
            let blocker = spin_forever::remote(Some(board))?;
            until_set(&board)?;
            let refs = (0..n)
                .map(|k| mark::remote(board, k))
                .collect::<wrun::Result<Vec<_>>>()?;
            for r in refs.iter().step_by(20) {
                r.cancel()?;
            }
            blocker.cancel()?;
            let (mut ok, mut cancelled, mut other) = (0, 0, 0);
            for r in &refs {
                match kind_of(r).as_str() {
                    "ok" => ok += 1,
                    "task-cancelled" => cancelled += 1,
                    _ => other += 1,
                }
            }
            let ran: Vec<u64> = board
                .notes()?
                .get()?
                .iter()
                .filter_map(|l| l.parse().ok())
                .collect();
            let cancelled_ran = ran.iter().filter(|k| *k % 20 == 0).count() as u64;
            out.counts = [
                ("ok", ok),
                ("cancelled", cancelled),
                ("other", other),
                ("ran", ran.len() as u64),
                ("cancelled_ran", cancelled_ran),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            out.kind("blocker", &blocker);
        }
        // A cancelled task is not retried, whatever its retries.
        "retried" => {
            let r = spin_forever::options()
                .max_retries(3)
                .remote(Some(board))?;
            until_set(&board)?;
            r.cancel()?;
            out.kind("spinner", &r);
        }
        // An actor call is cancelled while queued; force on one is refused.
        "actor" => {
            let worker = Board::remote()?;
            let first = worker.busy(200_000_000)?;
            let second = worker.is_set()?;
            wrun::cancel(&second, false, true)?;
            out.kind("first", &first);
            let second_kind = match second.get() {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("second".into(), second_kind);
            let third = worker.is_set()?;
            let forced = match wrun::cancel(&third, true, true) {
                Ok(()) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("force_on_method".into(), forced);
            let third_kind = match third.get() {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("third".into(), third_kind);
        }
        // A method waiting for its argument holds back its caller's later
        // calls, not another caller's.
        "actor_args" => {
            let worker = Board::remote()?;
            let never = spin_forever::remote(None)?;
            let waiting = worker.echo(&never)?;
            let after = worker.note("after".to_string())?;
            let other = poke::remote(worker)?;
            let other_kind = match other.get_timeout(Duration::from_secs(30)) {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("other_caller".into(), other_kind);
            let ready = wrun::wait(
                std::slice::from_ref(&after),
                1,
                Some(Duration::from_millis(300)),
            )?;
            out.counts
                .insert("later_call_ran_first".into(), u64::from(ready.0.len() == 1));
            never.cancel()?;
            out.kind("waiting", &waiting);
            let after_kind = match after.get() {
                Ok(_) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("after".into(), after_kind);
            out.notes = worker.notes()?.get()?;
            // A call waiting for an argument that never comes can itself
            // be cancelled.
            let never_again = spin_forever::remote(None)?;
            let stuck = worker.echo(&never_again)?;
            stuck.cancel()?;
            out.kind("stuck", &stuck);
            never_again.cancel()?;
        }
        // A call to an actor on another node is cancelled there while it
        // waits (here, behind the caller's earlier call); force is refused.
        "remote_actor" => {
            let res = args.get(1).ok_or("remote_actor RES")?;
            let worker = Board::options().resource(res.as_str(), 1.0).remote()?;
            let first = worker.busy(200_000_000)?;
            let second = worker.echo(2)?;
            wrun::cancel(&second, false, true)?;
            let forced = match wrun::cancel(&worker.echo(3)?, true, true) {
                Ok(()) => "ok".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            out.kinds.insert("force_on_method".into(), forced);
            out.kind("first", &first);
            out.kind("second", &second);
            let third = worker.echo(4)?;
            out.kind("third", &third);
        }
        // A task placed on another node is interrupted there.
        "remote" => {
            let res = args.get(1).ok_or("remote RES")?;
            let r = spin_forever::options()
                .resource(res.as_str(), 1.0)
                .remote(Some(board))?;
            until_set(&board)?;
            r.cancel()?;
            out.kind("spinner", &r);
        }
        // An object another node owns: the cancel goes to that node.
        "owned_elsewhere" => {
            let res = args.get(1).ok_or("owned_elsewhere RES")?;
            let p = spawn_child::options()
                .resource(res.as_str(), 1.0)
                .remote(board)?;
            out.kind("spawner", &p);
            let child = board.kept()?.get()?.ok_or("no child kept")?;
            out.counts
                .insert("child_owned_here".into(), u64::from(child.owner() == wrun::context::node_id()));
            child.cancel()?;
            out.kind("child", &child);
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    Ok(out)
}

wrun::export_job!(
    main = main,
    tasks = [spin_forever, wait_on, parent, spawn_child, poke, add_one, mark],
    actors = [Board]
);
