//! `GET /`: the page a person sees when they open the server in a browser. The running
//! plan, whether the last save was taken or refused (and why, with file and line), and
//! the live and recent calls with their traces. Plain HTML from the same data as the
//! JSON API, refreshing itself; the editor comes later and will live beside it.

use super::{AppState, PlanStatus, plan_status, time};
use crate::call_log::CallRecord;
use axum::extract::State;
use axum::response::Html;
use serde_json::Value;
use std::fmt::Write;

/// How many finished calls the page lists (the API keeps more).
const RECENT_SHOWN: usize = 20;

pub async fn page(State(state): State<AppState>) -> Html<String> {
    let plan = plan_status(&state.plans);
    let calls = state.calls.list();
    let mut out = String::with_capacity(8 * 1024);
    out.push_str(HEAD);
    plan_section(&mut out, &plan);
    trunks_section(
        &mut out,
        &super::trunks::list(&state.plans.plan(), state.live.as_ref().map(|l| &*l.trunks)),
    );
    out.push_str("<h2>Live calls</h2>\n");
    calls_table(&mut out, &calls.live, "No calls right now.");
    out.push_str("<h2>Recent calls</h2>\n");
    let recent: Vec<CallRecord> = calls.recent.into_iter().take(RECENT_SHOWN).collect();
    calls_table(&mut out, &recent, "No calls yet.");
    out.push_str(
        "<p class=\"api\">The same as JSON: <a href=\"/api/plan\">/api/plan</a>, \
         <a href=\"/api/calls\">/api/calls</a>, <a href=\"/api/trunks\">/api/trunks</a>, <a href=\"/healthz\">/healthz</a>; the last \
         day's call records: <a href=\"/api/cdr\">/api/cdr</a> \
         (<a href=\"/api/cdr?format=csv\">CSV</a>); what the server holds now (calls, \
         ports, SIP dialogs, lamps): <a href=\"/api/debug/counts\">/api/debug/counts</a>.</p>\n\
         </body>\n</html>\n",
    );
    Html(out)
}

const HEAD: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"refresh\" content=\"5\">\n<title>Switchboard</title>\n<style>\n\
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}\n\
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em .6em;\
border-bottom:1px solid #ddd;vertical-align:top}\n\
.ok{color:#176f2c}.refused{color:#a3121f}pre{background:#f6f6f6;padding:.6em;\
overflow-x:auto}.api{color:#666;margin-top:2em}\n</style>\n</head>\n<body>\n\
<h1>Switchboard</h1>\n";

fn plan_section(out: &mut String, plan: &PlanStatus) {
    let c = &plan.counts;
    let _ = writeln!(
        out,
        "<p id=\"plan\">Plan <strong>version {}</strong> from <code>{}</code>, loaded {}: \
         {} extensions, {} queues, {} dial routes, {} flows, {} tests.</p>",
        plan.version,
        escape(&plan.root),
        escape(&plan.loaded_at),
        c.extensions,
        c.queues,
        c.routes,
        c.flows,
        c.tests
    );
    let last = &plan.last_attempt;
    let at = time::rfc3339(last.at);
    if last.ok {
        let _ = writeln!(
            out,
            "<p id=\"last-save\" class=\"ok\">The last change ({}) was loaded.</p>",
            escape(&at)
        );
    } else {
        let _ = writeln!(
            out,
            "<p id=\"last-save\" class=\"refused\">The last change ({}) was <strong>refused</strong>: \
             calls go on with version {}. Fix these and save again:</p>",
            escape(&at),
            plan.version
        );
        if let Some(e) = &last.error {
            let _ = writeln!(out, "<pre>{}</pre>", escape(e));
        }
    }
    if !last.diagnostics.is_empty() {
        out.push_str("<ul id=\"diagnostics\">\n");
        for d in &last.diagnostics {
            let _ = writeln!(out, "<li>{}</li>", diagnostic(d));
        }
        out.push_str("</ul>\n");
    }
}

/// `dialplans/ivr.dial:12:27 error: unexpected word after `queue` (write it as: …)`.
fn diagnostic(d: &Value) -> String {
    let text = |k: &str| d[k].as_str().unwrap_or_default();
    let mut s = format!(
        "<code>{}:{}:{}</code> {}: {}",
        escape(text("file")),
        d["line"],
        d["column"],
        escape(text("severity")),
        escape(text("message"))
    );
    if let Some(help) = d["help"].as_str() {
        let _ = write!(s, " <em>— {}</em>", escape(help));
    }
    s
}

/// The trunks and their registrations; nothing when the plan has none.
fn trunks_section(out: &mut String, trunks: &super::trunks::TrunkList) {
    if trunks.trunks.is_empty() {
        return;
    }
    out.push_str("<h2>Trunks</h2>\n<table id=\"trunks\">\n<tr><th>Trunk</th><th>Registrar</th><th>Registration</th></tr>\n");
    for t in &trunks.trunks {
        let registrar = t
            .account
            .as_ref()
            .and_then(|a| a.registrar.clone())
            .or_else(|| t.host.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&t.name),
            escape(&registrar),
            escape(&t.registration.summary())
        );
    }
    out.push_str("</table>\n");
}

fn calls_table(out: &mut String, calls: &[CallRecord], none: &str) {
    if calls.is_empty() {
        let _ = writeln!(out, "<p>{none}</p>");
        return;
    }
    out.push_str(
        "<table>\n<tr><th>Started (UTC)</th><th>Caller</th><th>Dialled</th>\
         <th>Plan</th><th>Outcome and trace</th></tr>\n",
    );
    for c in calls {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary>\
             <pre>{}</pre></details></td></tr>",
            escape(&time::rfc3339(c.started)),
            escape(&c.caller),
            escape(&c.dialled),
            c.plan_version,
            escape(c.outcome.as_deref().unwrap_or("in progress")),
            escape(&c.trace.join("\n"))
        );
    }
    out.push_str("</table>\n");
}

/// Text as HTML: callers' numbers come from SIP and messages quote the admin's files.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_from_callers_is_shown_not_run() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
