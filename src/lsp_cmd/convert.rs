//! Between Switchboard's terms and the protocol's: paths and `file:` URIs, byte spans and
//! ranges in UTF-16 columns, diagnostics, symbols and completions.

use lsp_types as lsp;
use std::path::{Path, PathBuf};
use switchboard_dsl::ide::{self, NameKind, SymbolKind};
use switchboard_dsl::{Diagnostic, Severity, Sources, Span};

/// The path a `file:` URI names; other schemes are not files of a plan.
pub fn path_of(uri: &lsp::Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file://localhost/x` and `file:///x` name the same file.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| rest.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of a path, every byte but the unreserved ones and `/` escaped.
pub fn uri_of(path: &Path) -> lsp::Uri {
    let mut s = String::from("file://");
    for &b in path.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.parse().expect("an escaped file path is a valid URI")
}

pub fn range(sources: &Sources, span: Span) -> lsp::Range {
    let r = ide::range(sources, span);
    let at = |p: ide::Position| lsp::Position::new(p.line, p.character);
    lsp::Range::new(at(r.start), at(r.end))
}

pub fn offset(text: &str, pos: lsp::Position) -> usize {
    ide::offset(
        text,
        ide::Position {
            line: pos.line,
            character: pos.character,
        },
    )
}

/// One finding as the editor shows it: the message with its label and help, the code,
/// and the other places that explain it.
pub fn diagnostic(d: &Diagnostic, sources: &Sources, files: &[PathBuf]) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if !d.label.is_empty() {
        message.push_str(&format!(" ({})", d.label));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related = d
        .related
        .iter()
        .map(|(span, label)| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(
                uri_of(&files[span.file.0 as usize]),
                range(sources, *span),
            ),
            message: label.clone(),
        })
        .collect::<Vec<_>>();
    lsp::Diagnostic {
        range: range(sources, d.span),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some("switchboard".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp::Diagnostic::default()
    }
}

pub fn completion(c: ide::Completion) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: c.label,
        kind: Some(match c.kind {
            NameKind::Flow => lsp::CompletionItemKind::FUNCTION,
            NameKind::Extension | NameKind::Queue => lsp::CompletionItemKind::CONSTANT,
            NameKind::Trunk => lsp::CompletionItemKind::MODULE,
            NameKind::Prompt => lsp::CompletionItemKind::FILE,
            NameKind::Variable => lsp::CompletionItemKind::VARIABLE,
            NameKind::StepWord => lsp::CompletionItemKind::KEYWORD,
        }),
        detail: c.detail,
        ..lsp::CompletionItem::default()
    }
}

pub fn symbol(s: ide::Symbol, sources: &Sources) -> lsp::DocumentSymbol {
    // `deprecated` is a field the protocol keeps for old clients; `tags` replaced it.
    #[allow(deprecated)]
    lsp::DocumentSymbol {
        name: s.name,
        detail: Some(s.describe),
        kind: match s.kind {
            SymbolKind::Flow => lsp::SymbolKind::FUNCTION,
            SymbolKind::Extension | SymbolKind::Queue => lsp::SymbolKind::CONSTANT,
            SymbolKind::Trunk => lsp::SymbolKind::MODULE,
            SymbolKind::Test => lsp::SymbolKind::METHOD,
        },
        tags: None,
        deprecated: None,
        range: range(sources, s.span),
        selection_range: range(sources, s.name_span),
        children: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_uris_round_trip() {
        let path = Path::new("/tmp/a plan/ivr é.dial");
        let uri = uri_of(path);
        assert_eq!(uri.as_str(), "file:///tmp/a%20plan/ivr%20%C3%A9.dial");
        assert_eq!(path_of(&uri).as_deref(), Some(path));
    }
}
