//! What a call's values mean: its variables, the read-only view its scripts see and the
//! office's built-ins, handed to the one evaluator (`crate::evaluate`) as `Facts`.

use super::{AfterPrompt, Call, Caller, prompts};
use crate::command::HangupCause;
use crate::evaluate::{self, Facts};
use crate::office;
use crate::store::Store;
use crate::trace::Traced;
use switchboard_dsl::ir::{Builtin, Cond, Operand};
use switchboard_dsl::script::CallView;

impl Call {
    /// A value, or `None` once the call was ended because working it out failed (a
    /// script error or limit): the step that wanted it must stop there.
    pub(super) fn value_or_end(&mut self, op: &Operand, store: &mut dyn Store) -> Option<String> {
        match self.value(op, store) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    /// A value, worked out by the one evaluator with this call's facts.
    pub(super) fn value(&mut self, op: &Operand, store: &mut dyn Store) -> Result<String, String> {
        let plan = self.plan.clone();
        let mut facts = CallFacts::new(self, store);
        let value = evaluate::value(&plan, op, &mut facts);
        let said = facts.pin_check;
        self.tell_pin_check(said);
        value
    }

    pub(super) fn condition(&mut self, c: &Cond, store: &mut dyn Store) -> Result<bool, String> {
        let plan = self.plan.clone();
        let mut facts = CallFacts::new(self, store);
        let holds = evaluate::condition(&plan, c, &mut facts);
        let said = facts.pin_check;
        self.tell_pin_check(said);
        holds
    }

    /// What a `pin_ok` asked on this step means for the caller beyond yes or no: a locked
    /// mailbox is said so and the call ends (the plan's own "wrong PIN, try again" would
    /// only invite more tries); a mailbox that was locked since its owner last got in
    /// tells the owner, once they are in, that someone has been guessing their PIN.
    fn tell_pin_check(&mut self, check: Option<(String, office::PinCheck)>) {
        let Some((mailbox, check)) = check else {
            return;
        };
        match check {
            office::PinCheck::Locked { for_ms } => {
                // Minutes rounded up: "locked for 0 minutes" would be a lie.
                let minutes = for_ms.div_ceil(60_000);
                self.note(
                    self.here(),
                    Traced::Branch(format!(
                        "mailbox {mailbox} refuses PIN entry for {minutes} min after too many \
                         wrong PINs"
                    )),
                );
                self.play_then(
                    prompts(["vm-locked".to_string()]),
                    false,
                    AfterPrompt::Hangup(HangupCause::Normal),
                );
            }
            office::PinCheck::Opened {
                locked_before: true,
            } => {
                self.play_then(
                    prompts(["vm-pin-was-locked".to_string()]),
                    false,
                    AfterPrompt::Continue,
                );
            }
            office::PinCheck::Opened { .. } | office::PinCheck::Wrong => {}
        }
    }

    /// A variable's value; the built-ins are answered from the call, an unset variable
    /// is empty (the check already rejected names nothing defines).
    pub(super) fn variable(&self, name: &str) -> String {
        if let Some(v) = self.var(name) {
            return v.to_string();
        }
        match name {
            "caller" => match &self.from {
                Caller::Extension { number, .. } => number.clone(),
                Caller::Trunk { number, .. } => number.clone(),
            },
            "dialled" => self.dialled.clone(),
            "operator" => self
                .plan
                .settings
                .operator
                .as_ref()
                .map(|(o, _)| o.clone())
                .unwrap_or_default(),
            "mailbox" => self
                .mailbox
                .as_ref()
                .map(|m| m.mailbox.clone())
                .unwrap_or_default(),
            "language" => self.language(),
            _ => String::new(),
        }
    }

    /// The read-only view scripts see.
    fn view(&self) -> CallView {
        let (ext, number, name) = match &self.from {
            Caller::Extension { number, .. } => (
                number.clone(),
                number.clone(),
                self.plan
                    .extension(number)
                    .and_then(|e| e.name.clone())
                    .unwrap_or_default(),
            ),
            Caller::Trunk { number, .. } => (String::new(), number.clone(), String::new()),
        };
        CallView {
            caller_extension: ext,
            caller_number: number,
            caller_name: name,
            dialled: self.dialled.clone(),
            time: self.time,
            vars: self.vars.iter().cloned().collect(),
            msg: Default::default(),
        }
    }
}

/// What a call's values mean: its variables, its mailbox and the office store.
struct CallFacts<'a> {
    call: &'a Call,
    store: &'a mut dyn Store,
    /// The last PIN attempt of this evaluation and its mailbox, for `tell_pin_check`.
    pin_check: Option<(String, office::PinCheck)>,
}

impl<'a> CallFacts<'a> {
    fn new(call: &'a Call, store: &'a mut dyn Store) -> CallFacts<'a> {
        CallFacts {
            call,
            store,
            pin_check: None,
        }
    }
}

impl Facts for CallFacts<'_> {
    fn variable(&self, name: &str) -> Result<String, String> {
        Ok(self.call.variable(name))
    }

    fn view(&self) -> CallView {
        self.call.view()
    }

    fn builtin(&mut self, f: Builtin, args: &[String]) -> Result<bool, String> {
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        let plan = &self.call.plan;
        let store = &mut *self.store;
        let store_err = |e: crate::store::StoreError| format!("the office store failed: {e}");
        Ok(match f {
            Builtin::PinOk => {
                let check = office::try_pin(plan, store, arg(0), arg(1)).map_err(store_err)?;
                self.pin_check = Some((arg(0).to_string(), check));
                matches!(check, office::PinCheck::Opened { .. })
            }
            Builtin::IsExtension => office::is_extension(plan, arg(0)),
            Builtin::HasVoicemail => office::has_voicemail(plan, arg(0)),
            Builtin::HotDeskAllowed => office::hot_desk_allowed(plan, arg(0)),
            Builtin::ParkOccupied => office::park_occupied(store, arg(0)).map_err(store_err)?,
            Builtin::HasMessage => self
                .call
                .mailbox
                .as_ref()
                .is_some_and(|m| m.current().is_some()),
            Builtin::HasNewMessages => match &self.call.mailbox {
                Some(m) => store.message_counts(&m.mailbox).map_err(store_err)?.0 > 0,
                None => false,
            },
            Builtin::IsAgent => office::is_agent(plan, arg(0)),
            Builtin::IsManager => office::is_manager(plan, arg(0)),
        })
    }
}
