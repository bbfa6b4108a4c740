//! The dashboard's JSON API, for a logged-in session only: what the head
//! reports, in the forms `wrun ... --json` prints (`crate::views`), so the
//! pages show what the CLI shows.
//!
//! - `GET /api/status`: nodes, jobs, placement groups (`wrun status --json`)
//! - `GET /api/jobs/ID`: one job; `/api/jobs/ID/logs?from=N&limit=M&search=S`
//!   its lines; `/api/jobs/ID/timeline`: its trace (`wrun timeline`)
//! - `GET /api/list/tasks|actors|objects?filter=K=V&limit=N&after=PLACE`:
//!   a page of records, how many passed after PLACE, where the next page
//!   starts, nodes that did not answer (`wrun list --after`)
//! - `GET /api/summary/tasks|actors|objects?job=ID` (`wrun summary`),
//!   `GET /api/memory?job=ID` (`wrun memory`)

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use wrun_proto::pb;
use wrun_proto::pb::job_event::Event;
use wrun_proto::state::MAX_LISTED;

use super::Dashboard;
use crate::client;
use crate::views;
use crate::web::Peer;

/// The most lines one logs request returns.
const MAX_LINES: usize = 10_000;

type Params = Query<Vec<(String, String)>>;

pub(super) fn routes(shared: Arc<Dashboard>) -> Router<Arc<Dashboard>> {
    Router::new()
        .route("/status", get(status))
        .route("/jobs/{id}", get(job))
        .route("/jobs/{id}/logs", get(logs))
        .route("/jobs/{id}/timeline", get(timeline))
        .route("/list/{kind}", get(list))
        .route("/summary/{kind}", get(summary))
        .route("/memory", get(memory))
        .route_layer(axum::middleware::from_fn_with_state(shared, admitted))
}

/// Lets a request with a live session through; refuses and logs others.
async fn admitted(
    State(d): State<Arc<Dashboard>>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if d.admits(&headers) {
        return next.run(req).await;
    }
    tracing::warn!(%peer, path = %req.uri().path(), "refused a dashboard call without a session");
    failed(
        StatusCode::UNAUTHORIZED,
        "log in first (the cluster token at /login)",
    )
}

fn failed(code: StatusCode, why: impl std::fmt::Display) -> Response {
    (code, axum::Json(json!({"error": why.to_string()}))).into_response()
}

/// Why the head gave no answer: 400 when it refused the request as the
/// caller's mistake (a bad filter), else 502.
fn head_failed(e: anyhow::Error) -> Response {
    let callers = e
        .downcast_ref::<client::HeadRefused>()
        .is_some_and(client::HeadRefused::callers_fault);
    let code = if callers {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::BAD_GATEWAY
    };
    failed(code, format!("{e:#}"))
}

/// The head's answer, or why there was none.
fn answered(v: anyhow::Result<Value>) -> Response {
    v.map_or_else(head_failed, |v| axum::Json(v).into_response())
}

fn param<'a>(p: &'a [(String, String)], key: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn kind_of(kind: &str) -> Option<pb::StateKind> {
    match kind {
        "tasks" => Some(pb::StateKind::StateTasks),
        "actors" => Some(pb::StateKind::StateActors),
        "objects" => Some(pb::StateKind::StateObjects),
        _ => None,
    }
}

fn no_kind(kind: &str) -> Response {
    failed(
        StatusCode::NOT_FOUND,
        format!("no records of kind `{kind}`: tasks, actors or objects"),
    )
}

async fn status(State(d): State<Arc<Dashboard>>) -> Response {
    answered(
        client::status(&d.head, &d.creds)
            .await
            .map(|s| views::status_json(&s, &d.head)),
    )
}

async fn job(State(d): State<Arc<Dashboard>>, Path(id): Path<String>) -> Response {
    match client::status(&d.head, &d.creds).await {
        Ok(s) => match s.jobs.iter().find(|j| j.job_id == id) {
            Some(j) => axum::Json(views::job_json(j)).into_response(),
            None => failed(StatusCode::NOT_FOUND, format!("no job {id} at this head")),
        },
        Err(e) => head_failed(e),
    }
}

async fn logs(
    State(d): State<Arc<Dashboard>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Response {
    let from: u64 = param(&p, "from").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = param(&p, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000usize)
        .min(MAX_LINES);
    let search = param(&p, "search").unwrap_or_default().to_string();
    let read = async {
        let mut events = client::follow(&d.head, &d.creds, &id, from, false).await?;
        let mut lines = Vec::new();
        let mut n = from;
        while let Some(e) = events.next().await? {
            let Event::Log(l) = e else { continue };
            if search.is_empty() || l.message.contains(&search) || l.task.contains(&search) {
                lines.push(views::line_json(n, &l));
            }
            n += 1;
            if lines.len() >= limit {
                break;
            }
        }
        Ok(json!({"lines": lines, "next": n}))
    };
    answered(read.await)
}

async fn timeline(State(d): State<Arc<Dashboard>>, Path(id): Path<String>) -> Response {
    let filters = [("job".to_string(), id.clone())];
    let req = client::state_request(pb::StateKind::StateTasks, &filters, MAX_LISTED, false);
    match client::list_state(&d.head, &d.creds, req).await {
        Ok(reply) => {
            let calls: Vec<Value> = reply.tasks.iter().map(views::task_json).collect();
            let trace = views::trace_json(&calls, views::now_us());
            let name = format!("attachment; filename=\"timeline-{id}.json\"");
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                trace.to_string(),
            )
                .into_response()
        }
        Err(e) => head_failed(e),
    }
}

async fn list(
    State(d): State<Arc<Dashboard>>,
    Path(kind): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(k) = kind_of(&kind) else {
        return no_kind(&kind);
    };
    let limit = param(&p, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100u64)
        .min(MAX_LISTED);
    let mut filters = Vec::new();
    for (key, v) in &p {
        if key != "filter" {
            continue;
        }
        match v.split_once('=') {
            Some((k, v)) => filters.push((k.to_string(), v.to_string())),
            None => {
                return failed(
                    StatusCode::BAD_REQUEST,
                    format!("filter `{v}` is not KEY=VALUE"),
                )
            }
        }
    }
    let mut req = client::state_request(k, &filters, limit, false);
    req.after = param(&p, "after").unwrap_or_default().to_string();
    let reply = match client::list_state(&d.head, &d.creds, req).await {
        Ok(r) => r,
        Err(e) => return head_failed(e),
    };
    axum::Json(json!({
        "records": views::records_json(k, &reply),
        "total": reply.total,
        "next": reply.next,
        "unreachable": reply.unreachable,
    }))
    .into_response()
}

async fn summary(
    State(d): State<Arc<Dashboard>>,
    Path(kind): Path<String>,
    Query(p): Params,
) -> Response {
    let Some(k) = kind_of(&kind) else {
        return no_kind(&kind);
    };
    answered(
        client::counts(&d.head, &d.creds, k, param(&p, "job"))
            .await
            .map(|r| views::summary_json(k, r.counts)),
    )
}

async fn memory(State(d): State<Arc<Dashboard>>, Query(p): Params) -> Response {
    answered(
        client::counts(
            &d.head,
            &d.creds,
            pb::StateKind::StateObjects,
            param(&p, "job"),
        )
        .await
        .map(|r| views::memory_json(r.counts)),
    )
}
