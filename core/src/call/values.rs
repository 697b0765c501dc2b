//! What a call's values mean: its variables, the read-only view its scripts see and the
//! office's built-ins, handed to the one evaluator (`crate::evaluate`) as `Facts`.

use super::{Call, Caller};
use crate::evaluate::{self, Facts};
use crate::office;
use crate::store::Store;
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
        evaluate::value(&plan, op, &mut CallFacts { call: self, store })
    }

    pub(super) fn condition(&mut self, c: &Cond, store: &mut dyn Store) -> Result<bool, String> {
        let plan = self.plan.clone();
        evaluate::condition(&plan, c, &mut CallFacts { call: self, store })
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
            Builtin::PinOk => office::pin_ok(plan, store, arg(0), arg(1)).map_err(store_err)?,
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
