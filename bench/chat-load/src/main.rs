//! Inbound chat load for a running Switchboard: agents sign in and open their event
//! streams (`/api/chat/events`), then signed WhatsApp Cloud API webhooks are posted at a
//! fixed rate, each from a new customer, over keep-alive connections. Each webhook's
//! answer names its conversation; each agent's stream announces it (`offered`). The
//! tool prints the rate sustained, the webhooks' response times and the time from each
//! webhook being sent to its event arriving on the agents' streams.
//!
//! HTTP/1.1 is spoken by hand over tokio's TCP (requests are fixed, answers carry a
//! length or are chunked): one small dependency set, and no client pool between the
//! measurement and the socket.
//!
//! ```sh
//! chat-load --server 127.0.0.1:8090 --rate 2000 --seconds 10 --connections 24 \
//!     --agents 101,102,103,104 --password copper-lantern-meadow --secret bench-app-secret
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

struct Args {
    server: SocketAddr,
    rate: u32,
    seconds: u32,
    connections: usize,
    agents: Vec<String>,
    password: String,
    secret: String,
}

fn args() -> Args {
    let mut a = Args {
        server: "127.0.0.1:8090".parse().unwrap(),
        rate: 2000,
        seconds: 10,
        connections: 24,
        agents: vec!["101".into()],
        password: String::new(),
        secret: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => a.server = value.parse().expect("--server HOST:PORT"),
            "--rate" => a.rate = value.parse().expect("--rate N (webhooks a second)"),
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--agents" => a.agents = value.split(',').map(str::to_string).collect(),
            "--password" => a.password = value,
            "--secret" => a.secret = value,
            _ => panic!("unknown flag {flag}"),
        }
    }
    assert!(
        !a.secret.is_empty(),
        "--secret (the WhatsApp app secret) is required"
    );
    a
}

/// One webhook's outcome.
struct Sent {
    index: usize,
    scheduled: Instant,
    sent: Instant,
    answered: Instant,
    status: u16,
    conversation: Option<i64>,
}

#[tokio::main]
async fn main() {
    let args = args();
    let total = args.rate as usize * args.seconds as usize;
    // The agents' streams, open before the first webhook.
    let mut streams = Vec::new();
    for agent in &args.agents {
        let cookie = sign_in(args.server, agent, &args.password).await;
        let seen: Arc<Mutex<HashMap<i64, Instant>>> = Default::default();
        let ready = tokio::sync::oneshot::channel();
        tokio::spawn(read_events(args.server, cookie, seen.clone(), ready.0));
        ready.1.await.expect("the event stream opened");
        streams.push(seen);
    }
    eprintln!(
        "{} agent stream(s) open; building {total} signed webhooks",
        streams.len()
    );
    let run = std::process::id();
    let requests: Vec<Vec<u8>> = (0..total)
        .map(|i| webhook(args.server, &args.secret, run, i))
        .collect();
    let requests = Arc::new(requests);
    let start = Instant::now() + Duration::from_millis(200);
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let mut workers = Vec::new();
    for c in 0..args.connections {
        let requests = requests.clone();
        let server = args.server;
        let connections = args.connections;
        workers.push(tokio::spawn(async move {
            let mut conn = connect(server).await;
            let mut out = Vec::new();
            let mut i = c;
            while i < requests.len() {
                let scheduled = start + interval * i as u32;
                tokio::time::sleep_until(scheduled).await;
                let sent = Instant::now();
                let (status, body) = match exchange(&mut conn, &requests[i]).await {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("connection {c}: {e}; reconnecting");
                        conn = connect(server).await;
                        (0, String::new())
                    }
                };
                out.push(Sent {
                    index: i,
                    scheduled,
                    sent,
                    answered: Instant::now(),
                    status,
                    conversation: conversation_of(&body),
                });
                i += connections;
            }
            out
        }));
    }
    let mut sent: Vec<Sent> = Vec::new();
    for w in workers {
        sent.extend(w.await.unwrap());
    }
    sent.sort_by_key(|s| s.index);
    let last_answer = sent.iter().map(|s| s.answered).max().unwrap();
    // Wait (up to 10 s) for every stored webhook's event on every stream.
    let wanted: Vec<i64> = sent.iter().filter_map(|s| s.conversation).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let missing: usize = streams
            .iter()
            .map(|s| {
                let seen = s.lock().unwrap();
                wanted.iter().filter(|c| !seen.contains_key(c)).count()
            })
            .sum();
        if missing == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    report(&args, &sent, &streams, start, last_answer);
}

fn report(
    args: &Args,
    sent: &[Sent],
    streams: &[Arc<Mutex<HashMap<i64, Instant>>>],
    start: Instant,
    last_answer: Instant,
) {
    let ok = sent
        .iter()
        .filter(|s| s.status == 200 && s.conversation.is_some())
        .count();
    let failed = sent.len() - ok;
    let took = last_answer.duration_since(start).as_secs_f64();
    let lag = sent
        .iter()
        .map(|s| s.sent.duration_since(s.scheduled))
        .max()
        .unwrap_or_default();
    let mut answer: Vec<Duration> = sent.iter().map(|s| s.answered - s.sent).collect();
    let mut to_event = Vec::new();
    let mut missing = 0;
    for stream in streams {
        let seen = stream.lock().unwrap();
        for s in sent {
            if let Some(c) = s.conversation {
                match seen.get(&c) {
                    Some(at) => to_event.push(at.saturating_duration_since(s.sent)),
                    None => missing += 1,
                }
            }
        }
    }
    println!(
        "target:            {} webhooks/s for {} s ({} webhooks), {} connections, {} agent stream(s)",
        args.rate,
        args.seconds,
        sent.len(),
        args.connections,
        streams.len()
    );
    println!("stored (200):      {ok}   failed: {failed}");
    println!(
        "sustained:         {:.0} webhooks/s (stored / first send to last answer, {took:.2} s)",
        ok as f64 / took
    );
    println!(
        "worst send lag:    {:.1} ms behind schedule",
        lag.as_secs_f64() * 1000.0
    );
    println!("webhook answered:  {}", percentiles(&mut answer));
    println!(
        "webhook -> event:  {}   ({} events, {missing} missing)",
        percentiles(&mut to_event),
        to_event.len()
    );
}

fn percentiles(v: &mut [Duration]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(at(0.50)),
        ms(at(0.99)),
        ms(v[v.len() - 1])
    )
}

/// A WhatsApp Cloud API webhook from customer `i`, signed with the app secret.
fn webhook(server: SocketAddr, secret: &str, run: u32, i: usize) -> Vec<u8> {
    let wa_id = format!("1650{run:05}{i:06}");
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": format!("Customer {i}")}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": format!("wamid.BENCH.{run}.{i}"),
                          "timestamp": "1739321024", "type": "text",
                          "text": {"body": "Hello, is the shop open on Sunday?"}}]
        }}]}]
    })
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "POST /webhooks/whatsapp HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\n\
         X-Hub-Signature-256: sha256={signature}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn conversation_of(body: &str) -> Option<i64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["conversations"][0].as_i64()
}

type Conn = BufReader<TcpStream>;

async fn connect(server: SocketAddr) -> Conn {
    let s = TcpStream::connect(server)
        .await
        .expect("the server is listening");
    s.set_nodelay(true).unwrap();
    BufReader::new(s)
}

/// Sends one request and reads its answer: (status, body).
async fn exchange(conn: &mut Conn, request: &[u8]) -> std::io::Result<(u16, String)> {
    conn.get_mut().write_all(request).await?;
    let (status, headers) = read_head(conn).await?;
    let body = read_body(conn, &headers).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

async fn read_head(conn: &mut Conn) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(std::io::Error::other("the server closed the connection"));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

async fn read_body(conn: &mut Conn, headers: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    let get = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    if let Some(len) = get("content-length") {
        let mut body = vec![0; len.parse().map_err(std::io::Error::other)?];
        conn.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    while let Some(chunk) = read_chunk(conn).await? {
        body.extend(chunk);
    }
    Ok(body)
}

/// One chunk of a chunked body; `None` at the last.
async fn read_chunk(conn: &mut Conn) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
        .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
    let mut chunk = vec![0; size + 2];
    conn.read_exact(&mut chunk).await?;
    chunk.truncate(size);
    Ok((size > 0).then_some(chunk))
}

/// Signs `extension` in; the session cookie (`name=value`).
async fn sign_in(server: SocketAddr, extension: &str, password: &str) -> String {
    let body = serde_json::json!({"extension": extension, "password": password}).to_string();
    let request = format!(
        "POST /api/people/login HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut conn = connect(server).await;
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let (status, headers) = read_head(&mut conn).await.unwrap();
    let answer = read_body(&mut conn, &headers).await.unwrap();
    assert_eq!(
        status,
        200,
        "sign-in of {extension}: {}",
        String::from_utf8_lossy(&answer)
    );
    headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .and_then(|(_, v)| v.split(';').next())
        .expect("the sign-in sets a cookie")
        .to_string()
}

/// Reads one agent's event stream until it ends, noting when each conversation was
/// first announced.
async fn read_events(
    server: SocketAddr,
    cookie: String,
    seen: Arc<Mutex<HashMap<i64, Instant>>>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut conn = connect(server).await;
    let request = format!(
        "GET /api/chat/events HTTP/1.1\r\nHost: {server}\r\nCookie: {cookie}\r\n\
         Accept: text/event-stream\r\n\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let (status, headers) = read_head(&mut conn).await.unwrap();
    assert_eq!(status, 200, "the event stream: {headers:?}");
    let _ = ready.send(());
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut pending = Vec::new();
    loop {
        let data = if chunked {
            match read_chunk(&mut conn).await {
                Ok(Some(c)) => c,
                _ => return,
            }
        } else {
            let mut buf = vec![0; 16384];
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf[..n].to_vec(),
            }
        };
        let now = Instant::now();
        pending.extend(data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            if let Some(json) = line.trim_end().strip_prefix("data:") {
                let event: serde_json::Value = match serde_json::from_str(json.trim()) {
                    Ok(v) => v,
                    Err(_) => continue,
                };
                if let Some(c) = event["conversation_id"].as_i64() {
                    seen.lock().unwrap().entry(c).or_insert(now);
                }
            }
        }
    }
}
