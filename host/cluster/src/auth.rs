//! The cluster token: created by the head in a file only its owner can read,
//! presented by every caller as `authorization: Bearer <token>`, checked by
//! every server before anything else runs. A call without it, or with
//! another, is refused and logged with the caller's address.
//!
//! An address that keeps calling without the token is rate limited: past
//! [`MAX_UNAUTHENTICATED`] refusals in a minute, its calls without the
//! token are refused as `RESOURCE_EXHAUSTED` without being compared or
//! logged, until the minute is over (one line says it started). Calls with
//! the token always pass: a node behind the same address as an attacker
//! must not be cut off, and guessing 256 random bits is pointless anyway.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

/// What a process presents and checks on every call to another: the
/// cluster token, and how the connection is secured.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The token every call carries.
    pub token: Token,
    /// TLS pinned to the cluster's CA, or plain text on loopback.
    pub transport: crate::tls::Transport,
}

/// A cluster token (64 hex digits: 32 random bytes).
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A token that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token file could not be read.
    #[error("cannot read the cluster token at {path}: {source}; copy the head's token file here or pass --token-file")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    #[error("the cluster token at {path} is not 64 hex digits; copy it again from the head's state directory")]
    /// The file holds something else.
    Malformed {
        /// The file.
        path: String,
    },
    #[error("cannot write the cluster token at {path}: {source}")]
    /// A new token could not be written.
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Token {
    /// Reads the token at `path`, or creates one there (mode 0600) if there
    /// is none: the head's first start.
    pub fn load_or_create(path: &Path) -> Result<Token, TokenError> {
        if path.exists() {
            return Token::load(path);
        }
        let mut raw = [0u8; 32];
        let write_err = |source| TokenError::Write {
            path: path.display().to_string(),
            source,
        };
        wrun_core::ids::random_bytes(&mut raw);
        let text: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(write_err)?;
        f.write_all(text.as_bytes()).map_err(write_err)?;
        Ok(Token(text))
    }

    /// Reads the token at `path`.
    pub fn load(path: &Path) -> Result<Token, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(TokenError::Malformed {
                path: path.display().to_string(),
            });
        }
        Ok(Token(text.to_ascii_lowercase()))
    }

    /// Where the token lives in a state directory.
    pub fn path_in(state_dir: &Path) -> PathBuf {
        state_dir.join("cluster.token")
    }

    /// Compares in time independent of where the strings differ.
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        let ours = self.0.as_bytes();
        if presented.len() != ours.len() {
            return false;
        }
        presented
            .iter()
            .zip(ours)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// Adds the token to an outgoing request.
    #[allow(
        clippy::result_large_err,
        reason = "tonic's Status is what calls return"
    )]
    pub fn attach<T>(&self, mut req: Request<T>) -> Result<Request<T>, Status> {
        let v: MetadataValue<_> = format!("Bearer {}", self.0)
            .parse()
            .map_err(|_| Status::internal("the cluster token is not a valid header value"))?;
        req.metadata_mut().insert("authorization", v);
        Ok(req)
    }

    /// A server interceptor: refuses (and logs) calls without this token,
    /// rate limiting the addresses that keep trying.
    pub fn check(&self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
        let token = self.clone();
        let failures = Arc::new(Mutex::new(Failures::default()));
        move |req: Request<()>| {
            let presented = req
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if presented.is_some_and(|t| token.matches(t.as_bytes())) {
                return Ok(req);
            }
            let addr = req.remote_addr();
            let peer = addr.map_or_else(|| "an unknown peer".into(), |a| a.to_string());
            match failures.lock().count(addr.map(|a| a.ip()), Instant::now()) {
                Tally::Limited => {
                    return Err(Status::resource_exhausted(format!(
                        "too many calls without the cluster token from {peer}; wait a minute"
                    )))
                }
                Tally::JustLimited => tracing::warn!(
                    %peer,
                    limit = MAX_UNAUTHENTICATED,
                    "refusing this address's calls without a token for a minute, unlogged"
                ),
                Tally::Counted => {}
            }
            if presented.is_some() {
                tracing::warn!(%peer, "refused a call with a wrong cluster token");
                Err(Status::unauthenticated(
                    "wrong cluster token: use the token file of this cluster's head",
                ))
            } else {
                tracing::warn!(%peer, "refused a call without a cluster token");
                Err(Status::unauthenticated(
                    "no cluster token: every call must present the head's token (authorization: Bearer ...)",
                ))
            }
        }
    }
}

/// Calls without the token one address may make in a minute before the
/// rest of that minute's are refused unread.
pub const MAX_UNAUTHENTICATED: u32 = 20;

/// The window [`MAX_UNAUTHENTICATED`] counts in.
const WINDOW: Duration = Duration::from_secs(60);

/// Addresses tracked at most: past it, expired windows are dropped, and if
/// none has expired the count starts over (memory stays bounded under a
/// flood from many addresses).
const MAX_TRACKED: usize = 10_000;

/// Refusals per address in the current window.
#[derive(Default)]
struct Failures(HashMap<Option<IpAddr>, (Instant, u32)>);

/// What one more refusal from an address makes of it.
#[derive(Debug, PartialEq)]
enum Tally {
    Counted,
    /// This refusal reached the limit.
    JustLimited,
    /// Already past the limit.
    Limited,
}

impl Failures {
    fn count(&mut self, ip: Option<IpAddr>, now: Instant) -> Tally {
        if self.0.len() >= MAX_TRACKED && !self.0.contains_key(&ip) {
            self.0
                .retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if self.0.len() >= MAX_TRACKED {
                self.0.clear();
            }
        }
        let (start, n) = self.0.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *n = 0;
        }
        *n = n.saturating_add(1);
        match (*n).cmp(&MAX_UNAUTHENTICATED) {
            std::cmp::Ordering::Less => Tally::Counted,
            std::cmp::Ordering::Equal => Tally::JustLimited,
            std::cmp::Ordering::Greater => Tally::Limited,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_is_private_and_reads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = Token::path_in(dir.path());
        let t = Token::load_or_create(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = Token::load_or_create(&p).unwrap();
        assert!(t.matches(again.0.as_bytes()));
        assert!(!t.matches(b"0000"));
        std::fs::write(&p, "not a token").unwrap();
        assert!(matches!(Token::load(&p), Err(TokenError::Malformed { .. })));
    }

    #[test]
    fn the_interceptor_refuses_missing_and_wrong_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let t = Token::load_or_create(&Token::path_in(dir.path())).unwrap();
        let mut check = t.check();
        assert_eq!(
            check(Request::new(())).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let other = Token("ab".repeat(32));
        let wrong = other.attach(Request::new(())).unwrap();
        assert_eq!(
            check(wrong).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        let right = t.attach(Request::new(())).unwrap();
        assert!(check(right).is_ok());
    }

    #[test]
    fn an_address_that_keeps_failing_is_limited_for_a_window() {
        let mut f = Failures::default();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        let t0 = Instant::now();
        for _ in 1..MAX_UNAUTHENTICATED {
            assert_eq!(f.count(a, t0), Tally::Counted);
        }
        assert_eq!(f.count(a, t0), Tally::JustLimited);
        assert_eq!(f.count(a, t0), Tally::Limited);
        assert_eq!(f.count(b, t0), Tally::Counted, "other addresses are not");
        assert_eq!(f.count(a, t0 + WINDOW), Tally::Counted, "a new window");
    }

    #[test]
    fn the_interceptor_limits_failures_but_never_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let t = Token::load_or_create(&Token::path_in(dir.path())).unwrap();
        let mut check = t.check();
        for _ in 0..MAX_UNAUTHENTICATED {
            assert_eq!(
                check(Request::new(())).unwrap_err().code(),
                tonic::Code::Unauthenticated
            );
        }
        assert_eq!(
            check(Request::new(())).unwrap_err().code(),
            tonic::Code::ResourceExhausted
        );
        assert!(check(t.attach(Request::new(())).unwrap()).is_ok());
    }
}
