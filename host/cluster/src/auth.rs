//! The cluster token: created by the head in a file only its owner can read,
//! presented by every caller as `authorization: Bearer <token>`, checked by
//! every server before anything else runs. A call without it, or with
//! another, is refused and logged with the caller's address.

use std::path::{Path, PathBuf};

use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

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
    fn matches(&self, presented: &[u8]) -> bool {
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

    /// A server interceptor: refuses (and logs) calls without this token.
    pub fn check(&self) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
        let token = self.clone();
        move |req: Request<()>| {
            let presented = req
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let peer = req
                .remote_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|| "an unknown peer".into());
            match presented {
                Some(t) if token.matches(t.as_bytes()) => Ok(req),
                Some(_) => {
                    tracing::warn!(%peer, "refused a call with a wrong cluster token");
                    Err(Status::unauthenticated(
                        "wrong cluster token: use the token file of this cluster's head",
                    ))
                }
                None => {
                    tracing::warn!(%peer, "refused a call without a cluster token");
                    Err(Status::unauthenticated(
                        "no cluster token: every call must present the head's token (authorization: Bearer ...)",
                    ))
                }
            }
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
}
