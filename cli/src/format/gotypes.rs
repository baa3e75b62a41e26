//! Docker's Go types as template values: JSON in, gtmpl values out, printed as Go prints them.
//!
//! Docker runs `--format` templates over typed Go structs. Three things follow from that, which
//! gtmpl cannot know from bare JSON, so the values made here carry them:
//!
//! - **field order**: `{{.IPAM.Config}}` prints `[{10.0.0.0/24 10.0.0.128/25 10.0.0.1 map[]}]`,
//!   fields in the order of the Go struct, not sorted. A JSON object of a known Go type becomes a
//!   `Value::Object` with a hidden key [`GO_TYPE`] naming the type; [`go_print`] and [`go_json`]
//!   look its fields up in the table below. The key starts with NUL, which no template can spell.
//! - **Go names and zero values**: the Go field of `"Id"` is `ID`, of `"AuxiliaryAddresses"` is
//!   `AuxAddress`; a field missing from the JSON is the Go zero value (`""`, `false`, `map[]`).
//! - **maps versus structs**: Go maps (`Labels`, `Options`) become `Value::Map`, where a missing key
//!   prints `<no value>`; structs become `Value::Object`, where a missing field is an error.
//!
//! [`raw`] converts JSON without a schema, as Docker's fallback for templates that fail on the
//! typed struct: every object is then a Go `map[string]interface{}`.
//!
//! What is not kept: a Go nil map or slice is shown as an empty one (`{{json .IPAM.Options}}` gives
//! `{}` where Go gives `null` when the daemon sent `null`).

use std::collections::HashMap;

use gtmpl_value::Value;
use serde_json::{Map, Value as Json};

use super::gotime::GoTime;

/// Hidden key of a converted object: the Go type it stands for.
pub const GO_TYPE: &str = "\u{0}go";
/// Hidden key of a `time.Time` value: its RFC 3339 text.
const TIME_TEXT: &str = "\u{0}time";
/// The Go type name of timestamps.
const TIME_TYPE: &str = "time.Time";

/// The Go type of a value, enough to convert and print it.
#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    Bool,
    Int,
    Time,
    Struct(&'static GoStruct),
    Map(&'static Kind),
    Slice(&'static Kind),
}

/// One field of a Go struct: its Go name (templates use it), its JSON name, its type.
pub struct Field {
    pub go: &'static str,
    pub json: &'static str,
    pub kind: Kind,
    /// `json:",omitempty"`: left out of JSON output when empty.
    pub omitempty: bool,
}

/// A Go struct: name and fields in declaration order.
pub struct GoStruct {
    pub name: &'static str,
    pub fields: &'static [Field],
}

const fn field(go: &'static str, json: &'static str, kind: Kind) -> Field {
    Field { go, json, kind, omitempty: false }
}

const fn omitempty(go: &'static str, json: &'static str, kind: Kind) -> Field {
    Field { go, json, kind, omitempty: true }
}

static STR: Kind = Kind::Str;
static IPAM_CONFIG_KIND: Kind = Kind::Struct(&IPAM_CONFIG);
static ENDPOINT_RESOURCE_KIND: Kind = Kind::Struct(&ENDPOINT_RESOURCE);
static PEER_INFO_KIND: Kind = Kind::Struct(&PEER_INFO);
static SERVICE_INFO_KIND: Kind = Kind::Struct(&SERVICE_INFO);
static TASK_KIND: Kind = Kind::Struct(&TASK);

/// `network.Inspect` (docker/docker api/types/network), what `network inspect` templates see.
pub static NETWORK_INSPECT: GoStruct = GoStruct {
    name: "network.Inspect",
    fields: &[
        field("Name", "Name", Kind::Str),
        field("ID", "Id", Kind::Str),
        field("Created", "Created", Kind::Time),
        field("Scope", "Scope", Kind::Str),
        field("Driver", "Driver", Kind::Str),
        field("EnableIPv4", "EnableIPv4", Kind::Bool),
        field("EnableIPv6", "EnableIPv6", Kind::Bool),
        field("IPAM", "IPAM", Kind::Struct(&IPAM)),
        field("Internal", "Internal", Kind::Bool),
        field("Attachable", "Attachable", Kind::Bool),
        field("Ingress", "Ingress", Kind::Bool),
        field("ConfigFrom", "ConfigFrom", Kind::Struct(&CONFIG_REFERENCE)),
        field("ConfigOnly", "ConfigOnly", Kind::Bool),
        field("Containers", "Containers", Kind::Map(&ENDPOINT_RESOURCE_KIND)),
        field("Options", "Options", Kind::Map(&STR)),
        field("Labels", "Labels", Kind::Map(&STR)),
        omitempty("Peers", "Peers", Kind::Slice(&PEER_INFO_KIND)),
        omitempty("Services", "Services", Kind::Map(&SERVICE_INFO_KIND)),
    ],
};

/// `network.IPAM`
pub static IPAM: GoStruct = GoStruct {
    name: "network.IPAM",
    fields: &[
        field("Driver", "Driver", Kind::Str),
        field("Options", "Options", Kind::Map(&STR)),
        field("Config", "Config", Kind::Slice(&IPAM_CONFIG_KIND)),
    ],
};

/// `network.IPAMConfig`: the order Subnet, IPRange, Gateway, AuxAddress is what `{{.IPAM.Config}}` shows.
pub static IPAM_CONFIG: GoStruct = GoStruct {
    name: "network.IPAMConfig",
    fields: &[
        omitempty("Subnet", "Subnet", Kind::Str),
        omitempty("IPRange", "IPRange", Kind::Str),
        omitempty("Gateway", "Gateway", Kind::Str),
        omitempty("AuxAddress", "AuxiliaryAddresses", Kind::Map(&STR)),
    ],
};

/// `network.ConfigReference`
pub static CONFIG_REFERENCE: GoStruct =
    GoStruct { name: "network.ConfigReference", fields: &[field("Network", "Network", Kind::Str)] };

/// `network.EndpointResource`: one container of `Containers`.
pub static ENDPOINT_RESOURCE: GoStruct = GoStruct {
    name: "network.EndpointResource",
    fields: &[
        field("Name", "Name", Kind::Str),
        field("EndpointID", "EndpointID", Kind::Str),
        field("MacAddress", "MacAddress", Kind::Str),
        field("IPv4Address", "IPv4Address", Kind::Str),
        field("IPv6Address", "IPv6Address", Kind::Str),
    ],
};

/// `network.PeerInfo`
pub static PEER_INFO: GoStruct =
    GoStruct { name: "network.PeerInfo", fields: &[field("Name", "Name", Kind::Str), field("IP", "IP", Kind::Str)] };

/// `network.ServiceInfo`
pub static SERVICE_INFO: GoStruct = GoStruct {
    name: "network.ServiceInfo",
    fields: &[
        field("VIP", "VIP", Kind::Str),
        field("Ports", "Ports", Kind::Slice(&STR)),
        field("LocalLBIndex", "LocalLBIndex", Kind::Int),
        field("Tasks", "Tasks", Kind::Slice(&TASK_KIND)),
    ],
};

/// `network.Task`
pub static TASK: GoStruct = GoStruct {
    name: "network.Task",
    fields: &[
        field("Name", "Name", Kind::Str),
        field("EndpointID", "EndpointID", Kind::Str),
        field("EndpointIP", "EndpointIP", Kind::Str),
        field("Info", "Info", Kind::Map(&STR)),
    ],
};

/// The row of `network ls` (docker/cli `networkContext`): every field a string. Its JSON is
/// Docker's `MarshalJSON` of the context, a map, hence the fields in sorted order.
pub static NETWORK_CONTEXT: GoStruct = GoStruct {
    name: "network.networkContext",
    fields: &[
        field("CreatedAt", "CreatedAt", Kind::Str),
        field("Driver", "Driver", Kind::Str),
        field("ID", "ID", Kind::Str),
        field("IPv4", "IPv4", Kind::Str),
        field("IPv6", "IPv6", Kind::Str),
        field("Internal", "Internal", Kind::Str),
        field("Labels", "Labels", Kind::Str),
        field("Name", "Name", Kind::Str),
        field("Scope", "Scope", Kind::Str),
    ],
};

static KNOWN: &[&GoStruct] = &[
    &NETWORK_INSPECT,
    &IPAM,
    &IPAM_CONFIG,
    &CONFIG_REFERENCE,
    &ENDPOINT_RESOURCE,
    &PEER_INFO,
    &SERVICE_INFO,
    &TASK,
    &NETWORK_CONTEXT,
];

fn known(name: &str) -> Option<&'static GoStruct> {
    KNOWN.iter().copied().find(|s| s.name == name)
}

/// The value a Go struct of type `def` decoded from `json` would have.
pub fn typed_struct(def: &'static GoStruct, json: &Json) -> Value {
    struct_value(def, json.as_object())
}

fn struct_value(def: &'static GoStruct, object: Option<&Map<String, Json>>) -> Value {
    let mut fields = HashMap::with_capacity(def.fields.len() + 1);
    fields.insert(GO_TYPE.to_string(), Value::String(def.name.to_string()));
    for f in def.fields {
        fields.insert(f.go.to_string(), typed(object.and_then(|o| o.get(f.json)), f.kind));
    }
    Value::Object(fields)
}

/// A `time.Time` value.
pub fn time_value(t: &GoTime) -> Value {
    let mut fields = HashMap::with_capacity(2);
    fields.insert(GO_TYPE.to_string(), Value::String(TIME_TYPE.to_string()));
    fields.insert(TIME_TEXT.to_string(), Value::String(t.rfc3339_nano()));
    Value::Object(fields)
}

/// The value of a Go field of type `kind` decoded from `json` (absent or `null`: the zero value).
fn typed(json: Option<&Json>, kind: Kind) -> Value {
    match kind {
        Kind::Str => Value::String(match json {
            Some(Json::String(s)) => s.clone(),
            None | Some(Json::Null) => String::new(),
            Some(other) => other.to_string(),
        }),
        Kind::Bool => Value::Bool(matches!(json, Some(Json::Bool(true)))),
        Kind::Int => match json {
            Some(Json::Number(n)) => number(n),
            _ => Value::from(0i64),
        },
        Kind::Time => time_value(&GoTime::parse(json.and_then(Json::as_str).unwrap_or(""))),
        Kind::Struct(def) => struct_value(def, json.and_then(Json::as_object)),
        Kind::Map(elem) => Value::Map(
            json.and_then(Json::as_object)
                .map(|o| o.iter().map(|(k, v)| (k.clone(), typed(Some(v), *elem))).collect())
                .unwrap_or_default(),
        ),
        Kind::Slice(elem) => Value::Array(
            json.and_then(Json::as_array)
                .map(|a| a.iter().map(|v| typed(Some(v), *elem)).collect())
                .unwrap_or_default(),
        ),
    }
}

fn number(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_u64() {
        Value::from(i)
    } else if let Some(i) = n.as_i64() {
        Value::from(i)
    } else {
        Value::from(n.as_f64().unwrap_or(0.0))
    }
}

/// JSON as Go's `interface{}` sees it: objects are maps (a missing key is an error to gtmpl, as
/// with Docker's `missingkey=error` fallback), `null` is nil.
pub fn raw(json: &Json) -> Value {
    match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number(n),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(raw).collect()),
        Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), raw(v))).collect()),
    }
}

/// The hidden type of a value made here, if it has one.
fn go_type(fields: &HashMap<String, Value>) -> Option<&str> {
    match fields.get(GO_TYPE) {
        Some(Value::String(t)) => Some(t),
        _ => None,
    }
}

fn time_text(fields: &HashMap<String, Value>) -> &str {
    match fields.get(TIME_TEXT) {
        Some(Value::String(t)) => t,
        _ => "",
    }
}

/// What a `Value::Object` stands for, which decides how Go prints it.
enum Object<'a> {
    /// A `time.Time`, with its RFC 3339 text.
    Time(&'a str),
    /// A struct of a known Go type.
    Struct(&'static GoStruct),
    /// A `map[string]interface{}`: raw JSON, or of a type not known here.
    Map,
}

fn object(fields: &HashMap<String, Value>) -> Object<'_> {
    match go_type(fields) {
        Some(TIME_TYPE) => Object::Time(time_text(fields)),
        Some(name) => known(name).map_or(Object::Map, Object::Struct),
        None => Object::Map,
    }
}

/// The value of field `f` of a struct made here.
fn field_value<'a>(fields: &'a HashMap<String, Value>, f: &Field) -> &'a Value {
    fields.get(f.go).unwrap_or(&Value::NoValue)
}

/// The name a template error gives to the type of a value.
pub fn type_name(value: &Value) -> String {
    match value {
        Value::Object(fields) => go_type(fields).unwrap_or("map[string]interface {}").to_string(),
        Value::Map(_) => "map[string]string".into(),
        Value::Array(_) => "[]interface {}".into(),
        Value::String(_) => "string".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::Nil | Value::NoValue => "nil".into(),
        Value::Function(_) => "func".into(),
    }
}

/// Writes `open`, each of `items` with `write`, `sep` between them, and `close`: how Go writes
/// slices, maps and structs, in print and in JSON alike.
fn write_delimited<T>(
    out: &mut String,
    (open, sep, close): (&str, char, char),
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(T, &mut String),
) {
    out.push_str(open);
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        write(item, out);
    }
    out.push(close);
}

/// `fmt.Sprint(value)` as Go's text/template prints an action's value.
pub fn go_print(value: &Value) -> String {
    let mut out = String::new();
    print_into(value, &mut out);
    out
}

fn print_into(value: &Value, out: &mut String) {
    match value {
        Value::NoValue => out.push_str("<no value>"),
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.push_str(s),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Function(_) => out.push_str("<func>"),
        Value::Array(items) => write_delimited(out, ("[", ' ', ']'), items, print_into),
        Value::Map(entries) => print_map(entries, out),
        Value::Object(fields) => match object(fields) {
            Object::Time(text) => out.push_str(&GoTime::parse(text).go_string()),
            // Go prints a struct's field values, without their names.
            Object::Struct(def) => {
                write_delimited(out, ("{", ' ', '}'), def.fields, |f, out| print_into(field_value(fields, f), out))
            }
            Object::Map => print_map(fields, out),
        },
    }
}

/// Entries in key order, without the hidden keys.
fn sorted(entries: &HashMap<String, Value>) -> Vec<(&str, &Value)> {
    let mut v: Vec<_> = entries.iter().map(|(k, v)| (k.as_str(), v)).filter(|(k, _)| !k.starts_with('\0')).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

/// Go prints maps as `map[k1:v1 k2:v2]`, keys sorted.
fn print_map(entries: &HashMap<String, Value>, out: &mut String) {
    write_delimited(out, ("map[", ' ', ']'), sorted(entries), |(k, v), out| {
        out.push_str(k);
        out.push(':');
        print_into(v, out);
    });
}

/// Docker's `json` template function: `encoding/json` without HTML escaping.
pub fn go_json(value: &Value) -> String {
    let mut out = String::new();
    json_into(value, &mut out);
    out
}

fn json_into(value: &Value, out: &mut String) {
    match value {
        Value::NoValue | Value::Nil | Value::Function(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&json_string(s)),
        Value::Array(items) => write_delimited(out, ("[", ',', ']'), items, json_into),
        Value::Map(entries) => json_object(sorted(entries), out),
        Value::Object(fields) => match object(fields) {
            Object::Time(text) => out.push_str(&json_string(text)),
            // Go writes a struct's fields in their order, under their JSON names.
            Object::Struct(def) => {
                let members = def.fields.iter().filter_map(|f| {
                    let v = field_value(fields, f);
                    (!(f.omitempty && is_empty(v))).then_some((f.json, v))
                });
                json_object(members, out)
            }
            Object::Map => json_object(sorted(fields), out),
        },
    }
}

/// A JSON object of `members`, in the order given.
fn json_object<'a>(members: impl IntoIterator<Item = (&'a str, &'a Value)>, out: &mut String) {
    write_delimited(out, ("{", ',', '}'), members, |(k, v), out| {
        out.push_str(&json_string(k));
        out.push(':');
        json_into(v, out);
    });
}

/// What `omitempty` leaves out: `""`, `false`, `0`, empty maps and slices. Structs never.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::NoValue | Value::Nil => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(_) | Value::Function(_) => false,
    }
}

/// A JSON string as Go writes it: serde's escapes, plus U+2028 and U+2029 which Go escapes too.
fn json_string(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
    if quoted.contains(['\u{2028}', '\u{2029}']) {
        quoted.replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029")
    } else {
        quoted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The network `web` of the command-line tests, with a second driver option.
    fn sample() -> Json {
        let mut n = crate::tests::web();
        n["Options"]["mtu"] = json!("1500");
        n
    }

    fn field_of(v: &Value, name: &str) -> Value {
        match v {
            Value::Object(f) => f.get(name).cloned().unwrap_or(Value::NoValue),
            _ => Value::NoValue,
        }
    }

    #[test]
    fn ipam_config_prints_in_struct_order() {
        let n = typed_struct(&NETWORK_INSPECT, &sample());
        let config = field_of(&field_of(&n, "IPAM"), "Config");
        assert_eq!(
            go_print(&config),
            "[{192.168.100.0/24 192.168.100.128/25 192.168.100.1 map[router:192.168.100.5]}]"
        );
    }

    #[test]
    fn missing_fields_are_go_zero_values() {
        let n = typed_struct(&NETWORK_INSPECT, &json!({"Name": "x", "IPAM": {"Config": [{"Subnet": "10.0.0.0/8"}]}}));
        assert_eq!(go_print(&field_of(&field_of(&n, "IPAM"), "Config")), "[{10.0.0.0/8   map[]}]");
        assert_eq!(go_print(&field_of(&n, "Labels")), "map[]");
        assert_eq!(go_print(&field_of(&n, "Internal")), "false");
        assert_eq!(go_print(&field_of(&n, "Created")), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_print(&field_of(&n, "ConfigFrom")), "{}");
    }

    #[test]
    fn maps_print_sorted_and_json_keeps_go_names() {
        let n = typed_struct(&NETWORK_INSPECT, &sample());
        assert_eq!(go_print(&field_of(&n, "Options")), "map[com.docker.network.bridge.name:wbr-4f1c0a8b2d3e mtu:1500]");
        assert_eq!(
            go_json(&field_of(&n, "Options")),
            r#"{"com.docker.network.bridge.name":"wbr-4f1c0a8b2d3e","mtu":"1500"}"#
        );
        assert_eq!(
            go_json(&field_of(&n, "IPAM")),
            r#"{"Driver":"default","Options":{},"Config":[{"Subnet":"192.168.100.0/24","IPRange":"192.168.100.128/25","Gateway":"192.168.100.1","AuxiliaryAddresses":{"router":"192.168.100.5"}}]}"#
        );
        assert_eq!(go_json(&field_of(&n, "Created")), r#""2024-05-06T07:08:09.123456789Z""#);
        let whole = go_json(&n);
        assert!(whole.starts_with(r#"{"Name":"web","Id":"4f1c"#), "{whole}");
        assert!(!whole.contains("Peers"), "omitempty: {whole}");
    }

    #[test]
    fn raw_objects_are_go_maps() {
        let v = raw(&json!({"b": [1, null, "x"], "a": {"c": true}}));
        assert_eq!(go_print(&v), "map[a:map[c:true] b:[1 <nil> x]]");
        assert_eq!(go_json(&v), r#"{"a":{"c":true},"b":[1,null,"x"]}"#);
    }

    #[test]
    fn json_strings_escape_as_go() {
        assert_eq!(json_string("a<b>&\"\n\u{2028}"), "\"a<b>&\\\"\\n\\u2028\"");
    }
}
