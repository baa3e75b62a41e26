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
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    for token in tokens(src) {
        if matches!(token, Token::Space) {
            continue;
        }
        if need_indent && !matches!(token, Token::Char(']' | '}')) {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth);
        }
        match token {
            Token::Space => {}
            Token::String(s) => out.push_str(s),
            // The indent is delayed so that an empty object or array stays `{}` or `[]`.
            Token::Char(c @ ('{' | '[')) => {
                need_indent = true;
                out.push(c);
            }
            Token::Char(',') => {
                out.push(',');
                newline(&mut out, depth);
            }
            Token::Char(':') => out.push_str(": "),
            Token::Char(c @ ('}' | ']')) => {
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            Token::Char(c) => out.push(c),
        }
    }
    out
}

/// Removes the insignificant whitespace of valid JSON text, as `json.Compact`.
pub fn compact(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for token in tokens(src) {
        match token {
            Token::Space => {}
            Token::String(s) => out.push_str(s),
            Token::Char(c) => out.push(c),
        }
    }
    out
}

/// A piece of JSON text: a string literal (quotes and escapes as written), insignificant
/// whitespace, or any other character.
#[derive(Clone, Copy)]
enum Token<'a> {
    String(&'a str),
    Space,
    Char(char),
}

/// The tokens of `src`, in order; an unterminated string runs to the end.
fn tokens(src: &str) -> impl Iterator<Item = Token<'_>> {
    let mut rest = src;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        let len = if c == '"' { string_len(rest) } else { c.len_utf8() };
        let (token, tail) = rest.split_at(len);
        rest = tail;
        Some(match c {
            '"' => Token::String(token),
            ' ' | '\t' | '\n' | '\r' => Token::Space,
            _ => Token::Char(c),
        })
    })
}

/// The length in bytes of the string literal `s` starts with, closing quote included.
fn string_len(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return i + 1;
        }
    }
    s.len()
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
        assert_eq!(compact("[ \"é \\\"ü\\\"\" , 1 ]"), "[\"é \\\"ü\\\"\",1]");
        assert_eq!(indent("{\"ü\" :\"x", "  "), "{\n  \"ü\": \"x");
    }
}
