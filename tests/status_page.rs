//! The status page a signed-in admin sees at `http://127.0.0.1:8080/status`, in a real
//! headless Chromium: the running plan, and a saved plan with a mistake refused with its
//! file, line and fix. Chromium is handed the page the admin's session fetched (the page
//! has no script, so the file renders as the served page would); the served answer's
//! own headers — its CSP above all — are checked on the answer itself.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Server, edit, office_copy, wait_for};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The page as Chromium renders it (the DOM after loading).
fn rendered(url: &str, profile: &Path) -> String {
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .output()
        .unwrap_or_else(|e| panic!("{CHROMIUM}: {e} (apt-get install chromium)"));
    assert!(out.status.success(), "chromium failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `/status` as the signed-in admin fetches it, saved in `dir`: its `file://` URL.
fn signed_in_page(server: &Server, dir: &Path) -> String {
    let html = server.get("/status").expect("the status page answers");
    let file = dir.join("status.html");
    std::fs::write(&file, html).unwrap();
    format!("file://{}", file.display())
}

/// The head of the answer to `GET /status` in the admin's session, header names in
/// lowercase: what Chromium's `file://` copy does not carry.
fn status_head(server: &Server) -> Vec<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", server.http)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /status HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\nConnection: close\r\n\r\n",
        server.cookie
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, _) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

#[test]
fn the_status_page_is_served_with_its_security_headers() {
    let dir = office_copy("status-page-headers");
    let server = Server::start(&dir, &[], 10);
    let head = status_head(&server);
    let header = |name: &str| {
        head.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header: {head:?}"))
    };
    // No script runs: nothing but inline style is allowed, and the page is never framed.
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("script-src"), "{csp}");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-type").starts_with("text/html"));
}

#[test]
fn the_status_page_shows_the_plan_and_a_refused_save() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    );
    let dir = office_copy("status-page");
    let server = Server::start(&dir, &[], 10);
    let profile = dir.join("chromium");
    let url = signed_in_page(&server, &dir);

    let page = rendered(&url, &profile);
    assert!(page.contains("<strong>version 1</strong>"), "{page}");
    assert!(page.contains("was loaded."), "{page}");
    assert!(page.contains("No calls yet."), "{page}");
    // The page leads to what the server holds now, which answers JSON.
    assert!(page.contains("href=\"/api/debug/counts\""), "{page}");
    assert_eq!(server.json("/api/debug/counts")["calls"], 0);

    // The admin saves a typo; the page says it was refused, where, and how to fix it.
    edit(
        &dir.join("dialplans/ivr.dial"),
        "-> queue 801",
        "-> queue 8O1",
    );
    wait_for("the typo to be refused", Duration::from_secs(20), || {
        (server.json("/api/plan")["last_attempt"]["ok"] == false).then_some(())
    });
    let url = signed_in_page(&server, &dir);
    let page = rendered(&url, &profile);
    assert!(page.contains("<strong>refused</strong>"), "{page}");
    assert!(page.contains("calls go on with version 1"), "{page}");
    assert!(page.contains("<code>ivr.dial:12:27</code>"), "{page}");
    assert!(page.contains("write it as: queue NUMBER"), "{page}");
}
