//! Trunks through the whole server on loopback, with sipp (or a raw socket) playing the
//! provider: registration answering a 401 with the account's digest, refreshed
//! before the granted lifetime is out and taken back when the server stops; a provider that refuses (403) or stays silent
//! shown as failing in `/api/trunks` and retried with a doubling wait; a call out that
//! the provider challenges with 407, answers and hangs up, with its record; INVITEs
//! that fail authentication never reaching the provider; and a provider's call to a DID
//! that the IVR sends to an extension whose phone answers, media bridged.
//!
//! The account's password is never in `/api/trunks`, the status page or a trace.

mod live_server;
mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use live_server::{Live, SIPP, free_port, read_store, repo, wait_child, within};
use serde_json::Value;
use support::raw::{Call, Phone, Sip, branch, register, request, signed_in};
use switchboard_core::store::{HungUpBy, Store};
use switchboard_runtime::config::{ConfigOverrides, ServerConfig};
use switchboard_runtime::server::{RunOptions, store_path};
use switchboard_runtime::sip::digest::{self, DigestAlgorithm, QopAuth};
use switchboard_runtime::sip::{Secret, Transport, TrunkAccount};
use tokio::net::UdpSocket;

/// The account the provider scenarios check (`runtime/tests/sipp/provider_*.xml`).
const USER: &str = "office-7781";
const PASSWORD: &str = "amber-kettle-harbour";

/// The plan: trunk "main" at the provider's address, US numbers out through it, and
/// its calls in to a menu whose 2 rings extension 102.
fn plan(provider_port: u16) -> String {
    format!(
        r#"
trunk "main" {{
    host      "127.0.0.1:{provider_port}"
    numbers   "+12605550100", "+12605550101"
    caller_id "+12605550199"
}}

dial "{{ext:XXX}}"      -> extension ext
dial "{{n:NXXNXXXXXX}}" -> trunk "main" to "+1{{n}}"
dial "011{{n:X.}}"      -> trunk "main" to "+{{n}}"

inbound trunk "main" -> flow front

flow front {{
    answer
    menu "main-greeting" timeout 5s {{
        "2"     -> extension 102
        invalid -> play "invalid-option" then repeat
    }}
}}
"#
    )
}

fn account(register: bool, registrar: Option<String>) -> TrunkAccount {
    TrunkAccount {
        name: "main".into(),
        username: USER.into(),
        password: Secret::new(PASSWORD),
        registrar,
        outbound_proxy: None,
        transport: Transport::Udp,
        register,
        expires: Duration::from_secs(60),
    }
}

/// A server running `plan(provider_port)` with `account` for trunk "main".
async fn server(provider_port: u16, account: TrunkAccount) -> Live {
    Live::start_configured(
        &plan(provider_port),
        Duration::from_secs(2),
        RunOptions::default(),
        move |config| config.trunks = vec![account],
    )
    .await
}

/// sipp playing the provider on `port`: a UAS running `scenario` once, logging every
/// message to `provider.log` in `live_dir`.
fn provider(live_dir: &Path, scenario: &str, port: u16) -> Child {
    provider_over(live_dir, scenario, port, false)
}

/// `provider`, over TCP when `tcp`.
fn provider_over(live_dir: &Path, scenario: &str, port: u16, tcp: bool) -> Child {
    Command::new(SIPP)
        .arg("-sf")
        .arg(repo().join("runtime/tests/sipp").join(scenario))
        .args(["-t", if tcp { "t1" } else { "u1" }])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &(free_port() & !1).to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"])
        .args(["-trace_err", "-trace_msg", "-message_file", "provider.log"])
        .current_dir(live_dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(live_dir.join("provider_stderr.log")).unwrap())
        .spawn()
        .expect("sipp runs (apt-get install sip-tester)")
}

/// Waits for a sipp run to end and asserts it succeeded, with its errors if not.
async fn sipp_succeeded(dir: &Path, mut child: Child, what: &str) {
    let status = wait_child(&mut child, what).await;
    if !status.success() {
        let mut errors = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy();
            if name.ends_with("_errors.log") || name.ends_with("provider_stderr.log") {
                errors.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
        panic!("sipp ({what}) failed with {status}:\n{errors}");
    }
}

/// When (seconds in the day) sipp received each REGISTER, from its message log, whose
/// entries start `----- 2026-11-29 01:18:15.072459` and then `UDP message received`.
fn register_arrivals(log: &str) -> Vec<f64> {
    log.split("-----------------------------------------------")
        .filter(|entry| entry.contains("message received") && entry.contains("\nREGISTER "))
        .filter_map(|entry| {
            let time = entry.split_whitespace().nth(1)?;
            let mut parts = time.split(':').map(|p| p.parse::<f64>().ok());
            Some(parts.next()?? * 3600.0 + parts.next()?? * 60.0 + parts.next()??)
        })
        .collect()
}

/// `GET path` on the server's HTTP API, as the signed-in admin: the body.
async fn get(live: &Live, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = live.listening.http;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nConnection: close\r\n\r\n",
        live.cookie
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

/// Trunk "main" in `GET /api/trunks`.
async fn trunk_main(live: &Live) -> Value {
    let body = get(live, "/api/trunks").await;
    assert!(
        !body.contains(PASSWORD) && !body.contains(USER),
        "the account's credentials are in /api/trunks: {body}"
    );
    let list: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    list["trunks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "main"))
        .cloned()
        .unwrap_or_else(|| panic!("no trunk main in {list}"))
}

/// Polls trunk "main" until `f` holds; returns it.
async fn trunk_until(live: &Live, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    within(what, async {
        loop {
            let trunk = trunk_main(live).await;
            if f(&trunk) {
                return trunk;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

#[tokio::test]
async fn the_trunk_registers_with_its_digest_and_refreshes_before_the_granted_time_is_out() {
    registers_refreshes_and_unregisters(Transport::Udp).await;
}

#[tokio::test]
async fn a_trunk_over_tcp_registers_refreshes_and_unregisters_the_same_way() {
    registers_refreshes_and_unregisters(Transport::Tcp).await;
}

/// The registrar (sipp, over `transport`) challenges, checks the digest and grants 4 s;
/// `/api/trunks` and the status page show the registration, the refresh comes before
/// the 4 s are out, and stopping the server takes the registration back.
async fn registers_refreshes_and_unregisters(transport: Transport) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let tcp = transport == Transport::Tcp;
    let registrar = provider_over(dir.path(), "provider_register.xml", port, tcp);
    let live = server(
        port,
        TrunkAccount {
            transport,
            ..account(true, None)
        },
    )
    .await;

    let trunk = trunk_until(&live, "the trunk to be registered", |t| {
        t["registration"]["state"] == "registered"
    })
    .await;
    assert_eq!(trunk["registration"]["expires_secs"], 4, "{trunk}");
    assert_eq!(trunk["account"]["registrar"], format!("127.0.0.1:{port}"));
    assert_eq!(
        trunk["account"]["transport"],
        if tcp { "tcp" } else { "udp" }
    );
    assert_eq!(trunk["in_plan"], true);
    let page = get(&live, "/status").await;
    assert!(page.contains("registered until"), "{page}");
    assert!(
        !page.contains(PASSWORD),
        "the password is on the status page"
    );

    // The refresh comes before the 4 s run out (the scenario waits 4 s for it at most)
    // and moves the registration's end on.
    let first_until = trunk["registration"]["until_unix"].as_i64().unwrap();
    let refreshed = trunk_until(&live, "the refresh", |t| {
        t["registration"]["until_unix"].as_i64() > Some(first_until)
    })
    .await;
    assert_eq!(
        refreshed["registration"]["since"],
        trunk["registration"]["since"]
    );

    // Stopping the server takes the registration back (`Expires: 0`).
    let mut live = live;
    live.stop.cancel();
    live.stopped().await;
    sipp_succeeded(dir.path(), registrar, "the provider's registrar").await;
    let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap();
    let via = if tcp {
        "Via: SIP/2.0/TCP"
    } else {
        "Via: SIP/2.0/UDP"
    };
    assert!(log.contains(via), "{log}");
    // Every REGISTER after the challenge names the same contact: one binding.
    let contacts: std::collections::BTreeSet<&str> = log
        .split("message received")
        .skip(2)
        .filter_map(|m| m.lines().find(|l| l.starts_with("Contact: ")))
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
}

/// The next REGISTER at `provider` (a raw socket), answered 200 granting 1 s.
async fn granted_register(provider: &UdpSocket) -> Sip {
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (n, from) = provider.recv_from(&mut buffer).await.unwrap();
        let register = Sip(String::from_utf8_lossy(&buffer[..n]).into_owned());
        if register.method() != "REGISTER" {
            continue;
        }
        let ok = register.reply("200 OK").replacen(
            "Content-Length: 0\r\n",
            "Expires: 1\r\nContent-Length: 0\r\n",
            1,
        );
        provider.send_to(ok.as_bytes(), from).await.unwrap();
        return register;
    }
}

#[tokio::test]
async fn a_trunk_moved_in_the_plan_registers_at_its_new_host_without_a_restart() {
    let first = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let second = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let first_port = first.local_addr().unwrap().port();
    let second_port = second.local_addr().unwrap().port();
    // No registrar of its own: the account registers at the trunk's host in the plan.
    let live = server(first_port, account(true, None)).await;
    let at_first = within("a REGISTER at the first host", granted_register(&first)).await;
    assert!(
        at_first
            .start_line()
            .starts_with(&format!("REGISTER sip:127.0.0.1:{first_port}")),
        "{}",
        at_first.0
    );
    // The admin moves the trunk: the next REGISTER goes to the new host.
    let office = live.dir.path().join("plan/office.dial");
    std::fs::write(
        &office,
        format!("{}\n{}", live_server::OFFICE, plan(second_port)),
    )
    .unwrap();
    let at_second = within("a REGISTER at the new host", granted_register(&second)).await;
    assert!(
        at_second
            .start_line()
            .starts_with(&format!("REGISTER sip:127.0.0.1:{second_port}")),
        "{}",
        at_second.0
    );
    let shown = trunk_until(&live, "the new registrar shown", |t| {
        t["account"]["registrar"] == format!("127.0.0.1:{second_port}")
    })
    .await;
    assert_eq!(shown["registration"]["state"], "registered", "{shown}");
}

#[tokio::test]
async fn a_refusing_provider_shows_as_failing_and_is_retried_with_a_doubling_wait() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let registrar = provider(dir.path(), "provider_refuses.xml", port);
    let live = server(port, account(true, None)).await;

    // Each failure shows in /api/trunks, counted.
    for attempt in 1..=3u64 {
        let trunk = trunk_until(&live, &format!("failed attempt {attempt}"), |t| {
            t["registration"]["attempts"].as_u64() >= Some(attempt)
        })
        .await;
        let r = &trunk["registration"];
        assert_eq!(r["state"], "failing", "{trunk}");
        assert_eq!(r["last_status"], 403, "{trunk}");
        assert!(
            r["reason"].as_str().unwrap().contains("Forbidden"),
            "{trunk}"
        );
    }
    sipp_succeeded(dir.path(), registrar, "the refusing registrar").await;

    // The waits between the REGISTERs, as the provider received them: 1 s, then 2 s.
    let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap();
    let arrivals = register_arrivals(&log);
    assert_eq!(arrivals.len(), 3, "{log}");
    let (first_wait, second_wait) = (arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]);
    assert!(
        (0.95..1.9).contains(&first_wait) && (1.95..3.9).contains(&second_wait),
        "waits {first_wait:.3} s then {second_wait:.3} s: not 1 s then 2 s"
    );
}

#[tokio::test]
async fn a_silent_provider_shows_as_failing_with_no_status() {
    // A socket that takes the REGISTERs and never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let live = server(port, account(true, None)).await;
    let mut buffer = [0u8; 4096];
    let (n, _) = within("the first REGISTER", silent.recv_from(&mut buffer))
        .await
        .unwrap();
    assert!(buffer[..n].starts_with(b"REGISTER sip:127.0.0.1:"));
    let trunk = trunk_until(&live, "the silence to count as a failure", |t| {
        t["registration"]["state"] == "failing"
    })
    .await;
    let r = &trunk["registration"];
    assert_eq!(r["last_status"], Value::Null, "{trunk}");
    assert!(
        r["reason"].as_str().unwrap().contains("no answer"),
        "{trunk}"
    );
}

#[tokio::test]
async fn a_call_out_answers_the_providers_407_is_bridged_and_recorded() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let carrier = provider(dir.path(), "provider_invite.xml", port);
    let live = server(port, account(false, Some(format!("127.0.0.1:{port}")))).await;
    let trunk = trunk_main(&live).await;
    assert_eq!(trunk["registration"]["state"], "disabled", "{trunk}");

    // 101 dials a 10-digit number; the plan sends +12605559876 through trunk main. The
    // provider checks the number, the caller ID, the digest; answers; hangs up after a
    // second, and 101 is sent a BYE.
    let caller = live.sipp("talk_until_bye.xml", "2605559876");
    sipp_succeeded(dir.path(), carrier, "the provider").await;
    live.sipp_ok(caller, "101 calling out").await;

    // The answer to the 407 is the account's digest for that INVITE.
    let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap();
    let signed = log
        .split("message received")
        .find(|m| m.contains("Proxy-Authorization:"))
        .unwrap_or_else(|| panic!("no INVITE with credentials in\n{log}"));
    let uri = signed
        .lines()
        .find_map(|l| l.strip_prefix("INVITE "))
        .and_then(|l| l.split(' ').next())
        .unwrap();
    let credentials = signed
        .lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization: Digest "))
        .unwrap();
    let params = digest::parse_params(credentials);
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ha1 = digest::ha1(DigestAlgorithm::Md5, USER, "carrier.example", PASSWORD);
    let qop = param("qop").map(|_| QopAuth {
        nc: param("nc").unwrap(),
        cnonce: param("cnonce").unwrap(),
    });
    let expected = digest::response(
        DigestAlgorithm::Md5,
        &ha1,
        "INVITE",
        param("uri").unwrap(),
        "5e1d8c0a9b2f",
        qop,
    );
    assert_eq!(param("uri"), Some(uri), "{credentials}");
    assert_eq!(param("response"), Some(expected.as_str()), "{credentials}");
    assert!(!log.contains(PASSWORD), "the password went over the wire");

    let record = live.ended_call("2605559876").await;
    let trace = record.trace.join("\n");
    for line in [
        "calling +12605559876 through trunk main at 127.0.0.1:",
        "+12605559876 through trunk main answered; connected",
    ] {
        assert!(trace.contains(line), "{line:?} missing:\n{trace}");
    }
    assert!(!trace.contains(PASSWORD), "the password is in the trace");
    let details = within("the call's record", async {
        loop {
            let details = read_store(&store_path(&live.data()), |s| {
                s.call_details(0, u64::MAX, 10).unwrap()
            });
            if !details.is_empty() {
                return details;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let detail = &details[0];
    assert_eq!(
        (detail.caller.as_str(), detail.dialled.as_str()),
        ("101", "2605559876")
    );
    assert_eq!(
        detail.answered_by.as_deref(),
        Some("+12605559876 through trunk main")
    );
    assert_eq!(detail.hung_up_by, HungUpBy::Callee);
    assert!(detail.answered_ms.is_some());
    live.nothing_held().await;
}

#[tokio::test]
async fn an_invite_that_fails_authentication_never_reaches_the_provider() {
    let provider = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = provider.local_addr().unwrap().port();
    let live = server(port, account(false, Some(format!("127.0.0.1:{port}")))).await;
    let server = live.listening.sip;
    let phone = Phone::new(server).await;
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let contact = vec![
        format!("Contact: <sip:101@{}>", phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];

    // No credentials: challenged. A wrong password: refused.
    let anonymous = Call::new("101", "2605559876", server);
    let challenge = phone.ask("INVITE", &anonymous, 1, &contact, sdp).await;
    assert_eq!(challenge.status(), 407, "{}", challenge.0);
    let guess = Call::new("101", "2605559876", server);
    let wrong = signed_in(
        &phone,
        "INVITE",
        &guess,
        &contact,
        sdp,
        "101",
        "not-the-password",
    )
    .await;
    let refused = phone.ask("INVITE", &guess, 2, &wrong, sdp).await;
    assert_eq!(refused.status(), 403, "{}", refused.0);

    // The one authenticated call is the only one the provider ever sees.
    let real = Call::new("101", "2605559876", server);
    let signed = signed_in(&phone, "INVITE", &real, &contact, sdp, "101", "secret").await;
    phone
        .send(request(
            "INVITE",
            &real,
            2,
            &branch(),
            phone.addr(),
            &signed,
            sdp,
        ))
        .await;
    let mut buffer = vec![0u8; 65_536];
    let (n, from) = within(
        "the INVITE at the provider",
        provider.recv_from(&mut buffer),
    )
    .await
    .unwrap();
    let invite = Sip(String::from_utf8_lossy(&buffer[..n]).into_owned());
    assert!(
        invite
            .start_line()
            .starts_with("INVITE sip:+12605559876@127.0.0.1:"),
        "{}",
        invite.0
    );
    provider
        .send_to(
            invite.reply_tagged("486 Busy Here", "prov").as_bytes(),
            from,
        )
        .await
        .unwrap();
    loop {
        let r = phone.response(&real.call_id, "2 INVITE").await;
        if r.status() >= 300 {
            break;
        }
    }
    // Whatever else reached the provider by now: retransmissions of that one INVITE
    // and its ACK only.
    let mut call_ids = vec![invite.header("Call-ID")];
    while let Ok((n, _)) = provider.try_recv_from(&mut buffer) {
        let message = Sip(String::from_utf8_lossy(&buffer[..n]).into_owned());
        if message.method() == "INVITE" {
            call_ids.push(message.header("Call-ID"));
        }
    }
    call_ids.dedup();
    assert_eq!(call_ids.len(), 1, "INVITEs at the provider: {call_ids:?}");
    let list = live.calls.list();
    assert_eq!(
        list.live.len() + list.recent.len(),
        1,
        "only the authenticated INVITE became a call"
    );
    let record = live.ended_call("2605559876").await;
    assert!(
        record
            .trace
            .iter()
            .any(|l| l.contains("through trunk main: the provider answered 486")),
        "{:#?}",
        record.trace
    );
}

#[tokio::test]
async fn costly_numbers_an_extension_is_not_allowed_never_reach_the_provider() {
    let provider = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = provider.local_addr().unwrap().port();
    let live = server(port, account(false, Some(format!("127.0.0.1:{port}")))).await;
    let server = live.listening.sip;
    let phone = Phone::new(server).await;
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let contact = vec![
        format!("Contact: <sip:101@{}>", phone.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    // A 1-900 number (a route of the plan makes it +19005551234) and one abroad: 101
    // is authenticated, but the plan allows it neither.
    for dialled in ["9005551234", "011442071234567"] {
        let mut call = Call::new("101", dialled, server);
        let signed = signed_in(&phone, "INVITE", &call, &contact, sdp, "101", "secret").await;
        phone
            .send(request(
                "INVITE",
                &call,
                2,
                &branch(),
                phone.addr(),
                &signed,
                sdp,
            ))
            .await;
        // The caller is told (answered to hear `not-allowed`), then hung up on.
        let answer = loop {
            let r = phone.response(&call.call_id, "2 INVITE").await;
            if r.status() >= 200 {
                break r;
            }
        };
        if answer.status() == 200 {
            call.to_tag = Some(answer.to_tag());
            phone
                .send(request("ACK", &call, 2, &branch(), phone.addr(), &[], ""))
                .await;
            let bye = loop {
                let m = phone.next(&call.call_id).await;
                if m.method() == "BYE" {
                    break m;
                }
            };
            phone.send(bye.reply("200 OK")).await;
        }
        let record = live.ended_call(dialled).await;
        assert!(
            record
                .trace
                .iter()
                .any(|l| l.contains("refused") && l.contains("allow")),
            "the refusal and the option that would allow it are traced: {:#?}",
            record.trace
        );
        assert!(
            record.prompts.iter().any(|p| p == "not-allowed"),
            "{:#?}",
            record.prompts
        );
    }
    // Both calls are over, so any INVITE of theirs would have been sent: none was.
    let mut buffer = vec![0u8; 65_536];
    let reached = provider.try_recv_from(&mut buffer);
    assert!(
        reached.is_err(),
        "the provider got a message: {}",
        reached
            .map(|(n, _)| String::from_utf8_lossy(&buffer[..n]).into_owned())
            .unwrap_or_default()
    );
    live.nothing_held().await;
}

#[tokio::test]
async fn a_providers_call_goes_through_the_ivr_to_an_extension_that_answers() {
    let carrier_port = free_port();
    // No account: the provider is trusted by its address, as before.
    let live = Live::start(
        &plan(carrier_port),
        Duration::from_secs(2),
        RunOptions::default(),
    )
    .await;
    let server = live.listening.sip;
    let desk = Phone::new(server).await;
    assert_eq!(register(&desk, "102", "secret").await, 200);
    let desk_rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();

    let carrier = Command::new(SIPP)
        .arg(server.to_string())
        .arg("-sf")
        .arg(repo().join("runtime/tests/sipp/carrier_to_ivr.xml"))
        .args(["-s", "+12605550100", "-m", "1"])
        .args(["-i", "127.0.0.1", "-p", &carrier_port.to_string()])
        .args(["-mp", &(free_port() & !1).to_string()])
        .args([
            "-nostdin",
            "-timeout",
            "30s",
            "-timeout_error",
            "-trace_err",
        ])
        .current_dir(live.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sipp runs");

    // The caller pressed 2: 102's phone rings, and answers.
    let invite = loop {
        let message = desk.next_any().await;
        if message.method() == "INVITE" {
            break message;
        }
    };
    assert!(
        invite.header("From").contains("+15551230000"),
        "{}",
        invite.0
    );
    desk.send(invite.reply_tagged("180 Ringing", "desk")).await;
    let answer = format!(
        "v=0\r\no=desk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n",
        desk_rtp.local_addr().unwrap().port()
    );
    let ok = invite.reply_tagged("200 OK", "desk").replacen(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Contact: <sip:102@{}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
            desk.addr(),
            answer.len()
        ),
        1,
    );
    desk.send(ok).await;

    // The carrier's audio reaches the desk through the bridge.
    let heard = within("the carrier's audio at the desk", async {
        let mut buffer = [0u8; 2048];
        let mut heard = 0;
        while heard < 20 {
            let (n, _) = desk_rtp.recv_from(&mut buffer).await.unwrap();
            if n >= 12 + 160 && buffer[0] >> 6 == 2 {
                heard += 1;
            }
        }
        heard
    })
    .await;
    assert_eq!(heard, 20);

    // The carrier hangs up: the desk is sent a BYE.
    let bye = loop {
        let message = desk.next_any().await;
        if message.method() == "BYE" {
            break message;
        }
    };
    desk.send(bye.reply("200 OK")).await;
    sipp_succeeded(live.dir.path(), carrier, "the carrier's call").await;

    let record = live.ended_call("+12605550100").await;
    let trace = record.trace.join("\n");
    for line in [
        "inbound on trunk \"main\"",
        "-> key 2",
        "102 answered; connected",
    ] {
        assert!(trace.contains(line), "{line:?} missing:\n{trace}");
    }
    assert_eq!(record.caller, "+15551230000");
    live.nothing_held().await;
}

#[tokio::test]
async fn a_call_the_provider_sends_to_our_registered_contact_dialled_the_number_in_to() {
    // The provider is a raw socket, trusted by its address as the plan's host.
    let carrier = Phone::new("127.0.0.1:9".parse().unwrap()).await;
    let port = carrier.addr().port();
    let live = server(port, account(false, None)).await;
    let carrier = Phone {
        server: live.listening.sip,
        ..carrier
    };
    let mut call = Call::new("+15551230000", "+12605550101", live.listening.sip);
    call.uri = format!("sip:{USER}@{}", live.listening.sip);
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let headers = vec![
        format!("Contact: <sip:+15551230000@{}>", carrier.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    carrier
        .send(request(
            "INVITE",
            &call,
            1,
            &branch(),
            carrier.addr(),
            &headers,
            sdp,
        ))
        .await;
    let ok = loop {
        let r = carrier.response(&call.call_id, "1 INVITE").await;
        if r.status() >= 200 {
            break r;
        }
    };
    assert_eq!(ok.status(), 200, "{}", ok.0);
    call.to_tag = Some(ok.to_tag());
    carrier
        .send(request("ACK", &call, 1, &branch(), carrier.addr(), &[], ""))
        .await;
    let bye = carrier.ask("BYE", &call, 2, &[], "").await;
    assert_eq!(bye.status(), 200, "{}", bye.0);
    let record = live.ended_call("+12605550101").await;
    assert_eq!(record.caller, "+15551230000");
}

#[test]
fn the_config_file_holds_each_trunks_account_with_its_password_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(
        dir.path().join("secrets/main.password"),
        format!("{PASSWORD}\n"),
    )
    .unwrap();
    let file = dir.path().join("switchboard.yaml");
    std::fs::write(
        &file,
        "trunks:\n  main:\n    username: office-7781\n    password-file: secrets/main.password\n    \
         outbound-proxy: 203.0.113.5:5060\n    transport: tcp\n    expires: 5m\n  \
         backup:\n    username: office\n    password: \"amber-kettle-harbour\"\n    register: false\n",
    )
    .unwrap();
    let config = ServerConfig::load(Some(&file), &ConfigOverrides::default()).unwrap();
    let main = config.trunks.iter().find(|t| t.name == "main").unwrap();
    assert_eq!(main.password, Secret::new(PASSWORD));
    assert_eq!(main.transport, Transport::Tcp);
    assert_eq!(main.expires, Duration::from_secs(300));
    assert_eq!(main.outbound_proxy.as_deref(), Some("203.0.113.5:5060"));
    assert_eq!(main.registrar, None);
    let backup = config.trunks.iter().find(|t| t.name == "backup").unwrap();
    assert!(!backup.register);
    assert!(
        !format!("{config:?}").contains(PASSWORD),
        "the password is in Debug"
    );

    // Mistakes name the key and what to write, never the password.
    for (yaml, says) in [
        (
            "trunks:\n  main:\n    username: u\n    pasword: amber-kettle-harbour\n",
            "did you mean `trunks.main.password`",
        ),
        (
            "trunks:\n  main:\n    username: u\n    password: amber-kettle-harbour\n    transport: tls\n",
            "invalid `trunks.main.transport`",
        ),
        (
            "trunks:\n  main:\n    username: u\n",
            "invalid `trunks.main`",
        ),
    ] {
        std::fs::write(&file, yaml).unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{e:?} does not say {says:?}");
        assert!(!e.contains(PASSWORD), "{e}");
    }
    // With no file the server starts with no trunk accounts.
    assert!(
        ServerConfig::load(None, &ConfigOverrides::default())
            .unwrap()
            .trunks
            .is_empty()
    );
}
