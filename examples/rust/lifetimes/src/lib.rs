//! An actor's life under Ray's controls, from Rust: `get_if_exists` finds
//! the actor already registered under a name, `restart` (Ray's
//! `kill(no_restart=False)`) gives it a fresh instance while `max_restarts`
//! allows, and `wrun::exit_actor()` ends it from inside one of its methods;
//! an actor created by an actor dies with it.

use serde::Serialize;

/// A counter whose state shows which instance answers.
pub struct Tally {
    n: i64,
}

#[wrun::actor]
impl Tally {
    /// Starts at `start`.
    pub fn new(start: i64) -> Self {
        Tally { n: start }
    }

    /// Adds `by` and returns the new value.
    pub fn add(&mut self, by: i64) -> i64 {
        self.n += by;
        self.n
    }

    /// Ends the actor once this call returns; its value is never seen.
    pub fn leave(&mut self) -> wrun::Result<i64> {
        wrun::exit_actor()?;
        Ok(self.n)
    }
}

/// Creates a tally of its own, which shares its fate.
pub struct Parent {
    child: TallyHandle,
}

#[wrun::actor]
impl Parent {
    /// Creates the child.
    pub fn new() -> wrun::Result<Self> {
        Ok(Parent {
            child: Tally::remote(0)?,
        })
    }

    /// The child's handle.
    pub fn child(&self) -> TallyHandle {
        self.child
    }

    /// Traps: the parent restarts while it has restarts left, else dies.
    pub fn crash(&self) -> i64 {
        panic!("the parent crashes")
    }
}

/// Leaves in its constructor: no call ever runs.
pub struct Quitter;

#[wrun::actor]
impl Quitter {
    /// Calls `exit_actor` and returns.
    pub fn new() -> wrun::Result<Self> {
        wrun::exit_actor()?;
        Ok(Quitter)
    }

    /// Never runs.
    pub fn hello(&self) -> String {
        "hello".into()
    }
}

/// `exit_actor` from a task: refused.
#[wrun::task]
fn exit_from_a_task() -> String {
    match wrun::exit_actor() {
        Ok(()) => "accepted".into(),
        Err(e) => e.kind.to_string(),
    }
}

#[derive(Serialize)]
struct Report {
    /// Both creations under one name give one actor: `[true, 2]`.
    get_if_exists: (bool, i64),
    /// The value before the restart and after it (fresh state): `[7, 3]`.
    restart: (i64, i64),
    /// A second restart with none left kills it: `actor-died`.
    no_restarts_left: String,
    /// The leaving call, and a later call: `actor-died` twice.
    exit_actor: (String, String),
    /// `invalid-argument`.
    exit_from_a_task: String,
    /// A child's call before and after its creator is killed: `[1, "actor-died"]`.
    fate_sharing: (i64, String),
    /// The same when the creator traps with no restarts left: `[1, "actor-died"]`.
    out_of_restarts: (i64, String),
    /// A creator that restarts leaves its child alone: the child's calls
    /// before and after the restart, `[1, 2]`.
    restart_keeps_children: (i64, i64),
    /// A creator in a placement group that is removed dies with it, and its
    /// child (outside the group) with it: `[1, "actor-died"]`.
    group_removed: (i64, String),
    /// A call to an actor that left in its constructor: `actor-died`.
    exit_in_constructor: String,
}

fn kind<T>(r: wrun::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.kind.to_string(),
    }
}

fn main(_args: Vec<String>) -> wrun::Result<Report> {
    let a = Tally::options().name("one").get_if_exists(true).remote(0)?;
    let b = Tally::options()
        .name("one")
        .get_if_exists(true)
        .remote(100)?;
    a.add(1)?.get()?;
    let get_if_exists = (a == b, b.add(1)?.get()?);

    let p = Tally::options().max_restarts(1).remote(3)?;
    let before = p.add(4)?.get()?;
    p.restart()?;
    let after = p.add(0)?.get()?;
    p.restart()?;
    let no_restarts_left = kind(p.add(0).and_then(|r| r.get()));

    let x = Tally::remote(5)?;
    let leaving = kind(x.leave().and_then(|r| r.get()));
    let later = kind(x.add(1).and_then(|r| r.get()));
    let parent = Parent::remote()?;
    let child = parent.child()?.get()?;
    let before_parent_died = child.add(1)?.get()?;
    parent.kill()?;
    let fate_sharing = (before_parent_died, kind(child.add(1).and_then(|r| r.get())));
    let doomed = Parent::remote()?;
    let doomed_child = doomed.child()?.get()?;
    let before_crash = doomed_child.add(1)?.get()?;
    let _ = doomed.crash().and_then(|r| r.get());
    let out_of_restarts = (
        before_crash,
        kind(doomed_child.add(1).and_then(|r| r.get())),
    );
    let phoenix_parent = Parent::options().max_restarts(1).remote()?;
    let kept_child = phoenix_parent.child()?.get()?;
    let before_restart = kept_child.add(1)?.get()?;
    let _ = phoenix_parent.crash().and_then(|r| r.get());
    let restart_keeps_children = (before_restart, kept_child.add(1)?.get()?);
    let group =
        wrun::PlacementGroup::create(&[wrun::Bundle::cpus(0.5)], wrun::Strategy::Pack, None)?;
    let grouped = Parent::options()
        .cpus(0.5)
        .placement_group(&group, Some(0))
        .remote()?;
    let grouped_child = grouped.child()?.get()?;
    let before_removal = grouped_child.add(1)?.get()?;
    group.remove()?;
    // As in Ray, the group's actors die after the removal returns: the
    // child's calls go through until its creator's death reaches it.
    let mut after_removal = "ok".to_string();
    for _ in 0..100_000 {
        after_removal = kind(grouped_child.add(0).and_then(|r| r.get()));
        if after_removal != "ok" {
            break;
        }
    }
    let group_removed = (before_removal, after_removal);
    let quitter = Quitter::remote()?;
    let exit_in_constructor = match quitter.hello().and_then(|r| r.get()) {
        Ok(v) => v,
        Err(e)
            if e.message
                .contains("exit_actor() was called in its constructor") =>
        {
            e.kind.to_string()
        }
        Err(e) => e.to_string(),
    };
    Ok(Report {
        exit_in_constructor,
        fate_sharing,
        out_of_restarts,
        restart_keeps_children,
        group_removed,
        get_if_exists,
        restart: (before, after),
        no_restarts_left,
        exit_actor: (leaving, later),
        exit_from_a_task: exit_from_a_task::remote()?.get()?,
    })
}

wrun::export_job!(
    main = main,
    tasks = [exit_from_a_task],
    actors = [Tally, Parent, Quitter]
);
