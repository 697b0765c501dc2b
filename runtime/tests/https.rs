//! HTTPS over a real socket: the API served with a self-signed certificate (rcgen) to a
//! rustls client that trusts it, the session cookie `Secure`; a client that does not
//! trust the certificate gets nothing; and without a certificate a server asked for
//! every interface listens on loopback only.

mod live_server;
mod signed_in;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::http::auth::{Auth, AuthSettings};
use switchboard_runtime::http::{AppState, HostNames, app, bind, serve_tls, tls};
use switchboard_runtime::reload::PlanHolder;
use switchboard_runtime::server::RunOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM into `dir`:
/// the paths of the certificate and key, and the certificate for a client to trust.
fn certificate(
    dir: &Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    CertificateDer<'static>,
) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key, made.cert.der().clone())
}

/// The API over TLS on 127.0.0.1:0 until the test ends; its address.
async fn https_server(dir: &Path, cert: &Path, key: &Path) -> (SocketAddr, AppState) {
    let plans = dir.join("dialplans");
    let prompts = dir.join("prompts");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::create_dir_all(prompts.join("en")).unwrap();
    std::fs::write(plans.join("office.dial"), "extension 101 \"Alice\"\n").unwrap();
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plan_holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
    let store = switchboard_runtime::sqlite_store::StoreThread::open(&dir.join("office.db"))
        .await
        .unwrap();
    let state = AppState {
        chat: Arc::new(ChatHub::new(store.clone(), plan_holder.clone())),
        plans: plan_holder,
        calls: Default::default(),
        hosts: Arc::new(HostNames::new(addr, &[])),
        store,
        live: None,
        auth: Arc::new(Auth::new(AuthSettings {
            tls: true,
            ..AuthSettings::default()
        })),
        office_changes: Default::default(),
        chat_config: Default::default(),
    };
    let acceptor = tls::acceptor(cert, key).unwrap();
    tokio::spawn(serve_tls(
        listener,
        app(state.clone()),
        Some(acceptor),
        std::future::pending(),
    ));
    (addr, state)
}

/// A rustls client trusting `roots` only.
fn client(roots: &[CertificateDer<'static>]) -> TlsConnector {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// Sends `request` over TLS to `addr` as `localhost`: the whole answer, or the error that
/// ended the handshake.
async fn exchange(
    connector: &TlsConnector,
    addr: SocketAddr,
    request: &str,
) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    // The server closes after `Connection: close`; a TLS peer may skip close_notify.
    let _ = tls.read_to_end(&mut answer).await;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn over_https_an_admin_signs_in_with_a_secure_cookie_and_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = certificate(dir.path());
    let (addr, state) = https_server(dir.path(), &cert, &key).await;
    signed_in::set_admin_password(&state, signed_in::ADMIN, signed_in::PASSWORD).await;
    let connector = client(&[der]);
    let body =
        serde_json::json!({"user": signed_in::ADMIN, "password": signed_in::PASSWORD}).to_string();
    let port = addr.port();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        exchange(
            &connector,
            addr,
            &format!(
                "POST /api/login HTTP/1.1\r\nHost: localhost:{port}\r\n\
                 Origin: https://localhost:{port}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let cookie_line = answer
        .lines()
        .find(|l| l.starts_with("set-cookie: "))
        .unwrap_or_else(|| panic!("no cookie: {answer}"));
    // Over TLS the cookie is a `__Host-` one: the browser keeps it to this host, over
    // HTTPS, for every path; nobody on a sibling host or on plain HTTP can plant it.
    assert!(
        cookie_line.starts_with("set-cookie: __Host-switchboard_session=")
            && cookie_line.contains("HttpOnly")
            && cookie_line.contains("SameSite=Strict")
            && cookie_line.contains("Path=/")
            && !cookie_line.contains("Domain")
            && cookie_line.ends_with("; Secure"),
        "{cookie_line}"
    );
    assert!(
        answer.contains("strict-transport-security: max-age=31536000\r\n"),
        "an answer over TLS tells the browser to stay on HTTPS: {answer}"
    );
    let cookie = cookie_line["set-cookie: ".len()..]
        .split(';')
        .next()
        .unwrap();
    // The same token under the plain name (as a planted cookie would be) is no session.
    let planted = cookie.trim_start_matches("__Host-");
    let answer = exchange(
        &connector,
        addr,
        &format!(
            "GET /api/plan HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: {planted}\r\n\
             Connection: close\r\n\r\n"
        ),
    )
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    let answer = exchange(
        &connector,
        addr,
        &format!(
            "GET /api/plan HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: {cookie}\r\n\
             Connection: close\r\n\r\n"
        ),
    )
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\"version\":1"), "{answer}");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = certificate(dir.path());
    let (addr, _state) = https_server(dir.path(), &cert, &key).await;
    let other = certificate(&tempfile::tempdir().unwrap().keep()).2;
    let refused = exchange(
        &client(&[other]),
        addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let waited = tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut answer)).await;
    // The server hangs up on the bytes that are not TLS; a wait that ran out would have
    // proved nothing about what it answers.
    assert!(
        waited.is_ok(),
        "the server neither answered nor closed within 15 s"
    );
    assert!(!String::from_utf8_lossy(&answer).contains("200 OK"));
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _, _) = certificate(dir.path());
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, key, _) = certificate(&other);
    let e = tls::acceptor(&cert, &key).err().unwrap().to_string();
    assert!(
        e.contains(&cert.display().to_string())
            && e.contains(&key.display().to_string())
            && e.contains("do not make a pair"),
        "{e}"
    );
}

#[tokio::test]
async fn without_a_certificate_a_server_asked_for_every_interface_listens_on_loopback() {
    let live = live_server::Live::start_configured(
        "",
        Duration::from_secs(1),
        RunOptions::default(),
        |config| config.http_addr = "0.0.0.0:0".parse().unwrap(),
    )
    .await;
    assert!(
        live.listening.http.ip().is_loopback(),
        "{}",
        live.listening.http
    );
    live.stop.cancel();
}
