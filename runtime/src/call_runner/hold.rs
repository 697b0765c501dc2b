//! Hold passed across a bridge.
//!
//! When one phone of a bridged call puts it on hold (its re-INVITE was already answered
//! by its leg), the bridge stops relaying either way and plays the other phone the
//! `hold-music` prompt, looped; and the other phone's leg is sent a re-INVITE with
//! `a=sendonly`, so that phone shows the call held too. Taking the call off hold undoes
//! both: relaying resumes and the other leg is re-INVITEd back to `a=sendrecv`. Before
//! the bridge (a prompt, ringing) a hold is only answered: there is no other phone yet.

use super::LiveCall;
use crate::media::bridge::Which;
use std::sync::Arc;
use switchboard_core::command::Media;
use switchboard_dsl::prompts::HOLD_MUSIC;

impl LiveCall {
    /// The caller (`Which::A`) or the connected phone (`Which::B`) put the bridged call
    /// on hold (`on`) or took it off.
    pub(super) async fn on_hold(&mut self, holder: Which, on: bool) {
        let Some(connected) = &self.connected else {
            let what = if on {
                "put the call on hold"
            } else {
                "took the call off hold"
            };
            self.note(format!("the caller {what}; nobody else is on the call yet"));
            return;
        };
        let (who, other) = match holder {
            Which::A => ("the caller".to_string(), connected.extension.clone()),
            Which::B => (connected.extension.clone(), "the caller".to_string()),
        };
        if on {
            let music = self.hold_music().await;
            if let Some(connected) = &self.connected {
                connected.bridge.hold(holder, music);
            }
            self.note(format!(
                "{who} put the call on hold; {other} hears hold music and is held too"
            ));
        } else {
            if let Some(connected) = &self.connected {
                connected.bridge.resume(holder);
            }
            self.note(format!(
                "{who} took the call off hold; {other} is taken off hold too"
            ));
        }
        match (holder, &self.connected) {
            (Which::A, Some(connected)) => connected.phone.hold(on),
            (Which::B, _) => self.leg.hold(on),
            (Which::A, None) => {}
        }
    }

    /// The samples of the hold music (read and decoded once by the prompt library,
    /// shared by every call); none if the prompt is missing, and the held party hears
    /// silence.
    async fn hold_music(&self) -> Arc<[i16]> {
        let language = self.plan.settings.language.clone();
        self.audio(vec![Media::Prompt(HOLD_MUSIC.into())], language)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| Vec::new().into())
    }
}
