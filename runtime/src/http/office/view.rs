//! `GET /api/office`: the office as it is now. The registrations come from the running
//! SIP server (none without one); everything else from the store, read in one job on
//! the store thread, against the running plan.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};
use switchboard_core::store::Store;
use switchboard_dsl::Plan;

use crate::http::{AppError, AppState, time};
use crate::plan_users::{UserKind, is_mac, plan_users};
use crate::sip::{LineState, SipServer};
use crate::sqlite_store::SqliteStore;

/// The answer of `GET /api/office`.
#[derive(Serialize)]
pub struct OfficeView {
    pub registrations: Vec<RegistrationView>,
    pub hot_desks: Vec<HotDeskView>,
    pub queues: Vec<QueueView>,
    pub parked: Vec<ParkedView>,
    pub mailboxes: Vec<MailboxView>,
    pub users: Vec<UserView>,
}

/// One registered phone.
#[derive(Serialize)]
pub struct RegistrationView {
    /// The SIP user it registered as: an extension, or a hot-desk phone's MAC.
    pub user: String,
    /// The Contact URI it registered.
    pub contact: String,
    /// The address its REGISTER came from (behind NAT, the router's).
    pub source: String,
    /// `udp` or `tcp`.
    pub transport: &'static str,
    /// Seconds until the registration lapses unless the phone refreshes it.
    pub expires_in: u32,
    pub user_agent: Option<String>,
}

/// One hot-desk login.
#[derive(Serialize)]
pub struct HotDeskView {
    /// The phone's MAC, upper case.
    pub device: String,
    pub extension: String,
    /// RFC 3339; `null` for a login older than the store's record of starts.
    pub since: Option<String>,
}

/// A queue and its agents.
#[derive(Serialize)]
pub struct QueueView {
    pub queue: String,
    pub name: Option<String>,
    pub agents: Vec<AgentView>,
}

/// An agent the plan lists for a queue.
#[derive(Serialize)]
pub struct AgentView {
    pub extension: String,
    pub logged_in: bool,
    /// `idle`, `ringing` or `in_call`; `null` without a running server.
    pub state: Option<&'static str>,
}

/// A call waiting in a park orbit.
#[derive(Serialize)]
pub struct ParkedView {
    pub orbit: String,
    pub call: u64,
    pub from: String,
}

/// A mailbox's message counts.
#[derive(Serialize)]
pub struct MailboxView {
    pub mailbox: String,
    pub new: u32,
    pub saved: u32,
}

/// A SIP user: one the plan defines, or one with a password the plan no longer defines.
#[derive(Serialize)]
pub struct UserView {
    pub name: String,
    pub kind: UserKind,
    pub has_password: bool,
    /// False for a password left for a name the plan no longer has: it opens nothing,
    /// and removing it tidies the store.
    pub defined_in_plan: bool,
}

/// `GET /api/office`.
pub async fn office(State(state): State<AppState>) -> Result<Json<OfficeView>, AppError> {
    let plan = state.plans.plan();
    let mut view = state
        .store
        .run_sqlite(move |store| read_store(&plan, store))
        .await
        .and_then(|read| read)
        .map_err(|e| AppError::Internal(format!("reading the office: {e}")))?;
    if let Some(live) = &state.live {
        view.registrations = registrations(&live.sip);
        for agent in view.queues.iter_mut().flat_map(|q| q.agents.iter_mut()) {
            agent.state = Some(line_state(live.sip.line_state(&agent.extension)));
        }
    }
    Ok(Json(view))
}

fn registrations(sip: &SipServer) -> Vec<RegistrationView> {
    let now = Instant::now();
    sip.registered_phones()
        .into_iter()
        .map(|(user, r)| RegistrationView {
            user,
            expires_in: r.expires_in(now),
            contact: r.contact,
            source: r.source.to_string(),
            transport: match r.transport {
                crate::sip::Transport::Udp => "udp",
                crate::sip::Transport::Tcp => "tcp",
            },
            user_agent: r.user_agent,
        })
        .collect()
}

/// Everything the store holds for the view, on the store thread; registrations and line
/// states are the SIP server's, filled in after.
fn read_store(
    plan: &Arc<Plan>,
    store: &mut SqliteStore,
) -> Result<OfficeView, switchboard_core::store::StoreError> {
    let hot_desks = store
        .hot_desk_logins_since()?
        .into_iter()
        .map(|login| HotDeskView {
            device: login.device,
            extension: login.extension,
            since: login
                .since_ms
                .map(|ms| time::rfc3339(UNIX_EPOCH + Duration::from_millis(ms))),
        })
        .collect();

    let mut queues = Vec::new();
    for queue in &plan.queues {
        let mut agents: Vec<AgentView> = Vec::new();
        for agent in queue.agents.iter().filter_map(|a| a.literal()) {
            if agents.iter().any(|a| a.extension == agent) {
                continue;
            }
            agents.push(AgentView {
                logged_in: store.queue_logged_in(&agent, &queue.number)?,
                state: None,
                extension: agent,
            });
        }
        queues.push(QueueView {
            queue: queue.number.clone(),
            name: queue.name.clone(),
            agents,
        });
    }

    let mut parked = Vec::new();
    for orbit in &plan.orbits {
        if let Some(call) = store.parked(orbit)? {
            parked.push(ParkedView {
                orbit: orbit.clone(),
                call: call.call.0,
                from: call.from,
            });
        }
    }

    let mut mailboxes = Vec::new();
    for extension in plan.extensions.iter().filter(|e| e.options.voicemail) {
        let (new, saved) = store.message_counts(&extension.number)?;
        mailboxes.push(MailboxView {
            mailbox: extension.number.clone(),
            new,
            saved,
        });
    }

    let stored = store.list_passwords()?;
    let has_password = |name: &str| stored.iter().any(|(user, _)| user == name);
    let mut users: Vec<UserView> = plan_users(plan)
        .into_iter()
        .map(|user| UserView {
            has_password: has_password(&user.name),
            name: user.name,
            kind: user.kind,
            defined_in_plan: true,
        })
        .collect();
    for (name, _realm) in &stored {
        if !users.iter().any(|u| &u.name == name) {
            users.push(UserView {
                name: name.clone(),
                kind: if is_mac(name) {
                    UserKind::Device
                } else {
                    UserKind::Extension
                },
                has_password: true,
                defined_in_plan: false,
            });
        }
    }

    Ok(OfficeView {
        registrations: Vec::new(),
        hot_desks,
        queues,
        parked,
        mailboxes,
        users,
    })
}

fn line_state(state: LineState) -> &'static str {
    match state {
        LineState::Idle => "idle",
        LineState::Early => "ringing",
        LineState::Confirmed => "in_call",
    }
}
