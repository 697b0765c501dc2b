//! `POST /api/chat/sms`: an agent starts an SMS chat with a customer, owned by them.
//!
//! The number is written as the manual requires: "+1 followed by the full number",
//! area code first (`+12602058900`; the rule is `switchboard_core::chat::sms_number`).
//! Anything else is refused before anything is stored, and when its digits make a
//! number the refusal says which: `(260) 205-8900` → "write this one as +12602058900".
//!
//! The office number it goes from is one the agent answers: a number a `chat sms` route
//! of the plan names, sending that number's texts to them or to a queue they are an agent
//! of (routes with a `when` count too: the number is theirs some of the time). Any other
//! `from` is 403 listing the numbers they may use: an agent speaks only for the lines
//! they answer, not for another team's (billing's toll-free number, a colleague's own
//! line). Left out, `from` is the first of their numbers.

use super::actions::row_view;
use super::api_error::from_hub;
use super::conversations::{ConversationView, MessageJson, state_view};
use super::{Agent, ChatApiError, ChatJson, check_text};
use crate::http::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_core::chat::sms_number::check_sms_number;
use switchboard_dsl::Plan;
use switchboard_dsl::ast::{Channel, ChatTarget};

/// `POST /api/chat/sms`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSms {
    /// The customer: `+1` and 10 digits.
    pub to: String,
    /// The office number to write from: one of the agent's (see the module's doc); the
    /// first of them when left out.
    #[serde(default)]
    pub from: Option<String>,
    /// The first message.
    pub text: String,
}

/// `to` when an SMS can be sent to it; else 400 with the manual's rule and, when the
/// digits make a number, the number to write instead.
pub fn sms_number(to: &str) -> Result<&str, ChatApiError> {
    check_sms_number(to).map_err(|rule| match written_as_rule_wants(to) {
        Some(fixed) => ChatApiError::bad_request(format!("{rule}; write this one as {fixed}")),
        None => ChatApiError::bad_request(rule),
    })
}

/// `written` as `+1` and 10 digits, when its digits are a North American number
/// written another way (without `+1`, with `1` in front, spaced or punctuated).
fn written_as_rule_wants(written: &str) -> Option<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let ten = if let Some(rest) = written.strip_prefix("+1") {
        digits(rest)
    } else if written.starts_with('+') {
        // Another country's code: there is no US number to suggest.
        return None;
    } else {
        let all = digits(written);
        match all.strip_prefix('1') {
            Some(rest) if all.len() == 11 => rest.to_string(),
            _ => all,
        }
    };
    let fixed = format!("+1{ten}");
    (check_sms_number(&fixed).is_ok() && fixed != written).then_some(fixed)
}

/// The office number `extension` writes from: `from` when it is one of theirs, the first
/// of theirs when it is left out; else 403 naming the numbers they may use.
pub fn office_number_for(
    plan: &Plan,
    extension: &str,
    from: Option<&str>,
) -> Result<String, ChatApiError> {
    let theirs = sms_numbers_of(plan, extension);
    let from = from.map(str::trim).filter(|f| !f.is_empty());
    match (from, theirs.first()) {
        (Some(f), _) if theirs.iter().any(|n| n == f) => Ok(f.to_string()),
        (None, Some(first)) => Ok(first.clone()),
        (Some(f), Some(_)) => Err(ChatApiError::forbidden(format!(
            "you may not send from {f}: its texts are not answered by you (extension \
             {extension}) or a queue you are an agent of; you may send from {}; nothing was sent",
            theirs.join(", ")
        ))),
        (_, None) => Err(ChatApiError::forbidden(format!(
            "no office SMS number is yours to send from: no `chat sms` route of the plan names \
             a number and sends it to you (extension {extension}) or a queue you are an agent \
             of; ask an admin to add one; nothing was sent"
        ))),
    }
}

/// The office SMS numbers whose texts the plan sends to `extension`, directly or through
/// a queue they are an agent of, in the plan's order, each once. A route whose target is
/// worked out when a text arrives (a variable) names nobody here.
pub fn sms_numbers_of(plan: &Plan, extension: &str) -> Vec<String> {
    let mut numbers: Vec<String> = Vec::new();
    for route in plan.chats.iter().filter(|r| r.channel == Channel::Sms) {
        let Some((number, _)) = &route.number else {
            continue;
        };
        let reaches = match &route.target {
            ChatTarget::Extension(e) => e.literal().as_deref() == Some(extension),
            ChatTarget::Queue { number, .. } => number
                .literal()
                .and_then(|q| plan.queue(&q))
                .is_some_and(|q| {
                    q.agents
                        .iter()
                        .any(|a| a.literal().as_deref() == Some(extension))
                }),
        };
        if reaches && !numbers.contains(number) {
            numbers.push(number.clone());
        }
    }
    numbers
}

/// The answer: the conversation, owned by the person, and the first message.
#[derive(Serialize, Debug)]
pub struct Started {
    pub conversation: ConversationView,
    pub message: MessageJson,
}

/// `POST /api/chat/sms`: 201 with the conversation and its first message.
pub async fn start(
    State(state): State<AppState>,
    agent: Agent,
    ChatJson(request): ChatJson<StartSms>,
) -> Result<(StatusCode, Json<Started>), ChatApiError> {
    let to = sms_number(&request.to)?;
    check_text(&request.text)?;
    let plan = state.plans.plan();
    let from = office_number_for(&plan, &agent.extension, request.from.as_deref())?;
    let started = state
        .chat
        .start_sms(&agent.extension, to, Some(&from), &request.text)
        .await;
    let (conversation, message) = started.map_err(|e| from_hub(e, &plan, None))?;
    let started = Started {
        conversation: state_view(&plan, conversation),
        message: row_view(&plan, message),
    };
    Ok((StatusCode::CREATED, Json(started)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(raw: &str) -> String {
        match sms_number(raw) {
            Err(ChatApiError::App(crate::http::AppError::BadRequest(words))) => words,
            other => panic!("{raw}: not a 400: {other:?}"),
        }
    }

    #[test]
    fn plus_one_and_ten_digits_pass() {
        assert_eq!(sms_number("+12602058900").unwrap(), "+12602058900");
    }

    #[test]
    fn a_number_written_another_way_is_refused_with_how_to_write_it() {
        for raw in [
            "2602058900",
            "12602058900",
            "(260) 205-8900",
            "+1 260 205 8900",
            "+1-260-205-8900",
            " +12602058900",
        ] {
            let words = refusal(raw);
            assert!(
                words.contains("+1 followed by the 10-digit number"),
                "{words}"
            );
            assert!(
                words.ends_with("; write this one as +12602058900"),
                "{raw}: {words}"
            );
        }
    }

    #[test]
    fn no_number_to_suggest_when_the_digits_make_none() {
        for raw in [
            "",
            "+1260205890",
            "+126020589001",
            "+442071234567",
            "+1260205890x",
            "+10602058900",
            "+12601058900",
        ] {
            let words = refusal(raw);
            assert!(
                words.contains("+1 followed by the 10-digit number"),
                "{words}"
            );
            assert!(!words.contains("this one"), "{raw}: {words}");
        }
    }
}
