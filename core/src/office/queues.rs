//! Queue membership (from the plan) and queue logins (in the store), after the 3CX manual:
//! an agent logs themself in and out; a queue's manager may do it for the queue's agents.

use crate::store::{Store, StoreError};
use switchboard_dsl::Plan;
use switchboard_dsl::ast::{Queue, Strategy, Value};

/// Which queues a `queue_login` or `queue_logout` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueSelection<'a> {
    /// Every queue the agent is a member of.
    All,
    /// One queue, by number.
    One(&'a str),
}

/// Why a queue login or logout was refused; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueRefusal {
    /// The agent is not an agent of that queue (or of any queue, for `All`), or the queue
    /// does not exist.
    NotAnAgent,
    /// Someone acted for another agent without managing the queue.
    NotAManager,
}

fn lists(values: &[Value], ext: &str) -> bool {
    values.iter().any(|v| v.literal().as_deref() == Some(ext))
}

/// The numbers of the queues `agent` is an agent of, in plan order.
pub fn agent_queues<'p>(plan: &'p Plan, agent: &str) -> Vec<&'p str> {
    plan.queues
        .iter()
        .filter(|q| lists(&q.agents, agent))
        .map(|q| q.number.as_str())
        .collect()
}

/// Whether `ext` is an agent of any queue.
pub fn is_agent(plan: &Plan, ext: &str) -> bool {
    plan.queues.iter().any(|q| lists(&q.agents, ext))
}

/// Whether `ext` manages any queue.
pub fn is_manager(plan: &Plan, ext: &str) -> bool {
    plan.queues.iter().any(|q| lists(&q.managers, ext))
}

/// Whether `manager` is a manager of `queue`.
pub fn manages(plan: &Plan, manager: &str, queue: &str) -> bool {
    plan.queue(queue)
        .is_some_and(|q| lists(&q.managers, manager))
}

/// Logs `agent` in to (or out of) the selected queues, on behalf of `actor`, and returns
/// the numbers of the queues whose state changed, in plan order. An empty list means the
/// agent already was as asked, which is not a refusal.
///
/// `actor` may always act for themself. Acting for another agent needs managing the queue:
/// with `One`, the actor must manage that queue; with `All`, the change covers the agent's
/// queues that the actor manages and leaves the others alone, so a manager's "log 102 out
/// of everything" does not reach into queues someone else runs. If that leaves nothing,
/// the actor manages none of them and is refused. Authority is checked before membership,
/// so that someone without it learns only that, not who is an agent of what.
pub fn queue_login(
    plan: &Plan,
    store: &mut dyn Store,
    actor: &str,
    agent: &str,
    which: QueueSelection,
    logged_in: bool,
) -> Result<Result<Vec<String>, QueueRefusal>, StoreError> {
    let for_self = actor == agent;
    let queues: Vec<&Queue> = match which {
        QueueSelection::One(number) => {
            if !for_self && !manages(plan, actor, number) {
                return Ok(Err(QueueRefusal::NotAManager));
            }
            match plan.queue(number) {
                Some(q) if lists(&q.agents, agent) => vec![q],
                _ => return Ok(Err(QueueRefusal::NotAnAgent)),
            }
        }
        QueueSelection::All => {
            let member: Vec<&Queue> = plan
                .queues
                .iter()
                .filter(|q| lists(&q.agents, agent))
                .collect();
            if member.is_empty() {
                return Ok(Err(QueueRefusal::NotAnAgent));
            }
            let allowed: Vec<&Queue> = member
                .into_iter()
                .filter(|q| for_self || lists(&q.managers, actor))
                .collect();
            if allowed.is_empty() {
                return Ok(Err(QueueRefusal::NotAManager));
            }
            allowed
        }
    };
    let mut changed = Vec::new();
    for q in queues {
        if store.queue_logged_in(agent, &q.number)? != logged_in {
            store.set_queue_logged_in(agent, &q.number, logged_in)?;
            if logged_in {
                // `fewest_calls` counts the calls answered since this login.
                store.set_queue_calls_answered(agent, &q.number, 0)?;
            }
            changed.push(q.number.clone());
        }
    }
    Ok(Ok(changed))
}

/// The agents of `queue` that are logged in, in the plan's agent order (the order a hunt
/// queue rings them). An unknown queue has none.
pub fn logged_in_agents(
    plan: &Plan,
    store: &dyn Store,
    queue: &str,
) -> Result<Vec<String>, StoreError> {
    let Some(q) = plan.queue(queue) else {
        return Ok(Vec::new());
    };
    let mut agents: Vec<String> = Vec::new();
    for agent in q.agents.iter().filter_map(Value::literal) {
        if !agents.contains(&agent) && store.queue_logged_in(&agent, queue)? {
            agents.push(agent);
        }
    }
    Ok(agents)
}

/// The order in which `queue` offers a call to `agents` (its logged-in agents, in plan
/// order), by its strategy:
///
/// - `ring_all` and `hunt`: plan order (`ring_all` rings them all at once anyway);
/// - `round_robin`: starting after the agent the queue last offered a call to, going round
///   the plan's agent list (so a logged-out agent's turn passes to the next one);
/// - `longest_idle`: the agent whose last queue call ended longest ago first, agents who
///   never had one before everybody else;
/// - `fewest_calls`: the fewest calls of this queue answered since logging in first.
///
/// Ties keep plan order. Who is busy or in wrap-up is not decided here.
pub fn offer_order(
    plan: &Plan,
    store: &dyn Store,
    queue: &str,
    agents: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let Some(q) = plan.queue(queue) else {
        return Ok(agents);
    };
    let mut agents = agents;
    match q.strategy {
        Strategy::RingAll | Strategy::Hunt => {}
        Strategy::RoundRobin => {
            let listed: Vec<String> = q.agents.iter().filter_map(Value::literal).collect();
            let place = |a: &String| listed.iter().position(|l| l == a).unwrap_or(0);
            if let Some(last) = store.queue_last_offered(queue)? {
                let after = listed.iter().position(|l| *l == last).map_or(0, |p| p + 1);
                let n = listed.len().max(1);
                agents.sort_by_key(|a| (place(a) + n - after % n) % n);
            }
        }
        Strategy::LongestIdle => {
            let mut keyed = Vec::with_capacity(agents.len());
            for a in agents {
                // `None` (never had a queue call) sorts before every time.
                keyed.push((store.agent_last_call_end(&a)?, a));
            }
            keyed.sort_by_key(|(ended, _)| *ended);
            agents = keyed.into_iter().map(|(_, a)| a).collect();
        }
        Strategy::FewestCalls => {
            let mut keyed = Vec::with_capacity(agents.len());
            for a in agents {
                keyed.push((store.queue_calls_answered(&a, queue)?, a));
            }
            keyed.sort_by_key(|(answered, _)| *answered);
            agents = keyed.into_iter().map(|(_, a)| a).collect();
        }
    }
    Ok(agents)
}

/// Whether `agent` is still in `queue`'s wrap-up time: their last queue call (of any
/// queue) ended less than the queue's `wrap_up` ago, by the store's clock.
pub fn in_wrap_up(
    plan: &Plan,
    store: &dyn Store,
    queue: &str,
    agent: &str,
) -> Result<bool, StoreError> {
    let Some(wrap_up) = plan.queue(queue).and_then(|q| q.wrap_up) else {
        return Ok(false);
    };
    let Some(ended) = store.agent_last_call_end(agent)? else {
        return Ok(false);
    };
    let wrap_up = u64::try_from(wrap_up.as_millis()).unwrap_or(u64::MAX);
    Ok(store.now_ms()?.saturating_sub(ended) < wrap_up)
}

/// An agent took one of `queue`'s calls: it counts for `fewest_calls`.
pub fn agent_answered(store: &mut dyn Store, queue: &str, agent: &str) -> Result<(), StoreError> {
    let answered = store.queue_calls_answered(agent, queue)?;
    store.set_queue_calls_answered(agent, queue, answered.saturating_add(1))
}

/// An agent's queue call ended now: their wrap-up starts, and `longest_idle` counts from
/// here.
pub fn agent_call_ended(store: &mut dyn Store, agent: &str) -> Result<(), StoreError> {
    let now = store.now_ms()?;
    store.set_agent_last_call_end(agent, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::office::test_plan;
    use crate::store::MemoryStore;
    use QueueRefusal::*;
    use QueueSelection::*;

    const PLAN: &str = r#"
extension 101 "Alice" { voicemail }
extension 102 "Bruno" { voicemail }
extension 103 "Carla" { voicemail }
extension 104 "Dora" { voicemail }
queue 800 "Sales" { agents 101, 102, 103; managers 101 }
queue 801 "Support" { agents 103, 102; managers 104 }
queue 802 "Billing" { agents 101 }
"#;

    #[test]
    fn membership_comes_from_the_plan() {
        let plan = test_plan(PLAN);
        assert_eq!(agent_queues(&plan, "102"), ["800", "801"]);
        assert_eq!(agent_queues(&plan, "101"), ["800", "802"]);
        assert!(agent_queues(&plan, "104").is_empty());
        assert!(is_agent(&plan, "103"));
        assert!(!is_agent(&plan, "104"));
        assert!(is_manager(&plan, "104"));
        assert!(!is_manager(&plan, "102"));
        assert!(manages(&plan, "101", "800"));
        assert!(!manages(&plan, "101", "801"));
        assert!(!manages(&plan, "101", "899"));
    }

    #[test]
    fn an_agent_logs_themself_in_and_out_of_all_their_queues() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        let login = |store: &mut MemoryStore, which, on| {
            queue_login(&plan, store, "102", "102", which, on).unwrap()
        };
        assert_eq!(
            login(&mut store, One("801"), true),
            Ok(vec!["801".to_string()])
        );
        // 801 was already logged in, so only 800 changes.
        assert_eq!(login(&mut store, All, true), Ok(vec!["800".to_string()]));
        assert_eq!(login(&mut store, All, true), Ok(vec![]));
        assert!(store.queue_logged_in("102", "800").unwrap());
        assert!(store.queue_logged_in("102", "801").unwrap());
        assert!(!store.queue_logged_in("102", "802").unwrap());

        let out = login(&mut store, All, false);
        assert_eq!(out, Ok(vec!["800".to_string(), "801".to_string()]));
        assert!(!store.queue_logged_in("102", "800").unwrap());
        assert!(!store.queue_logged_in("102", "801").unwrap());
    }

    #[test]
    fn only_members_can_be_logged_in() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert_eq!(
            queue_login(&plan, &mut store, "102", "102", One("802"), true).unwrap(),
            Err(NotAnAgent)
        );
        assert_eq!(
            queue_login(&plan, &mut store, "102", "102", One("899"), true).unwrap(),
            Err(NotAnAgent)
        );
        assert_eq!(
            queue_login(&plan, &mut store, "104", "104", All, true).unwrap(),
            Err(NotAnAgent)
        );
        // Even a manager cannot put a non-member in their queue.
        assert_eq!(
            queue_login(&plan, &mut store, "101", "104", One("800"), true).unwrap(),
            Err(NotAnAgent)
        );
        assert!(!store.queue_logged_in("102", "802").unwrap());
        assert!(!store.queue_logged_in("104", "800").unwrap());
    }

    #[test]
    fn only_a_manager_of_the_queue_acts_for_another_agent() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        // 102 is a plain agent; 104 manages 801 but not 800.
        assert_eq!(
            queue_login(&plan, &mut store, "102", "103", One("800"), true).unwrap(),
            Err(NotAManager)
        );
        assert_eq!(
            queue_login(&plan, &mut store, "104", "103", One("800"), true).unwrap(),
            Err(NotAManager)
        );
        assert!(!store.queue_logged_in("103", "800").unwrap());

        assert_eq!(
            queue_login(&plan, &mut store, "101", "103", One("800"), true).unwrap(),
            Ok(vec!["800".to_string()])
        );
        assert!(store.queue_logged_in("103", "800").unwrap());
    }

    #[test]
    fn a_manager_acting_for_all_reaches_only_the_queues_they_manage() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        queue_login(&plan, &mut store, "103", "103", All, true)
            .unwrap()
            .unwrap();
        assert_eq!(
            queue_login(&plan, &mut store, "104", "103", All, false).unwrap(),
            Ok(vec!["801".to_string()])
        );
        assert!(store.queue_logged_in("103", "800").unwrap());
        assert!(!store.queue_logged_in("103", "801").unwrap());
        // 104 manages neither of 101's queues (800, 802), so nothing is left: refused.
        queue_login(&plan, &mut store, "101", "101", All, true)
            .unwrap()
            .unwrap();
        assert_eq!(
            queue_login(&plan, &mut store, "104", "101", All, false).unwrap(),
            Err(NotAManager)
        );
        assert!(store.queue_logged_in("101", "800").unwrap());
        assert!(store.queue_logged_in("101", "802").unwrap());
    }

    const STRATEGIES: &str = r#"
extension 101 "Alice"
extension 102 "Bruno"
extension 103 "Carla"
extension 104 "Dora"
queue 810 "Hunt"   { agents 101, 102, 103, 104; strategy hunt }
queue 811 "Turns"  { agents 101, 102, 103, 104; strategy round_robin }
queue 812 "Idle"   { agents 101, 102, 103, 104; strategy longest_idle; wrap_up 30s }
queue 813 "Fewest" { agents 101, 102, 103, 104; strategy fewest_calls }
"#;

    fn order(plan: &Plan, store: &MemoryStore, queue: &str, agents: &[&str]) -> Vec<String> {
        let agents = agents.iter().map(|a| a.to_string()).collect();
        offer_order(plan, store, queue, agents).unwrap()
    }

    #[test]
    fn hunt_keeps_plan_order() {
        let plan = test_plan(STRATEGIES);
        let store = MemoryStore::new();
        assert_eq!(order(&plan, &store, "810", &["101", "103"]), ["101", "103"]);
    }

    #[test]
    fn round_robin_goes_on_after_the_last_offer_even_when_that_agent_left() {
        let plan = test_plan(STRATEGIES);
        let mut store = MemoryStore::new();
        let all = ["101", "102", "103", "104"];
        // No offer yet: plan order.
        assert_eq!(order(&plan, &store, "811", &all), all);
        store.set_queue_last_offered("811", "102").unwrap();
        assert_eq!(
            order(&plan, &store, "811", &all),
            ["103", "104", "101", "102"]
        );
        // The last of the list: round to the first.
        store.set_queue_last_offered("811", "104").unwrap();
        assert_eq!(order(&plan, &store, "811", &all), all);
        // 103 was offered the last call and has logged out since: 104's turn.
        store.set_queue_last_offered("811", "103").unwrap();
        assert_eq!(
            order(&plan, &store, "811", &["101", "102", "104"]),
            ["104", "101", "102"]
        );
        // Another queue's turn is its own.
        assert_eq!(order(&plan, &store, "810", &all), all);
    }

    #[test]
    fn longest_idle_puts_never_called_agents_first_then_the_oldest_call_end() {
        let plan = test_plan(STRATEGIES);
        let mut store = MemoryStore::new();
        store.set_agent_last_call_end("101", 5_000).unwrap();
        store.set_agent_last_call_end("102", 1_000).unwrap();
        store.set_agent_last_call_end("104", 3_000).unwrap();
        assert_eq!(
            order(&plan, &store, "812", &["101", "102", "103", "104"]),
            ["103", "102", "104", "101"]
        );
    }

    #[test]
    fn fewest_calls_counts_per_queue_and_ties_keep_plan_order() {
        let plan = test_plan(STRATEGIES);
        let mut store = MemoryStore::new();
        store.set_queue_calls_answered("101", "813", 2).unwrap();
        store.set_queue_calls_answered("102", "813", 1).unwrap();
        store.set_queue_calls_answered("103", "811", 9).unwrap(); // another queue's
        assert_eq!(
            order(&plan, &store, "813", &["101", "102", "103", "104"]),
            ["103", "104", "102", "101"]
        );
    }

    #[test]
    fn a_login_starts_the_count_again_and_an_answer_adds_one() {
        let plan = test_plan(STRATEGIES);
        let mut store = MemoryStore::new();
        store.set_queue_calls_answered("101", "813", 5).unwrap();
        agent_answered(&mut store, "813", "101").unwrap();
        assert_eq!(store.queue_calls_answered("101", "813").unwrap(), 6);
        queue_login(&plan, &mut store, "101", "101", One("813"), true)
            .unwrap()
            .unwrap();
        assert_eq!(store.queue_calls_answered("101", "813").unwrap(), 0);
    }

    #[test]
    fn wrap_up_lasts_the_queues_wrap_up_time_after_the_call_ends() {
        let plan = test_plan(STRATEGIES);
        let mut store = MemoryStore::new();
        store.advance(100_000);
        assert!(!in_wrap_up(&plan, &store, "812", "101").unwrap());
        agent_call_ended(&mut store, "101").unwrap();
        assert!(in_wrap_up(&plan, &store, "812", "101").unwrap());
        // A queue without `wrap_up` offers the agent its calls at once.
        assert!(!in_wrap_up(&plan, &store, "811", "101").unwrap());
        store.advance(29_999);
        assert!(in_wrap_up(&plan, &store, "812", "101").unwrap());
        store.advance(1);
        assert!(!in_wrap_up(&plan, &store, "812", "101").unwrap());
    }

    #[test]
    fn logged_in_agents_come_in_plan_order() {
        let plan = test_plan(PLAN);
        let mut store = MemoryStore::new();
        assert!(logged_in_agents(&plan, &store, "801").unwrap().is_empty());
        queue_login(&plan, &mut store, "102", "102", All, true)
            .unwrap()
            .unwrap();
        queue_login(&plan, &mut store, "103", "103", One("801"), true)
            .unwrap()
            .unwrap();
        // 801 lists 103 before 102, whatever order they logged in.
        assert_eq!(
            logged_in_agents(&plan, &store, "801").unwrap(),
            ["103", "102"]
        );
        assert_eq!(logged_in_agents(&plan, &store, "800").unwrap(), ["102"]);
        // A login the store holds for a non-member does not make them an agent.
        store.set_queue_logged_in("104", "800", true).unwrap();
        assert_eq!(logged_in_agents(&plan, &store, "800").unwrap(), ["102"]);
        assert!(logged_in_agents(&plan, &store, "899").unwrap().is_empty());
    }
}
