//! Output of list and inspect commands in Docker's formats: tables, `json`, and Go templates.

mod funcs;
pub mod gotime;
pub mod gotypes;
pub mod jsontext;
pub mod tabwriter;
pub mod template;

use gtmpl::Value;

use self::gotypes::{raw, typed_struct, GoStruct};
use self::template::{Dot, GoTemplate};
use super::client::Client;
use super::console::Console;
use super::errors::{CliError, ClientError, EXIT_TEMPLATE_ERROR};

/// The `--format` value that asks for a table with a header row.
pub const TABLE: &str = "table";
/// The `--format` value that asks for one JSON document per object.
pub const JSON: &str = "json";

/// Docker's `formatter.Context.Write`: every row rendered with `format`, each followed by a
/// newline. A format starting with `table` gets a header row (the template run over `header`, the
/// column names) and is aligned as Docker's tables are. `json` is `{{json .}}`.
pub fn write_list(format: &str, rows: &[Value], header: &Value, dot: Dot) -> Result<String, CliError> {
    let is_table = format.starts_with(TABLE);
    let text = if is_table {
        &format[TABLE.len()..]
    } else if format == JSON {
        "{{json .}}"
    } else {
        format
    };
    let text = text.trim_matches(' ').replace(r"\t", "\t").replace(r"\n", "\n");
    let template =
        GoTemplate::parse(&text, dot).map_err(|e| CliError::failed(format!("template parsing error: {e}")))?;

    let mut body = String::new();
    for row in rows {
        let line = template.render(row).map_err(|e| CliError::failed(format!("template parsing error: {e}")))?;
        body.push_str(&line);
        body.push('\n');
    }
    if !is_table {
        return Ok(body);
    }
    let mut table = template.render_header(header);
    table.push('\n');
    table.push_str(&body);
    Ok(tabwriter::align(&table, 10, 3))
}

/// How `inspect` prints the objects it fetched.
pub enum InspectFormat {
    /// No `--format`: a JSON array, indented by four spaces.
    Indented,
    /// `--format json`: the same array on one line.
    Json,
    /// A Go template, run over each object.
    Template(Box<GoTemplate>),
}

impl InspectFormat {
    /// Docker's inspect formats; a template that does not parse exits with code 64.
    pub fn parse(format: &str) -> Result<Self, CliError> {
        match format {
            "" => Ok(Self::Indented),
            JSON => Ok(Self::Json),
            text => GoTemplate::parse(text, Dot::Object)
                .map(|t| Self::Template(Box::new(t)))
                .map_err(|e| CliError::with_code(EXIT_TEMPLATE_ERROR, format!("template parsing error: {e}"))),
        }
    }
}

/// One object as the daemon sent it, and parsed.
pub struct RawObject {
    pub text: String,
    pub json: serde_json::Value,
}

impl RawObject {
    /// The object weftd answers `GET path` with; `what` names it when the answer is not JSON.
    pub fn fetch(client: &Client, path: &str, what: &str) -> Result<Self, ClientError> {
        let body = client.get(path)?;
        let text = String::from_utf8_lossy(&body).into_owned();
        let json = serde_json::from_str(&text)
            .map_err(|e| ClientError::Protocol(format!("unexpected answer from weftd for {what}: {e}")))?;
        Ok(Self { text, json })
    }
}

/// What an `inspect` got for its names: the objects found and the errors, each error with the
/// position of its name, as Docker prints the errors in the order of the names.
#[derive(Default)]
pub struct Inspection {
    objects: Vec<RawObject>,
    /// Where each object stands among the names.
    positions: Vec<usize>,
    errors: Vec<(usize, String)>,
}

impl Inspection {
    /// Keeps the answer for the name at `position`; a missing object is the error `missing`
    /// words, as Docker's client does. A daemon out of reach ends the command: said once, not
    /// once per name.
    pub fn answer(
        &mut self,
        position: usize,
        answer: Result<RawObject, ClientError>,
        missing: impl FnOnce() -> String,
    ) -> Result<(), ClientError> {
        match answer {
            Ok(object) => {
                self.objects.push(object);
                self.positions.push(position);
            }
            Err(e) if e.is_connect() => return Err(e),
            Err(e) if e.is_not_found() => self.errors.push((position, missing())),
            Err(e) => self.errors.push((position, e.to_string())),
        }
        Ok(())
    }

    /// Prints the objects found as [`write_inspect`] does; then fails with the errors, those of
    /// the names and of the template, one a line in the order of the names.
    pub fn print(
        mut self,
        console: &mut Console,
        format: &InspectFormat,
        def: Option<&'static GoStruct>,
    ) -> Result<(), CliError> {
        let (out, template_errors) = write_inspect(format, &self.objects, def);
        console.out(&out);
        let positions = &self.positions;
        self.errors
            .extend(template_errors.into_iter().map(|(i, e)| (positions.get(i).copied().unwrap_or(usize::MAX), e)));
        if self.errors.is_empty() {
            return Ok(());
        }
        self.errors.sort_by_key(|(position, _)| *position);
        Err(CliError::failed(self.errors.into_iter().map(|(_, e)| e).collect::<Vec<_>>().join("\n")))
    }
}

/// Docker's `inspect.Inspect` output for `objects`, and the errors of the objects a template
/// failed on (with their index in `objects`).
///
/// With `def`, the Go type of the objects, a template runs first over the typed struct; when that
/// fails (say `{{.Id}}`, which is `ID` in Go), over the raw JSON, where missing keys are errors; as
/// Docker's CLI does. Without one, templates run over the raw JSON only.
pub fn write_inspect(
    format: &InspectFormat,
    objects: &[RawObject],
    def: Option<&'static GoStruct>,
) -> (String, Vec<(usize, String)>) {
    let array = || {
        let texts: Vec<&str> = objects.iter().map(|o| o.text.as_str()).collect();
        format!("[{}]", texts.join(","))
    };
    match format {
        InspectFormat::Indented if objects.is_empty() => ("[]\n".to_string(), Vec::new()),
        InspectFormat::Json if objects.is_empty() => ("[]\n".to_string(), Vec::new()),
        InspectFormat::Indented => (jsontext::indent(&array(), "    ") + "\n", Vec::new()),
        InspectFormat::Json => (jsontext::compact(&array()) + "\n", Vec::new()),
        InspectFormat::Template(template) => {
            let mut out = String::new();
            let mut errors = Vec::new();
            for (index, object) in objects.iter().enumerate() {
                let typed = def.map(|def| template.render(&typed_struct(def, &object.json)));
                let rendered = match typed {
                    Some(Ok(text)) => Ok(text),
                    _ => template.render(&raw(&object.json)),
                };
                match rendered {
                    Ok(text) => {
                        out.push_str(&text);
                        out.push('\n');
                    }
                    Err(e) => errors.push((index, format!("template parsing error: {e}"))),
                }
            }
            if out.is_empty() {
                out.push('\n');
            }
            (out, errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gotypes::NETWORK_INSPECT;
    use super::template::header_names;
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn row(name: &str, id: &str) -> Value {
        let mut m = HashMap::new();
        m.insert(gotypes::GO_TYPE.to_string(), Value::String("network.networkContext".into()));
        for (k, v) in [("Name", name), ("ID", id), ("Driver", "bridge"), ("Scope", "local")] {
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
        Value::Object(m)
    }

    fn header() -> Value {
        header_names(&[("ID", "NETWORK ID"), ("Name", "NAME"), ("Driver", "DRIVER"), ("Scope", "SCOPE")])
    }

    #[test]
    fn table_of_names() {
        let rows = [row("front", "1"), row("back", "2")];
        let out = write_list("table {{.Name}}", &rows, &header(), Dot::NetworkRow);
        assert_eq!(out, Ok("NAME\nfront\nback\n".to_string()));
        let out = write_list(r"table {{.Name}}\t{{.Driver}}", &rows, &header(), Dot::NetworkRow);
        assert_eq!(out, Ok("NAME      DRIVER\nfront     bridge\nback      bridge\n".to_string()));
    }

    #[test]
    fn plain_templates_and_json() {
        let rows = [row("front", "1")];
        assert_eq!(write_list("{{.Name}} {{.Driver}}", &rows, &header(), Dot::NetworkRow), Ok("front bridge\n".into()));
        let out = write_list(JSON, &rows, &header(), Dot::NetworkRow).unwrap_or_default();
        assert_eq!(
            out,
            "{\"CreatedAt\":null,\"Driver\":\"bridge\",\"ID\":\"1\",\"IPv4\":null,\"IPv6\":null,\"Internal\":null,\"Labels\":null,\"Name\":\"front\",\"Scope\":\"local\"}\n"
        );
        assert!(write_list("{{.Nope}}", &rows, &header(), Dot::NetworkRow).is_err());
    }

    #[test]
    fn inspect_outputs() {
        let objects = [RawObject {
            text: r#"{"Name":"web","Id":"abc","Labels":{}}"#.into(),
            json: json!({"Name": "web", "Id": "abc", "Labels": {}}),
        }];
        let (out, errs) = write_inspect(&InspectFormat::Indented, &objects, Some(&NETWORK_INSPECT));
        assert_eq!(
            out,
            "[\n    {\n        \"Name\": \"web\",\n        \"Id\": \"abc\",\n        \"Labels\": {}\n    }\n]\n"
        );
        assert!(errs.is_empty());
        let (out, _) = write_inspect(&InspectFormat::Json, &objects, Some(&NETWORK_INSPECT));
        assert_eq!(out, "[{\"Name\":\"web\",\"Id\":\"abc\",\"Labels\":{}}]\n");
        let (out, _) = write_inspect(&InspectFormat::Indented, &[], Some(&NETWORK_INSPECT));
        assert_eq!(out, "[]\n");

        // `.Id` is not a field of the Go struct: Docker falls back to the raw JSON.
        let Ok(format) = InspectFormat::parse("{{.Id}} {{.ID}}") else { panic!("parse") };
        let (out, errs) = write_inspect(&format, &objects, Some(&NETWORK_INSPECT));
        assert_eq!((out.as_str(), errs.len()), ("\n", 1));
        assert_eq!(errs[0], (0, "template parsing error: map has no entry for key \"ID\"".to_string()));
        let Ok(format) = InspectFormat::parse("{{.Id}}") else { panic!("parse") };
        assert_eq!(write_inspect(&format, &objects, Some(&NETWORK_INSPECT)).0, "abc\n");
        assert_eq!(InspectFormat::parse("{{").err().map(|e| e.code), Some(EXIT_TEMPLATE_ERROR));
    }
}
