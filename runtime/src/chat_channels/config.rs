//! The office's accounts at its chat providers, resolved from the config file's `chat:`
//! key (`config/chat.rs` reads it): every secret already read from the file, its
//! `*-file` or its `*-env`, and kept as a [`Secret`] no log, trace or API renders.

use crate::secret::Secret;

/// Meta's Graph API, where WhatsApp Cloud API and Messenger replies go unless the config
/// names another `api-url` (a test's local receiver, a proxy).
pub const META_API_URL: &str = "https://graph.facebook.com/v21.0";

/// Twilio's REST API root (the `2010-04-01/Accounts/…` path is added to it).
pub const TWILIO_API_URL: &str = "https://api.twilio.com";

/// The WhatsApp Business Cloud API account (`chat.whatsapp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatsAppAccount {
    /// What Meta sends as `hub.verify_token` when the webhook is registered.
    pub verify_token: Secret,
    /// The app secret: the key of `X-Hub-Signature-256`.
    pub app_secret: Secret,
    /// The system user's token replies are sent with (`Authorization: Bearer`).
    pub access_token: Secret,
    /// The Graph API id of the office's WhatsApp number (`metadata.phone_number_id` in
    /// its webhooks): replies are posted to `{api_url}/{phone_number_id}/messages`.
    pub phone_number_id: String,
    /// The Graph API root, without a trailing `/`.
    pub api_url: String,
}

/// The Facebook page's Messenger account (`chat.facebook`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessengerAccount {
    pub verify_token: Secret,
    pub app_secret: Secret,
    /// The page access token replies are sent with.
    pub page_access_token: Secret,
    pub api_url: String,
}

/// The SMS/MMS provider's account (`chat.sms`); Twilio is the one provider spoken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwilioAccount {
    /// `AC…`: the account the messages are sent from, in the API's path.
    pub account_sid: String,
    /// The key of `X-Twilio-Signature` and the password of the API's basic auth.
    pub auth_token: Secret,
    pub api_url: String,
}

/// The channels a provider reaches us on; `None` where the config does not set one up,
/// and its webhook answers 404 naming the key to add.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelAccounts {
    /// What providers call us at, like `https://pbx.office.example` (no trailing `/`):
    /// Twilio signs the URL it called, so the SMS webhook checks against it.
    pub public_url: Option<String>,
    pub whatsapp: Option<WhatsAppAccount>,
    pub facebook: Option<MessengerAccount>,
    pub sms: Option<TwilioAccount>,
}

impl ChannelAccounts {
    /// The host of `public_url`, which the providers send as `Host`: the HTTP API must
    /// answer to it (`http::hosts`), so it is one of the server's names.
    pub fn public_host(&self) -> Option<crate::http::HostName> {
        let url = self.public_url.as_deref()?;
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let host = match rest.strip_prefix('[') {
            // An IPv6 address, with its port after the `]`.
            Some(v6) => v6.split(']').next()?,
            None => rest.split(':').next()?,
        };
        crate::http::HostName::parse(host).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_urls_host_is_a_name_the_api_answers_to() {
        let host = |url: &str| {
            ChannelAccounts {
                public_url: Some(url.into()),
                ..Default::default()
            }
            .public_host()
            .map(|h| h.to_string())
        };
        assert_eq!(
            host("https://PBX.office.example").as_deref(),
            Some("pbx.office.example")
        );
        assert_eq!(
            host("https://pbx.office.example:8443").as_deref(),
            Some("pbx.office.example")
        );
        assert_eq!(host("http://[fd00::5]:8080").as_deref(), Some("[fd00::5]"));
        assert_eq!(ChannelAccounts::default().public_host(), None);
    }
}
