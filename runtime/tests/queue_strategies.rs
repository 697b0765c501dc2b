//! Queues through the whole server on loopback: three agents registered as phones (raw
//! UDP sockets, so every message is the test's to see), a caller dialling the queue, and
//! each strategy offering the call in its order — hunt in the plan's order one agent per
//! ring time, round robin after the agent last offered a call (remembered in the store),
//! longest idle, fewest calls, ring all at once — plus an agent on a call skipped, an
//! agent in wrap-up skipped, and the maximum wait ending in `then` (voicemail). The caller
//! hears hold music meanwhile. Ring times are a second, so each test is quick; every wait
//! has a deadline.

mod bridged;
mod live_server;
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bridged::{next_request, pick_up, sdp, traced};
use live_server::{Live, read_store, within};
use support::raw::{Call, Phone, Sip, branch, register, request, signed_in};
use switchboard_core::store::Store;
use switchboard_runtime::server::{RunOptions, store_path};
use tokio::net::UdpSocket;

const PLAN: &str = r#"
extension 103 "Carla" { voicemail }
extension 104 "Dora"  { voicemail }
extension 105 "Emil"  { voicemail }        # logged in to 608, with no phone registered

dial "{ext:XXX}" -> extension ext

queue 600 "Hunt"    { agents 102, 103, 104; strategy hunt;         ring 1s; then -> voicemail 101 }
queue 601 "Turns"   { agents 102, 103, 104; strategy round_robin;  ring 1s; then -> voicemail 101 }
queue 602 "Idle"    { agents 102, 103, 104; strategy longest_idle; ring 1s; then -> voicemail 101 }
queue 603 "Fewest"  { agents 102, 103, 104; strategy fewest_calls; ring 1s; then -> voicemail 101 }
queue 604 "All"     { agents 102, 103, 104; strategy ring_all;     ring 2s; then -> voicemail 101 }
queue 605 "Wrap-up" { agents 102, 103, 104; strategy hunt; ring 1s; wrap_up 1m; then -> voicemail 101 }
queue 606 "Patient" { agents 102; strategy hunt; ring 1s; max_wait 3s; then -> voicemail 101 }
queue 607 "Solo"    { agents 102; ring 1s; then -> voicemail 101 }
queue 608 "Absent"  { agents 102, 105; strategy ring_all; ring 5s; then -> voicemail 101 }

dial "*62" -> queue_login all
dial "*63" -> queue_logout all
"#;

const AGENTS: [&str; 3] = ["102", "103", "104"];

/// A running server with 102, 103 and 104 logged in to every queue and registered.
struct Office {
    live: Live,
    agents: Vec<(String, Phone)>,
}

impl Office {
    /// Starts the server; `prepare` sets up the store first (on a plain thread).
    async fn start(prepare: impl FnOnce(&mut dyn Store) + Send + 'static) -> Office {
        let live = Live::start(PLAN, Duration::from_secs(5), RunOptions::default()).await;
        read_store(&store_path(&live.data()), |s| {
            s.set_password("104", "switchboard", "amber-kettle-harbour")
                .unwrap();
            for queue in ["600", "601", "602", "603", "604", "605", "606"] {
                for agent in AGENTS {
                    s.set_queue_logged_in(agent, queue, true).unwrap();
                }
            }
            prepare(s);
        });
        let mut agents = Vec::new();
        for agent in ["102", "103"] {
            let phone = Phone::new(live.listening.sip).await;
            assert_eq!(register(&phone, agent, "secret").await, 200, "{agent}");
            agents.push((agent.to_string(), phone));
        }
        // 104's password was written beside the running server, which loads the
        // credentials again when the file changes (within about a second): until then
        // 104 is refused.
        let phone = Phone::new(live.listening.sip).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while register(&phone, "104", "amber-kettle-harbour").await != 200 {
            assert!(Instant::now() < deadline, "104 never registered");
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        agents.push(("104".to_string(), phone));
        Office { live, agents }
    }

    fn phone(&self, agent: &str) -> &Phone {
        &self.agents.iter().find(|(a, _)| a == agent).unwrap().1
    }

    /// The next agent whose phone gets an INVITE, and that INVITE. Any other request
    /// (a stray retransmission) is skipped.
    async fn next_offer(&self) -> (String, Sip) {
        within("an agent's phone to ring", async {
            let [(a, pa), (b, pb), (c, pc)] = &self.agents[..] else {
                unreachable!()
            };
            tokio::select! {
                m = next_request(pa, "INVITE") => (a.clone(), m),
                m = next_request(pb, "INVITE") => (b.clone(), m),
                m = next_request(pc, "INVITE") => (c.clone(), m),
            }
        })
        .await
    }

    /// The store, read on a plain thread while the server runs.
    fn store<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Store) -> T + Send + 'static) -> T {
        read_store(&store_path(&self.live.data()), move |s| f(s))
    }
}

/// A caller (signed in as 101) in a queue: its phone, call and RTP socket.
struct Caller {
    phone: Phone,
    call: Call,
    rtp: UdpSocket,
}

impl Caller {
    /// 101 dials `number`; the queue answers at once with hold music.
    async fn dial(server: SocketAddr, number: &str) -> Caller {
        Caller::dial_as(Phone::new(server).await, "101", "secret", number).await
    }

    /// `phone` dials `number` as `user`; the call is answered.
    async fn dial_as(phone: Phone, user: &str, password: &str, number: &str) -> Caller {
        let server = phone.server;
        let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let call = Call::new(user, number, server);
        let headers = vec![
            format!("Contact: <sip:{user}@{}>", phone.addr()),
            "Content-Type: application/sdp".to_string(),
        ];
        let offer = sdp(rtp.local_addr().unwrap());
        let authed = signed_in(&phone, "INVITE", &call, &headers, &offer, user, password).await;
        phone
            .send(request(
                "INVITE",
                &call,
                2,
                &branch(),
                phone.addr(),
                &authed,
                &offer,
            ))
            .await;
        let mut caller = Caller { phone, call, rtp };
        let ok = caller.final_response().await;
        assert_eq!(ok.status(), 200, "the queue answers: {}", ok.0);
        caller.call.to_tag = Some(ok.to_tag());
        caller
            .phone
            .send(request(
                "ACK",
                &caller.call,
                2,
                &branch(),
                caller.phone.addr(),
                &[],
                "",
            ))
            .await;
        caller
    }

    async fn final_response(&self) -> Sip {
        loop {
            let r = self.phone.response(&self.call.call_id, "2 INVITE").await;
            if r.status() >= 200 {
                return r;
            }
        }
    }

    /// Waits for audio that is not silence: the hold music.
    async fn hears_music(&self) {
        within("hold music", async {
            let mut buffer = [0u8; 2048];
            loop {
                let (n, _) = self.rtp.recv_from(&mut buffer).await.unwrap();
                // μ-law silence is 0xFF (or 0x7F); music moves well away from it.
                let loud = buffer[12..n]
                    .iter()
                    .filter(|b| !matches!(**b, 0xFF | 0x7F | 0xFE | 0x7E))
                    .count();
                if n == 12 + 160 && loud > 80 {
                    return;
                }
            }
        })
        .await
    }

    /// The server hangs up (the plan ended the call): its BYE, answered.
    async fn hung_up_on(&self) {
        let bye = next_request(&self.phone, "BYE").await;
        self.phone.send(bye.reply("200 OK")).await;
    }

    async fn hang_up(&self) {
        self.phone
            .send(request(
                "BYE",
                &self.call,
                3,
                &branch(),
                self.phone.addr(),
                &[],
                "",
            ))
            .await;
    }
}

/// `phone` rings for `invite` and lets it ring out: 180, then the server's CANCEL after
/// the queue's ring time, answered 200, and the INVITE ended with 487.
async fn ring_out(phone: &Phone, invite: &Sip, tag: &str) {
    phone.send(invite.reply_tagged("180 Ringing", tag)).await;
    let cancel = next_request(phone, "CANCEL").await;
    phone.send(cancel.reply("200 OK")).await;
    phone
        .send(invite.reply_tagged("487 Request Terminated", tag))
        .await;
}

/// The agent answers the offer, the caller is connected, then the caller hangs up and the
/// agent's phone gets the BYE.
async fn answer_then_hang_up(
    office: &Office,
    caller: &Caller,
    agent: &str,
    invite: &Sip,
    queue: &str,
) {
    let phone = office.phone(agent);
    let _rtp = pick_up(phone, invite, agent, agent).await;
    traced(&office.live, queue, &format!("{agent} answered")).await;
    caller.hang_up().await;
    let bye = next_request(phone, "BYE").await;
    phone.send(bye.reply("200 OK")).await;
    office.live.ended_call(queue).await;
}

#[tokio::test]
async fn hunt_rings_the_agents_in_order_one_ring_time_each() {
    let office = Office::start(|_| {}).await;
    let caller = Caller::dial(office.live.listening.sip, "600").await;
    caller.hears_music().await;

    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "102");
    let rung = Instant::now();
    ring_out(office.phone("102"), &invite, "a").await;

    let (second, invite) = office.next_offer().await;
    assert_eq!(second, "103");
    assert!(
        rung.elapsed() >= Duration::from_millis(900),
        "103 rang {:?} after 102, before 102's ring time was out",
        rung.elapsed()
    );
    ring_out(office.phone("103"), &invite, "b").await;

    let (third, invite) = office.next_offer().await;
    assert_eq!(third, "104");
    answer_then_hang_up(&office, &caller, "104", &invite, "600").await;
    office.live.nothing_held().await;
}

#[tokio::test]
async fn round_robin_starts_after_the_agent_offered_the_last_call_as_the_store_remembers() {
    // The turn is in the store, as a restart would find it: 103 was offered the last call.
    let office = Office::start(|s| s.set_queue_last_offered("601", "103").unwrap()).await;
    let caller = Caller::dial(office.live.listening.sip, "601").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "104");
    ring_out(office.phone("104"), &invite, "a").await;
    // Round the list: 102 after 104.
    let (second, invite) = office.next_offer().await;
    assert_eq!(second, "102");
    answer_then_hang_up(&office, &caller, "102", &invite, "601").await;
    let last = office.store(|s| s.queue_last_offered("601").unwrap());
    assert_eq!(last.as_deref(), Some("102"));

    // The next caller starts after 102.
    let caller = Caller::dial(office.live.listening.sip, "601").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "103");
    answer_then_hang_up(&office, &caller, "103", &invite, "601").await;
}

#[tokio::test]
async fn longest_idle_rings_the_agent_whose_last_queue_call_ended_longest_ago() {
    // 103's last queue call ended first, then 102's, then 104's.
    let office = Office::start(|s| {
        s.set_agent_last_call_end("102", 2_000).unwrap();
        s.set_agent_last_call_end("103", 1_000).unwrap();
        s.set_agent_last_call_end("104", 3_000).unwrap();
    })
    .await;
    let caller = Caller::dial(office.live.listening.sip, "602").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "103");
    ring_out(office.phone("103"), &invite, "a").await;
    let (second, invite) = office.next_offer().await;
    assert_eq!(second, "102");
    answer_then_hang_up(&office, &caller, "102", &invite, "602").await;
    // 102's call just ended: now 102 is the one idle for the shortest time.
    let ended = office.store(|s| s.agent_last_call_end("102").unwrap());
    assert!(ended.is_some_and(|t| t > 3_000), "{ended:?}");
}

#[tokio::test]
async fn fewest_calls_rings_the_agent_who_answered_fewest_since_logging_in() {
    let office = Office::start(|s| {
        s.set_queue_calls_answered("102", "603", 2).unwrap();
        s.set_queue_calls_answered("103", "603", 1).unwrap();
        s.set_queue_calls_answered("104", "603", 3).unwrap();
    })
    .await;
    let caller = Caller::dial(office.live.listening.sip, "603").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "103");
    answer_then_hang_up(&office, &caller, "103", &invite, "603").await;
    let counted = office.store(|s| s.queue_calls_answered("103", "603").unwrap());
    assert_eq!(counted, 2, "the answered call counts");
}

#[tokio::test]
async fn ring_all_rings_every_agent_at_once_and_the_first_to_answer_wins() {
    let office = Office::start(|_| {}).await;
    let caller = Caller::dial(office.live.listening.sip, "604").await;
    let mut invites = Vec::new();
    for _ in 0..3 {
        invites.push(office.next_offer().await);
    }
    let mut rung: Vec<&str> = invites.iter().map(|(a, _)| a.as_str()).collect();
    rung.sort();
    assert_eq!(rung, AGENTS, "all three ring together");
    for (agent, invite) in &invites {
        if agent != "103" {
            office
                .phone(agent)
                .send(invite.reply_tagged("180 Ringing", agent))
                .await;
        }
    }
    let (_, invite) = invites.iter().find(|(a, _)| a == "103").unwrap();
    let _rtp = pick_up(office.phone("103"), invite, "103", "103").await;
    // The others are cancelled.
    for agent in ["102", "104"] {
        let phone = office.phone(agent);
        let cancel = next_request(phone, "CANCEL").await;
        phone.send(cancel.reply("200 OK")).await;
    }
    traced(&office.live, "604", "103 answered").await;
    caller.hang_up().await;
    office.live.ended_call("604").await;
}

#[tokio::test]
async fn an_agent_with_no_phone_registered_is_not_left_ringing() {
    let office = Office::start(|s| {
        for agent in ["102", "105"] {
            s.set_queue_logged_in(agent, "608", true).unwrap();
        }
    })
    .await;
    let caller = Caller::dial(office.live.listening.sip, "608").await;
    let (agent, invite) = office.next_offer().await;
    assert_eq!(agent, "102", "only 102 has a phone to ring");
    let _rtp = pick_up(office.phone("102"), &invite, "102", "102").await;
    traced(&office.live, "608", "102 answered").await;
    // In the call: the caller's line and 102's, not 105's, which nothing rings.
    let held = office.live.held().await;
    assert_eq!(held["sip"]["busy_lines"], 2, "{held}");
    caller.hang_up().await;
    let agent = office.phone("102");
    let bye = next_request(agent, "BYE").await;
    agent.send(bye.reply("200 OK")).await;
    office.live.ended_call("608").await;
    office.live.nothing_held().await;
}

#[tokio::test]
async fn an_agent_on_a_call_is_skipped() {
    let office = Office::start(|_| {}).await;
    // 101 calls 102 directly, and 102 answers: 102's line is busy.
    let busy = office.live.listening.sip;
    let direct = Phone::new(busy).await;
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut call = Call::new("101", "102", busy);
    let headers = vec![
        format!("Contact: <sip:101@{}>", direct.addr()),
        "Content-Type: application/sdp".to_string(),
    ];
    let offer = sdp(rtp.local_addr().unwrap());
    let authed = signed_in(&direct, "INVITE", &call, &headers, &offer, "101", "secret").await;
    direct
        .send(request(
            "INVITE",
            &call,
            2,
            &branch(),
            direct.addr(),
            &authed,
            &offer,
        ))
        .await;
    let invite = next_request(office.phone("102"), "INVITE").await;
    let _desk_rtp = pick_up(office.phone("102"), &invite, "102", "102").await;
    let ok = loop {
        let r = direct.response(&call.call_id, "2 INVITE").await;
        if r.status() >= 200 {
            break r;
        }
    };
    assert_eq!(ok.status(), 200);
    call.to_tag = Some(ok.to_tag());
    direct
        .send(request("ACK", &call, 2, &branch(), direct.addr(), &[], ""))
        .await;
    traced(&office.live, "102", "answered").await;

    // The hunt queue starts with 102, who is talking: 103 rings first.
    let caller = Caller::dial(office.live.listening.sip, "600").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "103");
    traced(&office.live, "600", "102 on a call or ringing; skipped").await;
    answer_then_hang_up(&office, &caller, "103", &invite, "600").await;
}

#[tokio::test]
async fn wrap_up_skips_the_agent_who_just_finished_a_queue_call() {
    let office = Office::start(|_| {}).await;
    let caller = Caller::dial(office.live.listening.sip, "605").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "102");
    answer_then_hang_up(&office, &caller, "102", &invite, "605").await;

    // 102 is in a minute's wrap-up: the next caller's hunt starts with 103.
    let caller = Caller::dial(office.live.listening.sip, "605").await;
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "103");
    traced(&office.live, "605", "102 is in wrap-up").await;
    ring_out(office.phone("103"), &invite, "x").await;
    let (second, _invite) = office.next_offer().await;
    assert_eq!(second, "104");
    caller.hang_up().await;
}

#[tokio::test]
async fn the_maximum_wait_ends_in_the_queues_then() {
    let office = Office::start(|_| {}).await;
    let started = Instant::now();
    let caller = Caller::dial(office.live.listening.sip, "606").await;
    caller.hears_music().await;
    // 102 rings out, and rings again in the next round while the caller still waits.
    let (first, invite) = office.next_offer().await;
    assert_eq!(first, "102");
    ring_out(office.phone("102"), &invite, "a").await;
    let (again, invite) = office.next_offer().await;
    assert_eq!(again, "102");
    ring_out(office.phone("102"), &invite, "b").await;
    traced(&office.live, "606", "the queue's maximum wait has passed").await;
    traced(&office.live, "606", "voicemail 101").await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(2_900),
        "gave up after {waited:?}, before max_wait"
    );
    caller.hang_up().await;
    office.live.ended_call("606").await;
}

#[tokio::test]
async fn star_62_and_star_63_take_effect_on_the_very_next_call() {
    let office = Office::start(|_| {}).await;
    let server = office.live.listening.sip;
    // Queue 607's one agent, 102, is logged out, so its calls go to voicemail at once.
    office.store(|s| s.set_queue_logged_in("102", "607", false).unwrap());
    let caller = Caller::dial(server, "607").await;
    traced(&office.live, "607", "no agent is logged in").await;
    caller.hang_up().await;
    office.live.ended_call("607").await;

    // 102 dials *62 from a desk phone of its own; the next call rings 102.
    let desk = Phone::new(server).await;
    let login = Caller::dial_as(desk, "102", "secret", "*62").await;
    traced(&office.live, "*62", "queue_login all").await;
    login.hung_up_on().await;
    office.live.ended_call("*62").await;
    let caller = Caller::dial(server, "607").await;
    let (rung, invite) = office.next_offer().await;
    assert_eq!(rung, "102");
    ring_out(office.phone("102"), &invite, "a").await;
    traced(&office.live, "607", "voicemail 101").await;
    caller.hang_up().await;

    // *63: the very next call finds nobody logged in again.
    let desk = Phone::new(server).await;
    let logout = Caller::dial_as(desk, "102", "secret", "*63").await;
    traced(&office.live, "*63", "queue_logout all").await;
    logout.hung_up_on().await;
    let caller = Caller::dial(server, "607").await;
    within("the third call to reach voicemail", async {
        loop {
            let list = office.live.calls.list();
            let third = list
                .live
                .iter()
                .chain(list.recent.iter())
                .filter(|c| c.dialled == "607")
                .filter(|c| c.trace.iter().any(|l| l.contains("no agent is logged in")))
                .count();
            if third == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    caller.hang_up().await;
}
