//! `switchboard lsp`: a language server over standard input and output, so VS Code,
//! Neovim and Helix check, complete and navigate a plan as the web editor will.
//!
//! Wiring only: `lsp-server` frames the JSON-RPC, `workspace` lays the editor's buffers
//! over the plan folder, `switchboard_dsl::compile` finds the diagnostics and
//! `switchboard_dsl::ide` answers the questions; `convert` translates between the two.

mod convert;
mod workspace;

use clap::Args;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use workspace::Workspace;

#[derive(Args)]
pub struct LspArgs {}

pub fn run(_args: LspArgs) -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let served = serve(&connection);
    // The writer thread ends once the connection is dropped; join it so the last
    // answer (to `shutdown`) is flushed before the process exits.
    drop(connection);
    let joined = io_threads.join();
    match (served, joined) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(e), _) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        (_, Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        // The whole text on every change: plan files are small, and it cannot drift.
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..lsp::TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![" ".to_string(), "\"".to_string()]),
            ..lsp::CompletionOptions::default()
        }),
        definition_provider: Some(lsp::OneOf::Left(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        ..lsp::ServerCapabilities::default()
    }
}

fn serve(connection: &Connection) -> Result<(), Box<dyn std::error::Error>> {
    let caps = serde_json::to_value(capabilities())?;
    connection.initialize(caps)?;
    let mut ws = Workspace::default();
    for msg in &connection.receiver {
        match msg {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = answer(&ws, request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(n) => {
                if let Some(changed) = apply(&mut ws, n) {
                    publish(connection, &ws, &changed)?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// Applies a document notification; returns the file whose plan needs checking again.
fn apply(ws: &mut Workspace, n: Notification) -> Option<PathBuf> {
    match n.method.as_str() {
        note::DidOpenTextDocument::METHOD => {
            let p: lsp::DidOpenTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let path = convert::path_of(&p.text_document.uri)?;
            ws.set_buffer(path.clone(), p.text_document.text);
            Some(path)
        }
        note::DidChangeTextDocument::METHOD => {
            let p: lsp::DidChangeTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let path = convert::path_of(&p.text_document.uri)?;
            // Full sync: the last change holds the whole text.
            let text = p.content_changes.into_iter().last()?.text;
            ws.set_buffer(path.clone(), text);
            Some(path)
        }
        note::DidSaveTextDocument::METHOD => {
            let p: lsp::DidSaveTextDocumentParams = serde_json::from_value(n.params).ok()?;
            convert::path_of(&p.text_document.uri)
        }
        note::DidCloseTextDocument::METHOD => {
            let p: lsp::DidCloseTextDocumentParams = serde_json::from_value(n.params).ok()?;
            let path = convert::path_of(&p.text_document.uri)?;
            ws.drop_buffer(&path);
            Some(path)
        }
        _ => None,
    }
}

/// Compiles the plan `file` belongs to and publishes the diagnostics of each of its files,
/// an empty list included, so a mistake fixed in one file clears where it was shown.
fn publish(
    connection: &Connection,
    ws: &Workspace,
    file: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let plan = ws.plan_of(file);
    let compiled = plan.compile();
    for (i, path) in plan.files.iter().enumerate() {
        let diagnostics = compiled
            .diagnostics
            .iter()
            .filter(|d| d.span.file.0 as usize == i)
            .map(|d| convert::diagnostic(d, &compiled.sources, &plan.files))
            .collect();
        let params = lsp::PublishDiagnosticsParams {
            uri: convert::uri_of(path),
            diagnostics,
            version: None,
        };
        connection
            .sender
            .send(Message::Notification(Notification::new(
                note::PublishDiagnostics::METHOD.to_string(),
                params,
            )))?;
    }
    Ok(())
}

/// Answers one request; a request this server does not know, or about a file it cannot
/// read, gets an error answer rather than ending the session.
fn answer(ws: &Workspace, request: Request) -> Response {
    let id = request.id.clone();
    let result = match request.method.as_str() {
        req::Completion::METHOD => at_position(ws, request, |a, file, offset, _| {
            let items: Vec<_> = a
                .completions(file, offset)
                .into_iter()
                .map(convert::completion)
                .collect();
            serde_json::to_value(lsp::CompletionResponse::Array(items))
        }),
        req::GotoDefinition::METHOD => at_position(ws, request, |a, file, offset, files| {
            let location = a.definition(file, offset).map(|span| {
                lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
                    convert::uri_of(&files[span.file.0 as usize]),
                    convert::range(a.sources(), span),
                ))
            });
            serde_json::to_value(location)
        }),
        req::HoverRequest::METHOD => at_position(ws, request, |a, file, offset, _| {
            let hover = a.hover(file, offset).map(|h| lsp::Hover {
                contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: h.text,
                }),
                range: Some(convert::range(a.sources(), h.span)),
            });
            serde_json::to_value(hover)
        }),
        req::DocumentSymbolRequest::METHOD => {
            match serde_json::from_value::<lsp::DocumentSymbolParams>(request.params) {
                Ok(p) => in_file(ws, &p.text_document.uri, |a, file, _| {
                    let symbols: Vec<_> = a
                        .symbols(file)
                        .into_iter()
                        .map(|s| convert::symbol(s, a.sources()))
                        .collect();
                    serde_json::to_value(lsp::DocumentSymbolResponse::Nested(symbols))
                }),
                Err(e) => Err((ErrorCode::InvalidParams, e.to_string())),
            }
        }
        other => Err((
            ErrorCode::MethodNotFound,
            format!("unknown request {other}"),
        )),
    };
    match result {
        Ok(value) => Response::new_ok(id, value),
        Err((code, message)) => Response::new_err(id, code as i32, message),
    }
}

type Answer = Result<serde_json::Value, (ErrorCode, String)>;

/// Reads a request about a position in a document and asks `f` at that byte offset.
fn at_position(
    ws: &Workspace,
    request: Request,
    f: impl FnOnce(
        &switchboard_dsl::ide::Analysis,
        switchboard_dsl::FileId,
        usize,
        &[PathBuf],
    ) -> serde_json::Result<serde_json::Value>,
) -> Answer {
    // Completion, definition and hover params all flatten these two fields into theirs.
    let p: lsp::TextDocumentPositionParams = serde_json::from_value(request.params)
        .map_err(|e| (ErrorCode::InvalidParams, e.to_string()))?;
    in_file(ws, &p.text_document.uri, |a, file, files| {
        let offset = convert::offset(&a.sources().get(file).text, p.position);
        f(a, file, offset, files)
    })
}

fn in_file(
    ws: &Workspace,
    uri: &lsp::Uri,
    f: impl FnOnce(
        &switchboard_dsl::ide::Analysis,
        switchboard_dsl::FileId,
        &[PathBuf],
    ) -> serde_json::Result<serde_json::Value>,
) -> Answer {
    let not_a_plan_file = || {
        (
            ErrorCode::InvalidParams,
            format!("not a plan file: {}", uri.as_str()),
        )
    };
    let path = convert::path_of(uri).ok_or_else(not_a_plan_file)?;
    let plan = ws.plan_of(&path);
    let file = plan.file_id(&path).ok_or_else(not_a_plan_file)?;
    let analysis = plan.analysis();
    f(&analysis, file, &plan.files).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}
