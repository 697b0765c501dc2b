//! Hot desking, after the 3CX hot desking guide: a phone the plan marks `hot_desk` becomes
//! whichever `hot_desk` extension logs in on it, until it is logged out.
//!
//! An extension is logged in on at most one phone: logging in on a second phone logs it out
//! of the first. Otherwise calls to the extension would ring a desk its owner has left, and
//! the phone left behind would let the next person at that desk act as them.
//!
//! MACs are compared without regard to case (the plan accepts either) and handed to the
//! store in upper case, so one phone is always one key.

use crate::store::{Store, StoreError};
use switchboard_dsl::Plan;

/// Why a hot-desk login was refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HotDeskRefusal {
    /// The call does not come from a phone the plan lists as a `device` with `hot_desk`.
    NotAHotDeskDevice,
    /// The extension does not exist or lacks the `hot_desk` option.
    NotAllowed,
}

/// What a successful login displaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HotDeskLogin {
    /// The extension that was logged out of this phone to make room.
    pub previous: Option<String>,
    /// The phone (MAC) this extension was logged in on before, now logged out.
    pub moved_from: Option<String>,
}

fn canonical(mac: &str) -> String {
    mac.to_ascii_uppercase()
}

/// Logs `ext` in on the phone with `device_mac` (`None` when the call came from no known
/// phone). Logging in again where one already is changes nothing and displaces no one.
pub fn hot_desk_login(
    plan: &Plan,
    store: &mut dyn Store,
    device_mac: Option<&str>,
    ext: &str,
) -> Result<Result<HotDeskLogin, HotDeskRefusal>, StoreError> {
    let is_hot_desk = |mac: &str| {
        plan.devices
            .iter()
            .any(|d| d.hot_desk && d.mac.eq_ignore_ascii_case(mac))
    };
    let Some(mac) = device_mac.filter(|mac| is_hot_desk(mac)).map(canonical) else {
        return Ok(Err(HotDeskRefusal::NotAHotDeskDevice));
    };
    if !super::hot_desk_allowed(plan, ext) {
        return Ok(Err(HotDeskRefusal::NotAllowed));
    }
    let previous = store
        .hot_desk_extension(&mac)?
        .filter(|previous| previous != ext);
    let moved_from = store.hot_desk_device(ext)?.filter(|old| *old != mac);
    // Leave the old phone first, so a store that enforces one phone per extension (a
    // unique index) never sees the extension on two phones at once.
    if let Some(old) = &moved_from {
        store.set_hot_desk(old, None)?;
    }
    store.set_hot_desk(&mac, Some(ext))?;
    Ok(Ok(HotDeskLogin {
        previous,
        moved_from,
    }))
}

/// Logs out whoever is logged in on the phone and returns who that was.
pub fn hot_desk_logout(
    store: &mut dyn Store,
    device_mac: &str,
) -> Result<Option<String>, StoreError> {
    let mac = canonical(device_mac);
    let previous = store.hot_desk_extension(&mac)?;
    if previous.is_some() {
        store.set_hot_desk(&mac, None)?;
    }
    Ok(previous)
}

/// Every current login as (MAC, extension), sorted, for the admin page.
pub fn hot_desk_logins(store: &dyn Store) -> Result<Vec<(String, String)>, StoreError> {
    store.hot_desk_logins()
}

/// The admin ends a login from the admin page: the same as a logout at the phone, named
/// for who does it.
pub fn end_hot_desk_login(store: &mut dyn Store, mac: &str) -> Result<Option<String>, StoreError> {
    hot_desk_logout(store, mac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::office::test_plan;
    use crate::store::MemoryStore;

    const PLAN: &str = r#"
extension 101 "Alice" { voicemail; hot_desk; pin "1234" }
extension 102 "Bruno" { voicemail; hot_desk }
extension 103 "Carla" { voicemail }
device "001565AABBCC" "Yealink T46U" { hot_desk }
device "805ec0112233" { hot_desk }
device "0004F2A1B2C3"
"#;

    const DESK_A: &str = "001565AABBCC";
    const DESK_B: &str = "805EC0112233";

    fn login(p: &Plan, s: &mut MemoryStore, mac: &str, ext: &str) -> HotDeskLogin {
        hot_desk_login(p, s, Some(mac), ext).unwrap().unwrap()
    }

    fn nobody() -> HotDeskLogin {
        HotDeskLogin {
            previous: None,
            moved_from: None,
        }
    }

    #[test]
    fn only_hot_desk_phones_and_hot_desk_extensions() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        let refused = |store: &mut MemoryStore, mac, ext| {
            hot_desk_login(&plan, store, mac, ext).unwrap().unwrap_err()
        };
        use HotDeskRefusal::*;
        assert_eq!(refused(&mut store, None, "101"), NotAHotDeskDevice);
        // A known phone without the option, and a phone the plan does not know.
        assert_eq!(
            refused(&mut store, Some("0004F2A1B2C3"), "101"),
            NotAHotDeskDevice
        );
        assert_eq!(
            refused(&mut store, Some("AABBCCDDEEFF"), "101"),
            NotAHotDeskDevice
        );
        assert_eq!(refused(&mut store, Some(DESK_A), "103"), NotAllowed);
        assert_eq!(refused(&mut store, Some(DESK_A), "199"), NotAllowed);
        assert!(store.hot_desk_logins().unwrap().is_empty());
    }

    #[test]
    fn macs_match_in_either_case_and_are_stored_upper_case() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert_eq!(login(&plan, &mut store, "001565aabbcc", "101"), nobody());
        assert_eq!(login(&plan, &mut store, DESK_B, "102"), nobody());
        assert_eq!(
            hot_desk_logins(&store).unwrap(),
            [
                (DESK_A.to_string(), "101".to_string()),
                (DESK_B.to_string(), "102".to_string()),
            ]
        );
        assert_eq!(
            hot_desk_logout(&mut store, "805ec0112233")
                .unwrap()
                .as_deref(),
            Some("102")
        );
        assert_eq!(store.hot_desk_extension(DESK_B).unwrap(), None);
    }

    #[test]
    fn a_second_extension_takes_over_the_phone() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        login(&plan, &mut store, DESK_A, "101");
        let second = login(&plan, &mut store, DESK_A, "102");
        assert_eq!(second.previous.as_deref(), Some("101"));
        assert_eq!(second.moved_from, None);
        assert_eq!(
            store.hot_desk_extension(DESK_A).unwrap().as_deref(),
            Some("102")
        );
        assert_eq!(store.hot_desk_device("101").unwrap(), None);
    }

    #[test]
    fn an_extension_moving_phones_leaves_the_old_one() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        login(&plan, &mut store, DESK_A, "101");
        login(&plan, &mut store, DESK_B, "102");
        let moved = login(&plan, &mut store, DESK_B, "101");
        assert_eq!(moved.previous.as_deref(), Some("102"));
        assert_eq!(moved.moved_from.as_deref(), Some(DESK_A));
        assert_eq!(store.hot_desk_extension(DESK_A).unwrap(), None);
        assert_eq!(
            store.hot_desk_device("101").unwrap().as_deref(),
            Some(DESK_B)
        );
        assert_eq!(hot_desk_logins(&store).unwrap().len(), 1);
        // Logging in again where one already is displaces no one.
        assert_eq!(login(&plan, &mut store, DESK_B, "101"), nobody());
    }

    #[test]
    fn logging_out_reports_who_left() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert_eq!(hot_desk_logout(&mut store, DESK_A).unwrap(), None);
        login(&plan, &mut store, DESK_A, "101");
        login(&plan, &mut store, DESK_B, "102");
        assert_eq!(
            end_hot_desk_login(&mut store, DESK_A).unwrap().as_deref(),
            Some("101")
        );
        assert_eq!(end_hot_desk_login(&mut store, DESK_A).unwrap(), None);
        assert_eq!(
            hot_desk_logins(&store).unwrap(),
            [(DESK_B.to_string(), "102".to_string())]
        );
    }
}
