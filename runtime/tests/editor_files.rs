//! The editor's files API through the router, on a real plan folder and SQLite store:
//! list, open, save (checked first, atomic, one reload per save), create, rename,
//! delete, conflicts, the text of earlier plan versions, and every refusal leaving the
//! folder as it was.

mod editor_fixture;
mod signed_in;

use axum::http::StatusCode;
use editor_fixture::{Editor, IVR, OFFICE, hash, wait_until};
use serde_json::{Value, json};
use switchboard_runtime::reload::watch;

const ONE_MORE: &str = "extension 102 \"Bruno\"\n";

fn office_plus(extra: &str) -> String {
    format!("{OFFICE}{extra}")
}

#[tokio::test]
async fn lists_the_plan_files_with_size_modified_time_and_hash() {
    let ed = Editor::new().await;
    std::fs::write(ed.file("notes.txt"), "not a plan file").unwrap();
    let reply = ed.get("/api/files").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["root"], ed.plans.display().to_string());
    let files = body["files"].as_array().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(names, ["ivr.dial", "office.dial"]);
    assert_eq!(files[1]["size"], OFFICE.len());
    assert_eq!(files[1]["hash"], hash(OFFICE));
    assert!(files[1]["modified_unix"].as_i64().unwrap() > 1_600_000_000);
}

#[tokio::test]
async fn opens_a_file_with_its_text_and_hash() {
    let ed = Editor::new().await;
    let reply = ed.get("/api/files/office.dial").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"path": "office.dial", "text": OFFICE, "hash": hash(OFFICE)})
    );
    let missing = ed.get("/api/files/nowhere.dial").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.json()["error"]
            .as_str()
            .unwrap()
            .contains("nowhere.dial")
    );
}

#[tokio::test]
async fn a_checked_save_is_written_and_answers_its_hash_and_the_plans_findings() {
    let ed = Editor::new().await;
    let text = office_plus(ONE_MORE);
    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": text, "base_hash": hash(OFFICE)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["path"], "office.dial");
    assert_eq!(body["hash"], hash(&text));
    assert!(body["diagnostics"].is_array());
    assert_eq!(ed.read("office.dial"), text);
    // No temporary file is left beside it.
    assert_eq!(ed.listing(), ["ivr.dial", "office.dial"]);
}

#[tokio::test]
async fn a_save_that_breaks_the_plan_is_refused_with_its_diagnostics_unless_forced() {
    let ed = Editor::new().await;
    // `goto` a flow nobody defined.
    let broken = IVR.replace("goto after_hours", "goto after_hourz");
    let save =
        |force: bool| json!({"text": broken.clone(), "base_hash": hash(IVR), "force": force});
    let reply = ed.send("PUT", "/api/files/ivr.dial", save(false)).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    let body = reply.json();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was written")
    );
    let diagnostic = &body["diagnostics"][0];
    assert_eq!(diagnostic["file"], "ivr.dial");
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(ed.read("ivr.dial"), IVR, "nothing was written");

    // The admin insists: written, and the findings come back with it.
    let reply = ed.send("PUT", "/api/files/ivr.dial", save(true)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["diagnostics"][0]["severity"], "error");
    assert_eq!(ed.read("ivr.dial"), broken);
}

#[tokio::test]
async fn a_save_over_a_file_changed_on_disk_is_a_conflict_showing_what_is_there() {
    let ed = Editor::new().await;
    let theirs = office_plus("extension 103 \"Carla\"\n");
    std::fs::write(ed.file("office.dial"), &theirs).unwrap();
    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": office_plus(ONE_MORE), "base_hash": hash(OFFICE)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let body = reply.json();
    assert!(body["error"].as_str().unwrap().contains("changed on disk"));
    assert_eq!(
        body["current"],
        json!({"text": theirs, "hash": hash(&theirs)})
    );
    assert_eq!(ed.read("office.dial"), theirs, "nothing was overwritten");

    // Deleted since it was opened: a conflict too, with nothing there.
    std::fs::remove_file(ed.file("office.dial")).unwrap();
    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": OFFICE, "base_hash": hash(&theirs)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(reply.json()["current"], Value::Null);
    assert!(!ed.file("office.dial").exists());
}

#[tokio::test]
async fn creates_a_new_file_but_never_over_one_that_exists() {
    let ed = Editor::new().await;
    let reply = ed
        .send(
            "PUT",
            "/api/files/staff.dial",
            json!({"text": ONE_MORE, "base_hash": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(ed.read("staff.dial"), ONE_MORE);

    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": ONE_MORE, "base_hash": null}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    let body = reply.json();
    assert!(body["error"].as_str().unwrap().contains("already exists"));
    assert_eq!(body["current"]["hash"], hash(OFFICE));
    assert_eq!(ed.read("office.dial"), OFFICE);
}

#[tokio::test]
async fn renames_a_file_but_not_onto_another() {
    let ed = Editor::new().await;
    let reply = ed
        .send(
            "POST",
            "/api/files-rename",
            json!({"from": "ivr.dial", "to": "menus.dial"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"path": "menus.dial", "hash": hash(IVR)})
    );
    assert_eq!(ed.listing(), ["menus.dial", "office.dial"]);

    let reply = ed
        .send(
            "POST",
            "/api/files-rename",
            json!({"from": "menus.dial", "to": "office.dial"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(ed.read("office.dial"), OFFICE);
    assert_eq!(ed.read("menus.dial"), IVR);

    let reply = ed
        .send(
            "POST",
            "/api/files-rename",
            json!({"from": "menus.dial", "to": "../menus.dial"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(ed.listing(), ["menus.dial", "office.dial"]);
}

#[tokio::test]
async fn a_delete_names_the_text_it_deletes_and_is_checked_like_a_save() {
    let ed = Editor::new().await;
    // Without the hash it was opened with: refused.
    let reply = ed.send("DELETE", "/api/files/ivr.dial", Value::Null).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    // With another text's hash: a conflict.
    let path = format!("/api/files/ivr.dial?base_hash={}", hash("other"));
    let reply = ed.send("DELETE", &path, Value::Null).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    // office.dial routes 500 to a flow in ivr.dial: deleting it breaks the plan.
    let path = format!("/api/files/ivr.dial?base_hash={}", hash(IVR));
    let reply = ed.send("DELETE", &path, Value::Null).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text()
    );
    assert!(
        reply.json()["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("main_menu")
    );
    assert_eq!(ed.listing(), ["ivr.dial", "office.dial"]);

    // A file nothing depends on goes.
    std::fs::write(ed.file("spare.dial"), ONE_MORE).unwrap();
    let path = format!("/api/files/spare.dial?base_hash={}", hash(ONE_MORE));
    let reply = ed.send("DELETE", &path, Value::Null).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(ed.listing(), ["ivr.dial", "office.dial"]);
}

#[tokio::test]
async fn paths_leaving_the_folder_or_not_naming_a_plan_file_are_refused_and_nothing_is_written() {
    let ed = Editor::new().await;
    let outside = ed.dir.path().join("outside.dial");
    std::fs::write(&outside, OFFICE).unwrap();
    let body = json!({"text": ONE_MORE, "base_hash": null});
    for (path, says) in [
        ("/api/files/..%2Foutside.dial", "`..`"),
        ("/api/files/%2E%2E/outside.dial", "`..`"),
        ("/api/files//etc/passwd.dial", "absolute"),
        ("/api/files/%2Fetc%2Fpasswd.dial", "absolute"),
        ("/api/files/sub/office.dial", "directly in the plan folder"),
        ("/api/files/.hidden.dial", "hidden"),
        ("/api/files/office.txt", "`.dial`"),
    ] {
        for reply in [ed.get(path).await, ed.send("PUT", path, body.clone()).await] {
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{path}: {}",
                reply.text()
            );
            let error = reply.json()["error"].as_str().unwrap().to_string();
            assert!(error.contains(says), "{path}: {error}");
        }
    }
    assert_eq!(ed.listing(), ["ivr.dial", "office.dial"]);
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), OFFICE);
}

#[cfg(unix)]
#[tokio::test]
async fn a_symbolic_link_out_of_the_folder_is_neither_read_nor_written() {
    let ed = Editor::new().await;
    let outside = ed.dir.path().join("outside.dial");
    std::fs::write(&outside, OFFICE).unwrap();
    std::os::unix::fs::symlink(&outside, ed.file("linked.dial")).unwrap();
    let reply = ed.get("/api/files/linked.dial").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("outside.dial")
    );
    let reply = ed
        .send(
            "PUT",
            "/api/files/linked.dial",
            json!({"text": ONE_MORE, "base_hash": hash(OFFICE), "force": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), OFFICE);
    assert!(
        std::fs::symlink_metadata(ed.file("linked.dial"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Not listed either.
    let listed = ed.get("/api/files").await.json();
    assert!(!listed.to_string().contains("linked.dial"));

    // A link to a plan file in the folder is that file: saving writes through it.
    std::os::unix::fs::symlink("office.dial", ed.file("alias.dial")).unwrap();
    let reply = ed.get("/api/files/alias.dial").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["text"], OFFICE);
}

#[cfg(unix)]
#[tokio::test]
async fn an_earlier_versions_file_linked_out_of_the_folder_is_not_shown() {
    let ed = Editor::new().await;
    let outside = ed.dir.path().join("outside.dial");
    std::fs::write(&outside, "# the secret outside\n").unwrap();
    std::os::unix::fs::symlink(&outside, ed.file("linked.dial")).unwrap();
    // A reload reads the link, so the version it loads holds the outside text.
    let plans = ed.state.plans.clone();
    let p = plans.clone();
    tokio::task::spawn_blocking(move || p.reload())
        .await
        .unwrap();
    assert_eq!(plans.version(), 2, "{:?}", plans.last_attempt());
    let reply = ed.get("/api/plan/versions/2/files/linked.dial").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert!(!reply.text().contains("the secret outside"));
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("outside.dial"),
        "{}",
        reply.text()
    );
    // A name that is not a plan file's is refused as everywhere else.
    let reply = ed.get("/api/plan/versions/2/files/..%2Foutside.dial").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    // The plain files of the same version are shown.
    let reply = ed.get("/api/plan/versions/2/files/office.dial").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn a_text_or_file_over_one_megabyte_is_refused_with_413() {
    let ed = Editor::new().await;
    let huge = format!("{OFFICE}#{}\n", "x".repeat(1 << 20));
    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": huge, "base_hash": hash(OFFICE), "force": true}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );
    assert!(reply.json()["error"].as_str().unwrap().contains("1 MB"));
    assert_eq!(ed.read("office.dial"), OFFICE);

    std::fs::write(ed.file("big.dial"), &huge).unwrap();
    let reply = ed.get("/api/files/big.dial").await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text()
    );

    // Listed with its size, but not read whole to be hashed.
    let listed = ed.get("/api/files").await.json();
    let files = listed["files"].as_array().unwrap();
    let big = files.iter().find(|f| f["path"] == "big.dial").unwrap();
    assert_eq!(big["size"], huge.len());
    assert_eq!(big["hash"], Value::Null);
    assert_eq!(big["too_large"], true);
    let office = files.iter().find(|f| f["path"] == "office.dial").unwrap();
    assert_eq!(office["hash"], hash(OFFICE));
    assert_eq!(office["too_large"], false);
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_refused_saying_where() {
    let ed = Editor::new().await;
    std::fs::write(ed.file("latin1.dial"), b"extension 104 \"Jos\xe9\"\n").unwrap();
    let reply = ed.get("/api/files/latin1.dial").await;
    assert_eq!(
        reply.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        reply.text()
    );
    let error = reply.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("not UTF-8") && error.contains("line 1, column 19"),
        "{error}"
    );
}

#[tokio::test]
async fn a_request_without_a_session_is_refused_and_nothing_is_written() {
    let ed = Editor::new().await;
    let reply = ed.anonymous("GET", "/api/files", Value::Null).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    let reply = ed
        .anonymous(
            "PUT",
            "/api/files/office.dial",
            json!({"text": ONE_MORE, "base_hash": hash(OFFICE), "force": true}),
        )
        .await;
    assert!(
        matches!(
            reply.status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ),
        "{}",
        reply.text()
    );
    assert_eq!(ed.read("office.dial"), OFFICE);
}

#[tokio::test]
async fn a_save_with_the_watcher_running_reloads_the_plan_exactly_once() {
    let ed = Editor::new().await;
    let plans = ed.state.plans.clone();
    let mut attempts = plans.attempts();
    let _watching = watch(plans.clone(), std::future::pending()).unwrap();
    assert_eq!(plans.version(), 1);

    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": office_plus(ONE_MORE), "base_hash": hash(OFFICE)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    wait_until("the save's reload", &mut attempts, |n| *n >= 1).await;
    assert_eq!(plans.version(), 2);
    assert_eq!(plans.plan().extensions.len(), 3);

    // A second, forced save of a broken plan: its reload is refused. Had the first save
    // woken two reloads, the second attempt would have loaded version 3.
    let broken = IVR.replace("goto after_hours", "goto after_hourz");
    let reply = ed
        .send(
            "PUT",
            "/api/files/ivr.dial",
            json!({"text": broken, "base_hash": hash(IVR), "force": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    wait_until("the forced save's reload", &mut attempts, |n| *n >= 2).await;
    let last = plans.last_attempt();
    assert!(!last.ok, "the broken plan was refused");
    assert_eq!(plans.version(), 2, "one reload per save");
    assert_eq!(*attempts.borrow(), 2);
}

#[tokio::test]
async fn the_text_of_each_recent_plan_version_is_kept() {
    let ed = Editor::new().await;
    let plans = ed.state.plans.clone();
    let reply = ed
        .send(
            "PUT",
            "/api/files/office.dial",
            json!({"text": office_plus(ONE_MORE), "base_hash": hash(OFFICE)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let plans2 = plans.clone();
    tokio::task::spawn_blocking(move || plans2.reload())
        .await
        .unwrap();
    assert_eq!(plans.version(), 2);

    let v1 = ed.get("/api/plan/versions/1/files/office.dial").await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.text());
    assert_eq!(
        v1.json(),
        json!({"version": 1, "path": "office.dial", "text": OFFICE})
    );
    let v2 = ed.get("/api/plan/versions/2/files/office.dial").await;
    assert_eq!(v2.json()["text"], office_plus(ONE_MORE));

    let gone = ed.get("/api/plan/versions/7/files/office.dial").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.json()["error"].as_str().unwrap().contains("last 20"));
    let no_file = ed.get("/api/plan/versions/1/files/staff.dial").await;
    assert_eq!(no_file.status, StatusCode::NOT_FOUND);
    assert!(
        no_file.json()["error"]
            .as_str()
            .unwrap()
            .contains("office.dial")
    );
}

#[tokio::test]
async fn only_the_last_twenty_versions_keep_their_text() {
    let ed = Editor::new().await;
    let plans = ed.state.plans.clone();
    let p = plans.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..21 {
            p.reload();
        }
    })
    .await
    .unwrap();
    assert_eq!(plans.version(), 22);
    assert!(plans.sources_of(2).is_none());
    assert!(plans.sources_of(3).is_some());
    assert!(plans.sources_of(22).is_some());
}
