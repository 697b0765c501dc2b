//! The syntax tree of one plan: what the admin wrote, every node with its span.
//!
//! Names are not resolved here; `check` resolves them and `Plan` indexes them. Steps are
//! already typed (`Step::Ask { min, max, .. }`), because the words after a verb are read in
//! `read/steps.rs` where a wrong word can be reported with the fix. `visit` walks it.

pub mod visit;

use crate::source::Span;
use std::time::Duration;

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// Everything in every file of the plan, in source order per kind.
#[derive(Clone, Debug, Default)]
pub struct Ast {
    pub settings: Vec<Setting>,
    pub extensions: Vec<Extension>,
    pub queues: Vec<Queue>,
    pub orbits: Vec<Ident>,
    pub devices: Vec<Device>,
    pub trunks: Vec<Trunk>,
    pub routes: Vec<Route>,
    pub inbound: Vec<Inbound>,
    pub chats: Vec<ChatRoute>,
    pub flows: Vec<Flow>,
    pub scripts: Vec<Script>,
    pub tests: Vec<Test>,
    /// Names defined by items that did not parse; their uses are not reported again.
    pub broken: std::collections::HashSet<String>,
}

#[derive(Clone, Debug)]
pub struct Setting {
    pub key: Ident,
    pub value: Value,
}

/// One extension; a range `extensions 110..129` becomes one entry per number, all sharing
/// the range's span.
#[derive(Clone, Debug)]
pub struct Extension {
    pub number: String,
    pub name: Option<String>,
    pub span: Span,
    /// The span of the number (or the whole range), for duplicate reports.
    pub number_span: Span,
    pub name_span: Option<Span>,
    pub options: ExtensionOptions,
}

#[derive(Clone, Debug, Default)]
pub struct ExtensionOptions {
    pub voicemail: bool,
    pub hot_desk: bool,
    pub email: Option<String>,
    pub language: Option<Ident>,
    /// The first voicemail PIN, until the owner changes it (then only a salted hash is kept):
    /// digits in clear, or a salted digest in `PinHash` text form (`is_pin_digest`).
    pub pin: Option<String>,
    /// Where the PIN is written, for the warning about a PIN in clear.
    pub pin_span: Option<Span>,
    pub ring: Option<Duration>,
    /// What happens when the extension does not answer (default: its voicemail, if any).
    pub no_answer: Option<Action>,
    /// The costly numbers this extension may call out to (`allow international, premium`).
    pub allow: TollAllow,
}

/// Numbers refused on a trunk unless the plan allows them (toll-fraud defence): for an
/// extension, its `allow` option; for a call that came in on a trunk, the trunk's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TollAllow {
    /// `011…`, or `+` and a country code other than 1.
    pub international: bool,
    /// `+1900…`, `+1976…` (and `1900…`, `1976…`).
    pub premium: bool,
}

/// Whether a plan's `pin` is written as a salted digest, `sha256$<32 hex>$<64 hex>`, the
/// text form of `switchboard_core::pin::PinHash` (which parses it; this only recognises
/// the shape, as `dsl` cannot depend on `core`).
pub fn is_pin_digest(text: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut parts = text.split('$');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("sha256"), Some(salt), Some(hash), None) if hex(salt, 32) && hex(hash, 64)
    )
}

#[derive(Clone, Debug, Copy, PartialEq, Eq)]
pub enum Strategy {
    RingAll,
    Hunt,
    RoundRobin,
    LongestIdle,
    FewestCalls,
}

/// A queue's periodic announcement: `announce "prompt"` with `announce_every 30s`.
#[derive(Clone, Debug)]
pub struct Announce {
    pub prompt: Value,
    /// How often it interrupts the hold music; `None` is the default (30 s).
    pub every: Option<Duration>,
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub number: String,
    pub name: Option<String>,
    pub span: Span,
    pub number_span: Span,
    pub agents: Vec<Value>,
    pub managers: Vec<Value>,
    pub strategy: Strategy,
    /// How long each agent rings (every agent at once, for `ring_all`).
    pub ring: Option<Duration>,
    /// How long a caller waits in the queue before `then`; `None` makes one round.
    pub max_wait: Option<Duration>,
    /// How long an agent is left alone after a queue call ends.
    pub wrap_up: Option<Duration>,
    pub announce: Option<Announce>,
    pub then: Option<Action>,
}

#[derive(Clone, Debug)]
pub struct Device {
    pub mac: String,
    pub mac_span: Span,
    pub model: Option<String>,
    pub hot_desk: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Trunk {
    pub name: Ident,
    pub host: Option<String>,
    /// Numbers this trunk delivers (DIDs), used by `inbound ... to`.
    pub numbers: Vec<String>,
    pub caller_id: Option<String>,
    /// How the trunk's calls are told from forgeries.
    pub trust: TrunkTrust,
    /// The costly numbers a call that came in on this trunk may go out to.
    pub allow: TollAllow,
    pub span: Span,
}

/// How a call is known to come from a trunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrunkTrust {
    /// From the host's address over UDP or TCP (the default). A UDP source address can be
    /// forged by anyone who can send a packet.
    Address,
    /// From the host's address over TCP only: the handshake proves the address.
    AddressOverTcp,
    /// By a digest answer to our challenge as this user, from wherever the carrier
    /// sends; the password is set with `switchboard user set-password USER`.
    Digest { user: Ident },
}

/// `dial "PATTERN" [when COND] -> action`.
#[derive(Clone, Debug)]
pub struct Route {
    pub pattern: String,
    pub pattern_span: Span,
    pub condition: Option<Condition>,
    pub action: Action,
    pub span: Span,
}

/// `inbound trunk "NAME" [to "NUMBER"] [when COND] -> action`.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub trunk: Ident,
    pub to: Option<(String, Span)>,
    pub condition: Option<Condition>,
    pub action: Action,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    LiveChat,
    WhatsApp,
    Facebook,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::LiveChat => "livechat",
            Channel::WhatsApp => "whatsapp",
            Channel::Facebook => "facebook",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Some(match s {
            "livechat" => Channel::LiveChat,
            "whatsapp" => Channel::WhatsApp,
            "facebook" => Channel::Facebook,
            "sms" => Channel::Sms,
            _ => return None,
        })
    }
}

/// How a chat is offered to a queue's agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Every logged-in agent sees it until one takes it.
    All,
    /// Offered to the N longest-idle agents at once.
    Top(u32),
}

#[derive(Clone, Debug)]
pub enum ChatTarget {
    Queue { number: Value, poll: Poll },
    Extension(Value),
}

#[derive(Clone, Debug)]
pub struct ChatRoute {
    pub channel: Channel,
    pub number: Option<(String, Span)>,
    pub condition: Option<Condition>,
    pub target: ChatTarget,
    pub target_span: Span,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Script {
    pub name: Ident,
    pub params: Vec<Ident>,
    pub code: String,
    /// Where `code` starts in the file, so Rhai's positions map back to the `.dial` file.
    pub code_span: Span,
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub steps: Vec<Step>,
}

/// What follows an arrow: one step, a `then` chain, or a block. Always a block here.
pub type Action = Block;

#[derive(Clone, Debug)]
pub struct Step {
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SayKind {
    Digits,
    Number,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// The self-ID used by dial by name.
    Name,
    Greeting,
    /// A message left in someone's mailbox.
    Message,
}

/// Which queues a login or logout applies to.
#[derive(Clone, Debug)]
pub enum QueueSelect {
    All,
    One(Value),
}

#[derive(Clone, Debug)]
pub enum MailboxOp {
    /// Make this mailbox the current one (after the PIN was checked).
    Open(Value),
    /// Point at the first new (or saved) message.
    Select {
        saved: bool,
    },
    Play,
    Next,
    Previous,
    Save,
    Delete,
    SayCount {
        saved: bool,
    },
    SetPin(Value),
}

#[derive(Clone, Debug)]
pub enum StepKind {
    Answer,
    Hangup,
    Play {
        prompts: Vec<Value>,
        barge_in: bool,
    },
    Say {
        kind: SayKind,
        value: Value,
    },
    Ask {
        prompts: Vec<Value>,
        min: u32,
        max: u32,
        terminator: Option<char>,
        timeout: Option<Duration>,
        into: Ident,
    },
    Menu(Box<Menu>),
    Record {
        kind: RecordKind,
        mailbox: Option<Value>,
        terminator: Option<char>,
        max: Option<Duration>,
    },
    /// Play back the last recording and ask to save, listen again or record again.
    Confirm,
    Extension {
        number: Value,
        ring: Option<Duration>,
    },
    Queue(Value),
    Trunk {
        trunk: Ident,
        number: Value,
    },
    Voicemail(Value),
    Goto {
        flow: Ident,
        args: Vec<Value>,
    },
    Call {
        flow: Ident,
        args: Vec<Value>,
    },
    Back,
    /// Start the enclosing menu again (from a menu branch).
    Repeat,
    If {
        branches: Vec<(Condition, Block)>,
        otherwise: Option<Block>,
    },
    Loop {
        times: u32,
        body: Block,
    },
    Set {
        var: Ident,
        value: Value,
    },
    QueueLogin {
        queues: QueueSelect,
        agent: Option<Value>,
    },
    QueueLogout {
        queues: QueueSelect,
        agent: Option<Value>,
    },
    HotDeskLogin(Value),
    HotDeskLogout,
    Park(Value),
    Unpark(Value),
    ParkToggle(Value),
    Directory,
    Mailbox(MailboxOp),
    Language(Ident),
    // ---- only inside `test` blocks ----
    TestCall {
        from: TestCaller,
        dial: String,
    },
    TestChat {
        channel: Channel,
        from: String,
        to: Option<String>,
        says: String,
    },
    Press(String),
    Wait(Duration),
    TestHangup,
    /// `given mailbox 101 pin "1234"` and friends: state the office starts the test in.
    Given(Given),
    Expect(Box<Step>),
    /// `extension 102 is busy`, `trunk "main" answers after 5s`: what a far end the plan
    /// is ringing does.
    FarEnd {
        party: FarEndParty,
        name: Ident,
        does: FarEndDoes,
    },
    /// `expect connected`: someone the plan rang answered.
    ExpectConnected,
}

/// Who a test's far-end step is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FarEndParty {
    Extension,
    Queue,
    Trunk,
}

/// What a far end does when the plan rings it (test steps and `simulate --far-end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FarEndDoes {
    /// Picks up, now or after this much more ringing.
    Answers {
        after: Option<Duration>,
    },
    Busy,
    /// Rings until the plan gives up (its ring time), or the carrier does.
    NeverAnswers,
    /// No phone is registered for it (a trunk: its registration is down): it cannot ring.
    Unregistered,
}

#[derive(Clone, Debug)]
pub enum TestCaller {
    Extension(String),
    /// A hot-desk phone by MAC; it calls as whoever is logged in on it (or nobody).
    Device {
        mac: String,
        span: Span,
    },
    Trunk {
        trunk: Ident,
        number: String,
    },
}

#[derive(Clone, Debug)]
pub enum Given {
    Pin {
        mailbox: String,
        pin: String,
    },
    SelfId {
        mailbox: String,
    },
    Messages {
        mailbox: String,
        new: u32,
    },
    /// Office time, checked when the test is read.
    Time(crate::script::WallTime),
    QueueLoggedIn {
        agent: String,
        queue: String,
    },
}

#[derive(Clone, Debug)]
pub struct Menu {
    pub prompts: Vec<Value>,
    pub keys: Vec<MenuKey>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    pub on_timeout: Option<Action>,
    pub on_invalid: Option<Action>,
    /// Taken when the retries run out; defaults to the timeout branch.
    pub on_retries_exhausted: Option<Action>,
}

#[derive(Clone, Debug)]
pub struct MenuKey {
    pub key: char,
    pub span: Span,
    pub action: Action,
}

/// A value in a step: literal, interpolated string, variable, script call or Rhai.
#[derive(Clone, Debug)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ValueKind {
    Number(String),
    Duration(Duration),
    /// A string; `{name}` parts are variables, filled in when the step runs.
    Text(Vec<TextPart>),
    Var(Vec<String>),
    Script(String),
    Call {
        name: Ident,
        args: Vec<Value>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextPart {
    Lit(String),
    Var(String),
}

impl Value {
    /// The text of a literal number or an uninterpolated string.
    pub fn literal(&self) -> Option<String> {
        match &self.kind {
            ValueKind::Number(n) => Some(n.clone()),
            ValueKind::Text(parts) => match parts.as_slice() {
                [] => Some(String::new()),
                [TextPart::Lit(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Condition {
    Or(Vec<Condition>),
    And(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        left: Value,
        equal: bool,
        right: Value,
    },
    Script(Value),
    Call(Value),
}

#[derive(Clone, Debug)]
pub struct Test {
    pub name: String,
    pub body: Block,
    pub span: Span,
}
