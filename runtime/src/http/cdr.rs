//! `GET /api/cdr?from=&to=&format=`: the records of finished calls (call detail records)
//! that started in a window, oldest first, as JSON or CSV.
//!
//! `from` and `to` are RFC 3339 instants (`2026-11-28T09:00:00Z`) or dates
//! (`2026-11-28`, midnight UTC); the window is `from` inclusive to `to` exclusive, the
//! last 24 hours by default. At most [`MAX_RECORDS`] come back; `truncated` says so when
//! the window held more. The records are read on the store thread, never on the
//! request's.

use super::{AppError, AppState};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchboard_core::store::CallDetail;

/// The most records one answer holds.
pub const MAX_RECORDS: usize = 10_000;

#[derive(Deserialize)]
pub(super) struct Window {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

#[derive(Serialize)]
struct Answer {
    from: String,
    to: String,
    truncated: bool,
    records: Vec<Record>,
}

/// A record as the API writes it.
#[derive(Serialize)]
struct Record {
    sip_call_id: String,
    started: String,
    answered: Option<String>,
    ended: String,
    caller: String,
    dialled: String,
    answered_by: Option<String>,
    outcome: String,
    hung_up_by: &'static str,
    plan_version: u64,
}

impl From<CallDetail> for Record {
    fn from(d: CallDetail) -> Record {
        Record {
            sip_call_id: d.sip_call_id,
            started: instant(d.started_ms),
            answered: d.answered_ms.map(instant),
            ended: instant(d.ended_ms),
            caller: d.caller,
            dialled: d.dialled,
            answered_by: d.answered_by,
            outcome: d.outcome,
            hung_up_by: d.hung_up_by.as_str(),
            plan_version: d.plan_version,
        }
    }
}

pub(super) async fn cdr(
    State(state): State<AppState>,
    Query(window): Query<Window>,
) -> Result<Response, AppError> {
    let now = ms(SystemTime::now());
    let to = match &window.to {
        Some(t) => parse_instant("to", t)?,
        None => now.saturating_add(1),
    };
    let from = match &window.from {
        Some(f) => parse_instant("from", f)?,
        None => to.saturating_sub(24 * 60 * 60 * 1000),
    };
    if from >= to {
        return Err(AppError::BadRequest(
            "`from` must come before `to`".to_string(),
        ));
    }
    let csv = match window.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "unknown format {other:?}: use format=json (the default) or format=csv"
            )));
        }
    };
    let mut details = state
        .store
        .run(move |s| s.call_details(from, to, MAX_RECORDS + 1))
        .await
        .and_then(|r| r)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let truncated = details.len() > MAX_RECORDS;
    details.truncate(MAX_RECORDS);
    let records: Vec<Record> = details.into_iter().map(Record::from).collect();
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&records),
        )
            .into_response());
    }
    Ok(axum::Json(Answer {
        from: instant(from),
        to: instant(to),
        truncated,
        records,
    })
    .into_response())
}

/// The records as CSV (RFC 4180): a header line, then one line per record.
fn to_csv(records: &[Record]) -> String {
    let mut out = String::from(
        "sip_call_id,started,answered,ended,caller,dialled,answered_by,outcome,hung_up_by,plan_version\r\n",
    );
    for r in records {
        let fields = [
            r.sip_call_id.as_str(),
            &r.started,
            r.answered.as_deref().unwrap_or(""),
            &r.ended,
            &r.caller,
            &r.dialled,
            r.answered_by.as_deref().unwrap_or(""),
            &r.outcome,
            r.hung_up_by,
            &r.plan_version.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        let _ = write!(out, "{}\r\n", line.join(","));
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break. A field that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`:
/// a caller's number or a call's outcome is text an outsider can influence.
fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) && !is_number(field) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

/// `+12605550100` is a phone number, not a formula.
fn is_number(field: &str) -> bool {
    field.len() > 1 && field[1..].bytes().all(|b| b.is_ascii_digit())
}

fn parse_instant(name: &str, value: &str) -> Result<u64, AppError> {
    let parsed = value
        .parse::<jiff::Timestamp>()
        .or_else(|_| {
            value
                .parse::<jiff::civil::Date>()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp())
        })
        .map_err(|_| {
            AppError::BadRequest(format!(
                "`{name}` is not a time: write it like 2026-11-28T09:00:00Z or 2026-11-28"
            ))
        })?;
    Ok(u64::try_from(parsed.as_millisecond()).unwrap_or(0))
}

fn instant(ms: u64) -> String {
    super::time::rfc3339(UNIX_EPOCH + Duration::from_millis(ms))
}

fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("+12605550100"), "+12605550100");
    }
}
