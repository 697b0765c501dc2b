//! A call out through a trunk: a client INVITE to the provider for an E.164 number
//! (`sip:+12605551234@provider`), followed like a call to a phone
//! ([`OutgoingCall`]). The provider's 401/407 is answered with the trunk's account
//! (rsipstack resends the INVITE with the digest); `From` and `P-Asserted-Identity`
//! carry the number the trunk presents and the calling extension's name.
//!
//! A trunk with no account in the configuration still calls out, to its host in the
//! plan and without credentials: a provider that trusts our address needs none.

use std::net::SocketAddr;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::{Header, Uri};
use rsipstack::transport::SipAddr;

use super::registrar::Transport;
use super::server::SipServer;
use super::trunk_account::{Secret, TrunkAccount};
use super::trunk_registration::resolve;
use super::{CallerId, OutgoingCall, SipError};

/// Where a call through one trunk goes, with the provider's address resolved.
#[derive(Clone, Debug)]
pub struct TrunkDestination {
    pub trunk: String,
    /// `host[:port]` in the Request-URI and From: the registrar, else the plan's host.
    pub domain: String,
    /// Where the INVITE is sent: the outbound proxy, else the domain, resolved.
    pub next_hop: SocketAddr,
    pub transport: Transport,
    /// The account's user and password, to answer a challenge; none for a trunk
    /// without an account.
    credential: Option<(String, Secret)>,
}

impl TrunkDestination {
    /// Resolves where `trunk`'s calls go: its `account` if it has one, else its host in
    /// the plan (`plan_host`). The error says why the trunk cannot call out.
    pub async fn resolve(
        trunk: &str,
        account: Option<&TrunkAccount>,
        plan_host: Option<&str>,
    ) -> Result<TrunkDestination, String> {
        let domain = account
            .and_then(|a| a.registrar.as_deref())
            .or(plan_host)
            .ok_or_else(|| {
                format!("trunk {trunk} has no host in the plan and no registrar in the config")
            })?
            .to_string();
        let hop = account
            .and_then(|a| a.outbound_proxy.as_deref())
            .unwrap_or(&domain);
        let next_hop = resolve(hop).await?;
        Ok(TrunkDestination {
            trunk: trunk.to_string(),
            domain,
            next_hop,
            transport: account.map_or(Transport::Udp, |a| a.transport),
            credential: account.map(|a| (a.username.clone(), a.password.clone())),
        })
    }
}

impl SipServer {
    /// Calls `number` (E.164, or a short service number like 911) through the trunk at
    /// `to`, from `caller` (the number the trunk presents, and the calling extension's
    /// name), offering `sdp`: see [`OutgoingCall`].
    pub fn call_trunk(
        &self,
        to: &TrunkDestination,
        number: &str,
        caller: &CallerId,
        sdp: String,
    ) -> Result<OutgoingCall, SipError> {
        let callee = Uri::try_from(format!("sip:{number}@{}", to.domain).as_str())?;
        let from = Uri::try_from(format!("sip:{}@{}", caller.number, to.domain).as_str())?;
        let mut contact = self.shared.contact(to.transport, to.next_hop.ip());
        if let Some((user, _)) = &to.credential {
            contact.auth = Some(rsipstack::sip::Auth {
                user: user.clone(),
                password: None,
            });
        }
        let name = caller.name.as_deref().map(display_name);
        let asserted = match &name {
            Some(name) => format!("\"{name}\" <{from}>"),
            None => format!("<{from}>"),
        };
        let transport = match to.transport {
            Transport::Udp => rsipstack::sip::Transport::Udp,
            Transport::Tcp => rsipstack::sip::Transport::Tcp,
        };
        let option = InviteOption {
            caller_display_name: name,
            caller: from,
            callee,
            destination: Some(SipAddr::new(transport, to.next_hop.into())),
            content_type: Some("application/sdp".into()),
            offer: Some(sdp.into_bytes()),
            contact,
            credential: to.credential.as_ref().map(|(user, password)| Credential {
                username: user.clone(),
                password: password.expose().to_string(),
                realm: None,
                auth_username: None,
            }),
            headers: Some(vec![
                Header::Other("Allow".into(), super::screen::ALLOW.into()),
                Header::Other("P-Asserted-Identity".into(), asserted),
            ]),
            ..Default::default()
        };
        Ok(self.shared.start_call(option, to.next_hop))
    }
}

/// A name as a quoted display name may carry it: no quotes or backslashes, which would
/// end or escape the quoting.
fn display_name(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn a_name_cannot_break_out_of_its_quotes() {
        assert_eq!(display_name("Alice \"Al\" Adams\\\r\n"), "Alice Al Adams");
    }
}
