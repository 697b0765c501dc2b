//! A budget of log lines, sans-IO, for the places an attacker can make the log grow:
//! at most [`LogBudget::per_minute`] lines of one kind a minute; past it the lines are
//! counted and the next line allowed says how many were left out.

use std::time::{Duration, Instant};

const MINUTE: Duration = Duration::from_secs(60);

/// Lines of one kind allowed a minute.
pub struct LogBudget {
    per_minute: u32,
    minute_start: Option<Instant>,
    used: u32,
    suppressed: u64,
}

/// Whether to write a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spend {
    /// Write it; `suppressed` lines of this kind were left out since the last one.
    Write { suppressed: u64 },
    /// Leave it out.
    Skip,
}

impl LogBudget {
    pub const fn new(per_minute: u32) -> LogBudget {
        LogBudget {
            per_minute,
            minute_start: None,
            used: 0,
            suppressed: 0,
        }
    }

    /// Asks for one line at `now`.
    pub fn spend(&mut self, now: Instant) -> Spend {
        let new_minute = self
            .minute_start
            .is_none_or(|start| now.saturating_duration_since(start) >= MINUTE);
        if new_minute {
            self.minute_start = Some(now);
            self.used = 0;
        }
        if self.used >= self.per_minute {
            self.suppressed += 1;
            return Spend::Skip;
        }
        self.used += 1;
        Spend::Write {
            suppressed: std::mem::take(&mut self.suppressed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_budget_are_counted_and_reported_by_the_next_one() {
        let t0 = Instant::now();
        let mut budget = LogBudget::new(3);
        for _ in 0..3 {
            assert_eq!(budget.spend(t0), Spend::Write { suppressed: 0 });
        }
        for _ in 0..1000 {
            assert_eq!(budget.spend(t0 + Duration::from_secs(59)), Spend::Skip);
        }
        assert_eq!(budget.spend(t0 + MINUTE), Spend::Write { suppressed: 1000 });
        assert_eq!(budget.spend(t0 + MINUTE), Spend::Write { suppressed: 0 });
    }
}
