//! Docker's template functions (`json`, `join`, `split`, `title`, `lower`, `upper`, `pad`,
//! `truncate`), Go's `index`, the header variants of tables, and the two helpers of
//! [`super::template::rewrite`]: Go's printing of a value, and the `Label` method of `ls` rows.

use gtmpl::{Func, FuncError, Value};

use super::gotypes::{go_json, go_print, type_name, GO_TYPE};
use super::template::{LABEL, LABELS, PRINT};

pub(super) static ROW_FUNCS: &[(&str, Func)] = &[
    ("json", json),
    ("split", split),
    ("join", join),
    ("title", title),
    ("lower", lower),
    ("upper", upper),
    ("pad", pad),
    ("truncate", truncate),
    ("index", index),
    (PRINT, print),
    (LABEL, label),
];

/// Docker's `HeaderFunctions`: a header cell stays the header's name.
pub(super) static HEADER_FUNCS: &[(&str, Func)] = &[
    ("json", first_arg),
    ("split", first_arg),
    ("join", first_arg),
    ("title", first_arg),
    ("lower", first_arg),
    ("upper", first_arg),
    ("truncate", first_arg),
    ("pad", pad),
    ("index", index),
    (PRINT, print),
    (LABEL, header_label),
];

fn want(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() == n {
        Ok(())
    } else {
        Err(FuncError::ExactlyXArgs(name.to_string(), n))
    }
}

fn string_arg(name: &str, v: &Value) -> Result<String, FuncError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(FuncError::Generic(format!(
            "error calling {name}: wrong type for value; expected string; got {}",
            type_name(other)
        ))),
    }
}

fn int_arg(name: &str, v: &Value) -> Result<i64, FuncError> {
    match v {
        Value::Number(n) => {
            n.as_i64().ok_or_else(|| FuncError::Generic(format!("error calling {name}: {n} is not an integer")))
        }
        other => Err(FuncError::Generic(format!(
            "error calling {name}: wrong type for value; expected int; got {}",
            type_name(other)
        ))),
    }
}

fn print(args: &[Value]) -> Result<Value, FuncError> {
    want(PRINT, args, 1)?;
    Ok(Value::String(go_print(&args[0])))
}

fn json(args: &[Value]) -> Result<Value, FuncError> {
    want("json", args, 1)?;
    Ok(Value::String(go_json(&args[0])))
}

/// `strings.Split`; an empty separator splits into characters.
fn split(args: &[Value]) -> Result<Value, FuncError> {
    want("split", args, 2)?;
    let s = string_arg("split", &args[0])?;
    let sep = string_arg("split", &args[1])?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect()
    };
    Ok(Value::Array(parts))
}

/// `strings.Join` of a list (its elements printed as Go prints them).
fn join(args: &[Value]) -> Result<Value, FuncError> {
    want("join", args, 2)?;
    let sep = string_arg("join", &args[1])?;
    match &args[0] {
        Value::Array(items) => Ok(Value::String(items.iter().map(go_print).collect::<Vec<_>>().join(&sep))),
        other => Err(FuncError::Generic(format!(
            "error calling join: wrong type for value; expected []string; got {}",
            type_name(other)
        ))),
    }
}

/// `strings.Title`: upper-cases the first letter of each word.
fn title(args: &[Value]) -> Result<Value, FuncError> {
    want("title", args, 1)?;
    let s = string_arg("title", &args[0])?;
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        }
    };
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    Ok(Value::String(out))
}

fn lower(args: &[Value]) -> Result<Value, FuncError> {
    want("lower", args, 1)?;
    Ok(Value::String(string_arg("lower", &args[0])?.to_lowercase()))
}

fn upper(args: &[Value]) -> Result<Value, FuncError> {
    want("upper", args, 1)?;
    Ok(Value::String(string_arg("upper", &args[0])?.to_uppercase()))
}

/// `pad s before after`: spaces around `s`, unless it is empty.
fn pad(args: &[Value]) -> Result<Value, FuncError> {
    want("pad", args, 3)?;
    let s = string_arg("pad", &args[0])?;
    if s.is_empty() {
        return Ok(Value::String(s));
    }
    let before = usize::try_from(int_arg("pad", &args[1])?).unwrap_or(0);
    let after = usize::try_from(int_arg("pad", &args[2])?).unwrap_or(0);
    Ok(Value::String(format!("{}{s}{}", " ".repeat(before), " ".repeat(after))))
}

/// `truncate s n`: the first `n` bytes of `s` (cut back to a character boundary).
fn truncate(args: &[Value]) -> Result<Value, FuncError> {
    want("truncate", args, 2)?;
    let s = string_arg("truncate", &args[0])?;
    let n = usize::try_from(int_arg("truncate", &args[1])?).unwrap_or(0);
    if s.len() < n {
        return Ok(Value::String(s));
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Value::String(s[..end].to_string()))
}

/// Go's `index`: a missing key of a `map[string]string` is `""`, of a JSON map `<no value>`.
fn index(args: &[Value]) -> Result<Value, FuncError> {
    let Some((item, keys)) = args.split_first() else {
        return Err(FuncError::AtLeastXArgs("index".to_string(), 1));
    };
    let mut current = item.clone();
    for key in keys {
        current = match (&current, key) {
            (Value::Array(items), Value::Number(n)) => match n.as_u64().and_then(|i| items.get(i as usize)) {
                Some(v) => v.clone(),
                None => return Err(FuncError::Generic(format!("error calling index: index out of range: {n}"))),
            },
            (Value::Map(entries), Value::String(k)) => {
                entries.get(k).cloned().unwrap_or_else(|| Value::String(String::new()))
            }
            (Value::Object(fields), Value::String(k)) if !fields.contains_key(GO_TYPE) => {
                fields.get(k).cloned().unwrap_or(Value::NoValue)
            }
            (Value::Nil | Value::NoValue, _) => {
                return Err(FuncError::Generic("error calling index: index of untyped nil".to_string()))
            }
            (other, _) => {
                return Err(FuncError::Generic(format!(
                    "error calling index: can't index item of type {}",
                    type_name(other)
                )))
            }
        };
    }
    Ok(current)
}

/// `.Label "key"` of a `network ls` row: the label's value, `""` when the network lacks it.
fn label(args: &[Value]) -> Result<Value, FuncError> {
    want("Label", args, 2)?;
    let key = string_arg("Label", &args[1])?;
    let value = match &args[0] {
        Value::Object(fields) => match fields.get(LABELS) {
            Some(Value::Map(labels)) => labels.get(&key).cloned(),
            _ => None,
        },
        _ => None,
    };
    Ok(value.unwrap_or_else(|| Value::String(String::new())))
}

/// `.Label "com.example.team"` in a header: `team`, as Docker's `SubHeaderContext.Label`.
fn header_label(args: &[Value]) -> Result<Value, FuncError> {
    want("Label", args, 2)?;
    let key = string_arg("Label", &args[1])?;
    let last = key.rsplit('.').next().unwrap_or(&key);
    Ok(Value::String(last.replace(['-', '_'], " ")))
}

fn first_arg(args: &[Value]) -> Result<Value, FuncError> {
    args.first().cloned().ok_or_else(|| FuncError::AtLeastXArgs("header function".to_string(), 1))
}
