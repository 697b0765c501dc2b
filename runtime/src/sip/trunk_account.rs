//! A trunk's account at its provider: who Switchboard signs in as, where it registers
//! and sends calls, and over which transport. It comes from the server's configuration,
//! never from the plan: the plan names the trunk, its numbers and its caller ID, and an
//! admin who may edit the plan need not see the provider's password.
//!
//! The password is a [`Secret`]: its `Debug` prints a placeholder and it has no
//! `Display` or `Serialize`, so it cannot slip into a log line, a trace or an API answer
//! by accident; only the digest computation reads it ([`Secret::expose`]).

use std::collections::BTreeMap;
use std::time::Duration;

use super::registrar::Transport;
pub use crate::secret::Secret;

/// How long a registration is asked for when the configuration does not say.
pub const DEFAULT_TRUNK_EXPIRES: Duration = Duration::from_secs(600);

/// One trunk's account, by the plan's trunk name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkAccount {
    /// The plan's trunk name (`trunk "main"`).
    pub name: String,
    /// The user Switchboard registers and authenticates as.
    pub username: String,
    pub password: Secret,
    /// `host[:port]` of the provider's registrar: where REGISTER goes, and the domain
    /// of the Request-URI and From of calls out. `None`: the plan trunk's `host`.
    pub registrar: Option<String>,
    /// `host[:port]` every request is sent to instead, keeping the registrar's domain
    /// in the headers (a provider's session border controller).
    pub outbound_proxy: Option<String>,
    pub transport: Transport,
    /// Whether Switchboard registers at all (some providers send calls to a fixed
    /// address and only authenticate calls out).
    pub register: bool,
    /// How long each registration is asked for; the provider may grant less.
    pub expires: Duration,
}

/// Every configured account, by trunk name, and how each one's registration stands.
#[derive(Debug, Default)]
pub struct TrunkAccounts {
    accounts: BTreeMap<String, TrunkAccount>,
    /// Each trunk's `host` in the running plan, swapped with every reload: an account
    /// with no `registrar` of its own registers and calls there, so moving a trunk in
    /// the plan moves its registration too, with no restart.
    plan_hosts: std::sync::RwLock<BTreeMap<String, String>>,
    /// What `/api/trunks` and the status page show.
    pub status: super::trunk_status::TrunkStatus,
}

impl TrunkAccounts {
    /// The accounts, with each trunk's host in the running plan (`plan_hosts`: trunk
    /// name to host), where an account with no `registrar` of its own registers.
    pub fn new(
        accounts: impl IntoIterator<Item = TrunkAccount>,
        plan_hosts: BTreeMap<String, String>,
    ) -> TrunkAccounts {
        let accounts = accounts.into_iter().map(|a| (a.name.clone(), a)).collect();
        TrunkAccounts {
            accounts,
            plan_hosts: std::sync::RwLock::new(plan_hosts),
            status: Default::default(),
        }
    }

    /// A new plan's trunk hosts (a reload).
    pub fn set_plan_hosts(&self, plan_hosts: BTreeMap<String, String>) {
        *self.plan_hosts.write().unwrap_or_else(|e| e.into_inner()) = plan_hosts;
    }

    /// Where `account` registers, and the domain of its calls out: its own `registrar`,
    /// else its trunk's `host` in the running plan.
    pub fn registrar(&self, account: &TrunkAccount) -> Option<String> {
        account.registrar.clone().or_else(|| {
            let hosts = self.plan_hosts.read().unwrap_or_else(|e| e.into_inner());
            hosts.get(&account.name).cloned()
        })
    }

    pub fn get(&self, trunk: &str) -> Option<&TrunkAccount> {
        self.accounts.get(trunk)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TrunkAccount> {
        self.accounts.values()
    }

    /// The number a call from `trunk` dialled: the Request-URI's user
    /// (`request_user`), unless that is the account's own user — the provider sent the
    /// call to the contact we registered — and then the `To` user (`to_user`), which
    /// names the DID.
    pub fn dialled(&self, trunk: &str, request_user: &str, to_user: Option<&str>) -> String {
        match (self.get(trunk), to_user) {
            (Some(a), Some(to)) if a.username == request_user && !to.is_empty() => to.to_string(),
            _ => request_user.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(registrar: Option<&str>) -> TrunkAccount {
        TrunkAccount {
            name: "main".into(),
            username: "2605550100".into(),
            password: Secret::new("amber-kettle-harbour"),
            registrar: registrar.map(str::to_string),
            outbound_proxy: None,
            transport: Transport::Udp,
            register: true,
            expires: DEFAULT_TRUNK_EXPIRES,
        }
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let shown = format!("{:?}", account(None));
        assert!(!shown.contains("amber-kettle-harbour"), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }

    #[test]
    fn a_call_to_our_registered_contact_dialled_the_number_in_to() {
        let accounts = TrunkAccounts::new([account(None)], BTreeMap::new());
        let dialled = |trunk, uri, to| accounts.dialled(trunk, uri, to);
        assert_eq!(
            dialled("main", "2605550100", Some("+12605550101")),
            "+12605550101"
        );
        // A provider that puts the DID in the Request-URI is taken at its word.
        assert_eq!(
            dialled("main", "+12605550100", Some("2605550100")),
            "+12605550100"
        );
        // So is a trunk with no account.
        assert_eq!(dialled("other", "2605550100", Some("+1")), "2605550100");
    }

    #[test]
    fn a_trunk_without_a_registrar_registers_at_its_host_in_the_running_plan() {
        let hosts = |host: &str| BTreeMap::from([("main".to_string(), host.to_string())]);
        let accounts = TrunkAccounts::new([account(None)], hosts("sip.carrier.example"));
        let main = accounts.get("main").unwrap().clone();
        assert_eq!(
            accounts.registrar(&main).as_deref(),
            Some("sip.carrier.example")
        );
        // The plan moved the trunk: its registration follows with the reload.
        accounts.set_plan_hosts(hosts("sip2.carrier.example"));
        assert_eq!(
            accounts.registrar(&main).as_deref(),
            Some("sip2.carrier.example")
        );
        // An account's own registrar wins over the plan.
        let own = TrunkAccounts::new(
            [account(Some("reg.carrier.example:5080"))],
            hosts("sip.carrier.example"),
        );
        let main = own.get("main").unwrap().clone();
        assert_eq!(
            own.registrar(&main).as_deref(),
            Some("reg.carrier.example:5080")
        );
    }
}
