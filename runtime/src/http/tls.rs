//! HTTPS: the certificate and key the admin configured (`--tls-cert`, `--tls-key`), and
//! where plain HTTP may listen without them.
//!
//! The editor carries an admin's password and session cookie, which plain HTTP shows to
//! anyone on the path. So without a certificate the server listens on loopback only,
//! where the path is this machine (an admin reaches it through an SSH tunnel or a
//! reverse proxy that terminates TLS), and says so at start-up if it was asked to listen
//! elsewhere. With one, every connection is TLS (rustls, with the *ring* provider),
//! cookies are `Secure` and the server's origin is `https://`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate and key that could not be used, naming the file and the fix.
#[derive(Debug)]
pub struct TlsError(String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// Reads the PEM certificate chain at `cert` (the server's certificate first) and the PEM
/// private key at `key` (PKCS #8, PKCS #1 or SEC1) into an acceptor for HTTP/1.1.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            TlsError(format!(
                "cannot read the TLS certificate {} ({e}); set --tls-cert to a PEM file \
                 holding the server's certificate (and its chain)",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(TlsError(format!(
            "{} holds no certificate (a `-----BEGIN CERTIFICATE-----` block); set \
             --tls-cert to the server's certificate in PEM",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        TlsError(format!(
            "cannot read the TLS private key {} ({e}); set --tls-key to the PEM file of the \
             certificate's private key",
            key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(format!("setting up TLS failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            TlsError(format!(
                "the TLS certificate {} and key {} do not make a pair ({e}); check that the \
                 key is the certificate's",
                cert.display(),
                key.display()
            ))
        })?;
    // Only HTTP/1.1 is served; saying so lets a client skip asking for HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The certificate and key files, when both are configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where plain HTTP listens when asked for `asked`: `asked` itself on loopback, else the
/// loopback address of the same family and port. The second value says the address was
/// changed.
pub fn plain_http_addr(asked: SocketAddr) -> (SocketAddr, bool) {
    if asked.ip().is_loopback() {
        return (asked, false);
    }
    let loopback = match asked.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    (SocketAddr::new(loopback, asked.port()), true)
}

/// The start-up warning for plain HTTP kept to loopback.
pub fn loopback_only_warning(asked: SocketAddr, listening: SocketAddr) -> String {
    format!(
        "HTTP was asked to listen on {asked}, but without a TLS certificate the editor's \
         passwords and session cookies would cross the network in clear, so it listens on \
         {listening} only; set --tls-cert and --tls-key (or tls-cert: and tls-key: in the \
         config file) to serve HTTPS on {asked}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_stays_on_loopback() {
        let cases = [
            ("127.0.0.1:8080", "127.0.0.1:8080", false),
            ("[::1]:8080", "[::1]:8080", false),
            ("0.0.0.0:8080", "127.0.0.1:8080", true),
            ("10.0.0.5:80", "127.0.0.1:80", true),
            ("[::]:8443", "[::1]:8443", true),
        ];
        for (asked, listening, changed) in cases {
            let got = plain_http_addr(asked.parse().unwrap());
            assert_eq!(got, (listening.parse().unwrap(), changed), "{asked}");
        }
    }

    #[test]
    fn a_missing_certificate_names_the_file_and_the_flag() {
        let e = acceptor(
            Path::new("/nonexistent/cert.pem"),
            Path::new("/nonexistent/key.pem"),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("/nonexistent/cert.pem") && e.contains("--tls-cert"),
            "{e}"
        );
    }
}
