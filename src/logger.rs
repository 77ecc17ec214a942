//! The engine's `tracing` events, handed to the JavaScript logger (lib/logger.js's, set by
//! lib/coordinator.js through `NativeEngine.setLogSink`).

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::NativeEngine;

/// `(json) => void`, not keeping Node alive: log lines are not a reason to stay up.
type WeakFn = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Where engine log events go: the JS function set last.
static LOG_SINK: Mutex<Option<WeakFn>> = Mutex::new(None);
static SUBSCRIBER: OnceLock<()> = OnceLock::new();

/// Collects an event's message and fields.
#[derive(Default)]
struct Fields {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.record(field, text);
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: String) {
        match field.name() {
            "message" => self.message = value,
            name => {
                // job_id → jobId, the logger's field names
                let mut camel = String::new();
                let mut upper = false;
                for c in name.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        camel.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        camel.push(c);
                    }
                }
                self.fields.insert(camel, value.into());
            }
        }
    }
}

/// Forwards each engine event to [`LOG_SINK`] as JSON `{level, msg, ...fields}`.
struct JsLogLayer;

impl<S: tracing::Subscriber> Layer<S> for JsLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let sink = LOG_SINK.lock().expect("log sink lock");
        let Some(f) = sink.as_ref() else { return };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            _ => "debug",
        };
        fields.fields.insert("source".into(), "engine".into());
        let line =
            serde_json::json!({ "level": level, "msg": fields.message, "fields": fields.fields });
        f.call(line.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
    }
}

#[napi]
impl NativeEngine {
    /// Routes the engine's log events, of every engine in the process, to `sink`
    /// (`(json) => void`), replacing the previous one.
    #[napi(ts_args_type = "sink: (line: string) => void")]
    pub fn set_log_sink(sink: WeakFn) {
        SUBSCRIBER.get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(JsLogLayer);
            // A global subscriber set by an embedding program wins; then none go to JS.
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        *LOG_SINK.lock().expect("log sink lock") = Some(sink);
    }
}
