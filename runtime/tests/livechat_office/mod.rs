//! A small office for the live-chat tests, served for real: its plan (a queue the
//! livechat route goes to), a SQLite store, the chat hub, the live chat open to `SITE`,
//! all behind the HTTP server on a loopback port; and a visitor's WebSocket to it.
#![allow(dead_code)] // Each test uses its own part of it.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchboard_runtime::call_log::CallLog;
use switchboard_runtime::chat::ChatHub;
use switchboard_runtime::config::{ChatConfig, LivechatConfig};
use switchboard_runtime::http::{AppState, HostNames, app, bind, serve};
use switchboard_runtime::reload::PlanHolder;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

/// The web site the live chat is open to.
pub const SITE: &str = "http://site.example:8081";

/// How long a test waits for a frame before it fails (never a sleep: each wait ends at
/// the frame).
const PATIENCE: Duration = Duration::from_secs(10);

const PLAN: &str = "\
extension 101 \"Alice\"
extension 102 \"Bruno\"
extension 103 \"Chen\"

queue 800 \"Sales\" {
    agents 103
}

queue 801 \"Web\" {
    agents 101, 102
}

chat livechat -> queue 801
";

pub struct Office {
    _dir: TempDir,
    pub addr: SocketAddr,
    pub state: AppState,
    /// Sending (or dropping) it stops the server.
    stop: Option<oneshot::Sender<()>>,
}

impl Office {
    pub async fn start() -> Office {
        Office::start_with(|_| {}).await
    }

    /// `start`, with the live chat's settings changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut LivechatConfig)) -> Office {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("dialplans");
        let prompts = dir.path().join("prompts");
        std::fs::create_dir_all(&plans).unwrap();
        std::fs::create_dir_all(prompts.join("en")).unwrap();
        std::fs::write(plans.join("office.dial"), PLAN).unwrap();
        let holder = Arc::new(PlanHolder::load_initial(&plans, &prompts).unwrap());
        let store =
            switchboard_runtime::sqlite_store::StoreThread::open(&dir.path().join("office.db"))
                .await
                .unwrap();
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut livechat = LivechatConfig {
            office_name: "Example Dental".to_string(),
            allowed_origins: vec![SITE.to_string()],
            ..LivechatConfig::default()
        };
        adjust(&mut livechat);
        let chat_config = ChatConfig {
            livechat,
            ..ChatConfig::default()
        };
        let state = AppState {
            chat: Arc::new(ChatHub::new(store.clone(), holder.clone())),
            plans: holder,
            calls: Arc::new(CallLog::new()),
            hosts: Arc::new(HostNames::new(addr, &[])),
            office_changes: store.office_changes(),
            store,
            live: None,
            auth: Default::default(),
            chat_config: Arc::new(chat_config),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let router = app(state.clone());
        tokio::spawn(async move {
            serve(listener, router, async {
                let _ = stopped.await;
            })
            .await
        });
        Office {
            _dir: dir,
            addr,
            state,
            stop: Some(stop),
        }
    }

    /// Stops the HTTP server, as SIGTERM does.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn hub(&self) -> &ChatHub {
        &self.state.chat
    }

    /// Logs `agent` in to `queue`, as `*62` does.
    pub async fn log_in(&self, agent: &str, queue: &str) {
        let (agent, queue) = (agent.to_string(), queue.to_string());
        self.state
            .store
            .run(move |s| s.set_queue_logged_in(&agent, &queue, true))
            .await
            .unwrap()
            .unwrap();
    }

    /// A visitor's socket from the site's page.
    pub async fn visitor(&self) -> Socket {
        self.connect(Some(SITE))
            .await
            .unwrap_or_else(|e| panic!("the handshake was refused: {e}"))
    }

    /// A visitor's socket from the site's page, from loopback address `source`
    /// (127.0.0.2 …): another visitor's address.
    pub async fn visitor_from(&self, source: &str) -> Socket {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        let tcp = socket.connect(self.addr).await.unwrap();
        let mut request = format!("ws://{}/chat/ws", self.addr)
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", SITE.parse().unwrap());
        let (socket, _) = client_async(request, tcp).await.unwrap();
        Socket(socket)
    }

    /// The WebSocket handshake from a page of `origin` (none: not from a browser page).
    pub async fn connect(&self, origin: Option<&str>) -> Result<Socket, tungstenite::Error> {
        let headers: &[(&str, &str)] = match origin {
            Some(origin) => &[("origin", origin)],
            None => &[],
        };
        self.connect_with(headers).await
    }

    /// The WebSocket handshake with `headers` added.
    pub async fn connect_with(
        &self,
        headers: &[(&str, &str)],
    ) -> Result<Socket, tungstenite::Error> {
        let mut request = format!("ws://{}/chat/ws", self.addr)
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            let name = axum::http::HeaderName::try_from(*name).unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let (socket, _) = client_async(request, tcp).await?;
        Ok(Socket(socket))
    }

    /// The one conversation agent 101 sees (the queue's agents are all offered it while
    /// none is logged in).
    pub async fn only_conversation(&self) -> i64 {
        let listed = self.hub().list("101", false).await.unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        listed[0].id
    }

    /// Every message stored in the conversations the queue's agents see, archived or not.
    pub async fn stored_messages(&self) -> usize {
        let mut count = 0;
        for archived in [false, true] {
            for c in self.hub().list("101", archived).await.unwrap() {
                count += self.hub().read("101", c.id).await.unwrap().messages.len();
            }
        }
        count
    }

    /// A plain HTTP GET to the server, answered in full.
    pub async fn get(&self, path: &str) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = TcpStream::connect(self.addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut bytes = Vec::new();
        tcp.read_to_end(&mut bytes).await.unwrap();
        let split = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer has a head");
        let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let mut headers = axum::http::HeaderMap::new();
        for line in lines {
            let (name, value) = line.split_once(':').unwrap();
            headers.append(
                axum::http::HeaderName::try_from(name.trim()).unwrap(),
                value.trim().parse().unwrap(),
            );
        }
        Answer {
            status,
            headers,
            body: bytes[split + 4..].to_vec(),
        }
    }
}

pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

/// The status and body of a refused handshake.
pub fn http_refusal(error: tungstenite::Error) -> (u16, String) {
    match error {
        tungstenite::Error::Http(response) => (
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        other => panic!("the handshake failed otherwise than with an HTTP answer: {other}"),
    }
}

/// A visitor's socket, as the widget holds it.
pub struct Socket(WebSocketStream<TcpStream>);

impl Socket {
    pub async fn send(&mut self, frame: Value) {
        self.send_text(&frame.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.0.send(Message::text(text)).await.unwrap();
    }

    /// The next frame the server sends; fails if the socket closes first or none comes
    /// within `PATIENCE`.
    pub async fn frame(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.0.next())
                .await
                .expect("no frame from the server within 10 s");
            match next {
                Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a frame, the socket gave {other:?}"),
            }
        }
    }

    /// Waits for the server to close the socket; the close frame's reason, if it sent one.
    /// Fails if a text frame comes first.
    pub async fn closed(&mut self) -> Option<String> {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.0.next())
                .await
                .expect("the server did not close the socket within 10 s");
            match next {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                None | Some(Err(_)) => return None,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("expected the socket to close, got {other:?}"),
            }
        }
    }
}
