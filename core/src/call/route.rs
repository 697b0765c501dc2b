//! Where a new call starts: the `dial` route for a desk phone's number, or the `inbound`
//! route for a call from a trunk. A route's `when` that fails counts as not matching, so
//! one broken condition cannot keep every caller out.

use super::{Call, Caller};
use crate::numbers::same_number;
use crate::store::Store;
use crate::trace::Traced;
use switchboard_dsl::ir::{Addr, Cond};

impl Call {
    pub(super) fn find_route(&mut self, store: &mut dyn Store) -> Option<Addr> {
        let plan = self.plan.clone();
        match self.from.clone() {
            Caller::Extension { .. } => {
                let mut candidates = Vec::new();
                plan.route_table
                    .lookup(&plan.routes, &self.dialled, &mut candidates);
                // A hot-desk phone nobody is logged in to has no extension yet: it may log
                // in, log out and call emergency numbers, nothing else.
                let unassigned = self.caller_extension().is_some_and(str::is_empty);
                for i in candidates {
                    if unassigned && !plan.program.route_open_to_unassigned[i] {
                        continue;
                    }
                    if !self.when(plan.program.route_when[i].as_ref(), store) {
                        continue;
                    }
                    let route = &plan.routes[i];
                    let dialled = self.dialled.clone();
                    if let Some(captures) = route.pattern.matches(&dialled) {
                        for (name, value) in captures {
                            self.set_var(name, value.to_string());
                        }
                    }
                    self.note(
                        Some(route.route.pattern_span),
                        Traced::Route(format!("\"{}\" matches {dialled}", route.route.pattern)),
                    );
                    return Some(plan.program.routes[i]);
                }
                if unassigned {
                    self.note(
                        None,
                        Traced::Error("nobody is logged in to this hot-desk phone".into()),
                    );
                }
                None
            }
            Caller::Trunk { trunk, .. } => {
                let mut order: Vec<usize> = (0..plan.inbound.len())
                    .filter(|&i| {
                        let r = &plan.inbound[i];
                        r.trunk.name == trunk
                            && r.to
                                .as_ref()
                                .is_none_or(|(to, _)| same_number(to, &self.dialled))
                    })
                    .collect();
                // As for `dial` and `chat` routes: `when` routes first, then a route for this
                // very number, then the rest, each in source order.
                order.sort_by_key(|&i| {
                    let r = &plan.inbound[i];
                    (r.condition.is_none(), r.to.is_none(), i)
                });
                for i in order {
                    if !self.when(plan.program.inbound_when[i].as_ref(), store) {
                        continue;
                    }
                    let r = &plan.inbound[i];
                    self.note(
                        Some(r.span),
                        Traced::Route(format!("inbound on trunk \"{trunk}\" to {}", self.dialled)),
                    );
                    return Some(plan.program.inbound[i]);
                }
                None
            }
        }
    }

    fn when(&mut self, cond: Option<&Cond>, store: &mut dyn Store) -> bool {
        let Some(c) = cond else {
            return true;
        };
        match self.condition(c, store) {
            Ok(b) => b,
            Err(e) => {
                self.note(None, Traced::Error(format!("{e}; the route is skipped")));
                false
            }
        }
    }
}
