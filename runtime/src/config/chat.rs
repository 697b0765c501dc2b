//! The `chat` key of the config file: the office's accounts at its chat providers.
//!
//! ```yaml
//! chat:
//!   public-url: https://pbx.office.example   # what providers call; Twilio signs it
//!   whatsapp:
//!     verify-token-env: WA_VERIFY            # or verify-token: "…", verify-token-file: PATH
//!     app-secret-env: WA_SECRET
//!     access-token-env: WA_TOKEN
//!     api-url: https://graph.facebook.com/v21.0   # the default
//!   facebook:
//!     verify-token-env: FB_VERIFY
//!     app-secret-env: FB_SECRET
//!     page-access-token-env: FB_TOKEN
//!   sms:
//!     provider: twilio
//!     account-sid: AC0123456789abcdef0123456789abcdef
//!     auth-token-env: TW_TOKEN
//! ```
//!
//! Only the file sets these, never a flag or the plan: an admin who may edit the plan need
//! not see the provider's keys. Each secret comes from exactly one of `KEY` (in this
//! file), `KEY-file` (a file holding it alone, taken from the config file's folder) or
//! `KEY-env` (an environment variable). Errors name the key (`chat.whatsapp.app-secret`)
//! and the fix, never the secret.

use crate::chat_channels::config::{
    ChannelAccounts, META_API_URL, MessengerAccount, TWILIO_API_URL, TwilioAccount, WhatsAppAccount,
};
use crate::secret::Secret;
use livechat::{LIVECHAT_KEYS, PER_NETWORK_KEYS};
pub use livechat::{LivechatConfig, LivechatSettings, PerNetworkLimits};
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod livechat;

/// The chat settings, resolved: what the server runs with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatConfig {
    /// The providers' accounts (WhatsApp, Messenger, SMS).
    pub channels: ChannelAccounts,
    /// The website live chat (`chat.livechat`, `config/chat/livechat.rs`).
    pub livechat: LivechatConfig,
}

/// The keys `chat` may hold, and each channel's, for suggestions.
pub const CHAT_KEYS: &[&str] = &["public-url", "whatsapp", "facebook", "sms", "livechat"];
pub const WHATSAPP_KEYS: &[&str] = &[
    "verify-token",
    "verify-token-file",
    "verify-token-env",
    "app-secret",
    "app-secret-file",
    "app-secret-env",
    "access-token",
    "access-token-file",
    "access-token-env",
    "phone-number-id",
    "api-url",
];
pub const FACEBOOK_KEYS: &[&str] = &[
    "verify-token",
    "verify-token-file",
    "verify-token-env",
    "app-secret",
    "app-secret-file",
    "app-secret-env",
    "page-access-token",
    "page-access-token-file",
    "page-access-token-env",
    "api-url",
];
pub const SMS_KEYS: &[&str] = &[
    "provider",
    "account-sid",
    "auth-token",
    "auth-token-file",
    "auth-token-env",
    "api-url",
];

/// `chat:` as the file spells it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChatSettings {
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub whatsapp: Option<WhatsAppSettings>,
    #[serde(default)]
    pub facebook: Option<FacebookSettings>,
    #[serde(default)]
    pub sms: Option<SmsSettings>,
    #[serde(default)]
    pub livechat: Option<LivechatSettings>,
}

/// One secret's three spellings; exactly one must be given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SecretSource<'a> {
    inline: Option<&'a String>,
    file: Option<&'a PathBuf>,
    env: Option<&'a String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WhatsAppSettings {
    #[serde(default)]
    verify_token: Option<String>,
    #[serde(default)]
    verify_token_file: Option<PathBuf>,
    #[serde(default)]
    verify_token_env: Option<String>,
    #[serde(default)]
    app_secret: Option<String>,
    #[serde(default)]
    app_secret_file: Option<PathBuf>,
    #[serde(default)]
    app_secret_env: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    access_token_file: Option<PathBuf>,
    #[serde(default)]
    access_token_env: Option<String>,
    #[serde(default)]
    phone_number_id: Option<String>,
    #[serde(default)]
    api_url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FacebookSettings {
    #[serde(default)]
    verify_token: Option<String>,
    #[serde(default)]
    verify_token_file: Option<PathBuf>,
    #[serde(default)]
    verify_token_env: Option<String>,
    #[serde(default)]
    app_secret: Option<String>,
    #[serde(default)]
    app_secret_file: Option<PathBuf>,
    #[serde(default)]
    app_secret_env: Option<String>,
    #[serde(default)]
    page_access_token: Option<String>,
    #[serde(default)]
    page_access_token_file: Option<PathBuf>,
    #[serde(default)]
    page_access_token_env: Option<String>,
    #[serde(default)]
    api_url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SmsSettings {
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    account_sid: Option<String>,
    #[serde(default)]
    auth_token: Option<String>,
    #[serde(default)]
    auth_token_file: Option<PathBuf>,
    #[serde(default)]
    auth_token_env: Option<String>,
    #[serde(default)]
    api_url: Option<String>,
}

impl ChatSettings {
    /// Relative `*-file` paths are taken from `base`, the config file's folder.
    pub(super) fn rebase(&mut self, base: &Path) {
        let mut files: Vec<&mut Option<PathBuf>> = Vec::new();
        if let Some(w) = &mut self.whatsapp {
            files.extend([
                &mut w.verify_token_file,
                &mut w.app_secret_file,
                &mut w.access_token_file,
            ]);
        }
        if let Some(f) = &mut self.facebook {
            files.extend([
                &mut f.verify_token_file,
                &mut f.app_secret_file,
                &mut f.page_access_token_file,
            ]);
        }
        if let Some(s) = &mut self.sms {
            files.push(&mut s.auth_token_file);
        }
        for path in files.into_iter().flatten() {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }

    /// The resolved settings, every secret read. The error is the key (`chat.sms`,
    /// `chat.whatsapp.app-secret`) and what to write there.
    pub fn resolve(&self) -> Result<ChatConfig, (String, String)> {
        let public_url = match &self.public_url {
            Some(url) => {
                Some(parse_public_url(url).map_err(|e| ("chat.public-url".to_string(), e))?)
            }
            None => None,
        };
        let whatsapp = match &self.whatsapp {
            Some(w) => Some(WhatsAppAccount {
                verify_token: secret(
                    "chat.whatsapp.verify-token",
                    SecretSource {
                        inline: w.verify_token.as_ref(),
                        file: w.verify_token_file.as_ref(),
                        env: w.verify_token_env.as_ref(),
                    },
                )?,
                app_secret: secret(
                    "chat.whatsapp.app-secret",
                    SecretSource {
                        inline: w.app_secret.as_ref(),
                        file: w.app_secret_file.as_ref(),
                        env: w.app_secret_env.as_ref(),
                    },
                )?,
                access_token: secret(
                    "chat.whatsapp.access-token",
                    SecretSource {
                        inline: w.access_token.as_ref(),
                        file: w.access_token_file.as_ref(),
                        env: w.access_token_env.as_ref(),
                    },
                )?,
                phone_number_id: phone_number_id(&w.phone_number_id)?,
                api_url: api_url("chat.whatsapp.api-url", &w.api_url, META_API_URL)?,
            }),
            None => None,
        };
        let facebook = match &self.facebook {
            Some(f) => Some(MessengerAccount {
                verify_token: secret(
                    "chat.facebook.verify-token",
                    SecretSource {
                        inline: f.verify_token.as_ref(),
                        file: f.verify_token_file.as_ref(),
                        env: f.verify_token_env.as_ref(),
                    },
                )?,
                app_secret: secret(
                    "chat.facebook.app-secret",
                    SecretSource {
                        inline: f.app_secret.as_ref(),
                        file: f.app_secret_file.as_ref(),
                        env: f.app_secret_env.as_ref(),
                    },
                )?,
                page_access_token: secret(
                    "chat.facebook.page-access-token",
                    SecretSource {
                        inline: f.page_access_token.as_ref(),
                        file: f.page_access_token_file.as_ref(),
                        env: f.page_access_token_env.as_ref(),
                    },
                )?,
                api_url: api_url("chat.facebook.api-url", &f.api_url, META_API_URL)?,
            }),
            None => None,
        };
        let sms = match &self.sms {
            Some(s) => Some(sms_account(s, public_url.is_some())?),
            None => None,
        };
        let livechat = match &self.livechat {
            Some(l) => l.resolve()?,
            None => LivechatConfig::default(),
        };
        Ok(ChatConfig {
            channels: ChannelAccounts {
                public_url,
                whatsapp,
                facebook,
                sms,
            },
            livechat,
        })
    }
}

/// An error inside `chat:`, named by its path (`chat.whatsapp.app-secrt`), with
/// suggestions from that entry's own keys.
pub(super) fn entry_error(
    message: &str,
    file: &Path,
    line: Option<usize>,
    column: Option<usize>,
) -> Option<super::ConfigError> {
    use super::ConfigError;
    use switchboard_dsl::suggest::did_you_mean;
    let (path, what) = message.split_once(": ")?;
    if path != "chat" && !path.starts_with("chat.") {
        return None;
    }
    if let Some(unknown) = what
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        let keys = match path {
            "chat" => CHAT_KEYS,
            "chat.whatsapp" => WHATSAPP_KEYS,
            "chat.facebook" => FACEBOOK_KEYS,
            "chat.sms" => SMS_KEYS,
            "chat.livechat" => LIVECHAT_KEYS,
            "chat.livechat.per-network" => PER_NETWORK_KEYS,
            _ => &[],
        };
        return Some(ConfigError::UnknownKey {
            file: file.to_path_buf(),
            key: format!("{path}.{unknown}"),
            line,
            column,
            suggestion: did_you_mean(unknown, keys.iter().copied()).map(|s| format!("{path}.{s}")),
        });
    }
    Some(ConfigError::Invalid {
        file: file.to_path_buf(),
        key: Some(path.to_string()),
        line,
        column,
        message: what.to_string(),
    })
}

fn sms_account(s: &SmsSettings, has_public_url: bool) -> Result<TwilioAccount, (String, String)> {
    match s.provider.as_deref().map(str::trim) {
        Some(p) if p.eq_ignore_ascii_case("twilio") => {}
        Some(other) => {
            return Err((
                "chat.sms.provider".into(),
                format!("`{other}` is not a provider Switchboard speaks; write `provider: twilio`"),
            ));
        }
        None => {
            return Err((
                "chat.sms.provider".into(),
                "missing; write `provider: twilio`".into(),
            ));
        }
    }
    let sid = s.account_sid.as_deref().map(str::trim).unwrap_or("");
    if !(sid.len() == 34
        && sid.starts_with("AC")
        && sid[2..].bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err((
            "chat.sms.account-sid".into(),
            "write the account's SID from the provider's console: `AC` and 32 letters or \
             digits"
                .into(),
        ));
    }
    if !has_public_url {
        return Err((
            "chat.public-url".into(),
            "SMS needs it: the provider signs the URL it calls, so write the address it \
             reaches this server at, like `public-url: https://pbx.office.example`"
                .into(),
        ));
    }
    Ok(TwilioAccount {
        account_sid: sid.to_string(),
        auth_token: secret(
            "chat.sms.auth-token",
            SecretSource {
                inline: s.auth_token.as_ref(),
                file: s.auth_token_file.as_ref(),
                env: s.auth_token_env.as_ref(),
            },
        )?,
        api_url: api_url("chat.sms.api-url", &s.api_url, TWILIO_API_URL)?,
    })
}

/// The secret from its one source; `key` is the plain spelling (`chat.sms.auth-token`).
fn secret(key: &str, source: SecretSource<'_>) -> Result<Secret, (String, String)> {
    let err = |k: &str, m: String| Err((k.to_string(), m));
    let given = [
        source.inline.is_some(),
        source.file.is_some(),
        source.env.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    let short = key.rsplit('.').next().unwrap_or(key);
    if given == 0 {
        return err(
            key,
            format!(
                "missing; add `{short}-env: VARIABLE` (an environment variable holding it), \
                 `{short}-file: PATH` (a file holding it) or `{short}: \"…\"`"
            ),
        );
    }
    if given > 1 {
        return err(
            key,
            format!("give one of `{short}`, `{short}-file` and `{short}-env`, not several"),
        );
    }
    let value = if let Some(v) = source.inline {
        Secret::new(v.clone())
    } else if let Some(file) = source.file {
        Secret::from_file(file).map_err(|e| (format!("{key}-file"), e))?
    } else {
        let name = source.env.map(String::as_str).unwrap_or("");
        Secret::from_env(name.trim()).map_err(|e| (format!("{key}-env"), e))?
    };
    if value.is_empty() {
        return err(key, "the value is empty".into());
    }
    Ok(value)
}

/// The Graph API id of the WhatsApp number: digits, as the WhatsApp Manager shows it.
fn phone_number_id(given: &Option<String>) -> Result<String, (String, String)> {
    match given.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => Ok(id.to_string()),
        _ => Err((
            "chat.whatsapp.phone-number-id".into(),
            "write the number's \"Phone number ID\" from the WhatsApp Manager (digits, like \
             106540352242922): replies are sent through it"
                .into(),
        )),
    }
}

/// An API root: `http(s)://…`, kept without its trailing `/`.
fn api_url(key: &str, given: &Option<String>, default: &str) -> Result<String, (String, String)> {
    match given {
        None => Ok(default.to_string()),
        Some(url) => http_url(url).map_err(|e| (key.to_string(), e)),
    }
}

fn parse_public_url(url: &str) -> Result<String, String> {
    let url = http_url(url)?;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    if rest.contains('/') || rest.contains('?') {
        return Err(format!(
            "`{url}` has a path; write the scheme and host only, like https://pbx.office.example"
        ));
    }
    Ok(url)
}

fn http_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(url.to_string()),
        _ => Err(format!(
            "`{url}` is not an http(s) URL; write it like https://pbx.office.example"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> ChatSettings {
        serde_norway::from_str(text).unwrap()
    }

    #[test]
    fn secrets_come_from_the_file_a_secret_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("wa.secret"), "s3cret-app\n").unwrap();
        // SAFETY: the variable's name is this test's own; no other test reads it.
        unsafe { std::env::set_var("SB_TEST_CHAT_WA_TOKEN", "token-from-env") };
        let mut settings = yaml(
            "public-url: https://pbx.office.example/\n\
             whatsapp:\n  verify-token: hello\n  app-secret-file: wa.secret\n  \
             access-token-env: SB_TEST_CHAT_WA_TOKEN\n  phone-number-id: \"106540352242922\"\n",
        );
        settings.rebase(dir.path());
        let config = settings.resolve().unwrap();
        let wa = config.channels.whatsapp.unwrap();
        assert_eq!(wa.verify_token, Secret::new("hello"));
        assert_eq!(wa.app_secret, Secret::new("s3cret-app"));
        assert_eq!(wa.access_token, Secret::new("token-from-env"));
        assert_eq!(wa.api_url, META_API_URL);
        assert_eq!(
            config.channels.public_url.as_deref(),
            Some("https://pbx.office.example")
        );
        assert!(!format!("{wa:?}").contains("s3cret"));
    }

    #[test]
    fn errors_name_the_key_and_the_fix_never_the_secret() {
        let (key, e) = yaml("facebook:\n  verify-token: v\n  app-secret: topsecret\n")
            .resolve()
            .unwrap_err();
        assert_eq!(key, "chat.facebook.page-access-token");
        assert!(e.contains("page-access-token-env"), "{e}");
        let (key, e) = yaml(
            "whatsapp:\n  verify-token: v\n  app-secret: topsecret\n  app-secret-env: X\n  \
             access-token: t\n",
        )
        .resolve()
        .unwrap_err();
        assert_eq!(key, "chat.whatsapp.app-secret");
        assert!(e.contains("not several") && !e.contains("topsecret"), "{e}");
        let (key, e) = yaml(
            "whatsapp:\n  verify-token: v\n  app-secret-env: SB_TEST_SURELY_UNSET_VAR\n  \
             access-token: t\n",
        )
        .resolve()
        .unwrap_err();
        assert_eq!(key, "chat.whatsapp.app-secret-env");
        assert!(e.contains("SB_TEST_SURELY_UNSET_VAR is not set"), "{e}");
    }

    #[test]
    fn the_config_file_reads_chat_and_names_a_misspelt_key() {
        use crate::config::{ConfigOverrides, ServerConfig};
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("switchboard.yaml");
        std::fs::write(dir.path().join("tw.token"), "tw-secret\n").unwrap();
        std::fs::write(
            &file,
            "chat:\n  public-url: https://pbx.office.example\n  sms:\n    provider: twilio\n    \
             account-sid: AC0123456789abcdef0123456789abcdef\n    auth-token-file: tw.token\n",
        )
        .unwrap();
        let config = ServerConfig::load(Some(&file), &ConfigOverrides::default()).unwrap();
        let sms = config.chat.channels.sms.unwrap();
        assert_eq!(sms.auth_token, Secret::new("tw-secret"));
        std::fs::write(&file, "chat:\n  whatsapp:\n    app-secret-evn: WA_SECRET\n").unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown key `chat.whatsapp.app-secret-evn`"),
            "{e}"
        );
        assert!(
            e.contains("did you mean `chat.whatsapp.app-secret-env`?"),
            "{e}"
        );
        std::fs::write(
            &file,
            "chat:\n  sms:\n    provider: twilio\n    auth-token: x\n",
        )
        .unwrap();
        let e = ServerConfig::load(Some(&file), &ConfigOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("invalid `chat.sms.account-sid`"), "{e}");
    }

    #[test]
    fn sms_needs_twilio_a_real_sid_and_the_public_url() {
        let sid = "AC0123456789abcdef0123456789abcdef";
        let sms = |extra: &str| {
            yaml(&format!(
                "{extra}sms:\n  provider: twilio\n  account-sid: {sid}\n  auth-token: t\n"
            ))
            .resolve()
        };
        assert_eq!(sms("").unwrap_err().0, "chat.public-url");
        let ok = sms("public-url: https://pbx.example\n").unwrap();
        let account = ok.channels.sms.unwrap();
        assert_eq!(account.account_sid, sid);
        assert_eq!(account.api_url, TWILIO_API_URL);
        let (key, e) = yaml("sms:\n  provider: nexmo\n").resolve().unwrap_err();
        assert_eq!(key, "chat.sms.provider");
        assert!(e.contains("provider: twilio"), "{e}");
        let (key, _) = yaml("public-url: https://a.example/x\n")
            .resolve()
            .unwrap_err();
        assert_eq!(key, "chat.public-url");
    }
}
