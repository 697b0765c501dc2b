//! The website live chat: `GET /chat/widget.js` (the widget a site includes with one
//! script tag) and `GET /chat/ws` (the visitor's WebSocket to the chat service).
//!
//! Both are open, without a session: a visitor is anonymous. What guards the socket:
//! the page's `Origin` must be one the config lists (`origin`, else 403 before the
//! upgrade); an address opening too many sockets or starting too many new visitors, or
//! blocked by an agent, is refused with an `error` frame; a visitor, or their address
//! across all its visitors, sending too much or too fast is refused per message
//! (`limits`). Nothing refused reaches the hub. One socket's life is `session`, opened
//! by `hello`; its frames are `frames`; who the visitor is, `visitor`; the hub as the
//! socket uses it, `desk`.
//!
//! The visitor's address is the socket's peer, or behind a reverse proxy the admin
//! listed, the address it forwarded for (`peer`).

mod desk;
mod frames;
mod hello;
pub(crate) mod limits;
mod origin;
mod peer;
mod session;
mod visitor;
mod widget_script;

use super::events::Stopping;
use super::{AppError, AppState};
use crate::config::LivechatConfig;
use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use limits::Window;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What every live-chat socket of one server shares: the settings and the limits' counts.
#[derive(Debug)]
pub struct LiveChat {
    config: LivechatConfig,
    /// Messages per visitor id (across the visitor's sockets) and per address.
    messages: Mutex<limits::MessageLimits>,
    /// Sockets opened per address.
    connections: Mutex<Window<IpAddr>>,
    /// New visitors per address (any token the address has not used lately).
    new_visitors: Mutex<limits::NewVisitors>,
    /// Sockets open now per address; each `OpenSocket` gives its place back when dropped.
    open: Mutex<limits::OpenSockets>,
}

impl LiveChat {
    fn new(config: LivechatConfig) -> LiveChat {
        LiveChat {
            messages: Mutex::new(limits::MessageLimits::new(&config.per_network)),
            connections: Mutex::new(limits::connection_window()),
            new_visitors: Mutex::new(limits::NewVisitors::new(&config.per_network)),
            open: Mutex::default(),
            config,
        }
    }

    /// A place for a socket of `address` among the open ones; `None` when it holds its
    /// share already.
    fn hold_open(self: &Arc<LiveChat>, address: IpAddr) -> Option<OpenSocket> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.open(address).then(|| OpenSocket {
            live: self.clone(),
            address,
        })
    }

    fn admit_connection(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut window = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        window.admit(&address, now)
    }

    /// The new-visitor limit (`limits::NewVisitors::admit`); the words of a refusal.
    fn admit_new_visitor(
        &self,
        address: IpAddr,
        visitor_id: &str,
        now: Instant,
    ) -> Result<(), String> {
        let mut visitors = self.new_visitors.lock().unwrap_or_else(|p| p.into_inner());
        visitors.admit(address, visitor_id, now)
    }

    /// The message limits (`limits::MessageLimits::admit`); the words of a refusal.
    fn admit_message(
        &self,
        visitor_id: &str,
        address: IpAddr,
        starts_conversation: bool,
        now: Instant,
    ) -> Result<(), String> {
        let mut limits = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        limits.admit(visitor_id, address, starts_conversation, now)
    }
}

/// One socket counted as open until dropped.
pub struct OpenSocket {
    live: Arc<LiveChat>,
    address: IpAddr,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        let mut open = self.live.open.lock().unwrap_or_else(|p| p.into_inner());
        open.close(self.address);
    }
}

/// The live chat's routes, with the counts their sockets share (one set per app).
pub fn routes(state: &AppState) -> Router<AppState> {
    let live = Arc::new(LiveChat::new(state.chat_config.livechat.clone()));
    Router::new()
        .route("/chat/ws", get(socket))
        .route("/chat/widget.js", get(widget_script::script))
        .layer(Extension(live))
}

async fn socket(
    State(state): State<AppState>,
    Extension(live): Extension<Arc<LiveChat>>,
    stopping: Option<Extension<Stopping>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(words) = origin::check(&headers, &live.config.allowed_origins) {
        return AppError::Forbidden(words).into_response();
    }
    // Without a socket (the router driven by a test) there is no peer: 0.0.0.0.
    let peer = peer.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(a))| a.ip(),
    );
    let address = peer::visitor_address(peer, &headers, &live.config.trusted_proxies);
    let opened = session::Opened {
        desk: desk::Desk::new(state),
        live,
        address,
        stop: stopping.map(|Extension(s)| s.0).unwrap_or_default(),
    };
    upgrade
        .max_message_size(limits::MAX_FRAME_BYTES)
        .max_frame_size(limits::MAX_FRAME_BYTES)
        .on_upgrade(move |socket| session::run(socket, opened))
}
