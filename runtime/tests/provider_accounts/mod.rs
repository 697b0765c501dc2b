//! The office and the three providers' accounts as the chat channel tests configure
//! them: every channel routed to Alice (101), and the WhatsApp, Messenger and Twilio
//! accounts pointed at one local `provider` (the tests' stand-in for the providers'
//! APIs), with the secrets the tests sign webhooks and check requests with. Include it
//! with `mod provider_accounts;`.
#![allow(dead_code)] // Each test file uses its own part of it.

use switchboard_runtime::chat_channels::config::{
    ChannelAccounts, MessengerAccount, TwilioAccount, WhatsAppAccount,
};
use switchboard_runtime::secret::Secret;

/// Every channel goes to Alice.
pub const OFFICE: &str = r#"
extension 101 "Alice"
chat whatsapp -> extension 101
chat facebook -> extension 101
chat sms      -> extension 101
"#;

pub const WA_SECRET: &str = "wa-app-secret";
pub const WA_VERIFY: &str = "wa-verify-token";
pub const WA_TOKEN: &str = "wa-access-token";
pub const FB_SECRET: &str = "fb-app-secret";
pub const FB_VERIFY: &str = "fb-verify-token";
pub const FB_TOKEN: &str = "fb-page-token";
pub const TW_TOKEN: &str = "twilio-auth-token";
pub const TW_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// The office's SMS number.
pub const SALES: &str = "+12605550100";

/// The three accounts, each sending to `provider` (Meta's under `/v21.0`), and
/// `chat.public-url` when given.
pub fn accounts(public_url: Option<String>, provider: &str) -> ChannelAccounts {
    ChannelAccounts {
        public_url,
        whatsapp: Some(WhatsAppAccount {
            verify_token: Secret::new(WA_VERIFY),
            app_secret: Secret::new(WA_SECRET),
            access_token: Secret::new(WA_TOKEN),
            phone_number_id: PHONE_NUMBER_ID.into(),
            api_url: format!("{provider}/v21.0"),
        }),
        facebook: Some(MessengerAccount {
            verify_token: Secret::new(FB_VERIFY),
            app_secret: Secret::new(FB_SECRET),
            page_access_token: Secret::new(FB_TOKEN),
            api_url: format!("{provider}/v21.0"),
        }),
        sms: Some(TwilioAccount {
            account_sid: TW_SID.into(),
            auth_token: Secret::new(TW_TOKEN),
            api_url: provider.to_string(),
        }),
    }
}
