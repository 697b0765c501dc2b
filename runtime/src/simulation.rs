//! One call walked through a plan from the caller's actions: the walk `switchboard
//! simulate` prints and the editor's simulator (`POST /api/simulate`) lights line by line.
//!
//! Both read the caller's actions here (`Action`: keys, time passing, what a rung far end
//! does, in the words of a test step), run them on the sans-IO `World` and read its trace
//! back (`Simulation`). The engine is deterministic, so the editor's stateless replay —
//! the browser sends every action so far and the server walks the call again from the
//! start — always lands where the call was.

use std::sync::Arc;
use std::time::Duration;
use switchboard_core::call::{Call, Caller};
use switchboard_core::command::Command;
use switchboard_core::trace::{MASK, TraceEntry, Traced};
use switchboard_core::world::World;
use switchboard_dsl::ast::{FarEndDoes, FarEndParty};
use switchboard_dsl::duration;
use switchboard_dsl::read::{PhraseWord, far_end_phrase};
use switchboard_dsl::script::WallTime;
use switchboard_dsl::{Plan, Span};

/// What the caller (or a far end) does next.
#[derive(Clone, Debug)]
pub enum Action {
    /// Keys typed in one go, like `1234#`.
    Press(String),
    /// Time passing with no key pressed.
    Wait(Duration),
    FarEnd(FarEnd),
}

/// `extension 102 is busy`, read.
#[derive(Clone, Debug)]
pub struct FarEnd {
    pub party: FarEndParty,
    pub name: String,
    pub does: FarEndDoes,
    /// The words as given, to show the action back.
    pub written: String,
}

impl Action {
    /// Keys to press: only the phone's keys, `0`-`9`, `*` and `#`.
    pub fn press(keys: &str) -> Result<Action, String> {
        match keys.chars().find(|c| !matches!(c, '0'..='9' | '*' | '#')) {
            Some(bad) => Err(format!("{bad:?} is not a phone key")),
            None => Ok(Action::Press(keys.to_string())),
        }
    }

    /// Time passing, written like `6s` or `500ms`.
    pub fn wait(text: &str) -> Result<Action, String> {
        duration::parse(text).map(Action::Wait)
    }

    /// What a far end does, as a test says it: `extension 102 answers after 5s`,
    /// `trunk "main" is busy`: whose far end, then the words of `read::far_end_phrase`.
    pub fn far_end(text: &str) -> Result<Action, String> {
        let mut words = text.split_whitespace();
        let party = match words.next() {
            Some("extension") => FarEndParty::Extension,
            Some("queue") => FarEndParty::Queue,
            Some("trunk") => FarEndParty::Trunk,
            _ => {
                return Err(
                    "start with whose far end it is: extension EXT, queue QUEUE or trunk NAME"
                        .into(),
                );
            }
        };
        let Some(name) = words.next() else {
            return Err("name the extension, queue or trunk".into());
        };
        let name = name.trim_matches('"').to_string();
        let phrase: Vec<PhraseWord> = words
            .map(|w| {
                if w.bytes().all(|b| b.is_ascii_digit()) {
                    PhraseWord::Number(w.to_string())
                } else if w.starts_with(|c: char| c.is_ascii_digit()) {
                    duration::parse(w).map_or(PhraseWord::Other, PhraseWord::Duration)
                } else {
                    PhraseWord::Word(w.to_string())
                }
            })
            .collect();
        let does = far_end_phrase(&phrase).map_err(|e| match e.help {
            Some(help) => format!("{} ({help})", e.message),
            None => e.message,
        })?;
        Ok(Action::FarEnd(FarEnd {
            party,
            name,
            does,
            written: text.to_string(),
        }))
    }
}

/// The action as `simulate` echoes it: `press 1234#`, `wait 6s`, `extension 102 is busy`.
impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Press(keys) => write!(f, "press {keys}"),
            Action::Wait(d) if d.subsec_millis() == 0 => write!(f, "wait {}s", d.as_secs()),
            Action::Wait(d) => write!(f, "wait {}ms", d.as_millis()),
            Action::FarEnd(far) => f.write_str(&far.written),
        }
    }
}

/// The caller a simulation starts from, as `simulate` and the editor name it: a desk's
/// extension, a hot-desk phone (as whoever is given, else nobody), or a trunk's caller.
pub fn caller(
    extension: Option<&str>,
    device: Option<&str>,
    trunk: Option<(&str, &str)>,
) -> Option<Caller> {
    match (trunk, extension, device) {
        (Some((trunk, number)), _, _) => Some(Caller::Trunk {
            trunk: trunk.to_string(),
            number: number.to_string(),
        }),
        (None, Some(e), device) => Some(Caller::Extension {
            number: e.to_string(),
            device: device.map(str::to_string),
        }),
        (None, None, Some(d)) => Some(Caller::Extension {
            number: String::new(),
            device: Some(d.to_string()),
        }),
        (None, None, None) => None,
    }
}

/// Why the plan does not know a caller: the extension, device or trunk it names is not
/// defined in it. (`simulate` lets such a call run, as the engine would.)
pub fn unknown_caller(plan: &Plan, caller: &Caller) -> Option<String> {
    match caller {
        Caller::Extension { number, device } => {
            if let Some(mac) = device
                && !plan.devices.iter().any(|d| d.mac.eq_ignore_ascii_case(mac))
            {
                return Some(format!("device {mac:?} is not defined in the plan"));
            }
            if !(number.is_empty() && device.is_some()) && plan.extension(number).is_none() {
                return Some(format!("extension {number:?} is not defined in the plan"));
            }
            None
        }
        Caller::Trunk { trunk, .. } => plan
            .trunk(trunk)
            .is_none()
            .then(|| format!("trunk {trunk:?} is not defined in the plan")),
    }
}

/// A call in a simulated office, and where each of its trace entries came from.
pub struct Simulation {
    plan: Arc<Plan>,
    world: World,
    call: usize,
    /// For each action done so far, how long the trace was when it began.
    action_starts: Vec<usize>,
}

impl Simulation {
    /// Places the call and runs it until it first waits. The office starts empty (the
    /// PINs written in the plan apply); prompts finish at once and rung phones ring on.
    pub fn start(plan: Arc<Plan>, time: WallTime, from: Caller, dialled: &str) -> Simulation {
        let mut world = World::new(time);
        let call = world.call(plan.clone(), from, dialled);
        Simulation {
            plan,
            world,
            call,
            action_starts: Vec::new(),
        }
    }

    /// Does one action. `Err` when a far end is not what the call rings: nothing
    /// happened, and the words say what it rings instead.
    pub fn act(&mut self, action: &Action) -> Result<(), String> {
        self.action_starts.push(self.trace().len());
        match action {
            Action::Press(keys) => self.world.press(self.call, keys),
            Action::Wait(d) => self.world.wait(*d),
            Action::FarEnd(f) => {
                return self.world.far_end(self.call, f.party, &f.name, f.does);
            }
        }
        Ok(())
    }

    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    pub fn call(&self) -> &Call {
        &self.world.get(self.call).call
    }

    /// Every trace entry so far, in order.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.world.get(self.call).trace
    }

    /// The walk so far, one step per trace entry.
    pub fn steps(&self) -> Vec<Step> {
        let sim = self.world.get(self.call);
        // Every `Played` entry goes with the one `Play` (or hold music) command sent with
        // it, in the same order: the command says in which language it plays.
        let mut languages = sim.commands.iter().filter_map(|c| match c {
            Command::Play { language, .. } | Command::PlayOnHold { language, .. } => {
                Some(language.clone())
            }
            _ => None,
        });
        let mut after_action = None;
        let mut next_action = 0;
        sim.trace
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                while self
                    .action_starts
                    .get(next_action)
                    .is_some_and(|&at| at <= i)
                {
                    after_action = Some(next_action);
                    next_action += 1;
                }
                let (prompts, language) = match &entry.what {
                    Traced::Played(names) => (
                        names.iter().filter(|n| is_prompt(n)).cloned().collect(),
                        languages.next(),
                    ),
                    _ => (Vec::new(), None),
                };
                Step {
                    text: entry.what.to_string(),
                    span: entry.span,
                    kind: kind(&entry.what),
                    prompts,
                    language,
                    after_action,
                }
            })
            .collect()
    }

    /// Where the call waits now: the place of its last step, unless it ended.
    pub fn current(&self) -> Option<Span> {
        if self.call().is_ended() {
            return None;
        }
        self.trace().iter().rev().find_map(|e| e.span)
    }
}

/// One step of the walk: a trace entry as the editor shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The entry in words: `play vm-enter-pin`, `-> timeout`.
    pub text: String,
    /// The step or route that made it; `None` for the call's own bookkeeping.
    pub span: Option<Span>,
    /// `route`, `step`, `play`, `digits`, `branch`, `ignored`, `error` or `ended`.
    pub kind: &'static str,
    /// The recorded prompts it played, in order (never a recording, never a masked
    /// PIN digit).
    pub prompts: Vec<String>,
    /// The prompt language it played in, when it played.
    pub language: Option<String>,
    /// The index of the action it followed; `None` before the first.
    pub after_action: Option<usize>,
}

fn kind(what: &Traced) -> &'static str {
    match what {
        Traced::Route(_) => "route",
        Traced::Step { .. } => "step",
        Traced::Played(_) => "play",
        Traced::Digits { .. } => "digits",
        Traced::Branch(_) => "branch",
        Traced::Ignored(_) => "ignored",
        Traced::Error(_) => "error",
        Traced::Ended(_) => "ended",
    }
}

/// Whether a name a trace shows played is a prompt file: not a mailbox's recording
/// (`recording:…`) and not a PIN digit the trace masks (`digits/*`).
fn is_prompt(name: &str) -> bool {
    !name.starts_with("recording:") && !name.contains(MASK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_dsl::{PromptCatalog, SourceFile, Sources, compile};

    const PLAN: &str = r##"
extension 101 "Alice" { voicemail; pin "1234" }
extension 102 "Bruno" { voicemail }
dial "{ext:XXX}" -> extension ext
dial "999" -> flow login
flow login {
    answer
    ask "vm-enter-pin" digits 4 until "#" timeout 10s -> pin
    say digits pin
    menu "vm-main" timeout 5s {
        "1" -> hangup
    }
}
"##;

    fn plan() -> Arc<Plan> {
        let mut sources = Sources::new();
        sources.add(SourceFile::new("plan.dial", PLAN));
        let compiled = compile(sources, &PromptCatalog::unchecked());
        compiled.plan.expect("the plan compiles")
    }

    fn from_101() -> Caller {
        caller(Some("101"), None, None).unwrap()
    }

    #[test]
    fn steps_say_which_action_they_followed() {
        let mut sim = Simulation::start(plan(), WallTime::default(), from_101(), "999");
        let before = sim.steps().len();
        sim.act(&Action::press("1234#").unwrap()).unwrap();
        let steps = sim.steps();
        assert!(steps[..before].iter().all(|s| s.after_action.is_none()));
        assert!(steps[before..].iter().all(|s| s.after_action == Some(0)));
        assert!(steps[before..].iter().any(|s| s.prompts == ["vm-main"]));
    }

    #[test]
    fn a_pin_said_back_is_never_a_prompt_to_fetch() {
        let mut sim = Simulation::start(plan(), WallTime::default(), from_101(), "999");
        sim.act(&Action::press("1234#").unwrap()).unwrap();
        let said = sim
            .steps()
            .into_iter()
            .find(|s| s.text.contains("digits/*"))
            .expect("the PIN is said back, masked");
        assert!(said.prompts.is_empty(), "{said:?}");
        assert_eq!(said.language.as_deref(), Some("en"));
    }

    #[test]
    fn the_current_step_is_where_the_call_waits_and_none_once_it_ended() {
        let p = plan();
        let mut sim = Simulation::start(p.clone(), WallTime::default(), from_101(), "999");
        let at = sim.current().expect("waits at the ask");
        assert_eq!(p.location(at), "plan.dial:8:5");
        sim.act(&Action::press("1234#").unwrap()).unwrap();
        assert_eq!(p.location(sim.current().unwrap()), "plan.dial:10:5");
        sim.act(&Action::press("1").unwrap()).unwrap();
        assert!(sim.call().is_ended());
        assert_eq!(sim.current(), None);
    }

    #[test]
    fn a_far_end_the_call_does_not_ring_changes_nothing_and_says_why() {
        let mut sim = Simulation::start(plan(), WallTime::default(), from_101(), "102");
        let before = sim.trace().len();
        let err = sim
            .act(&Action::far_end("extension 101 is busy").unwrap())
            .unwrap_err();
        assert!(err.contains("102"), "{err}");
        assert_eq!(sim.trace().len(), before);
    }

    #[test]
    fn actions_read_as_the_cli_echoes_them() {
        assert_eq!(Action::press("12#").unwrap().to_string(), "press 12#");
        assert_eq!(Action::wait("6s").unwrap().to_string(), "wait 6s");
        assert_eq!(Action::wait("1500ms").unwrap().to_string(), "wait 1500ms");
        assert_eq!(
            Action::press("12a").unwrap_err(),
            "'a' is not a phone key".to_string()
        );
        assert!(
            Action::far_end("extension 102 busy")
                .unwrap_err()
                .contains("is busy")
        );
    }

    #[test]
    fn a_caller_the_plan_does_not_define_is_named() {
        let p = plan();
        let who = caller(Some("555"), None, None).unwrap();
        assert!(unknown_caller(&p, &who).unwrap().contains("\"555\""));
        let who = caller(None, None, Some(("main", "+15555550100"))).unwrap();
        assert!(unknown_caller(&p, &who).unwrap().contains("trunk \"main\""));
        assert_eq!(unknown_caller(&p, &from_101()), None);
    }
}
