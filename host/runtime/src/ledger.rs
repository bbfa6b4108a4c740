//! The node's ledger of calls: every task and actor call from the moment it
//! is made to its end, in the states a user thinks in (waiting for
//! arguments, for resources, running, ended how), and a ring of the most
//! recent ended ones (`RuntimeConfig::task_history`), so a node's memory
//! for history is bounded however many calls it runs.
//!
//! A task sent to another node is that node's to report (it records it
//! under the sender's id): the sender keeps its own record only to bring it
//! back if that node is lost, and never lists it meanwhile, so no call is
//! listed or counted twice.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use rustc_hash::{FxHashMap, FxHashSet};
use wrun_core::logs::Label;
use wrun_core::page::{page, Place};
use wrun_core::state::{Fields, Filter, TaskKind, TaskRecord, TaskState};
use wrun_core::{ActorId, ErrorKind, JobId, NodeId, TaskError, TaskId};

/// Microseconds since the Unix epoch (the unit of records and traces).
pub(crate) fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The calls of one node. Every call passes through here, so the hot path
/// allocates no name (a call's label is rendered only when listed), hashes
/// its id with FxHash (ids are already spread by `IdGen`), and takes the
/// ledger's one lock once when the call is made and once when it ends.
pub(crate) struct Ledger {
    node: NodeId,
    calls: Mutex<Calls>,
    capacity: usize,
}

#[derive(Default)]
struct Calls {
    live: FxHashMap<TaskId, Arc<Tracked>>,
    ended: VecDeque<Call>,
}

/// A call as the ledger keeps it: a record whose name is its label.
#[derive(Clone)]
struct Call {
    label: Label,
    id: TaskId,
    job: JobId,
    kind: TaskKind,
    actor: Option<ActorId>,
    node: NodeId,
    state: TaskState,
    waiting_for: Waiting,
    submitted_us: u64,
    started_us: u64,
    ended_us: u64,
    attempt: u32,
    error: String,
}

impl Call {
    fn record(&self) -> TaskRecord {
        TaskRecord {
            id: self.id,
            job: self.job,
            kind: self.kind,
            name: self.label.to_string().into(),
            actor: self.actor,
            node: self.node,
            state: self.state,
            waiting_for: match &self.waiting_for {
                Waiting::Nothing => String::new(),
                Waiting::Resources(r) => r.to_string(),
                Waiting::ActorQueue => "the actor's earlier calls".into(),
            },
            submitted_us: self.submitted_us,
            started_us: self.started_us,
            ended_us: self.ended_us,
            attempt: self.attempt,
            error: self.error.clone(),
        }
    }
}

/// One call's record while it lives; ended once, by its results.
pub(crate) struct Tracked {
    ledger: Arc<Ledger>,
    inner: Mutex<Entry>,
}

struct Entry {
    record: Call,
    /// Sent to another node, which reports it.
    forwarded: bool,
    done: bool,
}

/// What a call that has its arguments waits for; rendered only when
/// listed (every call passes here: no formatting on the hot path).
#[derive(Clone)]
pub(crate) enum Waiting {
    Nothing,
    /// Resources from the node's scheduler or a bundle's.
    Resources(wrun_core::Resources),
    /// An actor call: the actor's earlier calls.
    ActorQueue,
}

/// What a new record starts with.
pub(crate) struct NewCall {
    pub(crate) id: TaskId,
    pub(crate) job: JobId,
    pub(crate) kind: TaskKind,
    /// Its name: a task's function (`Label::named`), an actor call's
    /// `Class.method` label.
    pub(crate) label: Label,
    pub(crate) actor: Option<ActorId>,
    /// `None`: it waits for its arguments first.
    pub(crate) waiting: Option<Waiting>,
}

impl Ledger {
    /// A ledger keeping the last `capacity` ended calls.
    pub(crate) fn new(node: NodeId, capacity: usize) -> Arc<Ledger> {
        Arc::new(Ledger {
            node,
            calls: Mutex::new(Calls {
                live: FxHashMap::default(),
                ended: VecDeque::with_capacity(capacity.min(4096)),
            }),
            capacity,
        })
    }

    /// Starts the record of a call made now.
    pub(crate) fn track(self: &Arc<Self>, call: NewCall) -> Arc<Tracked> {
        let (state, waiting) = match call.waiting {
            None => (TaskState::WaitingForArgs, Waiting::Nothing),
            Some(w) => (TaskState::WaitingForResources, w),
        };
        let tracked = Arc::new(Tracked {
            ledger: self.clone(),
            inner: Mutex::new(Entry {
                record: Call {
                    label: call.label,
                    id: call.id,
                    job: call.job,
                    kind: call.kind,
                    actor: call.actor,
                    node: self.node,
                    state,
                    waiting_for: waiting,
                    submitted_us: now_us(),
                    started_us: 0,
                    ended_us: 0,
                    attempt: 0,
                    error: String::new(),
                },
                forwarded: false,
                done: false,
            }),
        });
        self.calls.lock().live.insert(call.id, tracked.clone());
        tracked
    }

    /// The page of records passing `filters` after `after`, newest first,
    /// at most `limit`; and how many passed after `after` in all.
    pub(crate) fn list(
        &self,
        filters: &[Filter],
        after: Option<Place>,
        limit: usize,
    ) -> (Vec<TaskRecord>, usize) {
        let (live, ended) = self.copied();
        page(Self::records(&live, &ended), filters, after, limit)
    }

    /// The live calls and the ended ones, copied out under the lock and
    /// read after it: calls never wait long.
    fn copied(&self) -> (Vec<Arc<Tracked>>, Vec<Call>) {
        let calls = self.calls.lock();
        (
            calls.live.values().cloned().collect(),
            calls.ended.iter().cloned().collect(),
        )
    }

    /// Every record, made one at a time: the live calls this node reports,
    /// then the ended ones.
    fn records<'a>(
        live: &'a [Arc<Tracked>],
        ended: &'a [Call],
    ) -> impl Iterator<Item = TaskRecord> + 'a {
        let live = live.iter().filter_map(|t| {
            let e = t.inner.lock();
            (!e.forwarded && !e.done).then(|| e.record.record())
        });
        live.chain(ended.iter().map(Call::record))
    }

    /// Counts of the records passing `filters` by name and state.
    pub(crate) fn summary(&self, filters: &[Filter]) -> HashMap<(Arc<str>, TaskState), u64> {
        let mut counts = HashMap::new();
        let (live, ended) = self.copied();
        for r in Self::records(&live, &ended).filter(|r| r.passes(filters)) {
            *counts.entry((r.name, r.state)).or_insert(0) += 1;
        }
        counts
    }

    /// How many calls this node reports are in each state they can be in
    /// while they live (waiting for arguments, for resources, running).
    pub(crate) fn live_by_state(&self) -> [(TaskState, u64); 3] {
        let live: Vec<Arc<Tracked>> = self.calls.lock().live.values().cloned().collect();
        let mut counts = [
            (TaskState::WaitingForArgs, 0),
            (TaskState::WaitingForResources, 0),
            (TaskState::Running, 0),
        ];
        for t in live {
            let e = t.inner.lock();
            if e.forwarded || e.done {
                continue;
            }
            if let Some((_, n)) = counts.iter_mut().find(|(s, _)| *s == e.record.state) {
                *n += 1;
            }
        }
        counts
    }

    /// How many calls run or wait here that are tasks of `job` or calls of
    /// one of `actors` (those sent to another node are its to count).
    pub(crate) fn unended(&self, job: JobId, actors: &FxHashSet<ActorId>) -> usize {
        let live: Vec<Arc<Tracked>> = self.calls.lock().live.values().cloned().collect();
        live.iter()
            .filter(|t| {
                let e = t.inner.lock();
                let r = &e.record;
                let ours = match r.actor {
                    Some(a) => actors.contains(&a),
                    None => r.job == job,
                };
                ours && !e.forwarded && !e.done
            })
            .count()
    }

    fn end(&self, id: TaskId, record: Option<Call>) {
        let mut calls = self.calls.lock();
        calls.live.remove(&id);
        let Some(record) = record else { return };
        if self.capacity == 0 {
            return;
        }
        if calls.ended.len() >= self.capacity {
            calls.ended.pop_front();
        }
        calls.ended.push_back(record);
    }
}

impl Tracked {
    /// Its arguments are ready: it waits for `resources`.
    pub(crate) fn waiting_for(&self, what: Waiting) {
        let mut e = self.inner.lock();
        e.record.state = TaskState::WaitingForResources;
        e.record.waiting_for = what;
    }

    /// It runs here from now.
    pub(crate) fn running(&self) {
        let mut e = self.inner.lock();
        e.record.state = TaskState::Running;
        e.record.waiting_for = Waiting::Nothing;
        e.record.started_us = now_us();
    }

    /// It was sent to `node`, which reports it from now (an attempt after
    /// that node is lost brings it back with [`Tracked::retrying`]).
    pub(crate) fn forwarded(&self, node: NodeId) {
        let mut e = self.inner.lock();
        e.forwarded = true;
        e.record.node = node;
        e.record.state = TaskState::Running;
        e.record.started_us = now_us();
    }

    /// It failed where it was sent (that node was lost, and no retry is
    /// left): this node reports its end.
    pub(crate) fn came_back(&self) {
        self.inner.lock().forwarded = false;
    }

    /// Attempt `attempt` starts again from waiting for resources here.
    pub(crate) fn retrying(&self, attempt: u32) {
        let mut e = self.inner.lock();
        e.forwarded = false;
        e.record.node = self.ledger.node;
        e.record.attempt = attempt;
        e.record.state = TaskState::WaitingForResources;
    }

    /// The call ended with `error` (none: it finished). Once: a second end
    /// changes nothing.
    pub(crate) fn end(&self, error: Option<&TaskError>) {
        let (id, record) = {
            let mut e = self.inner.lock();
            if e.done {
                return;
            }
            e.done = true;
            let r = &mut e.record;
            r.state = match error {
                None => TaskState::Finished,
                Some(err) if err.kind == ErrorKind::TaskCancelled => TaskState::Cancelled,
                Some(_) => TaskState::Failed,
            };
            r.ended_us = now_us();
            r.waiting_for = Waiting::Nothing;
            if let Some(err) = error {
                r.error = format!("{}: {}", err.kind.wit_name(), err.message);
            }
            // A forwarded call is its executor's to keep.
            let keep = !e.forwarded;
            (e.record.id, keep.then(|| e.record.clone()))
        };
        self.ledger.end(id, record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wrun_core::Id;

    fn call(ledger: &Arc<Ledger>, lo: u64, name: &str) -> Arc<Tracked> {
        ledger.track(NewCall {
            id: TaskId(Id { hi: 9, lo }),
            job: JobId(Id { hi: 9, lo: 0 }),
            kind: TaskKind::Task,
            label: Label::named(name),
            actor: None,
            waiting: (!lo.is_multiple_of(2)).then_some(Waiting::Nothing),
        })
    }

    fn state(f: &str) -> Vec<Filter> {
        vec![Filter {
            key: "state".into(),
            value: f.into(),
        }]
    }

    #[test]
    fn a_call_moves_through_its_states_and_ends_once_into_a_bounded_ring() {
        let ledger = Ledger::new(NodeId(9), 2);
        let a = call(&ledger, 2, "a");
        assert_eq!(ledger.list(&state("waiting-for-args"), None, 10).1, 1);
        a.waiting_for(Waiting::Resources(wrun_core::Resources::new(1.0, 0)));
        let (l, _) = ledger.list(&[], None, 10);
        assert_eq!(l[0].state, TaskState::WaitingForResources);
        assert_eq!(l[0].waiting_for, "cpus=1 memory=0");
        a.waiting_for(Waiting::ActorQueue);
        assert_eq!(
            ledger.list(&[], None, 1).0[0].waiting_for,
            "the actor's earlier calls"
        );
        a.running();
        assert_eq!(
            ledger.live_by_state().map(|(_, n)| n),
            [0, 0, 1],
            "one running"
        );
        a.end(Some(&TaskError::new(ErrorKind::TaskCancelled, "a", "x")));
        a.end(None);
        let (l, total) = ledger.list(&[], None, 10);
        assert_eq!((l[0].state, total), (TaskState::Cancelled, 1));
        assert!(l[0].started_us > 0 && l[0].ended_us >= l[0].started_us);
        for lo in 3..6 {
            call(&ledger, lo, "b").end(None);
        }
        let (l, total) = ledger.list(&[], None, 10);
        assert_eq!(total, 2, "the ring keeps the last two ended calls");
        assert_eq!(l[0].id.0.lo, 5, "newest first");
    }

    #[test]
    fn a_forwarded_call_is_not_listed_here_unless_it_comes_back() {
        let ledger = Ledger::new(NodeId(9), 10);
        let a = call(&ledger, 1, "a");
        a.forwarded(NodeId(7));
        assert_eq!(ledger.list(&[], None, 10).1, 0);
        a.retrying(1);
        let (l, _) = ledger.list(&[], None, 10);
        assert_eq!((l[0].node, l[0].attempt), (NodeId(9), 1));
        a.forwarded(NodeId(7));
        a.end(None);
        assert_eq!(ledger.list(&[], None, 10).1, 0, "its executor keeps it");
        let b = call(&ledger, 3, "b");
        b.end(Some(&TaskError::new(ErrorKind::Trap, "b", "boom")));
        let counts = ledger.summary(&[]);
        assert_eq!(counts[&(Arc::from("b"), TaskState::Failed)], 1);
        assert_eq!(counts.len(), 1);
    }

    #[test]
    fn a_jobs_unended_calls_are_its_tasks_here_and_its_actors_calls() {
        let ledger = Ledger::new(NodeId(1), 10);
        let job = JobId(Id { hi: 9, lo: 0 });
        let none = FxHashSet::default();
        let (a, b) = (call(&ledger, 1, "a"), call(&ledger, 2, "b"));
        assert_eq!(ledger.unended(job, &none), 2);
        assert_eq!(ledger.unended(JobId(Id { hi: 8, lo: 0 }), &none), 0);
        b.forwarded(NodeId(7));
        assert_eq!(ledger.unended(job, &none), 1, "another node's to count");
        let actor = ActorId(Id { hi: 9, lo: 5 });
        let method = ledger.track(NewCall {
            id: TaskId(Id { hi: 9, lo: 3 }),
            job: JobId(Id { hi: 8, lo: 0 }),
            kind: TaskKind::ActorCall,
            label: Label::named("m"),
            actor: Some(actor),
            waiting: Some(Waiting::ActorQueue),
        });
        let actors: FxHashSet<ActorId> = [actor].into_iter().collect();
        assert_eq!(
            ledger.unended(job, &actors),
            2,
            "a call of its actor, by any job"
        );
        a.end(None);
        method.end(None);
        assert_eq!(ledger.unended(job, &actors), 0);
    }
}
