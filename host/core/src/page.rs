//! Pages of listed records (`wrun list --after`, the dashboard's next
//! page): every listing has one order — calls newest first (by
//! `submitted_us`, then id, both descending), actors and objects by id,
//! descending (a node mints ids in increasing order: its newest first) — and
//! a page starts after a place in it. A place is a record's sort key, not an offset, so
//! the next page neither repeats nor skips records however many come and go
//! between the two requests, and every node cuts its share of a page alone.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use crate::state::{ActorRecord, Fields, Filter, ObjectRecord, TaskRecord};
use crate::Id;

/// A record's place in its listing's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// Newest first (calls); 0 for kinds listed by id alone.
    newest_first: Reverse<u64>,
    id: Reverse<Id>,
}

impl Place {
    /// A call's place: after those submitted later.
    pub fn call(submitted_us: u64, id: Id) -> Place {
        Place {
            newest_first: Reverse(submitted_us),
            id: Reverse(id),
        }
    }

    /// The place of a record listed by id.
    pub fn by_id(id: Id) -> Place {
        Place::call(0, id)
    }

    /// Reads a place as [`Place`]'s `Display` writes it: `SUBMITTED_US:ID`
    /// for calls (`calls`), `ID` for the rest.
    pub fn parse(s: &str, calls: bool) -> Result<Place, String> {
        let bad = |why: String| {
            let form = if calls { "SUBMITTED_US:ID" } else { "ID" };
            format!("`{s}` is not a place to list from ({why}); give {form}, as the listing said")
        };
        let (us, id) = match (calls, s.split_once(':')) {
            (true, Some((us, id))) => (us.parse().map_err(|e| bad(format!("{e}")))?, id),
            (false, None) => (0, s),
            (true, None) => return Err(bad("no `:`".into())),
            (false, Some(_)) => return Err(bad("a call's place".into())),
        };
        let id = id.parse().map_err(|e| bad(format!("{e}")))?;
        Ok(Place::call(us, id))
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.newest_first.0 {
            0 => write!(f, "{}", self.id.0),
            us => write!(f, "{us}:{}", self.id.0),
        }
    }
}

/// Records with a place in their listing's order.
pub trait Listed: Fields {
    /// Its place.
    fn place(&self) -> Place;
}

impl Listed for TaskRecord {
    fn place(&self) -> Place {
        Place::call(self.submitted_us, self.id.0)
    }
}

impl Listed for ActorRecord {
    fn place(&self) -> Place {
        Place::by_id(self.id.0)
    }
}

impl Listed for ObjectRecord {
    fn place(&self) -> Place {
        Place::by_id(self.id.0)
    }
}

/// The page of `records` that pass `filters` and come after `after`: the
/// first `limit` of them in order, and how many there are in all. Records
/// stream through a heap of the `limit` first so far: a node may hold
/// 100,000, and only the page's are kept.
pub fn page<R: Listed>(
    records: impl IntoIterator<Item = R>,
    filters: &[Filter],
    after: Option<Place>,
    limit: usize,
) -> (Vec<R>, usize) {
    let mut first: BinaryHeap<ByPlace<R>> = BinaryHeap::new();
    let mut total = 0;
    for r in records {
        let place = r.place();
        if !r.passes(filters) || after.is_some_and(|a| place <= a) {
            continue;
        }
        total += 1;
        if first.len() < limit {
            first.push(ByPlace(place, r));
        } else if first.peek().is_some_and(|last| place < last.0) {
            first.pop();
            first.push(ByPlace(place, r));
        }
    }
    let page = first.into_sorted_vec().into_iter().map(|b| b.1).collect();
    (page, total)
}

/// A record ordered by its place alone (the heap's last is the page's).
struct ByPlace<R>(Place, R);

impl<R> PartialEq for ByPlace<R> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<R> Eq for ByPlace<R> {}

impl<R> PartialOrd for ByPlace<R> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<R> Ord for ByPlace<R> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{TaskKind, TaskState};
    use crate::{JobId, NodeId, TaskId};

    fn call(lo: u64, submitted_us: u64, state: TaskState) -> TaskRecord {
        TaskRecord {
            id: TaskId(Id { hi: 1, lo }),
            job: JobId(Id { hi: 1, lo: 0 }),
            kind: TaskKind::Task,
            name: "f".into(),
            actor: None,
            node: NodeId(1),
            state,
            waiting_for: String::new(),
            submitted_us,
            started_us: 0,
            ended_us: 0,
            attempt: 0,
            error: String::new(),
        }
    }

    fn ids(page: &[TaskRecord]) -> Vec<u64> {
        page.iter().map(|r| r.id.0.lo).collect()
    }

    #[test]
    fn pages_follow_one_another_newest_first_without_repeats_or_gaps() {
        let all: Vec<TaskRecord> = (1..=7)
            .map(|i| call(i, 100 + i % 3, TaskState::Finished))
            .collect();
        // Newest first, then by id descending: 102 (5, 2), 101 (7, 4, 1),
        // 100 (6, 3).
        let (first, total) = page(all.clone(), &[], None, 3);
        assert_eq!((ids(&first), total), (vec![5, 2, 7], 7));
        let next = first.last().unwrap().place();
        let (second, left) = page(all.clone(), &[], Some(next), 3);
        assert_eq!((ids(&second), left), (vec![4, 1, 6], 4));
        // A call submitted meanwhile (newer) does not shift the next page.
        let mut more = all.clone();
        more.push(call(8, 999, TaskState::Running));
        let (third, left) = page(more, &[], Some(second.last().unwrap().place()), 3);
        assert_eq!((ids(&third), left), (vec![3], 1));
    }

    #[test]
    fn filters_hold_before_the_page_is_cut() {
        let all = vec![
            call(1, 5, TaskState::Running),
            call(2, 4, TaskState::Finished),
            call(3, 3, TaskState::Running),
        ];
        let running = [Filter {
            key: "state".into(),
            value: "running".into(),
        }];
        let (p, total) = page(all, &running, None, 1);
        assert_eq!((ids(&p), total), (vec![1], 2));
    }

    #[test]
    fn places_read_back_as_written_and_say_what_they_expect() {
        let p = Place::call(17, Id { hi: 2, lo: 3 });
        assert_eq!(Place::parse(&p.to_string(), true), Ok(p));
        let q = Place::by_id(Id { hi: 2, lo: 3 });
        assert_eq!(Place::parse(&q.to_string(), false), Ok(q));
        let e = Place::parse("00ff", true).unwrap_err();
        assert!(e.contains("give SUBMITTED_US:ID"), "{e}");
        let e = Place::parse("1:zz", true).unwrap_err();
        assert!(e.contains("`1:zz` is not a place"), "{e}");
    }
}
