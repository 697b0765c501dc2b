//! Only the plan's people (and its trunks' `inbound_user`s) sign in. The SIP server asks this view for a user's digest: a
//! password left in the store for a number the plan no longer defines — an extension
//! removed last month, a number someone set by mistake — opens nothing, and the plan in
//! force decides, so removing an extension from the plan locks its phone out at once.

use crate::reload::PlanHolder;
use crate::sip::{CredentialStore, DigestAlgorithm};
use std::sync::Arc;

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
