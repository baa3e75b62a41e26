//! Go's `json.Indent` and `json.Compact` over the daemon's raw JSON text.
//!
//! `inspect` prints what weftd sent, re-spaced but otherwise untouched: keys keep their order and
//! strings their escapes, as Docker's CLI prints the raw answer of the daemon.

/// Re-indents valid JSON text as `json.Indent(dst, src, "", indent)`: one member per line,
/// `"key": value`, and empty objects and arrays kept as `{}` and `[]`.
pub fn indent(src: &str, indent: &str) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut need_indent = false;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        if need_indent && c != ']' && c != '}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            // The indent is delayed so that an empty object or array stays `{}` or `[]`.
            '{' | '[' => {
                need_indent = true;
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '}' | ']' => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Removes the insignificant whitespace of valid JSON text, as `json.Compact`.
pub fn compact(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '"' => {
                in_string = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_like_go() {
        let src = r#"[{"Name":"web","IPAM":{"Driver":"default","Options":null,"Config":[{"Subnet":"10.1.0.0/24"}]},"Containers":{},"Labels":{ },"Peers":[]}]"#;
        let want = r#"[
    {
        "Name": "web",
        "IPAM": {
            "Driver": "default",
            "Options": null,
            "Config": [
                {
                    "Subnet": "10.1.0.0/24"
                }
            ]
        },
        "Containers": {},
        "Labels": {},
        "Peers": []
    }
]"#;
        assert_eq!(indent(src, "    "), want);
    }

    #[test]
    fn strings_are_copied_verbatim() {
        let src = "{\"a\" : \"x, {y}: \\\"z\\\" \\u003c\"}";
        assert_eq!(indent(src, "  "), "{\n  \"a\": \"x, {y}: \\\"z\\\" \\u003c\"\n}");
        assert_eq!(compact(src), "{\"a\":\"x, {y}: \\\"z\\\" \\u003c\"}");
        assert_eq!(indent("[]", "    "), "[]");
    }
}
