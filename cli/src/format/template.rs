//! `--format` Go templates: gtmpl runs them, with Docker's functions and Go's way of printing.
//!
//! gtmpl prints an action's value with Rust's `Debug` for lists and maps, and cannot call a method
//! with arguments (`{{.Label "team"}}`). Before gtmpl parses a template, [`rewrite`] therefore
//! changes two things in its source, and nothing else:
//!
//! - every action that prints (not `if`/`range`/`end`/..., not a variable declaration, not a
//!   comment) gets ` | _weftPrint` appended to its pipeline: that function prints the final
//!   value as Go's `fmt.Sprint` does (see `gotypes::go_print`);
//! - in `network ls` templates, the method call `.Label "key"` becomes `_weftLabel . "key"`.
//!
//! Known differences with Go that remain: `range` over a map visits keys in no particular order
//! (gtmpl keeps maps in a `HashMap`), and error messages are gtmpl's, not Go's.

use std::collections::HashMap;

use gtmpl::{Context, Template, Value};

use super::funcs::{HEADER_FUNCS, ROW_FUNCS};
use super::gotypes::{type_name, GO_TYPE};

/// The function appended to printing actions.
pub(super) const PRINT: &str = "_weftPrint";
/// The function that stands for the `Label` method of `network ls` rows.
pub(super) const LABEL: &str = "_weftLabel";
/// Hidden key of a `network ls` row: its labels, for `.Label "key"`.
pub const LABELS: &str = "\u{0}labels";

/// What the dot of a template is, which decides the methods it has beside its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dot {
    /// A typed object or raw JSON: fields only.
    Object,
    /// A row of `network ls`: fields, and the method `Label "key"`.
    NetworkRow,
}

/// A parsed `--format` template, with its variant for table headers.
pub struct GoTemplate {
    rows: Template,
    header: Template,
}

impl GoTemplate {
    /// Parses `text`. The error is the parser's message, for `template parsing error: ...`.
    pub fn parse(text: &str, dot: Dot) -> Result<Self, String> {
        let source = rewrite(text, dot);
        let mut rows = Template::default();
        rows.add_funcs(ROW_FUNCS);
        rows.parse(source.as_str()).map_err(|e| e.to_string())?;
        let mut header = Template::default();
        header.add_funcs(HEADER_FUNCS);
        header.parse(source.as_str()).map_err(|e| e.to_string())?;
        Ok(Self { rows, header })
    }

    /// Executes the template over `dot`.
    pub fn render(&self, dot: &Value) -> Result<String, String> {
        let mut out = Vec::new();
        self.rows.execute(&mut out, &Context::from(dot.clone())).map_err(|e| exec_error(&e))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Executes the template over a table's header names, with Docker's header functions
    /// (`json`, `upper`, ... return the header unchanged). As Docker, an error keeps what was
    /// written before it.
    pub fn render_header(&self, names: &Value) -> String {
        let mut out = Vec::new();
        let _ = self.header.execute(&mut out, &Context::from(names.clone()));
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn exec_error(e: &gtmpl::error::ExecError) -> String {
    match e {
        gtmpl::error::ExecError::NoFiledFor(field, Value::Object(fields)) if !fields.contains_key(GO_TYPE) => {
            format!("map has no entry for key \"{field}\"")
        }
        gtmpl::error::ExecError::NoFiledFor(field, receiver) => {
            format!("can't evaluate field {field} in type {}", type_name(receiver))
        }
        other => other.to_string(),
    }
}

/// The source gtmpl parses: see the module documentation.
pub fn rewrite(text: &str, dot: Dot) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = action_end(after) else {
            // An unclosed action: left as it is, for gtmpl to report.
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str("{{");
        out.push_str(&rewrite_action(&after[..end], dot));
        out.push_str("}}");
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Where the `}}` closing an action is, given the text just after its `{{`.
fn action_end(s: &str) -> Option<usize> {
    let (lead, body) = split_left_trim(s);
    if let Some(comment) = body.strip_prefix("/*") {
        let close = lead.len() + 2 + comment.find("*/")? + 2;
        return s[close..].find("}}").map(|p| close + p);
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < b.len() && b[i] != b'`' {
                    i += 1;
                }
                i += 1;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Go's left trim marker: `-` and one space right after `{{`.
fn split_left_trim(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    if b.first() == Some(&b'-') && b.get(1).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
        s.split_at(2)
    } else {
        ("", s)
    }
}

/// Go's right trim marker: one space and `-` right before `}}`.
fn split_right_trim(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b'-' && matches!(b[n - 2], b' ' | b'\t' | b'\r' | b'\n') {
        s.split_at(n - 2)
    } else {
        (s, "")
    }
}

const KEYWORDS: &[&str] = &["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"];

fn rewrite_action(inner: &str, dot: Dot) -> String {
    let (lead, rest) = split_left_trim(inner);
    let (body, trail) = split_right_trim(rest);
    let body = if dot == Dot::NetworkRow { rewrite_label_calls(body) } else { body.to_string() };
    let trimmed = body.trim();
    let first_word: String = trimmed.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    let prints = !trimmed.is_empty()
        && !trimmed.starts_with("/*")
        && !KEYWORDS.contains(&first_word.as_str())
        && !is_declaration(trimmed);
    if prints {
        format!("{lead}{} | {PRINT}{trail}", body.trim_end())
    } else {
        format!("{lead}{body}{trail}")
    }
}

/// `$x := ...`, `$k, $v := ...` or `$x = ...`: the action prints nothing.
fn is_declaration(s: &str) -> bool {
    let variable = |s: &str| -> Option<usize> {
        let rest = s.strip_prefix('$')?;
        Some(1 + rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').map(char::len_utf8).sum::<usize>())
    };
    let Some(n) = variable(s) else { return false };
    let mut rest = s[n..].trim_start();
    if let Some(after_comma) = rest.strip_prefix(',') {
        let after_comma = after_comma.trim_start();
        let Some(m) = variable(after_comma) else {
            return false;
        };
        rest = after_comma[m..].trim_start();
    }
    rest.starts_with(":=") || (rest.starts_with('=') && !rest.starts_with("=="))
}

/// `.Label "key"` → `_weftLabel . "key"`, outside string literals.
fn rewrite_label_calls(body: &str) -> String {
    const METHOD: &str = ".Label";
    let b = body.as_bytes();
    let mut out = String::with_capacity(body.len() + 16);
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            quote @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != quote {
                    if b[i] == b'\\' && quote != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'.' if body[i..].starts_with(METHOD) => {
                let before_ok = i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\r' | b'\n' | b'(');
                let after = b.get(i + METHOD.len());
                let after_ok = after.is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b')'));
                if before_ok && after_ok {
                    out.push_str(&body[copied..i]);
                    out.push_str(LABEL);
                    out.push_str(" .");
                    i += METHOD.len();
                    copied = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(body.get(copied..).unwrap_or(""));
    out
}

/// The names a table's header row shows for each field of a row.
pub fn header_names(names: &[(&str, &str)]) -> Value {
    let map: HashMap<String, Value> =
        names.iter().map(|(field, header)| (field.to_string(), Value::String(header.to_string()))).collect();
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::gotypes::{typed_struct, NETWORK_INSPECT};
    use serde_json::json;

    fn inspect_value() -> Value {
        typed_struct(
            &NETWORK_INSPECT,
            &json!({
                "Name": "web", "Id": "4f1c0a8b2d3e", "Driver": "bridge", "Scope": "local",
                "IPAM": {"Driver": "default", "Options": null, "Config": [{
                    "Subnet": "192.168.100.0/24", "IPRange": "192.168.100.128/25",
                    "Gateway": "192.168.100.1", "AuxiliaryAddresses": {"router": "192.168.100.5"}}]},
                "Options": {"mtu": "1500", "com.docker.network.bridge.name": "wbr-4f1c0a8b2d3e"},
                "Labels": {"team": "web"}
            }),
        )
    }

    fn run(text: &str) -> Result<String, String> {
        GoTemplate::parse(text, Dot::Object)?.render(&inspect_value())
    }

    #[test]
    fn rewrite_marks_printing_actions_only() {
        assert_eq!(rewrite("{{.Name}} x", Dot::Object), "{{.Name | _weftPrint}} x");
        assert_eq!(rewrite("{{- .Name -}}", Dot::Object), "{{- .Name | _weftPrint -}}");
        assert_eq!(
            rewrite("{{range $k, $v := .Labels}}{{$k}}{{end}}", Dot::Object),
            "{{range $k, $v := .Labels}}{{$k | _weftPrint}}{{end}}"
        );
        assert_eq!(rewrite("{{$x := .Name}}{{/* }} */}}", Dot::Object), "{{$x := .Name}}{{/* }} */}}");
        assert_eq!(rewrite(r#"{{printf "}}" .Name}}"#, Dot::Object), r#"{{printf "}}" .Name | _weftPrint}}"#);
        assert_eq!(rewrite("{{if eq .A 1}}y{{else}}n{{end}}", Dot::Object), "{{if eq .A 1}}y{{else}}n{{end}}");
        assert_eq!(rewrite("{{.Name", Dot::Object), "{{.Name");
    }

    #[test]
    fn rewrite_label_method_calls() {
        assert_eq!(
            rewrite(r#"{{.Label "team"}} {{.Labels}} {{if (.Label ".Label")}}x{{end}}"#, Dot::NetworkRow),
            r#"{{_weftLabel . "team" | _weftPrint}} {{.Labels | _weftPrint}} {{if (_weftLabel . ".Label")}}x{{end}}"#
        );
        assert_eq!(rewrite(r#"{{.Label "team"}}"#, Dot::Object), r#"{{.Label "team" | _weftPrint}}"#);
    }

    #[test]
    fn ipam_config_prints_as_docker() {
        assert_eq!(
            run("{{.IPAM.Config}}").as_deref(),
            Ok("[{192.168.100.0/24 192.168.100.128/25 192.168.100.1 map[router:192.168.100.5]}]")
        );
        assert_eq!(run("{{range .IPAM.Config}}{{.Subnet}}{{end}}").as_deref(), Ok("192.168.100.0/24"));
        assert_eq!(run("{{(index .IPAM.Config 0).Gateway}}").as_deref(), Ok("192.168.100.1"));
    }

    #[test]
    fn fields_and_functions() {
        assert_eq!(run("{{.Name}} {{.Driver}}").as_deref(), Ok("web bridge"));
        assert_eq!(
            run("{{json .Options}}").as_deref(),
            Ok(r#"{"com.docker.network.bridge.name":"wbr-4f1c0a8b2d3e","mtu":"1500"}"#)
        );
        assert_eq!(run("{{json .Labels}} {{.Labels}}").as_deref(), Ok(r#"{"team":"web"} map[team:web]"#));
        assert_eq!(
            run("{{upper .Name}}|{{title \"foo bar-baz\"}}|{{lower \"AB\"}}").as_deref(),
            Ok("WEB|Foo Bar-Baz|ab")
        );
        assert_eq!(run(r#"{{join (split "a,b,c" ",") "-"}} {{split "a:b" ":"}}"#).as_deref(), Ok("a-b-c [a b]"));
        assert_eq!(run(r#"[{{pad .Name 1 2}}][{{pad "" 1 2}}] {{truncate .ID 4}}"#).as_deref(), Ok("[ web  ][] 4f1c"));
        assert_eq!(
            run(r#"{{index .Options "mtu"}}|{{index .Labels "nope"}}|{{.Labels.nope}}"#).as_deref(),
            Ok("1500||<no value>")
        );
        assert_eq!(run("{{.Internal}} {{if .IPAM.Config}}yes{{end}}").as_deref(), Ok("false yes"));
    }

    #[test]
    fn unknown_fields_are_errors() {
        let e = run("{{.Nope}}").err().unwrap_or_default();
        assert_eq!(e, "can't evaluate field Nope in type network.Inspect");
        assert!(GoTemplate::parse("{{nosuchfunc .}}", Dot::Object).is_err());
    }

    #[test]
    fn header_functions_keep_header_names() {
        let t =
            GoTemplate::parse(r#"{{upper .Name}}\t{{json .ID}}\t{{.Label "com.example.my-team"}}"#, Dot::NetworkRow);
        let t = t.unwrap_or_else(|e| panic!("{e}"));
        let names = header_names(&[("Name", "NAME"), ("ID", "NETWORK ID")]);
        assert_eq!(t.render_header(&names), r"NAME\tNETWORK ID\tmy team");
    }
}
