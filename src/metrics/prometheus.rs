//! The Prometheus text exposition format 0.0.4, and OpenMetrics 1.0 text when the
//! scraper's `Accept` asks for it (notes/otlp-and-prometheus.md §6).
//!
//! One contiguous block per family, HELP then TYPE once, series in label order;
//! histogram buckets cumulative and ending in `+Inf`, which equals `_count`
//! because both are the sum of the same per-bucket counts; `+Inf`, `-Inf`, `NaN`
//! spelled the way Go's `ParseFloat` reads them.

use super::catalog::{Point, Visitor};
use super::registry::{Desc, Kind, LabelValues};

/// `Content-Type` of a 0.0.4 text body.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of an OpenMetrics 1.0 body.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which text format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// OpenMetrics when `accept` (a request's `Accept` header) lists it with a weight
    /// (`q`, RFC 9110 §12.4.2) above zero and no lower than the text format's (taken
    /// from `text/plain`, else `text/*`, else `*/*`: the most specific range that
    /// covers it), else 0.0.4, which every Prometheus accepts as the last resort.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let mut open_metrics = None;
        // text/plain, text/*, */*
        let mut text = [None; 3];
        for range in accept.unwrap_or("").split(',') {
            let mut parts = range.split(';');
            let kind = parts.next().unwrap_or("").trim();
            let weight = parts
                .find_map(|param| {
                    let (name, value) = param.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("q").then_some(value)
                })
                .map_or(Some(1000), qvalue)
                .unwrap_or(0);
            let slot = if kind.eq_ignore_ascii_case("application/openmetrics-text") {
                &mut open_metrics
            } else if kind.eq_ignore_ascii_case("text/plain") {
                &mut text[0]
            } else if kind.eq_ignore_ascii_case("text/*") {
                &mut text[1]
            } else if kind == "*/*" {
                &mut text[2]
            } else {
                continue;
            };
            *slot = Some(slot.map_or(weight, |w: u16| w.max(weight)));
        }
        let text = text.into_iter().flatten().next().unwrap_or(0);
        match open_metrics {
            Some(weight) if weight > 0 && weight >= text => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => CONTENT_TYPE_TEXT,
            Format::OpenMetrics => CONTENT_TYPE_OPENMETRICS,
        }
    }
}

/// A weight (`0`, `0.5`, `1.000`) in thousandths; `None` when malformed.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Writes samples as they are visited, starting a family block at its first sample.
pub(crate) struct Writer<'a> {
    out: &'a mut String,
    format: Format,
    current: Option<&'static str>,
    /// `name{labels` of the series being written, reused between series.
    series: String,
    /// The `le` values of the current histogram family, formatted once per family.
    le: Vec<String>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut String, format: Format) -> Writer<'a> {
        Writer {
            out,
            format,
            current: None,
            series: String::with_capacity(128),
            le: Vec::new(),
        }
    }

    fn header(&mut self, desc: &Desc) {
        let kind = match desc.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let out = &mut *self.out;
        match self.format {
            Format::Text => {
                out.push_str("# HELP ");
                out.push_str(desc.name);
                out.push(' ');
                escape(out, desc.help, false);
                out.push_str("\n# TYPE ");
                out.push_str(desc.name);
                out.push(' ');
                out.push_str(kind);
                out.push('\n');
            }
            Format::OpenMetrics => {
                // OpenMetrics names the family: a counter's samples add `_total`.
                let family = match desc.kind {
                    Kind::Counter => desc.name.strip_suffix("_total").unwrap_or(desc.name),
                    _ => desc.name,
                };
                out.push_str("# TYPE ");
                out.push_str(family);
                out.push(' ');
                out.push_str(kind);
                out.push_str("\n# HELP ");
                out.push_str(family);
                out.push(' ');
                escape(out, desc.help, true);
                out.push('\n');
            }
        }
    }

    /// `series` := `name` + `suffix` + `{labels` (no closing brace), `open` := labels written.
    fn start_series(&mut self, desc: &Desc, suffix: &str, labels: LabelValues<'_>) -> bool {
        let s = &mut self.series;
        s.clear();
        s.push_str(desc.name);
        s.push_str(suffix);
        for i in 0..labels.len() {
            s.push(if i == 0 { '{' } else { ',' });
            s.push_str(desc.labels[i]);
            s.push_str("=\"");
            escape_label(s, labels.get(i));
            s.push('"');
        }
        labels.len() > 0
    }

    /// One line: the series, an optional extra label, the value.
    fn line(&mut self, open: bool, extra: Option<(&str, &str)>, value: Value) {
        let out = &mut *self.out;
        out.push_str(&self.series);
        match (open, extra) {
            (true, Some((name, v))) => {
                out.push(',');
                push_label(out, name, v);
                out.push('}');
            }
            (false, Some((name, v))) => {
                out.push('{');
                push_label(out, name, v);
                out.push('}');
            }
            (true, None) => out.push('}'),
            (false, None) => {}
        }
        out.push(' ');
        match value {
            Value::Int(n) => push_u64(out, n),
            Value::Signed(n) => {
                if n < 0 {
                    out.push('-');
                }
                push_u64(out, n.unsigned_abs());
            }
            Value::Float(f) => push_f64(out, f, false),
        }
        out.push('\n');
    }
}

#[derive(Clone, Copy)]
enum Value {
    Int(u64),
    Signed(i64),
    Float(f64),
}

impl Visitor for Writer<'_> {
    fn sample(&mut self, desc: &'static Desc, labels: LabelValues<'_>, point: Point<'_>) {
        if self.current != Some(desc.name) {
            self.current = Some(desc.name);
            self.header(desc);
            self.le.clear();
        }
        match point {
            Point::Histogram(h) => {
                if self.le.is_empty() {
                    let canonical = self.format == Format::OpenMetrics;
                    for &bound in h.bounds() {
                        let mut le = String::new();
                        push_f64(&mut le, bound, canonical);
                        self.le.push(le);
                    }
                    self.le.push("+Inf".to_string());
                }
                let open = self.start_series(desc, "_bucket", labels);
                let mut cumulative = 0u64;
                let le = std::mem::take(&mut self.le);
                for (count, le) in h.counts().zip(&le) {
                    cumulative += count;
                    self.line(open, Some(("le", le)), Value::Int(cumulative));
                }
                self.le = le;
                let open = self.start_series(desc, "_sum", labels);
                self.line(open, None, Value::Float(h.sum()));
                let open = self.start_series(desc, "_count", labels);
                self.line(open, None, Value::Int(cumulative));
            }
            Point::Int(n) => {
                let open = self.start_series(desc, "", labels);
                self.line(open, None, Value::Int(n));
            }
            Point::Signed(n) => {
                let open = self.start_series(desc, "", labels);
                self.line(open, None, Value::Signed(n));
            }
            Point::Float(f) => {
                let open = self.start_series(desc, "", labels);
                self.line(open, None, Value::Float(f));
            }
        }
    }
}

/// Ends a body: OpenMetrics requires `# EOF`.
pub(crate) fn finish(out: &mut String, format: Format) {
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
}

fn push_label(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    escape_label(out, value);
    out.push('"');
}

/// Label values: `\` → `\\`, `"` → `\"`, LF → `\n`, nothing else.
fn escape_label(out: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// HELP text: `\` and LF only in 0.0.4 (expfmt rejects other escapes); `"` too in OpenMetrics.
fn escape(out: &mut String, help: &str, quote: bool) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn push_u64(out: &mut String, n: u64) {
    out.push_str(crate::bytes::decimal(n, &mut [0; 20]));
}

/// Shortest round-trip digits; `+Inf`, `-Inf`, `NaN`; `canonical` writes whole
/// numbers as `1.0` (OpenMetrics `le`).
fn push_f64(out: &mut String, f: f64, canonical: bool) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        if f < 0.0 {
            out.push('-');
        }
        push_u64(out, f.abs() as u64);
        if canonical {
            out.push_str(".0");
        }
    } else {
        use std::fmt::Write;
        let _ = write!(out, "{f}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::registry::Histogram;

    static PLAIN: Desc = Desc {
        name: "t_total",
        help: "Help with \\ backslash,\nnewline and \"quotes\"",
        unit: "1",
        kind: Kind::Counter,
        labels: &["path"],
        buckets: &[],
    };
    static GAUGE: Desc = Desc {
        name: "g",
        help: "g",
        unit: "1",
        kind: Kind::Gauge,
        labels: &[],
        buckets: &[],
    };
    static HIST: Desc = Desc {
        name: "h_seconds",
        help: "h",
        unit: "s",
        kind: Kind::Histogram,
        labels: &["op"],
        buckets: &[0.5, 1.0],
    };

    fn render(format: Format, feed: impl FnOnce(&mut Writer<'_>)) -> String {
        let mut out = String::new();
        feed(&mut Writer::new(&mut out, format));
        finish(&mut out, format);
        out
    }

    #[test]
    fn golden_text_with_escaping_and_histograms() {
        let h = Histogram::new(HIST.buckets);
        for v in [0.25, 0.5, 0.75, 3.0] {
            h.observe(v);
        }
        let feed = |w: &mut Writer<'_>| {
            w.sample(
                &PLAIN,
                LabelValues::Static(&["C:\\dir \"x\"\nnext"]),
                Point::Int(3),
            );
            w.sample(&PLAIN, LabelValues::Static(&["plain"]), Point::Int(0));
            for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -2.5, 1e21, 0.1] {
                w.sample(&GAUGE, LabelValues::Static(&[]), Point::Float(f));
            }
            w.sample(&GAUGE, LabelValues::Static(&[]), Point::Signed(-4));
            w.sample(&HIST, LabelValues::Static(&["a"]), Point::Histogram(&h));
        };
        let expected = "\
# HELP t_total Help with \\\\ backslash,\\nnewline and \"quotes\"
# TYPE t_total counter
t_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 3
t_total{path=\"plain\"} 0
# HELP g g
# TYPE g gauge
g NaN
g +Inf
g -Inf
g -2.5
g 1000000000000000000000
g 0.1
g -4
# HELP h_seconds h
# TYPE h_seconds histogram
h_seconds_bucket{op=\"a\",le=\"0.5\"} 2
h_seconds_bucket{op=\"a\",le=\"1\"} 3
h_seconds_bucket{op=\"a\",le=\"+Inf\"} 4
h_seconds_sum{op=\"a\"} 4.5
h_seconds_count{op=\"a\"} 4
";
        assert_eq!(render(Format::Text, feed), expected, "0.0.4 body");
    }

    #[test]
    fn empty_families_and_unlabelled_histograms() {
        assert_eq!(
            render(Format::Text, |_| {}),
            "",
            "a family without series writes nothing, not even HELP"
        );
        static BARE: Desc = Desc {
            name: "b",
            help: "b",
            unit: "s",
            kind: Kind::Histogram,
            labels: &[],
            buckets: &[1.0],
        };
        let h = Histogram::new(BARE.buckets);
        let text = render(Format::Text, |w| {
            w.sample(&BARE, LabelValues::Static(&[]), Point::Histogram(&h))
        });
        assert_eq!(
            text,
            "# HELP b b\n# TYPE b histogram\nb_bucket{le=\"1\"} 0\nb_bucket{le=\"+Inf\"} 0\nb_sum 0\nb_count 0\n",
            "an empty histogram still has every bucket, +Inf equal to _count"
        );
    }

    #[test]
    fn golden_openmetrics() {
        let h = Histogram::new(HIST.buckets);
        h.observe(1.0);
        let text = render(Format::OpenMetrics, |w| {
            w.sample(&PLAIN, LabelValues::Static(&["p"]), Point::Int(1));
            w.sample(&HIST, LabelValues::Static(&["a"]), Point::Histogram(&h));
        });
        let expected = "\
# TYPE t counter
# HELP t Help with \\\\ backslash,\\nnewline and \\\"quotes\\\"
t_total{path=\"p\"} 1
# TYPE h_seconds histogram
# HELP h_seconds h
h_seconds_bucket{op=\"a\",le=\"0.5\"} 0
h_seconds_bucket{op=\"a\",le=\"1.0\"} 1
h_seconds_bucket{op=\"a\",le=\"+Inf\"} 1
h_seconds_sum{op=\"a\"} 1
h_seconds_count{op=\"a\"} 1
# EOF
";
        assert_eq!(text, expected, "OpenMetrics body");
    }

    #[test]
    fn accept_negotiation() {
        let table = [
            (None, Format::Text),
            (
                Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                Format::Text,
            ),
            (
                Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
                Format::OpenMetrics,
            ),
            // What Prometheus 2.x and 3.x send.
            (
                Some(
                    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
                ),
                Format::OpenMetrics,
            ),
            (
                Some("application/openmetrics-text; q=0, text/plain"),
                Format::Text,
            ),
            (
                Some("text/plain;q=1.0,application/openmetrics-text;q=0.9"),
                Format::Text,
            ),
            (Some("Application/OpenMetrics-Text"), Format::OpenMetrics),
            // The weight's name in any case, spaces around `=`.
            (
                Some("application/openmetrics-text;Q=0, text/plain"),
                Format::Text,
            ),
            (
                Some("application/openmetrics-text; q = 0, text/plain;q=0.5"),
                Format::Text,
            ),
            // Wildcards cover the text format when text/plain is not named.
            (
                Some("application/openmetrics-text;q=0.5, */*"),
                Format::Text,
            ),
            (
                Some("application/openmetrics-text;q=0.5, text/*"),
                Format::Text,
            ),
            (
                Some("application/openmetrics-text;q=0.5, text/plain;q=0.4, */*"),
                Format::OpenMetrics,
            ),
            (Some("*/*"), Format::Text),
            (
                Some("text/html,application/xhtml+xml,*/*;q=0.8"),
                Format::Text,
            ),
            (Some("application/openmetrics-text;q=2"), Format::Text),
            (Some("application/openmetrics-text;q=0.0001"), Format::Text),
        ];
        for (accept, want) in table {
            assert_eq!(Format::negotiate(accept), want, "{accept:?}");
        }
        for (text, want) in [
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.125", Some(125)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("0.1234", None),
            ("x", None),
            ("0.-1", None),
        ] {
            assert_eq!(qvalue(text), want, "q={text}");
        }
    }
}
