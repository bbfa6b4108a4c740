//! TLS between the cluster's processes, on by default: the head keeps a
//! cluster certificate authority (made with rcgen on its first start, or
//! the operator's own, in the state directory), every server presents a
//! certificate it signed, and every client pins that CA, so the token and
//! the data never cross the network in the clear and a process that is not
//! the cluster's cannot pose as one of its nodes.
//!
//! A node makes its own key at each start and asks the head to certify its
//! public key (`Head/Certify`, with the token, over TLS already checked
//! against the CA): private keys never travel. Certificates name the
//! cluster ([`CLUSTER_NAME`]), not an address, so a node is reached the
//! same way behind NAT, in a container or by any of its addresses.
//!
//! Plain text (`--tls off`) is allowed only when every address involved is
//! a loopback one ([`Transport::plain`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256,
};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

/// The name every certificate of the cluster is issued for, and the name
/// clients check.
pub const CLUSTER_NAME: &str = "node.wrun.internal";

/// A TLS set-up that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{what} at {path}: {source}")]
    File {
        /// Which file.
        what: &'static str,
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds something else than a certificate or key.
    #[error("{what} at {path} is not usable: {reason}")]
    Malformed {
        /// Which file.
        what: &'static str,
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Plain text was asked for where it is not allowed.
    #[error("--tls off is only allowed on loopback, and `{0}` is not a loopback address; leave TLS on (the default) for a cluster across machines")]
    PlainOffLoopback(String),
    /// A certificate could not be made.
    #[error("cannot make a certificate: {0}")]
    Certify(String),
}

/// How this process reaches the others: TLS pinned to the cluster's CA, or
/// plain text (loopback only). Fixed at start.
#[derive(Clone)]
pub enum Transport {
    /// TLS; servers must present a certificate signed by this CA (PEM).
    Tls(Arc<str>),
    /// Plain text.
    Plain,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tls(_) => "Transport::Tls",
            Transport::Plain => "Transport::Plain",
        })
    }
}

/// Whether `address` (a host, or host:port) is a loopback one.
pub fn is_loopback(address: &str) -> bool {
    use std::net::{IpAddr, SocketAddr};
    if let Ok(ip) = address.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    if let Ok(sa) = address.parse::<SocketAddr>() {
        return sa.ip().is_loopback();
    }
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host == "localhost"
}

impl Transport {
    /// TLS pinned to the CA certificate in `ca_file`.
    pub fn tls_from(ca_file: &Path) -> Result<Transport, TlsError> {
        let pem = std::fs::read_to_string(ca_file).map_err(|source| TlsError::File {
            what: "the cluster's CA certificate",
            path: format!(
                "{} (copy the head's STATE_DIR/{CA_CERT} here or pass --ca-file)",
                ca_file.display()
            ),
            source,
        })?;
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(TlsError::Malformed {
                what: "the cluster's CA certificate",
                path: ca_file.display().to_string(),
                reason: "no PEM certificate in it".into(),
            });
        }
        Ok(Transport::Tls(pem.into()))
    }

    /// Plain text, if every one of `addresses` is a loopback one.
    pub fn plain(addresses: &[&str]) -> Result<Transport, TlsError> {
        match addresses.iter().find(|a| !is_loopback(a)) {
            Some(a) => Err(TlsError::PlainOffLoopback(a.to_string())),
            None => Ok(Transport::Plain),
        }
    }

    /// Whether calls are encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// An endpoint for the process at `address` (host:port).
    pub fn endpoint(&self, address: &str) -> Result<Endpoint, String> {
        let scheme = if self.is_tls() { "https" } else { "http" };
        let e = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| format!("`{address}` is not an address: {e}"))?
            .connect_timeout(Duration::from_secs(5));
        match self {
            Transport::Plain => Ok(e),
            Transport::Tls(ca) => e
                .tls_config(
                    ClientTlsConfig::new()
                        .ca_certificate(Certificate::from_pem(ca.as_bytes()))
                        .domain_name(CLUSTER_NAME),
                )
                .map_err(|e| format!("TLS settings for {address}: {e}")),
        }
    }
}

/// The CA certificate's file in a state directory (copy it, with the
/// token, to the machines that join or submit).
pub const CA_CERT: &str = "cluster-ca.pem";

/// The CA key's file in the head's state directory (its owner only).
pub const CA_KEY: &str = "cluster-ca.key";

/// Where the CA certificate is beside a token file: the default for
/// `--ca-file`, so copying the two files side by side is enough.
pub fn ca_file_beside(token_file: &Path) -> PathBuf {
    token_file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(CA_CERT)
}

/// Where the head reads the CA's key: beside its certificate.
pub fn ca_key_beside(cert_path: &Path) -> PathBuf {
    cert_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(CA_KEY)
}

/// The head's certificate authority.
pub struct Authority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    /// The CA whose certificate is `cert_path` (its key beside it, named
    /// [`CA_KEY`]), or a new one made there (the head's first start). An
    /// operator's own CA is used when both files are there.
    pub fn load_or_create(cert_path: &Path) -> Result<Authority, TlsError> {
        let key_path = &ca_key_beside(cert_path);
        let read = |what, p: &Path| {
            std::fs::read_to_string(p).map_err(|source| TlsError::File {
                what,
                path: p.display().to_string(),
                source,
            })
        };
        let malformed = |what, p: &Path, e: rcgen::Error| TlsError::Malformed {
            what,
            path: p.display().to_string(),
            reason: e.to_string(),
        };
        if cert_path.exists() || key_path.exists() {
            let cert_pem = read("the cluster's CA certificate", cert_path)?;
            let key_pem = read("the cluster's CA key", key_path)?;
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|e| malformed("the cluster's CA key", key_path, e))?;
            let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
                .map_err(|e| malformed("the cluster's CA certificate", cert_path, e))?;
            return Ok(Authority { cert_pem, issuer });
        }
        let key = KeyPair::generate().map_err(|e| TlsError::Certify(e.to_string()))?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "wrun cluster CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params
            .self_signed(&key)
            .map_err(|e| TlsError::Certify(e.to_string()))?;
        let cert_pem = cert.pem();
        write_private(key_path, &key.serialize_pem())?;
        std::fs::write(cert_path, &cert_pem).map_err(|source| TlsError::File {
            what: "the cluster's CA certificate",
            path: cert_path.display().to_string(),
            source,
        })?;
        Ok(Authority {
            cert_pem,
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate (PEM): what clients pin.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Clients of this cluster pin this CA.
    pub fn transport(&self) -> Transport {
        Transport::Tls(self.cert_pem.as_str().into())
    }

    /// A certificate (PEM) for the P-256 public key `raw` (an uncompressed
    /// point, as [`KeyPair::public_key_raw`] gives it), named
    /// [`CLUSTER_NAME`], good for serving and calling.
    pub fn certify(&self, raw: &[u8], subject: &str) -> Result<String, TlsError> {
        if raw.len() != 65 || raw[0] != 4 {
            return Err(TlsError::Certify(format!(
                "a public key of {} bytes is not an uncompressed P-256 point (65 bytes, 0x04 first)",
                raw.len()
            )));
        }
        let mut params = CertificateParams::new(vec![CLUSTER_NAME.to_string()])
            .map_err(|e| TlsError::Certify(e.to_string()))?;
        params.distinguished_name.push(DnType::CommonName, subject);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&RawP256(raw), &self.issuer)
            .map_err(|e| TlsError::Certify(e.to_string()))?;
        Ok(cert.pem())
    }

    /// A key and certificate for the head's own server.
    pub fn own_identity(&self) -> Result<ServerKey, TlsError> {
        let key = KeyPair::generate().map_err(|e| TlsError::Certify(e.to_string()))?;
        let cert = self.certify(key.public_key_raw(), "wrun head")?;
        Ok(ServerKey::new(&key, &cert))
    }
}

/// A server's key and the certificate the cluster's CA signed for it, in
/// PEM: what its gRPC server and its web server (`/metrics`) present.
#[derive(Clone)]
pub struct ServerKey {
    cert_pem: String,
    key_pem: String,
}

impl ServerKey {
    /// `key` with the certificate the head gave for it.
    pub fn new(key: &KeyPair, cert_pem: &str) -> Self {
        ServerKey {
            cert_pem: cert_pem.to_string(),
            key_pem: key.serialize_pem(),
        }
    }

    /// As tonic's servers take it.
    pub fn identity(&self) -> Identity {
        Identity::from_pem(&self.cert_pem, &self.key_pem)
    }

    /// As rustls takes it (the web server's TLS, with the same provider as
    /// tonic's).
    pub fn rustls(&self) -> Result<Arc<tokio_rustls::rustls::ServerConfig>, TlsError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let bad =
            |e: &dyn std::fmt::Display| TlsError::Certify(format!("the server's own key: {e}"));
        let certs = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|e| bad(&e))?;
        #[allow(
            deprecated,
            reason = "ring is the provider tonic's tls-ring uses for the gRPC servers; the post-quantum groups need aws-lc-rs, which this build does not compile"
        )]
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(&e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| bad(&e))?;
        Ok(Arc::new(config))
    }
}

/// A fresh key for a node's server: its public half goes to the head to
/// be certified, and [`identity`] pairs it with the certificate.
pub fn new_key() -> Result<KeyPair, TlsError> {
    KeyPair::generate().map_err(|e| TlsError::Certify(e.to_string()))
}

/// A gRPC server's TLS settings for `key`.
pub fn server_config(key: &ServerKey) -> ServerTlsConfig {
    ServerTlsConfig::new().identity(key.identity())
}

/// A P-256 public key as raw bytes, for rcgen.
struct RawP256<'a>(&'a [u8]);

impl PublicKeyData for RawP256<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

/// Writes a private file (mode 0600), never over an existing one.
fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| TlsError::File {
        what: "the cluster's CA key",
        path: path.display().to_string(),
        source,
    };
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(err)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_told_apart() {
        for a in [
            "127.0.0.1:6390",
            "localhost:1",
            "[::1]:80",
            "::1",
            "127.0.0.1",
        ] {
            assert!(is_loopback(a), "{a}");
        }
        for a in ["10.0.0.1:6390", "0.0.0.0", "example.com:1", "[fe80::1]:2"] {
            assert!(!is_loopback(a), "{a}");
        }
        assert!(Transport::plain(&["127.0.0.1", "127.0.0.1:6390"]).is_ok());
        let refused = Transport::plain(&["127.0.0.1", "10.1.2.3:6390"]).unwrap_err();
        assert!(refused.to_string().contains("10.1.2.3:6390"), "{refused}");
    }

    #[test]
    fn a_ca_is_made_once_kept_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join(CA_CERT);
        let first = Authority::load_or_create(&cert).unwrap();
        let mode = std::fs::metadata(dir.path().join(CA_KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Authority::load_or_create(&cert).unwrap();
        assert_eq!(first.cert_pem(), again.cert_pem());
        // The CA read back still signs.
        let key = new_key().unwrap();
        let cert = again.certify(key.public_key_raw(), "n").unwrap();
        assert!(cert.contains("BEGIN CERTIFICATE"));
        assert!(again.certify(&[4; 10], "n").is_err());
    }

    #[test]
    fn a_half_present_ca_is_an_error_not_a_new_ca() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CA_CERT), "x").unwrap();
        let err = Authority::load_or_create(&dir.path().join(CA_CERT))
            .err()
            .unwrap();
        assert!(err.to_string().contains(CA_KEY), "{err}");
    }
}
