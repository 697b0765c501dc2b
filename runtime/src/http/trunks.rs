//! `GET /api/trunks`: every trunk the running plan names or the configuration has an
//! account for, and how its registration at the provider stands (registered until when,
//! failing since when and why, disabled, not configured). The account's user name and
//! password are never part of the answer: only where it registers and how.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

use super::{AppState, time};
use crate::sip::{RegistrationState, Transport, TrunkAccounts};

/// The answer of `GET /api/trunks`.
#[derive(Serialize)]
pub struct TrunkList {
    pub trunks: Vec<TrunkView>,
}

/// One trunk.
#[derive(Serialize)]
pub struct TrunkView {
    pub name: String,
    /// Whether the running plan names it (an account for a trunk the plan does not
    /// name is kept, and registers, for the plan that will).
    pub in_plan: bool,
    /// Its host in the plan.
    pub host: Option<String>,
    /// The numbers (DIDs) the plan gives it.
    pub numbers: Vec<String>,
    /// Its account at the provider; none when the configuration has none.
    pub account: Option<AccountView>,
    pub registration: RegistrationView,
}

/// What an account says, without its credentials.
#[derive(Serialize)]
pub struct AccountView {
    pub registrar: Option<String>,
    pub outbound_proxy: Option<String>,
    pub transport: &'static str,
    pub register: bool,
    pub expires_secs: u64,
}

/// How a trunk's registration stands.
#[derive(Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RegistrationView {
    /// No account in the configuration: the trunk is trusted by address only.
    NotConfigured,
    Disabled,
    Registering,
    Registered {
        #[serde(serialize_with = "time::serialize")]
        since: SystemTime,
        #[serde(serialize_with = "time::serialize")]
        until: SystemTime,
        until_unix: i64,
        expires_secs: u64,
    },
    Failing {
        #[serde(serialize_with = "time::serialize")]
        since: SystemTime,
        since_unix: i64,
        last_status: Option<u16>,
        reason: String,
        attempts: u32,
        #[serde(serialize_with = "time::serialize")]
        next_attempt: SystemTime,
    },
    Unregistered,
}

/// `GET /api/trunks`.
pub async fn trunks(State(state): State<AppState>) -> Json<TrunkList> {
    let accounts = state.live.as_ref().map(|l| l.trunks.clone());
    Json(list(&state.plans.plan(), accounts.as_deref()))
}

/// The trunks of `plan` and `accounts`, by name.
pub fn list(plan: &switchboard_dsl::Plan, accounts: Option<&TrunkAccounts>) -> TrunkList {
    let mut views: BTreeMap<String, TrunkView> = BTreeMap::new();
    for t in &plan.trunks {
        views.insert(
            t.name.name.clone(),
            TrunkView {
                name: t.name.name.clone(),
                in_plan: true,
                host: t.host.clone(),
                numbers: t.numbers.clone(),
                account: None,
                registration: RegistrationView::NotConfigured,
            },
        );
    }
    for (accounts, a) in accounts
        .into_iter()
        .flat_map(|all| all.iter().map(move |a| (all, a)))
    {
        let view = views.entry(a.name.clone()).or_insert_with(|| TrunkView {
            name: a.name.clone(),
            in_plan: false,
            host: None,
            numbers: Vec::new(),
            account: None,
            registration: RegistrationView::NotConfigured,
        });
        view.account = Some(AccountView {
            // Its own, else where it registers now: its trunk's host in the plan.
            registrar: accounts.registrar(a),
            outbound_proxy: a.outbound_proxy.clone(),
            transport: match a.transport {
                Transport::Udp => "udp",
                Transport::Tcp => "tcp",
            },
            register: a.register,
            expires_secs: a.expires.as_secs(),
        });
        let state = accounts.status.get(&a.name);
        view.registration = match state {
            None | Some(RegistrationState::Registering) => RegistrationView::Registering,
            Some(RegistrationState::Disabled) => RegistrationView::Disabled,
            Some(RegistrationState::Unregistered) => RegistrationView::Unregistered,
            Some(RegistrationState::Registered {
                since,
                until,
                granted,
            }) => RegistrationView::Registered {
                since,
                until,
                until_unix: time::unix_seconds(until),
                expires_secs: granted.as_secs(),
            },
            Some(RegistrationState::Failing {
                since,
                status,
                reason,
                attempts,
                retry_at,
            }) => RegistrationView::Failing {
                since,
                since_unix: time::unix_seconds(since),
                last_status: status,
                reason,
                attempts,
                next_attempt: retry_at,
            },
        };
    }
    TrunkList {
        trunks: views.into_values().collect(),
    }
}

impl RegistrationView {
    /// One line for the status page.
    pub fn summary(&self) -> String {
        match self {
            RegistrationView::NotConfigured => {
                "no account configured (trusted by address)".to_string()
            }
            RegistrationView::Disabled => "registration off".to_string(),
            RegistrationView::Registering => "registering…".to_string(),
            RegistrationView::Registered { until, .. } => {
                format!("registered until {}", time::rfc3339(*until))
            }
            RegistrationView::Failing {
                since,
                reason,
                next_attempt,
                ..
            } => format!(
                "failing since {}: {reason}; next attempt {}",
                time::rfc3339(*since),
                time::rfc3339(*next_attempt)
            ),
            RegistrationView::Unregistered => "unregistered".to_string(),
        }
    }
}
