//! Only the plan's people (and its trunks' `inbound_user`s) sign in. The SIP server asks this view for a user's digest: a
//! password left in the store for a number the plan no longer defines — an extension
//! removed last month, a number someone set by mistake — opens nothing, and the plan in
//! force decides, so removing an extension from the plan locks its phone out at once.
//!
//! Who is a SIP user (`plan_user`, `plan_users`) is answered here once, for
//! `switchboard user` and the editor's office view alike.

use crate::reload::PlanHolder;
use crate::sip::{CredentialStore, DigestAlgorithm};
use std::sync::Arc;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::TrunkTrust;
use switchboard_dsl::suggest::did_you_mean;

/// The store's credentials, limited to the users of the running plan.
pub struct PlanUsers {
    /// Where the digests are kept.
    pub store: Arc<dyn CredentialStore>,
    /// The running plan, read on every look-up so a reload applies at once.
    pub plans: Arc<PlanHolder>,
}

impl CredentialStore for PlanUsers {
    fn ha1(&self, user: &str, realm: &str, algorithm: DigestAlgorithm) -> Option<String> {
        let plan = self.plans.plan();
        if !plan.is_sip_user(user) && plan.trunk_of_user(user).is_none() {
            return None;
        }
        self.store.ha1(user, realm, algorithm)
    }
}

/// What kind of SIP user the plan makes a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// An extension, like 101.
    Extension,
    /// A hot-desk phone, by its MAC.
    Device,
    /// The user a trunk's provider signs in as (its `inbound_user`).
    Trunk,
}

/// A SIP user the plan defines: its name as stored and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanUser {
    /// The name as the store keeps it: an extension's number, a MAC in capitals.
    pub name: String,
    pub kind: UserKind,
    /// For people: `extension Alice Adams`, `hot-desk phone, Yealink T46U`.
    pub what: String,
}

/// The plan's extension, device or trunk user `given` names, or why it is none, with the
/// closest one the plan does define: what `switchboard user set-password` and the
/// editor's office view both accept.
pub fn plan_user(plan: &Plan, given: &str) -> Result<PlanUser, String> {
    if let Some(extension) = plan.extension(given) {
        let what = match &extension.name {
            Some(name) => format!("extension {name}"),
            None => "extension".to_string(),
        };
        return Ok(PlanUser {
            name: extension.number.clone(),
            kind: UserKind::Extension,
            what,
        });
    }
    if let Some(device) = plan
        .devices
        .iter()
        .find(|d| d.mac.eq_ignore_ascii_case(given))
    {
        let what = match &device.model {
            Some(model) => format!("hot-desk phone, {model}"),
            None => "hot-desk phone".to_string(),
        };
        return Ok(PlanUser {
            name: device.mac.to_ascii_uppercase(),
            kind: UserKind::Device,
            what,
        });
    }
    if let Some(trunk) = plan.trunk_of_user(given) {
        return Ok(PlanUser {
            name: given.to_string(),
            kind: UserKind::Trunk,
            what: format!("trunk {}'s inbound user", trunk.name.name),
        });
    }
    let candidates = plan
        .extensions
        .iter()
        .map(|e| e.number.as_str())
        .chain(plan.devices.iter().map(|d| d.mac.as_str()));
    let hint = match did_you_mean(given, candidates) {
        Some(close) => format!("; did you mean {close}?"),
        None => "; `switchboard user list` shows the users, the plan's `extension` and `device` lines who may be one".to_string(),
    };
    let kind = if is_mac(given) {
        "a device"
    } else {
        "an extension"
    };
    Err(format!(
        "{given} is not {kind} in the plan, so it cannot have a SIP password{hint}"
    ))
}

/// Every SIP user the plan defines: its extensions, then its devices, then its trunks'
/// inbound users.
pub fn plan_users(plan: &Plan) -> Vec<PlanUser> {
    let extensions = plan.extensions.iter().map(|e| e.number.as_str());
    let devices = plan.devices.iter().map(|d| d.mac.as_str());
    let trunks = plan.trunks.iter().filter_map(|t| match &t.trust {
        TrunkTrust::Digest { user } => Some(user.name.as_str()),
        _ => None,
    });
    extensions
        .chain(devices)
        .chain(trunks)
        .filter_map(|name| plan_user(plan, name).ok())
        .collect()
}

/// The name a store keeps for `given`: MACs in capitals, anything else as it is.
pub fn stored_name(given: &str) -> String {
    if is_mac(given) {
        given.to_ascii_uppercase()
    } else {
        given.to_string()
    }
}

/// Whether `s` looks like a MAC (12 hex digits, not all of them decimal digits, which
/// would be a long number).
pub fn is_mac(s: &str) -> bool {
    s.len() == 12
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && !s.bytes().all(|b| b.is_ascii_digit())
}
