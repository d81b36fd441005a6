//! Run logs on stderr: readable lines with a live progress line on a terminal, plain lines when
//! not a terminal (cron mails them), or one JSON object per line for log shippers.

use std::io::{IsTerminal, Write};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::config::LogFormat;

pub struct Log {
    format: LogFormat,
    tty: bool,
}

impl Log {
    pub fn new(format: LogFormat) -> Log {
        Log {
            format,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// One event: a message for people, and fields for machines (JSON) .
    pub fn info(&self, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.write("info", event, message, fields);
    }

    pub fn warn(&self, event: &str, message: &str, fields: &[(&str, Value)]) {
        self.write("warn", event, message, fields);
    }

    fn write(&self, level: &str, event: &str, message: &str, fields: &[(&str, Value)]) {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let line = match self.format {
            LogFormat::Json => {
                let mut object = Map::new();
                object.insert("ts".into(), now.into());
                object.insert("level".into(), level.into());
                object.insert("event".into(), event.into());
                object.insert("message".into(), message.into());
                for (key, value) in fields {
                    object.insert((*key).into(), value.clone());
                }
                Value::Object(object).to_string()
            }
            LogFormat::Text => {
                let tag = if level == "warn" { " WARN" } else { "" };
                format!("{now}{tag} {message}")
            }
        };
        let mut err = std::io::stderr().lock();
        // Clear a progress line first so messages do not interleave with it.
        let clear = if self.tty && self.format == LogFormat::Text {
            "\r\x1b[2K"
        } else {
            ""
        };
        let _ = writeln!(err, "{clear}{line}");
    }

    /// `[####----] models 3/17 retention_monthly`: the phase's progress, redrawn in place on a
    /// terminal; nothing otherwise (each step's result is logged as its own line).
    pub fn progress(&self, phase: &str, done: usize, total: usize, label: &str) {
        if self.tty && self.format == LogFormat::Text {
            let width = 24;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K[{bar}] {phase} {done}/{total} {label}");
            let _ = err.flush();
        }
    }
}
