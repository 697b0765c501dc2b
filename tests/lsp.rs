//! `switchboard lsp` as an editor drives it: a JSON-RPC client speaking Content-Length
//! framed messages over the real binary's standard input and output, on a copy of the
//! shipped plan. Every wait has a deadline; a server that stops answering fails the test.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

/// The editor's side of the conversation.
struct Client {
    /// The server, until `exit_status` takes it to wait for it.
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    /// Every message the server wrote, parsed, in order; closed when its stdout closes.
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("switchboard lsp starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        Client {
            child: Some(child),
            stdin,
            incoming,
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("stdin open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its answer's `result`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let answer = self.wait_for(&format!("the answer to {method}"), |m| m["id"] == id);
        assert!(answer["error"].is_null(), "{method} failed: {answer}");
        answer["result"].clone()
    }

    /// Closes the server's input and waits, with the deadline, for it to exit.
    fn exit_status(&mut self) -> ExitStatus {
        self.stdin = None;
        let mut child = self.child.take().expect("the server is running");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let status = child.wait();
            // The test may have given up waiting; the child is reaped either way.
            let _ = tx.send(status);
        });
        rx.recv_timeout(DEADLINE)
            .expect("switchboard lsp exits after `exit`")
            .expect("waiting for switchboard lsp")
    }

    /// The first message from the server that `wanted` accepts, skipping the others.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(m) if wanted(&m) => return m,
                Ok(m) => seen.push(m),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {what} within {DEADLINE:?}; got {seen:#?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output before {what}; got {seen:#?}")
                }
            }
        }
    }
}

impl Drop for Client {
    /// A failed test leaves no server behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One Content-Length framed message, or `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The 0-based line and column of the first `needle` in `text` (ASCII lines here).
fn position_of(text: &str, needle: &str) -> (u64, u64) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in the file"));
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    (line as u64, column as u64)
}

#[test]
fn an_editor_checks_completes_and_navigates_the_office_plan() {
    let dir = std::env::temp_dir().join(format!("switchboard-lsp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo().join("dialplans"), &dir.join("dialplans"));
    copy_dir(&repo().join("prompts"), &dir.join("prompts"));
    let file = dir.join("dialplans/voicemail.dial");
    let on_disk = std::fs::read_to_string(&file).unwrap();

    let mut client = Client::start(&dir);
    let init = client.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {}}),
    );
    assert_eq!(init["capabilities"]["definitionProvider"], true, "{init}");
    client.notify("initialized", json!({}));

    // The editor's buffer (unsaved) names a flow that does not exist.
    let text = on_disk.replacen("goto voicemail_main", "goto voicemail_mian", 1);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(&file), "languageId": "switchboard",
                                "version": 1, "text": text}}),
    );
    let published = client.wait_for("diagnostics for voicemail.dial", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri(&file)
    });
    let diagnostics = published["params"]["diagnostics"].as_array().unwrap();
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "unknown-flow")
        .unwrap_or_else(|| panic!("an unknown-flow diagnostic in {published:#}"));
    let (line, column) = position_of(&text, "voicemail_mian");
    assert_eq!(
        unknown["range"],
        json!({"start": {"line": line, "character": column},
               "end": {"line": line, "character": column + "voicemail_mian".len() as u64}}),
        "{unknown:#}"
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("voicemail_mian"),
        "{unknown:#}"
    );
    assert_eq!(unknown["severity"], 1);

    // Completion inside the misspelt reference, after `goto vo`, offers the flows.
    let at = json!({"textDocument": {"uri": uri(&file)},
                    "position": {"line": line, "character": column + 2}});
    let completion = client.request("textDocument/completion", at.clone());
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap_or_else(|| panic!("a list of completions: {completion}"))
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"voicemail_main"), "{labels:?}");
    assert!(labels.contains(&"voicemail_login"), "{labels:?}");
    assert!(
        !labels.contains(&"main_menu"),
        "filtered by `vo`: {labels:?}"
    );

    // Definition of `vm_listen` in `goto vm_listen` is its `flow vm_listen` line.
    let (use_line, use_column) = position_of(&text, "goto vm_listen\n");
    let definition = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri(&file)},
               "position": {"line": use_line, "character": use_column + 6}}),
    );
    let (def_line, def_column) = position_of(&text, "flow vm_listen {");
    assert_eq!(definition["uri"], uri(&file), "{definition}");
    assert_eq!(
        definition["range"]["start"],
        json!({"line": def_line, "character": def_column + 5}),
        "{definition}"
    );

    // Hover on the step word `goto` shows its usage line.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri(&file)},
               "position": {"line": use_line, "character": use_column + 1}}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("goto flow_name"), "{hover}");

    // The outline lists the file's flows.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri(&file)}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"voicemail_main"), "{names:?}");
    assert!(names.contains(&"vm_listen"), "{names:?}");

    // Fixing the buffer clears the diagnostic.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(&file), "version": 2},
               "contentChanges": [{"text": on_disk}]}),
    );
    let cleared = client.wait_for("diagnostics after the fix", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri(&file)
    });
    let left = cleared["params"]["diagnostics"].as_array().unwrap();
    assert!(
        left.iter().all(|d| d["code"] != "unknown-flow"),
        "{cleared:#}"
    );

    // Shut down and exit; the process ends with status 0 within the deadline.
    let down = client.request("shutdown", Value::Null);
    assert!(down.is_null(), "{down}");
    client.notify("exit", Value::Null);
    let status = client.exit_status();
    assert!(status.success(), "{status}");
    drop(client);
    let _ = std::fs::remove_dir_all(&dir);
}
