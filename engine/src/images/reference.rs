//! Image names (`repository[:tag]`, `:latest` by default) and the `--change` instructions of
//! `weft image import` (`CMD`, `ENTRYPOINT`, `ENV`, `WORKDIR`), as Docker reads them.

use std::fmt;

use super::{ImageConfig, ImageError};

/// `repository:tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub repo: String,
    pub tag: String,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

fn invalid(name: &str, why: &str) -> ImageError {
    ImageError::InvalidReference(format!("invalid reference format: {why}: {name:?}"))
}

impl Reference {
    /// Parse `repo[:tag]`; a `:` after the last `/` starts the tag (a registry's `host:port/`
    /// is part of the repository). Digests (`@sha256:`) are not taken: weft has no registry.
    pub fn parse(name: &str) -> Result<Reference, ImageError> {
        if name.contains('@') {
            return Err(invalid(name, "weft images have no digest references"));
        }
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], &name[last_slash + i + 1..]),
            None => (name, "latest"),
        };
        if repo.is_empty() {
            return Err(invalid(name, "empty repository name"));
        }
        if repo.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ImageError::InvalidReference(format!(
                "invalid reference format: repository name ({repo}) must be lowercase"
            )));
        }
        let repo_ok = repo.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-:".contains(&b))
                && part.as_bytes()[0].is_ascii_alphanumeric()
        });
        if !repo_ok {
            return Err(invalid(name, "the repository name may hold lowercase letters, digits, '.', '_', '-', '/'"));
        }
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.as_bytes()[0] != b'.'
            && tag.as_bytes()[0] != b'-'
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !tag_ok {
            return Err(invalid(
                name,
                "a tag is 1 to 128 of letters, digits, '.', '_', '-', not starting with '.' or '-'",
            ));
        }
        Ok(Reference { repo: repo.to_string(), tag: tag.to_string() })
    }
}

/// A JSON array (`["a", "b"]`) as given, or the shell form run by `/bin/sh -c`.
fn command_form(rest: &str) -> Result<Vec<String>, ImageError> {
    let rest = rest.trim();
    if rest.starts_with('[') {
        if let Ok(list) = serde_json::from_str::<Vec<String>>(rest) {
            return Ok(list);
        }
    }
    if rest.is_empty() {
        return Err(ImageError::InvalidParameter("a CMD or ENTRYPOINT change needs a command".into()));
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

/// Apply Docker's `--change` instructions to `config`; instructions other than `CMD`,
/// `ENTRYPOINT`, `ENV` and `WORKDIR` are refused by name.
pub fn apply_changes(config: &mut ImageConfig, changes: &[String]) -> Result<(), ImageError> {
    for change in changes {
        let change = change.trim();
        let (word, rest) = change.split_once(char::is_whitespace).unwrap_or((change, ""));
        let rest = rest.trim();
        match word.to_ascii_uppercase().as_str() {
            "CMD" => config.cmd = Some(command_form(rest)?),
            "ENTRYPOINT" => config.entrypoint = Some(command_form(rest)?),
            "WORKDIR" => {
                if rest.is_empty() {
                    return Err(ImageError::InvalidParameter("WORKDIR needs a directory".into()));
                }
                config.working_dir = rest.to_string();
            }
            "ENV" => {
                let (key, value) = match rest.split_once('=') {
                    Some((k, v)) if !k.contains(char::is_whitespace) => (k, v.trim_matches('"')),
                    _ => rest.split_once(char::is_whitespace).map(|(k, v)| (k, v.trim())).unwrap_or((rest, "")),
                };
                if key.is_empty() {
                    return Err(ImageError::InvalidParameter("ENV needs a name".into()));
                }
                config.env.retain(|kv| kv.split_once('=').map_or(kv.as_str(), |(k, _)| k) != key);
                config.env.push(format!("{key}={value}"));
            }
            "" => {}
            other => {
                return Err(ImageError::InvalidParameter(format!(
                    "{other} is not a change weft supports: use CMD, ENTRYPOINT, ENV or WORKDIR"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_dockers() {
        let r = Reference::parse("mybox").unwrap();
        assert_eq!(r.to_string(), "mybox:latest");
        assert_eq!(Reference::parse("reg:5000/a/b:v1.2").unwrap().to_string(), "reg:5000/a/b:v1.2");
        assert_eq!(Reference::parse("reg:5000/a").unwrap().tag, "latest");
        assert!(Reference::parse("MyBox").unwrap_err().to_string().contains("must be lowercase"));
        assert!(Reference::parse("a:").is_err());
        assert!(Reference::parse("a@sha256:00").is_err());
        assert!(Reference::parse("a:-x").is_err());
    }

    #[test]
    fn changes_set_the_config() {
        let mut c = ImageConfig { env: vec!["A=1".into()], ..Default::default() };
        let changes =
            ["CMD [\"sh\", \"-c\", \"echo hi\"]", "ENTRYPOINT run me", "ENV A=2", "ENV B two words", "WORKDIR /srv"];
        apply_changes(&mut c, &changes.map(String::from)).unwrap();
        assert_eq!(c.cmd, Some(vec!["sh".into(), "-c".into(), "echo hi".into()]));
        assert_eq!(c.entrypoint, Some(vec!["/bin/sh".into(), "-c".into(), "run me".into()]));
        assert_eq!(c.env, vec!["A=2".to_string(), "B=two words".to_string()]);
        assert_eq!(c.working_dir, "/srv");
        let err = apply_changes(&mut c, &["EXPOSE 80".into()]).unwrap_err();
        assert!(err.to_string().contains("EXPOSE"), "{err}");
    }
}
