//! A simulator request, read and checked before anything runs: who calls, the number,
//! the office time and the actions, each refusal naming the field and the fix.

use crate::http::files::FileError;
use crate::http::plan_tests::editor_plan::Buffers;
use crate::simulation::{self, Action};
use serde::Deserialize;
use std::time::Duration;
use switchboard_core::call::Caller;
use switchboard_dsl::Plan;
use switchboard_dsl::script::WallTime;

/// The most actions one request replays: a long call, not an endless one.
pub const MAX_ACTIONS: usize = 200;
/// The most time the waits of one request may let pass, together.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);
/// The longest number dialled, and the most keys one action presses.
const MAX_KEYS: usize = 64;

/// The outside number a trunk call comes from unless the request says (as `simulate`).
const DEFAULT_OUTSIDE_NUMBER: &str = "+15555550100";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulateRequest {
    pub caller: CallerRequest,
    pub dial: String,
    /// Office time, like `2026-11-23 19:00`; by default Monday 2026-11-23 10:00.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub actions: Vec<ActionRequest>,
    #[serde(default)]
    pub files: Option<Buffers>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallerRequest {
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub trunk: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
}

/// One of `{"press": "1234#"}`, `{"wait": "6s"}`, `{"far_end": "extension 102 answers"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    #[serde(default)]
    pub press: Option<String>,
    #[serde(default)]
    pub wait: Option<String>,
    #[serde(default)]
    pub far_end: Option<String>,
}

/// A request that passed every check.
pub struct Checked {
    pub caller: Caller,
    pub dial: String,
    pub time: WallTime,
    pub actions: Vec<Action>,
    pub files: Option<Buffers>,
}

fn refuse(message: String) -> FileError {
    FileError::bad_request(message)
}

impl SimulateRequest {
    pub fn check(&self) -> Result<Checked, FileError> {
        let caller = self.caller.check()?;
        let dial = self.dial.trim();
        if dial.is_empty() || dial.len() > MAX_KEYS || dial.chars().any(|c| c.is_control()) {
            return Err(refuse(format!(
                "dial: {:?} is not a number to dial; send what the caller dials, like \"999\" \
                 or \"102\" (at most {MAX_KEYS} characters)",
                self.dial
            )));
        }
        let time = match &self.time {
            None => WallTime::default(),
            Some(t) => WallTime::parse(t).map_err(|e| {
                refuse(format!(
                    "time {t:?}: {e}; write office time like \"2026-11-23 10:00\", or leave \
                     it out for Monday 10:00"
                ))
            })?,
        };
        if self.actions.len() > MAX_ACTIONS {
            return Err(refuse(format!(
                "actions: {} actions is more than the {MAX_ACTIONS} one simulation replays; \
                 start the call again with fewer",
                self.actions.len()
            )));
        }
        let mut actions = Vec::with_capacity(self.actions.len());
        let mut waited = Duration::ZERO;
        for (i, a) in self.actions.iter().enumerate() {
            let action = a.check(i)?;
            if let Action::Wait(d) = action {
                waited += d;
                if waited > MAX_WAIT {
                    return Err(refuse(format!(
                        "actions[{i}].wait: the waits add up to more than the hour one \
                         simulation lets pass; wait less (a ring or a menu times out in \
                         seconds)"
                    )));
                }
            }
            actions.push(action);
        }
        Ok(Checked {
            caller,
            dial: dial.to_string(),
            time,
            actions,
            files: self.files.clone(),
        })
    }
}

impl CallerRequest {
    fn check(&self) -> Result<Caller, FileError> {
        let how = "send {\"extension\": \"101\"}, {\"device\": \"001565AABBCC\"} (with \
                   \"extension\" for whoever is logged in on it) or {\"trunk\": \"main\", \
                   \"number\": \"+15555550100\"}";
        let (extension, device, trunk) = (
            named(&self.extension),
            named(&self.device),
            named(&self.trunk),
        );
        if trunk.is_some() && (extension.is_some() || device.is_some()) {
            return Err(refuse(format!(
                "caller: a call comes from a trunk or from a phone, not both; {how}"
            )));
        }
        if trunk.is_none() && self.number.is_some() {
            return Err(refuse(format!(
                "caller.number: an outside number goes with a trunk; {how}"
            )));
        }
        let number = self.number.as_deref().unwrap_or(DEFAULT_OUTSIDE_NUMBER);
        simulation::caller(extension, device, trunk.map(|t| (t, number)))
            .ok_or_else(|| refuse(format!("caller: say who calls; {how}")))
    }
}

impl ActionRequest {
    fn check(&self, i: usize) -> Result<Action, FileError> {
        match (&self.press, &self.wait, &self.far_end) {
            (Some(keys), None, None) => {
                if keys.is_empty() || keys.chars().count() > MAX_KEYS {
                    return Err(refuse(format!(
                        "actions[{i}].press: press 1 to {MAX_KEYS} keys at a time"
                    )));
                }
                Action::press(keys).map_err(|e| {
                    refuse(format!(
                        "actions[{i}].press {keys:?}: {e}; press 0-9, * and #"
                    ))
                })
            }
            (None, Some(w), None) => Action::wait(w).map_err(|e| {
                refuse(format!(
                    "actions[{i}].wait {w:?}: {e}; write how long, like \"6s\" or \"500ms\""
                ))
            }),
            (None, None, Some(f)) => Action::far_end(f).map_err(|e| {
                refuse(format!(
                    "actions[{i}].far_end {f:?}: {e}; say it as a test does, like \
                     \"extension 102 answers after 5s\" or \"trunk main is busy\""
                ))
            }),
            _ => Err(refuse(format!(
                "actions[{i}]: each action is one of {{\"press\": \"1234#\"}}, \
                 {{\"wait\": \"6s\"}} or {{\"far_end\": \"extension 102 answers\"}}"
            ))),
        }
    }
}

/// A field's text, unless it is missing or blank.
fn named(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A few of the callers `plan` defines, to put in a refusal.
pub fn callers_defined(plan: &Plan) -> String {
    const SHOWN: usize = 5;
    let mut parts = Vec::new();
    let few = |names: Vec<&str>| {
        let more = names.len() > SHOWN;
        let mut list = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
        if more {
            list.push_str(", ...");
        }
        list
    };
    if !plan.extensions.is_empty() {
        let names = plan.extensions.iter().map(|e| e.number.as_str()).collect();
        parts.push(format!("extensions {}", few(names)));
    }
    if !plan.devices.is_empty() {
        let names = plan.devices.iter().map(|d| d.mac.as_str()).collect();
        parts.push(format!("devices {}", few(names)));
    }
    if !plan.trunks.is_empty() {
        let names = plan.trunks.iter().map(|t| t.name.name.as_str()).collect();
        parts.push(format!("trunks {}", few(names)));
    }
    if parts.is_empty() {
        "it defines none yet".to_string()
    } else {
        parts.join("; ")
    }
}
