//! The dashboard: a web UI the head serves (`--dashboard-port`, Ray's
//! 8265 by convention), over the cluster's TLS, behind the cluster token.
//! One logs in with the token and gets a session cookie; every refused
//! login or call is logged with the caller's address. The pages are static
//! assets embedded in the binary (no CDN: clusters need not reach the
//! internet) and draw themselves from a JSON API (`api.rs`) that asks the
//! head what the CLI asks it, in the same forms (`crate::views`).

mod api;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Extension, Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;

use crate::auth::{Credentials, Token};
use crate::tls::ServerKey;
use crate::web::{serve_router, Peer, WebHandle};

/// How long a session lasts after its login.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// Sessions kept at most (the oldest go first): logins cannot make the
/// head hold more.
const MAX_SESSIONS: usize = 1000;

/// The session cookie's name.
const COOKIE: &str = "wrun_session";

const INDEX: &str = include_str!("assets/index.html");
const LOGIN: &str = include_str!("assets/login.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/style.css");

/// What the dashboard's handlers share.
pub(crate) struct Dashboard {
    /// The head it asks, and how.
    pub(crate) head: String,
    pub(crate) creds: Credentials,
    /// What a login must present.
    token: Token,
    /// Session ids and when they expire.
    sessions: Mutex<HashMap<String, Instant>>,
    /// Cookies are `Secure` over TLS.
    tls: bool,
}

impl Dashboard {
    fn new_session(&self) -> String {
        let mut bytes = [0u8; 32];
        wrun_core::ids::random_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut sessions = self.sessions.lock();
        let now = Instant::now();
        sessions.retain(|_, expires| *expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), now + SESSION_TTL);
        id
    }

    /// Whether the request carries a live session.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(id) = session_cookie(headers) else {
            return false;
        };
        self.sessions
            .lock()
            .get(id)
            .is_some_and(|expires| *expires > Instant::now())
    }
}

/// The session id in the request's cookies, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// Serves the dashboard on `host:port` (0: any free port), with TLS when
/// given the head's `key`, asking the head at `head` with `creds`.
pub async fn serve_dashboard(
    host: &str,
    port: u16,
    key: Option<&ServerKey>,
    head: String,
    creds: Credentials,
) -> anyhow::Result<WebHandle> {
    let shared = Arc::new(Dashboard {
        head,
        token: creds.token.clone(),
        creds,
        sessions: Mutex::default(),
        tls: key.is_some(),
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout))
        .route("/assets/app.js", get(|| asset("text/javascript", APP_JS)))
        .route("/assets/style.css", get(|| asset("text/css", STYLE)))
        .nest("/api", api::routes(shared.clone()))
        .with_state(shared);
    serve_router(host, port, key, router, "dashboard").await
}

async fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

async fn index(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if d.admits(&headers) {
        Html(INDEX).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

fn login_form(error: &str) -> Html<String> {
    Html(LOGIN.replace("{{error}}", error))
}

async fn login_page() -> Html<String> {
    login_form("")
}

async fn login(
    State(d): State<Arc<Dashboard>>,
    Extension(Peer(peer)): Extension<Peer>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let presented = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim());
    if !presented.is_some_and(|t| d.token.matches(t.as_bytes())) {
        tracing::warn!(%peer, "refused a dashboard login without the cluster token");
        return (
            StatusCode::UNAUTHORIZED,
            login_form("That is not the cluster token."),
        )
            .into_response();
    }
    let id = d.new_session();
    tracing::info!(%peer, "dashboard login");
    let secure = if d.tls { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, cookie), (header::LOCATION, "/".into())],
    )
        .into_response()
}

async fn logout(State(d): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        d.sessions.lock().remove(id);
    }
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/login".into()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; wrun_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        h.insert(header::COOKIE, "wrun_sessionx=abc".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
    }
}
