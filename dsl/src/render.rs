//! Diagnostics for people (rustc's layout: message and code, `-->` place, source line, caret,
//! label, help) and for the editor (JSON with file, line, column, end, severity, message).

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{Sources, Span};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

/// Renders diagnostics as text; `color` adds terminal colours.
pub fn human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        out.push_str(&renderer.render(&report(d, sources)));
        out.push_str("\n\n");
    }
    out
}

/// The lines a set of spans touch, so a 10 MB file is never handed to the renderer whole.
struct Excerpt<'a> {
    text: &'a str,
    first_line: usize,
    base: usize,
}

fn excerpt<'a>(sources: &'a Sources, spans: &[Span]) -> Excerpt<'a> {
    let file = sources.get(spans[0].file);
    let text = &file.text;
    let lo = floor(
        text,
        spans.iter().map(|s| s.start as usize).min().unwrap_or(0),
    );
    let hi = ceil(
        text,
        spans.iter().map(|s| s.end as usize).max().unwrap_or(0),
    );
    let base = text[..lo].rfind('\n').map_or(0, |i| i + 1);
    let end = text[hi..].find('\n').map_or(text.len(), |i| hi + i);
    Excerpt {
        text: &text[base..end],
        first_line: file.line_col(base).line as usize,
        base,
    }
}

fn clamp(span: Span, ex: &Excerpt<'_>) -> std::ops::Range<usize> {
    let s = floor(ex.text, (span.start as usize).saturating_sub(ex.base));
    let e = ceil(ex.text, (span.end as usize).saturating_sub(ex.base)).max(s);
    s..e
}

/// The nearest char boundary at or before `i`, within the text.
fn floor(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The nearest char boundary at or after `i`, within the text.
fn ceil(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn report<'a>(d: &'a Diagnostic, sources: &'a Sources) -> Vec<Group<'a>> {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let file = sources.get(d.span.file);
    // Related places in the same file share the snippet; others get their own.
    let same: Vec<&(Span, String)> = d
        .related
        .iter()
        .filter(|(s, _)| s.file == d.span.file)
        .collect();
    let mut spans = vec![d.span];
    spans.extend(same.iter().map(|(s, _)| *s));
    let ex = excerpt(sources, &spans);
    let mut snippet = Snippet::source(ex.text)
        .line_start(ex.first_line)
        .path(file.path.as_str())
        .annotation(
            AnnotationKind::Primary
                .span(clamp(d.span, &ex))
                .label(d.label.as_str()),
        );
    for (s, label) in &same {
        snippet = snippet.annotation(
            AnnotationKind::Context
                .span(clamp(*s, &ex))
                .label(label.as_str()),
        );
    }
    // The code goes after the message, where it does not get in the way of reading it but
    // can be looked up in docs/language.md section 18 (and searched for in CI logs). Not
    // rustc's `error[code]:` — existing tools match on the text after `error: `.
    let title = format!("{} [{}]", d.message, d.code);
    let mut group = level.primary_title(title).element(snippet);
    for (s, label) in d.related.iter().filter(|(s, _)| s.file != d.span.file) {
        let ex = excerpt(sources, &[*s]);
        group = group.element(
            Snippet::source(ex.text)
                .line_start(ex.first_line)
                .path(sources.get(s.file).path.as_str())
                .annotation(
                    AnnotationKind::Context
                        .span(clamp(*s, &ex))
                        .label(label.as_str()),
                ),
        );
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    vec![group]
}

/// One place in a file, as the editor wants it: 1-based lines and columns.
#[derive(Serialize)]
pub struct JsonPlace {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

#[derive(Serialize)]
pub struct JsonRelated {
    #[serde(flatten)]
    pub place: JsonPlace,
    pub label: String,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    #[serde(flatten)]
    pub place: JsonPlace,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<JsonRelated>,
}

pub fn place(span: Span, sources: &Sources) -> JsonPlace {
    let file = sources.get(span.file);
    let start = file.line_col(span.start as usize);
    let end = file.line_col(span.end as usize);
    JsonPlace {
        file: file.path.clone(),
        line: start.line,
        column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

pub fn json_diagnostic(d: &Diagnostic, sources: &Sources) -> JsonDiagnostic {
    JsonDiagnostic {
        place: place(d.span, sources),
        severity: d.severity,
        code: d.code,
        message: d.message.clone(),
        label: d.label.clone(),
        help: d.help.clone(),
        related: d
            .related
            .iter()
            .map(|(s, l)| JsonRelated {
                place: place(*s, sources),
                label: l.clone(),
            })
            .collect(),
    }
}
