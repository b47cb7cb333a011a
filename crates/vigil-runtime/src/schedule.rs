//! The rule schedule replayed with a simulated clock.
//!
//! Runs fall on a grid aligned to the Unix epoch (multiples of the rule's interval), so two hunts
//! over adjacent ranges run the rule at the same instants as one hunt over their union.

use jiff::{SignedDuration, Timestamp};

/// One rule execution: its `now` and the window it searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub now: Timestamp,
    /// Inclusive bounds, as Kibana's `gte`/`lte` range on the timestamp field.
    pub from: Timestamp,
    pub to: Timestamp,
}

/// The runs of a rule enabled at `start` and stopped at `end`: every grid instant from the
/// first at or after `start` to the first at or after `end`. Each searches
/// `[now - lookback, now]`, as the rule would: the first runs look back before `start` (the
/// history an aggregating query or a look-back reads), and no run searches past `end`.
pub fn runs(
    start: Timestamp,
    end: Timestamp,
    interval: SignedDuration,
    lookback: SignedDuration,
) -> Vec<Run> {
    let step = interval.as_nanos().max(1);
    let mut out = Vec::new();
    if end < start {
        return out;
    }
    let first = ceil_to(start.as_nanosecond(), step);
    let last = ceil_to(end.as_nanosecond(), step);
    let mut t = first;
    while t <= last {
        if let Ok(now) = Timestamp::from_nanosecond(t) {
            let from = now.checked_sub(lookback).unwrap_or(now);
            out.push(Run {
                now,
                from,
                to: now.min(end),
            });
        }
        t += step;
    }
    out
}

fn ceil_to(x: i128, step: i128) -> i128 {
    let r = x.rem_euclid(step);
    if r == 0 { x } else { x + (step - r) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn grid_aligned_looking_back_before_the_start() {
        let r = runs(
            ts("2026-01-01T00:03:00Z"),
            ts("2026-01-01T00:12:00Z"),
            SignedDuration::from_mins(5),
            SignedDuration::from_mins(9),
        );
        let nows: Vec<String> = r.iter().map(|x| x.now.to_string()).collect();
        assert_eq!(
            nows,
            [
                "2026-01-01T00:05:00Z",
                "2026-01-01T00:10:00Z",
                "2026-01-01T00:15:00Z"
            ]
        );
        assert_eq!(r[0].from, ts("2025-12-31T23:56:00Z"));
        assert_eq!(r[1].from, ts("2026-01-01T00:01:00Z"));
        assert_eq!(r[2].from, ts("2026-01-01T00:06:00Z"));
        assert_eq!(r[2].to, ts("2026-01-01T00:12:00Z"));
    }

    #[test]
    fn adjacent_ranges_share_the_grid() {
        let i = SignedDuration::from_mins(5);
        let l = SignedDuration::from_mins(9);
        let a = runs(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T01:00:00Z"), i, l);
        let b = runs(ts("2026-01-01T01:00:00Z"), ts("2026-01-01T02:00:00Z"), i, l);
        let all = runs(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T02:00:00Z"), i, l);
        let mut nows: Vec<Timestamp> = a.iter().chain(&b).map(|r| r.now).collect();
        nows.dedup();
        assert_eq!(nows, all.iter().map(|r| r.now).collect::<Vec<_>>());
    }
}
