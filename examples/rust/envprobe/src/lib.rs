//! Probes what a runtime environment lets a guest see: files, variables,
//! network, clock, randomness, scratch space, CPU time, other jobs' actors
//! and placement groups.
//! The isolation tests run its tasks under different manifests; every probe
//! reports what happened (a value, or the error text) rather than failing.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wrun::prelude::*;
use wrun::{Bundle, PlacementGroup, RuntimeEnv, Strategy};

/// The contents of `path`, or why it cannot be read.
#[wrun::task]
fn read_file(path: String) -> Result<String, String> {
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// Writes `path`, or says why it cannot.
#[wrun::task]
fn write_file(path: String, text: String) -> Result<(), String> {
    std::fs::write(&path, text).map_err(|e| format!("cannot write {path}: {e}"))
}

/// The current directory (the working directory, when there is one).
#[wrun::task]
fn cwd() -> Result<String, String> {
    std::env::current_dir()
        .map(|d| d.display().to_string())
        .map_err(|e| e.to_string())
}

/// An environment variable, if the guest sees it.
#[wrun::task]
fn env_var(name: String) -> Option<String> {
    std::env::var(&name).ok()
}

/// Connects to `addr`, sends "ping" and returns the reply.
#[wrun::task]
fn connect(addr: String) -> Result<String, String> {
    let mut s = std::net::TcpStream::connect(&addr).map_err(|e| format!("connect {addr}: {e}"))?;
    s.write_all(b"ping").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    s.read_to_string(&mut reply).map_err(|e| e.to_string())?;
    Ok(reply)
}

/// The wall clock, in seconds since 1970.
#[wrun::task]
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A number drawn from the guest's randomness.
#[wrun::task]
fn random() -> u64 {
    RandomState::new().hash_one(42u8)
}

/// Writes a file into `/scratch` and lists the directory.
#[wrun::task]
fn use_scratch(name: String) -> Result<Vec<String>, String> {
    std::fs::write(format!("/scratch/{name}"), "x")
        .map_err(|e| format!("writing /scratch: {e}"))?;
    let mut names: Vec<String> = std::fs::read_dir("/scratch")
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// Burns CPU for ever.
#[wrun::task]
fn burn() {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

/// Sleeps (blocked, using no CPU) and returns how long it slept.
#[wrun::task]
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// A small actor other jobs try to reach.
pub struct Cell {
    v: u64,
}

#[wrun::actor]
impl Cell {
    /// Holds `v`.
    pub fn new(v: u64) -> Self {
        Cell { v }
    }

    /// The value it holds.
    pub fn get(&self) -> u64 {
        self.v
    }

    /// An environment variable as this actor sees it.
    pub fn var(&self, name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    /// Burns CPU for ever (until a kill interrupts it).
    pub fn burn(&self) {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
    }
}

/// Nests `levels` tasks deep, each waiting for the next: how deep it got.
#[wrun::task]
fn dive(levels: u64) -> wrun::Result<u64> {
    if levels == 0 {
        return Ok(0);
    }
    Ok(dive::remote(levels - 1)?.get()? + 1)
}

/// Returns at once, once the value it is given exists.
#[wrun::task]
fn after(_v: u64) {}

/// Tells the `Keeper` named `gate` that it started, then burns CPU for ever.
#[wrun::task]
fn start_and_burn() -> wrun::Result<()> {
    let gate = KeeperHandle::lookup("gate", None)?.ok_or("no actor named `gate`")?;
    gate.mark_tried()?.get()?;
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
    }
}

/// Reserves a placement group of half a CPU and leaves it: its job's end
/// releases it, on whichever node it was made.
#[wrun::task]
fn leave_group() -> wrun::Result<String> {
    let g = PlacementGroup::create(
        &[Bundle::cpus(0.5)],
        Strategy::Pack,
        Some(Duration::from_secs(30)),
    )?;
    Ok(format!("left {}", g.id()))
}

/// An actor that keeps a placement group of its job and the id of one of
/// its job's private actors (other jobs try to see, use and remove the
/// group, and to call and kill the actor, by their ids).
pub struct Keeper {
    group: Option<PlacementGroup>,
    /// The private actor's id as `[hi, lo]` (empty until told).
    cell: Vec<u64>,
    /// Another job has made its attempts.
    tried: bool,
}

#[wrun::actor]
impl Keeper {
    /// Holds no group yet.
    pub fn new() -> Self {
        Keeper {
            group: None,
            cell: Vec::new(),
            tried: false,
        }
    }

    /// Keeps the id of a private actor of its job.
    pub fn hold_cell(&mut self, hi: u64, lo: u64) {
        self.cell = vec![hi, lo];
    }

    /// Its job's id as `[hi, lo]` (whose private namespace names `cell`).
    pub fn job_id(&self) -> Vec<u64> {
        let id = wrun::context::job_id();
        vec![id.hi, id.lo]
    }

    /// That actor's id as `[hi, lo]` (empty before `hold_cell`).
    pub fn cell_id(&self) -> Vec<u64> {
        self.cell.clone()
    }

    /// Its group's id as `[hi, lo]` (empty before `reserve`).
    pub fn group_id(&self) -> Vec<u64> {
        self.group.map_or(Vec::new(), |g| vec![g.id().hi, g.id().lo])
    }

    /// Says another job has made its attempts.
    pub fn mark_tried(&mut self) {
        self.tried = true;
    }

    /// Whether another job has made its attempts.
    pub fn tried(&self) -> bool {
        self.tried
    }

    /// Reserves a group of one small bundle; its id as `[hi, lo]`.
    pub fn reserve(&mut self) -> wrun::Result<Vec<u64>> {
        let g = PlacementGroup::create(&[Bundle::cpus(0.1)], Strategy::Pack, None)?;
        self.group = Some(g);
        Ok(vec![g.id().hi, g.id().lo])
    }

    /// Runs a task in its group and reads its bundles' nodes: what worked.
    pub fn use_group(&self) -> wrun::Result<String> {
        let g = self.group.ok_or("no group reserved")?;
        let nodes = g.bundle_nodes()?.len();
        env_var::options()
            .cpus(0.1)
            .placement_group(&g, Some(0))
            .remote("GREETING".to_string())?
            .get()?;
        Ok(format!("ran in a group of {nodes} bundle(s)"))
    }
}

/// The variable `name` as a task on a node offering `resource` sees it, when
/// submitted from here without an environment (it inherits this task's).
#[wrun::task]
fn env_via_child(name: String, resource: String) -> wrun::Result<Option<String>> {
    env_var::options().resource(resource, 1.0).remote(name)?.get()
}

/// `read PATH`: a task reads PATH (or says why it cannot).
/// `env_of NAME ENV [RESOURCE]`: the variable NAME seen by a task in
/// environment ENV (on a node offering RESOURCE, when given).
/// `actor_env_of NAME ENV RESOURCE`: the same, seen by an actor there.
/// `inline_env_of NAME VALUE [RESOURCE]`: the variable NAME seen by a task
/// whose inline runtime_env sets it to VALUE (on a node offering RESOURCE).
/// `actor_inline_env_of NAME VALUE RESOURCE`: the same, seen by an actor.
/// `inherited_env_of NAME VALUE RESOURCE`: the same, seen by the plain child
/// (on a node offering RESOURCE) of a task run here with that runtime_env.
/// `lookup NAME NS`: whether the actor NAME is visible in namespace NS.
/// `call_id HI LO`: calls `get` on the actor with that id (a guessed id).
/// `kill_id HI LO`: tries to kill it.
/// `group_nodes HI LO`, `group_task HI LO`, `group_remove HI LO`: reads the
/// bundles of, runs a task in, or removes the placement group with that id.
/// `keep_group`: keeps a group and a private `Cell` on this node (through
/// the `Keeper` named `keeper` in the shared namespace `team`) until another
/// job has tried them, then uses both.
/// `steal_group`: finds that keeper, tries the three on its group, a call
/// and a kill on the cell and a lookup of its name in the owner's private
/// namespace, and each again on an id nobody minted (the same node's, the
/// same kind); a line each: `MODE[?]: refused: ...` (`none`, `found` for
/// the lookup).
/// `leave_group RESOURCE`: a task on a node offering RESOURCE reserves a
/// group and leaves it.
/// `kill_busy RESOURCE`: kills a `Cell` on a node offering RESOURCE while
/// one of its calls burns CPU for ever: `KIND after MS ms`, how that call
/// ended and how long the kill took to return.
/// `dive N`: tasks nested N deep; how deep they got, or the error.
/// `flood N`: submits N tasks that wait for one slow task; how many were
/// accepted, why the next was refused, and whether one goes in afterwards.
/// `bad_bundle`: a task and an actor asking for bundle 1 of a group of one
/// bundle: whether each call was refused.
/// `remove_busy_group [RESOURCE]`: removes a group (on a node offering
/// RESOURCE, when given) while a task runs in it, another waits for it and
/// an actor lives in it; how each ended, a line each.
fn main(args: Vec<String>) -> wrun::Result<String> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let id = || -> wrun::Result<Id> {
        let p = |s: String| {
            s.parse::<u64>()
                .map_err(|e| Error::application(e.to_string()))
        };
        Ok(Id {
            hi: p(arg(1))?,
            lo: p(arg(2))?,
        })
    };
    match arg(0).as_str() {
        "read" => Ok(match read_file::remote(arg(1))?.get() {
            Ok(text) => text,
            Err(e) => format!("refused: {}", e.message),
        }),
        mode @ ("env_of" | "inline_env_of") => {
            let task = env_var::options();
            let mut task = match mode {
                "env_of" => task.environment(arg(2)),
                _ => task.runtime_env(RuntimeEnv::new().env(arg(1), arg(2))),
            };
            if !arg(3).is_empty() {
                task = task.resource(arg(3), 1.0);
            }
            Ok(task
                .remote(arg(1))?
                .get()?
                .unwrap_or_else(|| "<unset>".into()))
        }
        mode @ ("actor_env_of" | "actor_inline_env_of") => {
            let cell = match mode {
                "actor_env_of" => Cell::options().environment(arg(2)),
                _ => Cell::options().runtime_env(RuntimeEnv::new().env(arg(1), arg(2))),
            };
            let cell = cell.resource(arg(3), 1.0).remote(0)?;
            let v = cell.var(arg(1))?.get()?;
            cell.kill()?;
            Ok(v.unwrap_or_else(|| "<unset>".into()))
        }
        "inherited_env_of" => Ok(env_via_child::options()
            .runtime_env(RuntimeEnv::new().env(arg(1), arg(2)))
            .cpus(0.0)
            .remote(arg(1), arg(3))?
            .get()?
            .unwrap_or_else(|| "<unset>".into())),
        "lookup" => Ok(CellHandle::lookup(&arg(1), Some(&arg(2)))?
            .map_or("absent".into(), |c| format!("found {}", c.id()))),
        "call_id" => Ok(try_call(ActorHandle::from_id(id()?))),
        "kill_id" => Ok(try_kill(ActorHandle::from_id(id()?))),
        mode @ ("group_nodes" | "group_task" | "group_remove") => {
            Ok(try_group(mode, PlacementGroup::from_id(id()?)))
        }
        "kill_busy" => {
            let cell = Cell::options().resource(&arg(1), 1.0).remote(1)?;
            cell.get()?.get()?;
            let busy = cell.burn()?;
            nap::remote(300)?.get()?;
            let asked = std::time::Instant::now();
            cell.kill()?;
            let took = asked.elapsed().as_millis();
            let ended = match busy.get() {
                Ok(()) => "finished".to_string(),
                Err(e) => e.kind.as_str().to_string(),
            };
            Ok(format!("{ended} after {took} ms"))
        }
        "dive" => {
            let n: u64 = arg(1).parse().map_err(|e| format!("dive N: {e}"))?;
            Ok(match dive::remote(n).and_then(|r| r.get()) {
                Ok(d) => format!("{d} deep"),
                Err(e) => format!("{}: {}", e.kind.as_str(), e.message),
            })
        }
        "flood" => {
            let n: usize = arg(1).parse().map_err(|e| format!("flood N: {e}"))?;
            let gate = nap::remote(300)?;
            let mut held = Vec::new();
            let mut refused = String::from("none");
            for _ in 0..n {
                match after::remote(&gate) {
                    Ok(r) => held.push(r),
                    Err(e) => {
                        refused = format!("{}: {}", e.kind.as_str(), e.message);
                        break;
                    }
                }
            }
            let accepted = held.len();
            wrun::get_all(&held)?;
            let again = match after::remote(0u64).and_then(|r| r.get()) {
                Ok(()) => "ok".to_string(),
                Err(e) => e.to_string(),
            };
            Ok(format!("{accepted}\n{refused}\n{again}"))
        }
        "bad_bundle" => {
            let g = PlacementGroup::create(&[Bundle::cpus(0.1)], Strategy::Pack, None)?;
            let called = |r: wrun::Result<()>| match r {
                Ok(()) => "accepted".to_string(),
                Err(e) => format!("refused: {}: {}", e.kind.as_str(), e.message),
            };
            let task = env_var::options()
                .cpus(0.1)
                .placement_group(&g, Some(1))
                .remote("GREETING".to_string())
                .map(drop);
            let actor = Cell::options()
                .placement_group(&g, Some(1))
                .remote(1)
                .map(drop);
            Ok(format!("{}\n{}", called(task), called(actor)))
        }
        "remove_busy_group" => {
            let gate = Keeper::options().name("gate").remote()?;
            let mut bundle = Bundle::cpus(1.0);
            if !arg(1).is_empty() {
                bundle = bundle.resource(arg(1), 1.0);
            }
            let g = PlacementGroup::create(&[bundle], Strategy::Pack, None)?;
            let member = Cell::options().placement_group(&g, Some(0)).remote(5)?;
            member.get()?.get()?;
            let running = start_and_burn::options()
                .placement_group(&g, Some(0))
                .remote()?;
            // Until the first one runs (a minute at most), holding the
            // bundle's CPU: the second waits for it.
            for _ in 0..1200 {
                if gate.tried()?.get()? {
                    break;
                }
                nap::remote(50)?.get()?;
            }
            let waiting = env_var::options()
                .placement_group(&g, Some(0))
                .remote("GREETING".to_string())?;
            g.remove()?;
            let ended = |r: wrun::Result<String>| match r {
                Ok(v) => format!("finished: {v}"),
                Err(e) => format!("{}: {}", e.kind.as_str(), e.message),
            };
            Ok([
                ended(running.get().map(|()| "()".to_string())),
                ended(waiting.get().map(|v| format!("{v:?}"))),
                ended(member.get().and_then(|r| r.get()).map(|v| v.to_string())),
            ]
            .join("\n"))
        }
        "leave_group" => leave_group::options().resource(arg(1), 1.0).remote()?.get(),
        "keep_group" => {
            let keeper = Keeper::options().name("keeper").namespace("team").remote()?;
            // Private (named `cell` in this job's own namespace) and on
            // this node, away from the other job's.
            let cell = Cell::options()
                .name("cell")
                .node_affinity(wrun::context::node_id(), false)
                .remote(7)?;
            keeper.hold_cell(cell.id().hi, cell.id().lo)?.get()?;
            keeper.reserve()?.get()?;
            // Until the other job has tried (a minute at most).
            for _ in 0..600 {
                if keeper.tried()?.get()? {
                    break;
                }
                nap::remote(100)?.get()?;
            }
            let used = keeper.use_group()?.get()?;
            Ok(format!("{used}; the cell holds {}", cell.get()?.get()?))
        }
        "steal_group" => {
            let mut keeper = None;
            for _ in 0..600 {
                keeper = KeeperHandle::lookup("keeper", Some("team"))?;
                if keeper.is_some() {
                    break;
                }
                nap::remote(100)?.get()?;
            }
            let keeper = keeper.ok_or("no actor `keeper` in namespace `team` within a minute")?;
            // The other job reserves its group just after it made the keeper.
            let mut id = Vec::new();
            for _ in 0..600 {
                id = keeper.group_id()?.get()?;
                if !id.is_empty() {
                    break;
                }
                nap::remote(100)?.get()?;
            }
            let &[hi, lo] = id.as_slice() else {
                return Err(Error::application("the keeper held no group within a minute"));
            };
            let cell = keeper.cell_id()?.get()?;
            let &[cell_hi, cell_lo] = cell.as_slice() else {
                return Err(Error::application("the keeper held no cell"));
            };
            let job = keeper.job_id()?.get()?;
            let &[job_hi, job_lo] = job.as_slice() else {
                return Err(Error::application("the keeper told no job"));
            };
            let mut tries = Vec::new();
            for (suffix, shift) in [("", 0), ("?", 1_000)] {
                // The private name, in the other job's namespace (or in
                // that of a job nobody minted).
                let ns = format!("job-{job_hi:016x}{:016x}", job_lo + shift);
                let found = match ActorHandle::lookup("cell", Some(&ns)) {
                    Ok(Some(_)) => "found".to_string(),
                    Ok(None) => "none".to_string(),
                    Err(e) => format!("refused: {e}"),
                };
                tries.push(format!("lookup_private{suffix}: {found}"));
                let group = PlacementGroup::from_id(Id { hi, lo: lo + shift });
                for mode in ["group_nodes", "group_task", "group_remove"] {
                    tries.push(format!("{mode}{suffix}: {}", try_group(mode, group)));
                }
                let cell = ActorHandle::from_id(Id {
                    hi: cell_hi,
                    lo: cell_lo + shift,
                });
                tries.push(format!("call_id{suffix}: {}", try_call(cell)));
                tries.push(format!("kill_id{suffix}: {}", try_kill(cell)));
            }
            keeper.mark_tried()?.get()?;
            Ok(tries.join("\n"))
        }
        other => Err(Error::application(format!("unknown mode {other:?}"))),
    }
}

/// Reads the bundles of `g`, runs a task in it, or removes it (`mode`):
/// what happened, or the error.
/// Calls `get` on a `Cell` by its handle: what it got, or why not.
fn try_call(actor: ActorHandle) -> String {
    match CellHandle::from_untyped(actor).get().and_then(|r| r.get()) {
        Ok(v) => format!("got {v}"),
        Err(e) => format!("refused: {e}"),
    }
}

/// Kills an actor by its handle: whether it worked, or why not.
fn try_kill(actor: ActorHandle) -> String {
    match actor.kill() {
        Ok(()) => "killed".into(),
        Err(e) => format!("refused: {e}"),
    }
}

fn try_group(mode: &str, g: PlacementGroup) -> String {
    let done = match mode {
        "group_nodes" => g.bundle_nodes().map(|n| format!("{} bundle(s)", n.len())),
        "group_task" => env_var::options()
            .placement_group(&g, Some(0))
            .remote("GREETING".to_string())
            .and_then(|r| r.get())
            .map(|_| "ran".to_string()),
        _ => g.remove().map(|()| "removed".to_string()),
    };
    done.unwrap_or_else(|e| format!("refused: {e}"))
}

wrun::export_job!(
    main = main,
    tasks = [
        read_file,
        write_file,
        env_var,
        env_via_child,
        cwd,
        connect,
        now,
        random,
        use_scratch,
        burn,
        nap,
        leave_group,
        start_and_burn,
        after,
        dive
    ],
    actors = [Cell, Keeper]
);
