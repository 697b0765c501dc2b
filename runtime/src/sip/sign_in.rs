//! Signing in with a digest, for requests answered outside a dialog (REGISTER and
//! SUBSCRIBE): an address with too many failures is refused before anything is checked,
//! a request without (or with stale) credentials is challenged with 401, and a failed
//! answer is logged by the user it named — never the proof — and counted against its
//! address. INVITE challenges with 407 through its dialog, in `invite`.

use rsipstack::sip::{Header, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use std::net::SocketAddr;
use tracing::{debug, warn};

use super::SipError;
use super::auth::AuthVerdict;
use super::door::SIGN_IN_CREDENTIALS;
use super::server::{Shared, reply};

impl Shared {
    /// The user `tx` proved to be, or `None` once it was answered: challenged, or refused
    /// with `refusal` headers (a Retry-After, say). `what` names the request in the log.
    pub(super) async fn sign_in(
        &self,
        tx: &mut Transaction,
        source: SocketAddr,
        what: &str,
        refusal: Vec<Header>,
    ) -> Result<Option<String>, SipError> {
        if !self.admit(source.ip()).await {
            // Logged once, when the refusal began (`Shared::authenticate`).
            debug!(user = ?self.claimed_user(tx, &SIGN_IN_CREDENTIALS), %source, "{what} refused: too many failures from this address");
            reply(tx, StatusCode::Forbidden, refusal).await?;
            return Ok(None);
        }
        match self.authenticate(tx, &SIGN_IN_CREDENTIALS) {
            AuthVerdict::Authenticated { user } if self.trunk_of_user(&user).is_some() => {
                // A carrier's account places calls; it has no phone to register or lamp
                // to light.
                warn!(%user, %source, "{what} refused: this user is a trunk's, which only places calls");
                reply(tx, StatusCode::Forbidden, refusal).await?;
                Ok(None)
            }
            AuthVerdict::Authenticated { user } => Ok(Some(user)),
            verdict @ (AuthVerdict::Challenge | AuthVerdict::Stale) => {
                let headers = self
                    .challenges(verdict == AuthVerdict::Stale)
                    .into_iter()
                    .map(|c| Header::WwwAuthenticate(c.into()))
                    .collect();
                reply(tx, StatusCode::Unauthorized, headers).await?;
                Ok(None)
            }
            AuthVerdict::Refused => {
                reply(tx, StatusCode::Forbidden, refusal).await?;
                Ok(None)
            }
            AuthVerdict::Rejected => {
                warn!(user = ?self.claimed_user(tx, &SIGN_IN_CREDENTIALS), %source, "{what} failed: wrong password, unknown user or bad credentials");
                reply(tx, StatusCode::Forbidden, refusal).await?;
                Ok(None)
            }
        }
    }
}
