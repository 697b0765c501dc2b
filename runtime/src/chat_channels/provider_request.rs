//! A request to a provider's API, built by the provider's module (pure) and sent by the
//! outbox sender: the one shape every channel's reply takes on its way out.

use crate::secret::Secret;

/// What to send, where, signed in how.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderRequest {
    pub url: String,
    pub auth: Auth,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>` (Meta's Graph API).
    Bearer(Secret),
    /// HTTP basic auth (Twilio: the account SID and the auth token).
    Basic { user: String, password: Secret },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`, in this order.
    Form(Vec<(String, String)>),
}
