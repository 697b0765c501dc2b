//! How much a call sends before the far end has shown it wants the media, sans-IO.
//!
//! An INVITE's SDP may name any address, and the server answers before anything proves
//! the address belongs to the caller: twenty forged INVITEs naming a third party once
//! made the server stream 6.3 MB of RTP at it (silence, then prompts, every 20 ms until
//! the dialog gave up waiting for the ACK). So until the far end confirms — its ACK
//! arrives, or one of its packets is heard (`latch`) — a session sends at most a small
//! budget: enough to open a NAT binding or a firewall pinhole on the way (a second of
//! packets), not enough to be worth forging. A far end that never confirms is ended by
//! the SIP stack's ACK timeout (64 × T1, 32 s), sent nothing more meanwhile.

/// The budget of a call not yet confirmed: a second of 20 ms packets.
pub const UNCONFIRMED_PACKETS: u32 = 50;

/// Whether the next packet may go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendGate {
    /// Packets that may still go out before the far end confirms; `None` once it has.
    left: Option<u32>,
}

impl SendGate {
    /// A gate for a far end already confirmed: everything goes out.
    pub fn open() -> SendGate {
        SendGate { left: None }
    }

    /// A gate letting `budget` packets out until `confirm`.
    pub fn until_confirmed(budget: u32) -> SendGate {
        SendGate { left: Some(budget) }
    }

    /// The far end has shown it wants the media: everything goes out from now on.
    pub fn confirm(&mut self) {
        self.left = None;
    }

    pub fn is_open(&self) -> bool {
        self.left.is_none()
    }

    /// Whether one more packet may go out now; counts it against the budget if so.
    pub fn take(&mut self) -> bool {
        match &mut self.left {
            None => true,
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }

    /// Whether the budget has just been used up (so the caller logs it once).
    pub fn spent(&self) -> bool {
        self.left == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfirmed_far_end_gets_the_budget_and_no_more() {
        let mut gate = SendGate::until_confirmed(UNCONFIRMED_PACKETS);
        let sent = (0..10_000).filter(|_| gate.take()).count();
        assert_eq!(sent, UNCONFIRMED_PACKETS as usize);
        assert!(gate.spent() && !gate.is_open());
    }

    #[test]
    fn a_confirmation_opens_the_gate_for_good() {
        let mut gate = SendGate::until_confirmed(3);
        assert!(gate.take() && gate.take() && gate.take());
        assert!(!gate.take());
        gate.confirm();
        assert!(gate.is_open() && !gate.spent());
        assert!((0..10_000).all(|_| gate.take()));
        // An open gate stays open.
        assert!(SendGate::open().take());
    }
}
