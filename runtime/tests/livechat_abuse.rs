//! The live chat against one network flooding it or coming back after Block, over real
//! sockets and a real store: fresh visitor tokens give no fresh allowance (the limits
//! count the address too), an IPv6 address counts and is blocked as its /64, and the
//! address is the one `peer` resolves (an unlisted peer's `X-Forwarded-For` is not).

mod livechat_office;

use livechat_office::{Office, SITE, Socket};
use serde_json::{Value, json};
use switchboard_runtime::config::{ConfigOverrides, ServerConfig};

/// A socket from the loopback address with `forwarded_for` in `X-Forwarded-For`
/// (believed only when the office lists 127.0.0.1 as its proxy).
async fn from(office: &Office, forwarded_for: &str) -> Socket {
    let headers = [("origin", SITE), ("x-forwarded-for", forwarded_for)];
    office.connect_with(&headers).await.unwrap()
}

/// Hello as a new visitor; the answer.
async fn hello(socket: &mut Socket) -> Value {
    socket.send(json!({"type": "hello", "visitor": null})).await;
    socket.frame().await
}

/// A new visitor's first message, stored and echoed.
async fn starts_a_chat(mut socket: Socket, text: &str) -> Socket {
    let welcome = hello(&mut socket).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    socket.send(json!({"type": "message", "text": text})).await;
    let echo = socket.frame().await;
    assert_eq!(echo["text"], text, "{echo}");
    socket
}

async fn conversations(office: &Office) -> usize {
    office.hub().list("101", false).await.unwrap().len()
}

/// The agents' notes of `conversation`.
async fn notes(office: &Office, conversation: i64) -> Vec<String> {
    let read = office.hub().read("101", conversation).await.unwrap();
    read.messages
        .into_iter()
        .filter(|m| m.direction == switchboard_runtime::sqlite_store::Direction::System)
        .map(|m| m.text)
        .collect()
}

#[tokio::test]
async fn fresh_visitor_tokens_from_one_address_start_five_chats_then_are_refused() {
    let office = Office::start().await;
    let mut open = Vec::new();
    for i in 0..5 {
        // Each claims another address: not believed, the office lists no proxy.
        let socket = from(&office, &format!("198.51.100.{i}")).await;
        open.push(starts_a_chat(socket, &format!("spam {i}")).await);
    }
    let mut sixth = from(&office, "198.51.100.99").await;
    assert_eq!(hello(&mut sixth).await["type"], "welcome");
    sixth
        .send(json!({"type": "message", "text": "spam 6"}))
        .await;
    let refused = sixth.frame().await;
    assert_eq!(refused["code"], "too_fast", "{refused}");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("Too many new chats from your network") && words.contains("Wait"),
        "{words}"
    );
    assert_eq!(conversations(&office).await, 5);
    assert_eq!(office.stored_messages().await, 5);
    // The socket stays open, and the visitors who chat already go on.
    open[0]
        .send(json!({"type": "message", "text": "still me"}))
        .await;
    assert_eq!(open[0].frame().await["text"], "still me");

    // Another address is not affected.
    let neighbour = office.visitor_from("127.0.0.2").await;
    starts_a_chat(neighbour, "a real question").await;
    assert_eq!(conversations(&office).await, 6);
}

/// An office whose config file's `chat.livechat` holds `per_network` (the lines under
/// `per-network:`), read as the server reads it.
async fn office_with_per_network(per_network: &str) -> Office {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("switchboard.yaml");
    let yaml = format!("chat:\n  livechat:\n    per-network:\n{per_network}");
    std::fs::write(&file, yaml).unwrap();
    let config = ServerConfig::load(Some(&file), &ConfigOverrides::default()).unwrap();
    let per_network = config.chat.livechat.per_network;
    Office::start_with(|l| l.per_network = per_network).await
}

#[tokio::test]
async fn an_office_that_sets_two_new_chats_per_network_refuses_the_third_naming_two() {
    let office = office_with_per_network("      new-chats-per-10-minutes: 2\n").await;
    for i in 0..2 {
        starts_a_chat(office.visitor().await, &format!("question {i}")).await;
    }
    let mut third = office.visitor().await;
    assert_eq!(hello(&mut third).await["type"], "welcome");
    third
        .send(json!({"type": "message", "text": "question 3"}))
        .await;
    let refused = third.frame().await;
    assert_eq!(refused["code"], "too_fast", "{refused}");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("Too many new chats from your network (at most 2 in 10 minutes)"),
        "{words}"
    );
    assert_eq!(conversations(&office).await, 2);
}

#[tokio::test]
async fn an_office_behind_shared_addresses_raises_new_chats_and_ten_from_one_address_start() {
    // Ten customers behind one carrier's address, each a new visitor starting a chat:
    // with the default five, the sixth would be refused.
    let office = office_with_per_network("      new-chats-per-10-minutes: 500\n").await;
    for i in 0..10 {
        starts_a_chat(office.visitor().await, &format!("customer {i}")).await;
    }
    assert_eq!(conversations(&office).await, 10);
    assert_eq!(office.stored_messages().await, 10);
}

#[tokio::test]
async fn an_address_is_given_twenty_new_visitor_tokens_then_told_to_wait() {
    let office = Office::start().await;
    let mut first = None;
    for i in 0..20 {
        let mut socket = office.visitor().await;
        let welcome = hello(&mut socket).await;
        assert_eq!(welcome["type"], "welcome", "visitor {i}: {welcome}");
        first.get_or_insert(welcome["visitor"].as_str().unwrap().to_string());
    }
    let mut socket = office.visitor().await;
    let refused = hello(&mut socket).await;
    assert_eq!(refused["code"], "too_many_connections", "{refused}");
    let words = refused["error"].as_str().unwrap();
    assert!(
        words.contains("new chat visitors from your network") && words.contains("20"),
        "{words}"
    );
    socket.closed().await;
    // A made-up token is a new visitor too.
    let mut socket = office.visitor().await;
    socket
        .send(json!({"type": "hello", "visitor": "f00d"}))
        .await;
    assert_eq!(socket.frame().await["code"], "too_many_connections");
    // A visitor the server gave a token comes back; another address is a new visitor.
    let mut back = office.visitor().await;
    back.send(json!({"type": "hello", "visitor": first.unwrap()}))
        .await;
    assert_eq!(back.frame().await["type"], "welcome");
    let mut neighbour = office.visitor_from("127.0.0.2").await;
    assert_eq!(hello(&mut neighbour).await["type"], "welcome");
}

#[tokio::test]
async fn tokens_a_script_makes_up_count_as_new_visitors_too() {
    // A token is 64 hex digits, so a script can make its own rather than be given one:
    // each the address has not said hello with lately is a new visitor all the same.
    let office = Office::start().await;
    let made_up = |i: usize| format!("{i:064x}");
    for i in 0..20 {
        let mut socket = office.visitor().await;
        socket
            .send(json!({"type": "hello", "visitor": made_up(i)}))
            .await;
        let welcome = socket.frame().await;
        assert_eq!(welcome["type"], "welcome", "token {i}: {welcome}");
    }
    let mut socket = office.visitor().await;
    socket
        .send(json!({"type": "hello", "visitor": made_up(20)}))
        .await;
    let refused = socket.frame().await;
    assert_eq!(refused["code"], "too_many_connections", "{refused}");
    // A visitor already seen from here comes back (a reload, a reconnect).
    let mut back = office.visitor().await;
    back.send(json!({"type": "hello", "visitor": made_up(3)}))
        .await;
    assert_eq!(back.frame().await["type"], "welcome");
}

#[tokio::test]
async fn an_ipv6_network_counts_as_its_64() {
    let office =
        Office::start_with(|l| l.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    for i in 0..5 {
        let socket = from(&office, &format!("2001:db8:1:2::{i}")).await;
        starts_a_chat(socket, &format!("spam {i}")).await;
    }
    // Another address of the same /64 is the same network.
    let mut sibling = from(&office, "2001:db8:1:2:abcd:ef01:2345:6789").await;
    assert_eq!(hello(&mut sibling).await["type"], "welcome");
    sibling
        .send(json!({"type": "message", "text": "spam 6"}))
        .await;
    let refused = sibling.frame().await;
    assert_eq!(refused["code"], "too_fast", "{refused}");
    assert_eq!(conversations(&office).await, 5);
    // The next /64 is another customer's.
    starts_a_chat(from(&office, "2001:db8:1:3::1").await, "hello").await;
    assert_eq!(conversations(&office).await, 6);
}

#[tokio::test]
async fn block_refuses_the_visitors_whole_ipv6_64_and_the_agents_see_it() {
    let office =
        Office::start_with(|l| l.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let socket = from(&office, "2001:db8:1:2::5").await;
    let mut socket = starts_a_chat(socket, "abuse").await;
    let id = office.only_conversation().await;
    office.hub().block("101", id).await.unwrap();
    assert_eq!(socket.frame().await["code"], "blocked");
    let notes = notes(&office, id).await;
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with("blocked this visitor (2001:db8:1:2::/64)")),
        "{notes:?}"
    );

    // The next address of the /64, as a new visitor: refused as the socket opens.
    let mut sibling = from(&office, "2001:db8:1:2:ffff::9").await;
    let refused = sibling.frame().await;
    assert_eq!(refused["code"], "blocked", "{refused}");
    sibling.closed().await;
    let before = office.stored_messages().await;
    // Another /64 is not.
    let neighbour = from(&office, "2001:db8:1:3::5").await;
    starts_a_chat(neighbour, "a real question").await;
    assert_eq!(office.stored_messages().await, before + 1);
}

#[tokio::test]
async fn an_unlisted_peers_forwarded_address_neither_is_blocked_nor_escapes_a_block() {
    let office = Office::start().await;
    let socket = from(&office, "198.51.100.7").await;
    let mut socket = starts_a_chat(socket, "abuse").await;
    let id = office.only_conversation().await;
    office.hub().block("101", id).await.unwrap();
    assert_eq!(socket.frame().await["code"], "blocked");
    // What was blocked is the socket's peer, not the header's address.
    let notes = notes(&office, id).await;
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with("blocked this visitor (127.0.0.1)")),
        "{notes:?}"
    );
    // Writing another address into the header does not get the peer past the block.
    let mut again = from(&office, "203.0.113.50").await;
    assert_eq!(again.frame().await["code"], "blocked");
}
