//! What a script sees of a call: a read-only view built by the engine, never by the
//! script, and the office's wall time handed in by whoever owns the clock.

use rhai::{Dynamic, Map};
use std::collections::BTreeMap;

/// What a script can see of a call: the view is built by the engine, never by the script.
#[derive(Clone, Debug, Default)]
pub struct CallView {
    pub caller_extension: String,
    pub caller_number: String,
    pub caller_name: String,
    pub dialled: String,
    pub time: WallTime,
    pub vars: BTreeMap<String, String>,
    /// For chat routing: channel, from, to, text, language.
    pub msg: BTreeMap<String, String>,
}

/// Office-local wall-clock time, handed in by whoever owns the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 1 = Monday ... 7 = Sunday.
    pub weekday: u32,
}

impl Default for WallTime {
    /// Monday 2026-11-23, 10:00: a plain office morning, for checks and tests.
    fn default() -> WallTime {
        WallTime {
            year: 2026,
            month: 11,
            day: 23,
            hour: 10,
            minute: 0,
            weekday: 1,
        }
    }
}

impl WallTime {
    /// `"2026-11-23 19:00"`, as tests and `simulate --time` write office time.
    pub fn parse(text: &str) -> Result<WallTime, String> {
        // jiff explains from the outside in; the innermost part names the field.
        let dt: jiff::civil::DateTime = text.trim().parse().map_err(|e: jiff::Error| {
            let e = e.to_string();
            e.rsplit(": ").next().unwrap_or(&e).to_string()
        })?;
        Ok(WallTime::from_civil(dt))
    }

    /// The fields scripts see of a calendar date and time.
    pub fn from_civil(dt: jiff::civil::DateTime) -> WallTime {
        WallTime {
            year: i32::from(dt.year()),
            month: dt.month() as u32,
            day: dt.day() as u32,
            hour: dt.hour() as u32,
            minute: dt.minute() as u32,
            weekday: dt.weekday().to_monday_one_offset() as u32,
        }
    }
}

pub(super) fn view_caller(view: &CallView) -> Dynamic {
    let mut m = Map::new();
    m.insert("extension".into(), view.caller_extension.clone().into());
    m.insert("number".into(), view.caller_number.clone().into());
    m.insert("name".into(), view.caller_name.clone().into());
    m.into()
}

pub(super) fn view_time(t: &WallTime) -> Dynamic {
    let mut m = Map::new();
    m.insert("year".into(), (t.year as i64).into());
    m.insert("month".into(), (t.month as i64).into());
    m.insert("day".into(), (t.day as i64).into());
    m.insert("hour".into(), (t.hour as i64).into());
    m.insert("minute".into(), (t.minute as i64).into());
    m.insert("weekday".into(), (t.weekday as i64).into());
    m.into()
}

/// A Rhai map from pairs; a later pair for the same key wins.
pub(super) fn string_map<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Dynamic {
    let m: Map = pairs.map(|(k, v)| (k.into(), v.into())).collect();
    m.into()
}
