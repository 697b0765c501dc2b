//! The location table (RFC 3261 section 10.3), sans-IO: an extension's contacts,
//! each with the address the REGISTER really came from (for phones behind NAT)
//! and an expiry given the caller's `now`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The shortest registration accepted, in seconds (shorter gets 423).
pub const MIN_EXPIRES: u32 = 60;
/// The registration time when the phone asks for none.
pub const DEFAULT_EXPIRES: u32 = 3600;
/// The longest registration granted; longer requests are cut to this.
pub const MAX_EXPIRES: u32 = 7200;
/// Contacts kept per extension; a new one beyond this replaces the one
/// closest to expiring.
pub const MAX_CONTACTS_PER_EXTENSION: usize = 10;

/// The transport a registration arrived on, and NOTIFYs leave on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One live contact of an extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The Contact URI the phone registered, as it sent it.
    pub contact: String,
    /// Where the REGISTER came from (the `received`/`rport` address): requests
    /// to the phone go here, which works behind NAT.
    pub source: SocketAddr,
    pub transport: Transport,
    pub expires_at: Instant,
    pub user_agent: Option<String>,
}

impl Registration {
    /// Whole seconds left, as the 200 OK reports them.
    pub fn expires_in(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        u32::try_from(left.as_secs()).unwrap_or(u32::MAX)
    }
}

/// One Contact entry of a REGISTER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactUpdate {
    pub uri: String,
    /// The `expires` parameter of this contact, if any.
    pub expires: Option<u32>,
}

/// What a REGISTER asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterRequest {
    /// No Contact: just list the bindings.
    Fetch,
    /// `Contact: *`.
    RemoveAll,
    Update(Vec<ContactUpdate>),
}

/// Where the REGISTER came from and what it said besides its contacts.
#[derive(Clone, Debug)]
pub struct RegisterContext {
    /// The `Expires` header, if any.
    pub expires_header: Option<u32>,
    pub source: SocketAddr,
    pub transport: Transport,
    pub user_agent: Option<String>,
}

/// Why a REGISTER was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterError {
    /// A contact asked for less than [`MIN_EXPIRES`]: 423 with `Min-Expires`.
    IntervalTooBrief,
    /// `Contact: *` with a non-zero `Expires` (or none): 400.
    BadWildcard,
}

/// Every extension's live contacts.
#[derive(Default)]
pub struct Registrar {
    table: HashMap<String, Vec<Registration>>,
    /// Contacts forgotten because they expired, ever: a lapse is noticed by whoever
    /// purges first, and this lets the office view hear of it all the same.
    lapsed: u64,
}

impl Registrar {
    pub fn new() -> Registrar {
        Registrar::default()
    }

    /// Applies a REGISTER for `extension` and returns the contacts it has
    /// afterwards. Nothing changes when it is refused.
    pub fn apply(
        &mut self,
        extension: &str,
        request: RegisterRequest,
        context: RegisterContext,
        now: Instant,
    ) -> Result<Vec<Registration>, RegisterError> {
        self.purge_extension(extension, now);
        match request {
            RegisterRequest::Fetch => {}
            RegisterRequest::RemoveAll => {
                if context.expires_header != Some(0) {
                    return Err(RegisterError::BadWildcard);
                }
                self.table.remove(extension);
            }
            RegisterRequest::Update(updates) => {
                let granted = updates
                    .iter()
                    .map(|u| grant(u.expires.or(context.expires_header)))
                    .collect::<Result<Vec<_>, _>>()?;
                let bindings = self.table.entry(extension.to_string()).or_default();
                for (update, seconds) in updates.into_iter().zip(granted) {
                    bindings.retain(|b| !same_uri(&b.contact, &update.uri));
                    if seconds == 0 {
                        continue;
                    }
                    if bindings.len() >= MAX_CONTACTS_PER_EXTENSION {
                        let soonest = (0..bindings.len())
                            .min_by_key(|&i| bindings[i].expires_at)
                            .expect("the list is full, so not empty");
                        bindings.remove(soonest);
                    }
                    bindings.push(Registration {
                        contact: update.uri,
                        source: context.source,
                        transport: context.transport,
                        expires_at: now + Duration::from_secs(u64::from(seconds)),
                        user_agent: context.user_agent.clone(),
                    });
                }
                if bindings.is_empty() {
                    self.table.remove(extension);
                }
            }
        }
        Ok(self.live(extension, now))
    }

    /// The contacts of `extension` not yet expired at `now`.
    pub fn live(&self, extension: &str, now: Instant) -> Vec<Registration> {
        self.table
            .get(extension)
            .map(|bindings| {
                bindings
                    .iter()
                    .filter(|b| b.expires_at > now)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every live contact at `now`, by extension, in the extensions' order.
    pub fn all_live(&self, now: Instant) -> Vec<(String, Registration)> {
        let mut all: Vec<(String, Registration)> = self
            .table
            .iter()
            .flat_map(|(extension, bindings)| {
                bindings
                    .iter()
                    .filter(|b| b.expires_at > now)
                    .map(|b| (extension.clone(), b.clone()))
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.contact.cmp(&b.1.contact)));
        all
    }

    /// Puts back a contact kept from before a restart; whether it went in. Not when it
    /// lapsed by `now`, when `user` registered it again already, or when `user` has
    /// [`MAX_CONTACTS_PER_EXTENSION`] contacts.
    pub fn restore(&mut self, user: &str, registration: Registration, now: Instant) -> bool {
        if registration.expires_at <= now {
            return false;
        }
        let bindings = self.table.entry(user.to_string()).or_default();
        let known = bindings
            .iter()
            .any(|b| same_uri(&b.contact, &registration.contact));
        if known || bindings.len() >= MAX_CONTACTS_PER_EXTENSION {
            return false;
        }
        bindings.push(registration);
        true
    }

    /// Forgets every contact of `extension`; whether it had any.
    pub fn forget(&mut self, extension: &str) -> bool {
        self.table.remove(extension).is_some()
    }

    /// How many contacts the table holds (expired ones too, until purged).
    pub fn contact_count(&self) -> usize {
        self.table.values().map(Vec::len).sum()
    }

    /// How many contacts were forgotten because they expired, since the table began.
    pub fn lapsed(&self) -> u64 {
        self.lapsed
    }

    /// Forgets every expired contact.
    pub fn purge(&mut self, now: Instant) {
        let mut lapsed = 0;
        self.table.retain(|_, bindings| {
            let before = bindings.len();
            bindings.retain(|b| b.expires_at > now);
            lapsed += before - bindings.len();
            !bindings.is_empty()
        });
        self.lapsed += lapsed as u64;
    }

    fn purge_extension(&mut self, extension: &str, now: Instant) {
        if let Some(bindings) = self.table.get_mut(extension) {
            let before = bindings.len();
            bindings.retain(|b| b.expires_at > now);
            self.lapsed += (before - bindings.len()) as u64;
            if bindings.is_empty() {
                self.table.remove(extension);
            }
        }
    }
}

/// The seconds granted for a requested expiry: 0 removes, too short is refused,
/// too long is cut.
fn grant(requested: Option<u32>) -> Result<u32, RegisterError> {
    match requested.unwrap_or(DEFAULT_EXPIRES) {
        0 => Ok(0),
        s if s < MIN_EXPIRES => Err(RegisterError::IntervalTooBrief),
        s => Ok(s.min(MAX_EXPIRES)),
    }
}

/// Contact URIs compare with the scheme and host case-insensitively; close
/// enough to RFC 3261 section 19.1.4 for one phone's repeated REGISTERs.
fn same_uri(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(expires_header: Option<u32>, port: u16) -> RegisterContext {
        RegisterContext {
            expires_header,
            source: SocketAddr::from(([203, 0, 113, 5], port)),
            transport: Transport::Udp,
            user_agent: Some("phone".into()),
        }
    }

    fn update(uri: &str, expires: Option<u32>) -> RegisterRequest {
        RegisterRequest::Update(vec![ContactUpdate {
            uri: uri.into(),
            expires,
        }])
    }

    #[test]
    fn a_kept_contact_goes_back_unless_lapsed_or_registered_again() {
        let now = Instant::now();
        let kept = |uri: &str, left: u64| Registration {
            contact: uri.into(),
            source: SocketAddr::from(([203, 0, 113, 5], 5062)),
            transport: Transport::Udp,
            expires_at: now + Duration::from_secs(left),
            user_agent: None,
        };
        let mut r = Registrar::new();
        assert!(r.restore("102", kept("sip:102@10.0.0.7:5062", 600), now));
        assert_eq!(r.live("102", now)[0].expires_in(now), 600);
        // The phone registered again before the kept copy came back: the fresh one stays.
        r.apply(
            "103",
            update("sip:103@10.0.0.8:5060", Some(120)),
            context(None, 5060),
            now,
        )
        .unwrap();
        assert!(!r.restore("103", kept("sip:103@10.0.0.8:5060", 3000), now));
        assert_eq!(r.live("103", now)[0].expires_in(now), 120);
        // A lapsed one is not put back.
        assert!(!r.restore("104", kept("sip:104@10.0.0.9:5060", 0), now));
        assert!(r.live("104", now).is_empty());
    }

    #[test]
    fn several_contacts_per_extension_each_with_its_source() {
        let now = Instant::now();
        let mut r = Registrar::new();
        r.apply(
            "101",
            update("sip:101@10.0.0.2:5060", None),
            context(None, 4000),
            now,
        )
        .unwrap();
        let both = r
            .apply(
                "101",
                update("sip:101@10.0.0.3:5060", Some(120)),
                context(None, 4001),
                now,
            )
            .unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].expires_in(now), DEFAULT_EXPIRES);
        assert_eq!(both[1].expires_in(now), 120);
        assert_eq!(both[1].source.port(), 4001);
        assert!(r.live("102", now).is_empty());
    }

    #[test]
    fn expiry_is_clamped_refused_when_too_short_and_lapses() {
        let now = Instant::now();
        let mut r = Registrar::new();
        let long = r
            .apply(
                "101",
                update("sip:a@h", Some(999_999)),
                context(None, 1),
                now,
            )
            .unwrap();
        assert_eq!(long[0].expires_in(now), MAX_EXPIRES);
        assert_eq!(
            r.apply(
                "101",
                update("sip:b@h", None),
                context(Some(MIN_EXPIRES - 1), 1),
                now
            ),
            Err(RegisterError::IntervalTooBrief)
        );
        assert_eq!(
            r.live("101", now).len(),
            1,
            "a refused REGISTER changes nothing"
        );
        let later = now + Duration::from_secs(u64::from(MAX_EXPIRES));
        assert!(r.live("101", later).is_empty());
        assert_eq!(r.all_live(now).len(), 1);
        assert!(r.all_live(later).is_empty());
        assert_eq!(r.lapsed(), 0);
        r.purge(later);
        assert!(r.table.is_empty());
        assert_eq!(r.lapsed(), 1, "the lapse is counted");
        r.purge(later);
        assert_eq!(r.lapsed(), 1, "and only once");
    }

    #[test]
    fn reregistering_refreshes_and_zero_or_star_removes() {
        let now = Instant::now();
        let mut r = Registrar::new();
        r.apply("101", update("sip:a@h", Some(100)), context(None, 1), now)
            .unwrap();
        r.apply("101", update("sip:b@h", Some(100)), context(None, 2), now)
            .unwrap();
        let refreshed = r
            .apply("101", update("SIP:a@h", Some(300)), context(None, 3), now)
            .unwrap();
        assert_eq!(refreshed.len(), 2);
        assert_eq!(refreshed[1].expires_in(now), 300);
        assert_eq!(refreshed[1].source.port(), 3);
        let one = r
            .apply("101", update("sip:b@h", None), context(Some(0), 2), now)
            .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            r.apply("101", RegisterRequest::RemoveAll, context(Some(60), 1), now),
            Err(RegisterError::BadWildcard)
        );
        let none = r
            .apply("101", RegisterRequest::RemoveAll, context(Some(0), 1), now)
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn the_contact_list_is_bounded() {
        let now = Instant::now();
        let mut r = Registrar::new();
        for i in 0..MAX_CONTACTS_PER_EXTENSION + 3 {
            let expires = 100 + u32::try_from(i).unwrap();
            r.apply(
                "101",
                update(&format!("sip:{i}@h"), Some(expires)),
                context(None, 1),
                now,
            )
            .unwrap();
        }
        let live = r.live("101", now);
        assert_eq!(live.len(), MAX_CONTACTS_PER_EXTENSION);
        assert_eq!(
            live[0].contact, "sip:3@h",
            "the soonest to expire went first"
        );
        let fetched = r
            .apply("101", RegisterRequest::Fetch, context(None, 1), now)
            .unwrap();
        assert_eq!(fetched, live);
    }
}
