//! The website live chat over real sockets: a server on a loopback port, the widget's
//! side played by a WebSocket client, the agents' side by the chat hub itself (as the
//! agents' API calls it). Each test has its own server, store and limits.

mod livechat_office;

use livechat_office::{Office, SITE};
use serde_json::{Value, json};

/// A fresh visitor: hello with no token, the welcome checked and returned.
async fn welcomed(office: &Office) -> (livechat_office::Socket, Value) {
    let mut socket = office.visitor().await;
    socket.send(json!({"type": "hello", "visitor": null})).await;
    let welcome = socket.frame().await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    (socket, welcome)
}

#[tokio::test]
async fn hello_is_welcomed_with_a_token_the_office_name_and_no_history() {
    let office = Office::start().await;
    let (_socket, welcome) = welcomed(&office).await;
    let token = welcome["visitor"].as_str().unwrap();
    assert_eq!(token.len(), 64, "{welcome}");
    assert_eq!(welcome["office"], "Example Dental");
    assert_eq!(welcome["history"], json!([]));
    // Nobody is logged in to the queue the livechat route goes to.
    assert_eq!(welcome["online"], false);
}

#[tokio::test]
async fn online_follows_the_logins_of_the_routes_queue() {
    let office = Office::start().await;
    office.log_in("102", "801").await;
    let (_socket, welcome) = welcomed(&office).await;
    assert_eq!(welcome["online"], true, "{welcome}");
    // An agent of another queue does not count.
    let other = Office::start().await;
    other.log_in("101", "800").await;
    let (_socket, welcome) = welcomed(&other).await;
    assert_eq!(welcome["online"], false, "{welcome}");
}

#[tokio::test]
async fn an_open_widget_hears_when_the_queues_agents_log_in_and_out() {
    let office = Office::start().await;
    let (mut socket, welcome) = welcomed(&office).await;
    assert_eq!(welcome["online"], false, "{welcome}");
    // Another queue's agent changes nothing for this widget (no frame); the route's
    // queue's agent does: the next frame the widget gets is `online`.
    office.log_in("101", "800").await;
    office.log_in("102", "801").await;
    assert_eq!(
        socket.frame().await,
        json!({"type": "status", "online": true})
    );
    // The last one logs out: the widget switches to the offline form.
    office
        .state
        .store
        .run(|s| s.set_queue_logged_in("102", "801", false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        socket.frame().await,
        json!({"type": "status", "online": false})
    );
}

#[tokio::test]
async fn a_visitors_message_reaches_the_agents_and_comes_back_as_stored() {
    let office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    socket
        .send(json!({"type": "message", "text": "Do you open on Saturdays?"}))
        .await;
    let echo = socket.frame().await;
    assert_eq!(echo["type"], "message", "{echo}");
    assert_eq!(echo["from"], "visitor");
    assert_eq!(echo["text"], "Do you open on Saturdays?");
    // The queue's agents see it (nobody is logged in, so it is offered to them all).
    let listed = office.hub().list("101", false).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let conversation = &listed[0];
    assert_eq!(conversation.channel, "livechat");
    assert!(conversation.customer.starts_with("v-"), "{conversation:?}");
    let info = office
        .hub()
        .information("101", conversation.id)
        .await
        .unwrap();
    assert_eq!(info.address.as_deref(), Some("127.0.0.1"), "{info:?}");
    let read = office.hub().read("102", conversation.id).await.unwrap();
    assert_eq!(read.messages.len(), 1);
    assert_eq!(read.messages[0].text, "Do you open on Saturdays?");
    assert_eq!(read.messages[0].id, echo["id"].as_i64().unwrap());
}

#[tokio::test]
async fn an_agents_reply_reaches_the_visitors_socket() {
    let office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    socket
        .send(json!({"type": "message", "text": "Hello?"}))
        .await;
    socket.frame().await;
    let id = office.only_conversation().await;
    office
        .hub()
        .reply("102", id, "Hi, Bruno here. How can I help?", None)
        .await
        .unwrap();
    let reply = socket.frame().await;
    assert_eq!(reply["type"], "message", "{reply}");
    assert_eq!(reply["from"], "agent");
    assert_eq!(reply["agent_name"], "Bruno");
    assert_eq!(reply["text"], "Hi, Bruno here. How can I help?");
}

#[tokio::test]
async fn a_reconnect_with_the_token_gets_the_history_and_a_new_visitor_does_not() {
    let office = Office::start().await;
    let (mut socket, welcome) = welcomed(&office).await;
    let token = welcome["visitor"].as_str().unwrap().to_string();
    socket.send(json!({"type": "message", "text": "One"})).await;
    socket.frame().await;
    let id = office.only_conversation().await;
    office.hub().reply("101", id, "Two", None).await.unwrap();
    socket.frame().await;
    // The agents' own notes (Alice took it) are not the visitor's.
    drop(socket);

    let mut again = office.visitor().await;
    again.send(json!({"type": "hello", "visitor": token})).await;
    let welcome = again.frame().await;
    assert_eq!(welcome["visitor"], token.as_str());
    let history: Vec<(String, String)> = welcome["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["from"].as_str().unwrap().into(),
                l["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("visitor".into(), "One".into()),
            ("agent".into(), "Two".into())
        ]
    );
    // The same conversation goes on.
    again
        .send(json!({"type": "message", "text": "Three"}))
        .await;
    assert_eq!(again.frame().await["text"], "Three");
    assert_eq!(office.only_conversation().await, id);

    let (_, stranger) = welcomed(&office).await;
    assert_eq!(stranger["history"], json!([]));
    assert_ne!(stranger["visitor"], token.as_str());
}

#[tokio::test]
async fn behind_a_listed_proxy_the_forwarded_address_is_the_visitors() {
    let office =
        Office::start_with(|l| l.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let forwarded = [
        ("origin", SITE),
        ("x-forwarded-for", "192.0.2.1, 198.51.100.7"),
    ];
    let mut socket = office.connect_with(&forwarded).await.unwrap();
    socket.send(json!({"type": "hello", "visitor": null})).await;
    assert_eq!(socket.frame().await["type"], "welcome");
    socket.send(json!({"type": "message", "text": "Hi"})).await;
    socket.frame().await;
    let id = office.only_conversation().await;
    let info = office.hub().information("101", id).await.unwrap();
    // The proxy's hop, not the one the visitor could have written.
    assert_eq!(info.address.as_deref(), Some("198.51.100.7"), "{info:?}");

    // An unlisted peer's header is not believed.
    let direct = Office::start().await;
    let mut socket = direct.connect_with(&forwarded).await.unwrap();
    socket.send(json!({"type": "hello", "visitor": null})).await;
    socket.frame().await;
    socket.send(json!({"type": "message", "text": "Hi"})).await;
    socket.frame().await;
    let id = direct.only_conversation().await;
    let info = direct.hub().information("101", id).await.unwrap();
    assert_eq!(info.address.as_deref(), Some("127.0.0.1"), "{info:?}");
}

#[tokio::test]
async fn a_stopping_server_closes_the_visitors_socket() {
    let mut office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    office.stop();
    assert_eq!(
        socket.closed().await.as_deref(),
        Some("the server is restarting")
    );
}

#[tokio::test]
async fn a_message_over_2000_characters_is_refused_and_not_stored() {
    let office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    let long = "é".repeat(2_001);
    socket.send(json!({"type": "message", "text": long})).await;
    let refused = socket.frame().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "too_long");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("2001 characters") && words.contains("2000"),
        "{words}"
    );
    assert_eq!(office.stored_messages().await, 0);
    // Exactly 2,000 is fine, and the socket is still open.
    socket
        .send(json!({"type": "message", "text": "é".repeat(2_000)}))
        .await;
    assert_eq!(socket.frame().await["type"], "message");
    assert_eq!(office.stored_messages().await, 1);
}

#[tokio::test]
async fn a_sixth_message_within_ten_seconds_is_refused_and_not_stored() {
    let office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    for i in 1..=5 {
        socket
            .send(json!({"type": "message", "text": format!("message {i}")}))
            .await;
        assert_eq!(socket.frame().await["type"], "message", "message {i}");
    }
    socket
        .send(json!({"type": "message", "text": "message 6"}))
        .await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "too_fast", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("at most 5 in 10 seconds"),
        "{refused}"
    );
    assert_eq!(office.stored_messages().await, 5);
}

#[tokio::test]
async fn a_page_of_another_origin_cannot_open_the_socket() {
    let office = Office::start().await;
    for origin in [Some("https://attacker.example"), None] {
        let Err(refused) = office.connect(origin).await else {
            panic!("a page of {origin:?} opened the socket");
        };
        let (status, body) = livechat_office::http_refusal(refused);
        assert_eq!(status, 403, "{origin:?}: {body}");
        assert!(
            body.contains("allowed-origins") || body.contains("Origin"),
            "{body}"
        );
    }
    // The listed one may.
    assert!(office.connect(Some(SITE)).await.is_ok());
}

#[tokio::test]
async fn thirty_sockets_a_minute_from_one_address_then_refused() {
    let office = Office::start().await;
    // One visitor's tabs (a new visitor per socket meets the new-visitor limit first).
    let (first, welcome) = welcomed(&office).await;
    let token = welcome["visitor"].as_str().unwrap().to_string();
    let mut open = vec![first];
    for _ in 1..30 {
        let mut socket = office.visitor().await;
        socket
            .send(json!({"type": "hello", "visitor": token}))
            .await;
        assert_eq!(socket.frame().await["type"], "welcome");
        open.push(socket);
    }
    let mut socket = office.visitor().await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "too_many_connections", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("30"),
        "{refused}"
    );
    socket.closed().await;
}

#[tokio::test]
async fn a_blocked_address_is_told_so_and_closed_now_and_later_and_nothing_is_stored() {
    let office = Office::start().await;
    let (mut socket, welcome) = welcomed(&office).await;
    let token = welcome["visitor"].as_str().unwrap().to_string();
    socket
        .send(json!({"type": "message", "text": "spam"}))
        .await;
    socket.frame().await;
    let id = office.only_conversation().await;
    office.hub().block("101", id).await.unwrap();
    let refused = socket.frame().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "blocked");
    assert!(
        refused["error"].as_str().unwrap().contains("not available"),
        "{refused}"
    );
    socket.closed().await;
    let before = office.stored_messages().await;

    // A new socket from the same address (a new visitor token too) is refused at once.
    let mut again = office.visitor().await;
    let refused = again.frame().await;
    assert_eq!(refused["code"], "blocked", "{refused}");
    again.closed().await;
    assert_eq!(office.stored_messages().await, before);

    // The same visitor from another address is refused once they say who they are;
    // another visitor there is not.
    let mut moved = office.visitor_from("127.0.0.2").await;
    moved.send(json!({"type": "hello", "visitor": token})).await;
    assert_eq!(moved.frame().await["code"], "blocked");
    moved.closed().await;
    let mut neighbour = office.visitor_from("127.0.0.2").await;
    neighbour
        .send(json!({"type": "hello", "visitor": null}))
        .await;
    assert_eq!(neighbour.frame().await["type"], "welcome");
}

#[tokio::test]
async fn end_session_tells_the_visitor_and_closes_the_socket() {
    let office = Office::start().await;
    let (mut socket, _) = welcomed(&office).await;
    socket
        .send(json!({"type": "message", "text": "Thanks, bye"}))
        .await;
    socket.frame().await;
    let id = office.only_conversation().await;
    office.hub().end_session("102", id).await.unwrap();
    assert_eq!(socket.frame().await, json!({"type": "ended"}));
    let close = socket.closed().await;
    assert_eq!(close.as_deref(), Some("the chat has ended"));
}

#[tokio::test]
async fn the_offline_form_is_stored_as_a_conversation_with_the_name_and_email() {
    let office = Office::start().await;
    let (mut socket, welcome) = welcomed(&office).await;
    assert_eq!(welcome["online"], false);
    socket
        .send(json!({"type": "offline", "name": "Ann Lee", "email": "nomail", "text": "Call me"}))
        .await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "bad_frame", "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("email"),
        "{refused}"
    );
    assert_eq!(office.stored_messages().await, 0);

    socket
        .send(
            json!({"type": "offline", "name": "Ann Lee", "email": "ann@example.com",
                     "text": "Please call me back about a cleaning."}),
        )
        .await;
    assert_eq!(socket.frame().await, json!({"type": "offline_received"}));
    assert_eq!(
        socket.frame().await["text"],
        "Please call me back about a cleaning."
    );
    let id = office.only_conversation().await;
    let info = office.hub().information("101", id).await.unwrap();
    assert_eq!(info.name.as_deref(), Some("Ann Lee"), "{info:?}");
    assert_eq!(info.email.as_deref(), Some("ann@example.com"));
    // Anyone can type any address: the agents are told what the visitor said, once.
    socket
        .send(
            json!({"type": "offline", "name": "Ann Lee", "email": "ANN@example.com",
                     "text": "Any news?"}),
        )
        .await;
    assert_eq!(socket.frame().await, json!({"type": "offline_received"}));
    assert_eq!(socket.frame().await["text"], "Any news?");
    let read = office.hub().read("101", id).await.unwrap();
    let notes: Vec<&str> = read
        .messages
        .iter()
        .filter(|m| m.direction == switchboard_runtime::sqlite_store::Direction::System)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        notes,
        ["The visitor said their email is ann@example.com (not verified)"]
    );
}

#[tokio::test]
async fn frames_that_are_not_the_widgets_get_words_and_the_socket_stays() {
    let office = Office::start().await;
    let mut socket = office.visitor().await;
    socket
        .send(json!({"type": "message", "text": "no hello"}))
        .await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "bad_frame", "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("hello"));
    socket.closed().await;

    let (mut socket, _) = welcomed(&office).await;
    socket.send_text("not json").await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "bad_frame", "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("{\"type\":\"message\"")
    );
    socket
        .send(json!({"type": "message", "text": "still here"}))
        .await;
    assert_eq!(socket.frame().await["text"], "still here");
}

#[tokio::test]
async fn the_widget_script_is_served_to_any_site_and_cacheable() {
    let office = Office::start().await;
    let answer = office.get("/chat/widget.js").await;
    assert_eq!(answer.status, 200);
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(header("content-type").starts_with("text/javascript"));
    assert_eq!(header("cache-control"), "public, max-age=300");
    assert_eq!(header("access-control-allow-origin"), "*");
    assert_eq!(header("cross-origin-resource-policy"), "cross-origin");
    assert!(!header("etag").is_empty());
    let script = String::from_utf8_lossy(&answer.body);
    assert!(script.contains("/chat/ws") && script.contains("attachShadow"));
}
