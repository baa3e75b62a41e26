//! A driver library's log lines, carried to weftd's log. A library has its own copy of `tracing`
//! (a cdylib links its dependencies in), so its events would go nowhere: the library installs a
//! subscriber that hands every event to the host's [`LogFn`], and the host logs it as its own.

use std::fmt::{self, Write};
use std::sync::OnceLock;

use abi_stable::std_types::RStr;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use crate::interface::LogFn;

static SINK: OnceLock<(LogFn, Level)> = OnceLock::new();

fn level_number(l: &Level) -> u8 {
    match *l {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// In the library: send this library's events at `max` and above to `log`. Panics are logged the
/// same way (their message also becomes the failed call's error).
pub(crate) fn install(log: LogFn, max: Level) {
    if SINK.set((log, max)).is_ok() {
        let _ = tracing::subscriber::set_global_default(Forward);
        std::panic::set_hook(Box::new(|info| forward(1, "panic", &info.to_string())));
    }
}

fn forward(level: u8, target: &str, message: &str) {
    if let Some((log, _)) = SINK.get() {
        (log.func)(level, RStr::from_str(target), RStr::from_str(message));
    }
}

struct Forward;

/// The event's message, then its other fields as `key=value`.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl Subscriber for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        SINK.get().is_some_and(|(_, max)| metadata.level() <= max)
    }
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _span: &Id, _values: &Record<'_>) {}
    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = Message(String::new());
        event.record(&mut m);
        forward(level_number(event.metadata().level()), event.metadata().target(), &m.0);
    }
    fn enter(&self, _span: &Id) {}
    fn exit(&self, _span: &Id) {}
}

/// In weftd: where a library's events land, under the target `driver`.
pub(crate) const HOST_LOG: LogFn = LogFn { func: host_log };

extern "C" fn host_log(level: u8, target: RStr<'_>, message: RStr<'_>) {
    let (target, message) = (target.as_str(), message.as_str());
    match level {
        1 => tracing::error!(target: "driver", "{target}: {message}"),
        2 => tracing::warn!(target: "driver", "{target}: {message}"),
        3 => tracing::info!(target: "driver", "{target}: {message}"),
        4 => tracing::debug!(target: "driver", "{target}: {message}"),
        _ => tracing::trace!(target: "driver", "{target}: {message}"),
    }
}

/// The most verbose level weftd logs now, for the library's filter.
pub(crate) fn host_max_level() -> &'static str {
    match tracing::level_filters::LevelFilter::current().into_level() {
        Some(Level::TRACE) => "trace",
        Some(Level::DEBUG) => "debug",
        Some(Level::INFO) => "info",
        Some(Level::WARN) => "warn",
        _ => "error",
    }
}

pub(crate) fn parse_level(s: &str) -> Level {
    match s {
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => Level::INFO,
    }
}
