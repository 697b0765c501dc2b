//! The plan lowered for running: every flow and every route action as flat instructions
//! with jumps, names resolved to indices, and each instruction's source span kept for
//! traces.
//!
//! The call engine runs this program and never walks the syntax tree; the tree is for
//! checking and for pointing at the admin's text. Lowering happens once per compile, so
//! the server and the editor run the very same program.

use crate::ast::{Poll, RecordKind, SayKind, TextPart};
use crate::source::Span;
use std::time::Duration;

/// Where an instruction sits in `Program::code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Addr(pub u32);

/// A menu's entry in `Program::menus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MenuId(pub u32);

/// A flow's entry in `Program::flows`, in the plan's flow order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowId(pub u32);

/// A `repeat N times` loop's counter, numbered per program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LoopId(pub u32);

#[derive(Default)]
pub struct Program {
    pub code: Vec<Op>,
    /// The source span of each instruction, index for index with `code`.
    pub spans: Vec<Span>,
    pub flows: Vec<FlowEntry>,
    pub menus: Vec<Menu>,
    /// Entry of each `dial` route's action, index for index with `Plan::routes`.
    pub routes: Vec<Addr>,
    /// The `when` of each `dial` route, index for index with `Plan::routes`.
    pub route_when: Vec<Option<Cond>>,
    /// Whether a hot-desk phone nobody is logged in to may use each `dial` route: only
    /// routes that log in or out, or call a short service number (911), are open to it.
    pub route_open_to_unassigned: Vec<bool>,
    /// Entry of each `inbound` route's action, index for index with `Plan::inbound`.
    pub inbound: Vec<Addr>,
    /// The `when` of each `inbound` route.
    pub inbound_when: Vec<Option<Cond>>,
    /// Each extension's `no_answer` action, by extension number.
    pub no_answer: std::collections::HashMap<String, Addr>,
    /// Each `chat` route's `when` and target, index for index with `Plan::chats`: chats
    /// are evaluated by the same evaluator as calls.
    pub chats: Vec<ChatRouteProgram>,
    /// Each queue's `then` action, by queue number.
    pub queue_then: std::collections::HashMap<String, Addr>,
    /// How many loop counters a call needs.
    pub loops: u32,
    /// The variables that hold a PIN or part of one (see `lower/secrets.rs`). What the
    /// engine shows of them, in traces or anywhere else, is masked.
    pub secrets: std::collections::BTreeSet<String>,
}

/// A `chat` route as the evaluator runs it.
#[derive(Clone, Debug)]
pub struct ChatRouteProgram {
    pub when: Option<Cond>,
    pub target: ChatTargetOperand,
}

/// Where a chat route sends a chat, with its number still to be worked out.
#[derive(Clone, Debug)]
pub enum ChatTargetOperand {
    Queue { number: Operand, poll: Poll },
    Extension(Operand),
}

impl Program {
    pub fn op(&self, at: Addr) -> &Op {
        &self.code[at.0 as usize]
    }

    pub fn span(&self, at: Addr) -> Span {
        self.spans[at.0 as usize]
    }

    pub fn menu(&self, id: MenuId) -> &Menu {
        &self.menus[id.0 as usize]
    }

    pub fn flow(&self, id: FlowId) -> &FlowEntry {
        &self.flows[id.0 as usize]
    }
}

pub struct FlowEntry {
    pub name: String,
    pub params: Vec<String>,
    pub entry: Addr,
}

pub struct Menu {
    pub prompts: Vec<Operand>,
    pub timeout: Option<Duration>,
    /// How many times the menu may start again after a timeout or an invalid key.
    pub retries: u32,
    pub keys: Vec<(char, Addr)>,
    pub on_timeout: Option<Addr>,
    pub on_invalid: Option<Addr>,
    pub on_retries_exhausted: Option<Addr>,
    /// Where the flow carries on once a branch's steps end.
    pub after: Addr,
}

/// One instruction. Steps that wait (play, ask, menu, record, ring) hand control back to
/// the engine's event loop; the rest run straight through.
#[derive(Clone, Debug)]
pub enum Op {
    Answer,
    Hangup,
    Play {
        prompts: Vec<Operand>,
        barge_in: bool,
    },
    Say {
        kind: SayKind,
        value: Operand,
        /// The value holds a PIN: the caller hears it, traces do not show it.
        secret: bool,
    },
    Ask {
        prompts: Vec<Operand>,
        min: u32,
        max: u32,
        terminator: Option<char>,
        timeout: Option<Duration>,
        into: String,
        /// `into` holds a PIN: the digits are masked wherever they are shown.
        secret: bool,
    },
    Menu(MenuId),
    /// Start the menu again without resetting its retry count.
    Repeat(MenuId),
    Record {
        kind: RecordKind,
        mailbox: Option<Operand>,
        terminator: Option<char>,
        max: Option<Duration>,
    },
    Confirm,
    Extension {
        number: Operand,
        ring: Option<Duration>,
    },
    Queue(Operand),
    Trunk {
        trunk: String,
        number: Operand,
    },
    Voicemail(Operand),
    Goto {
        flow: FlowId,
        args: Vec<Operand>,
    },
    Call {
        flow: FlowId,
        args: Vec<Operand>,
    },
    Back,
    Jump(Addr),
    /// `if`: go on when the condition holds, else jump.
    JumpUnless {
        cond: Cond,
        to: Addr,
    },
    /// Set a loop's counter to zero before its first round.
    LoopStart(LoopId),
    /// The top of a loop: jump to `exit` after `times` rounds, else count one more.
    LoopNext {
        id: LoopId,
        times: u32,
        exit: Addr,
    },
    Set {
        var: String,
        value: Operand,
        /// `var` holds a PIN: the value is masked wherever it is shown.
        secret: bool,
    },
    QueueLogin {
        /// `None` is `all`.
        queue: Option<Operand>,
        agent: Option<Operand>,
        login: bool,
    },
    HotDeskLogin(Operand),
    HotDeskLogout,
    Park(Operand),
    Unpark(Operand),
    ParkToggle(Operand),
    Directory,
    Mailbox(MailboxOp),
    Language(String),
    /// The end of a flow or an action: return from a `call`, else hang up.
    End,
}

#[derive(Clone, Debug)]
pub enum MailboxOp {
    Open(Operand),
    Select { saved: bool },
    Play,
    Next,
    Previous,
    Save,
    Delete,
    SayCount { saved: bool },
    SetPin(Operand),
}

/// A value as the engine computes it when the step runs.
#[derive(Clone, Debug)]
pub enum Operand {
    Lit(String),
    /// Text with `{variable}` parts.
    Text(Vec<TextPart>),
    /// A variable; built-ins (`caller`, `operator`, ...) are answered by the engine.
    Var(String),
    /// A back-quoted Rhai expression, by the span of its code (see `Plan::expressions`).
    Expr(Span),
    /// A `script` of the plan, by index into `Plan::scripts`.
    Script {
        script: u32,
        args: Vec<Operand>,
    },
    Builtin {
        function: Builtin,
        args: Vec<Operand>,
    },
}

/// The conditions answered from the office's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    PinOk,
    IsExtension,
    HasVoicemail,
    HotDeskAllowed,
    ParkOccupied,
    HasMessage,
    HasNewMessages,
    IsAgent,
    IsManager,
}

impl Builtin {
    /// Each built-in by the name a plan calls it with.
    const NAMES: &[(&str, Builtin)] = &[
        ("pin_ok", Builtin::PinOk),
        ("is_extension", Builtin::IsExtension),
        ("has_voicemail", Builtin::HasVoicemail),
        ("hot_desk_allowed", Builtin::HotDeskAllowed),
        ("park_occupied", Builtin::ParkOccupied),
        ("has_message", Builtin::HasMessage),
        ("has_new_messages", Builtin::HasNewMessages),
        ("is_agent", Builtin::IsAgent),
        ("is_manager", Builtin::IsManager),
    ];

    pub fn from_name(name: &str) -> Option<Builtin> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// The name a plan calls it with.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("", |(n, _)| n)
    }
}

#[derive(Clone, Debug)]
pub enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        left: Operand,
        equal: bool,
        right: Operand,
    },
    /// A script, built-in or expression whose result counts as true or false.
    Truthy(Operand),
}
