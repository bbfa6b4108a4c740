//! Scraping a daemon's `/metrics` as Prometheus does: over the cluster's
//! TLS (the CA pinned, its server name), with the cluster token.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// GET /metrics at `port` over TLS pinned to `ca`, with `token` if given:
/// (status code, body).
pub async fn scrape(port: u16, ca: &Path, token: Option<&str>) -> (u16, String) {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated, reason = "ring, as the cluster's own TLS")]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls_pki_types::ServerName::try_from(wrun_cluster::tls::CLUSTER_NAME).unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {}\r\n{auth}Connection: close\r\n\r\n",
        wrun_cluster::tls::CLUSTER_NAME
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let _ = tls.read_to_end(&mut reply).await;
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let code = reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {reply}"));
    let body = reply
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (code, body)
}

/// The samples of an OpenMetrics text, by name and labels as written.
pub fn samples(text: &str) -> HashMap<String, f64> {
    assert!(
        text.trim_end().ends_with("# EOF"),
        "a whole exposition: {text}"
    );
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("`{l}`"));
            let value = value.parse().unwrap_or_else(|e| panic!("`{l}`: {e}"));
            (key.to_string(), value)
        })
        .collect()
}

/// The sample `key` (name and labels as written) of `all`.
pub fn sample(all: &HashMap<String, f64>, key: &str) -> f64 {
    *all.get(key).unwrap_or_else(|| {
        let mut keys: Vec<_> = all.keys().collect();
        keys.sort();
        panic!("no sample {key} among {keys:?}")
    })
}
