//! A small INI reader that remembers where every value came from.
//!
//! Written here rather than taken from a crate because every config error must name its
//! line, and because the original sample's file needs Python-`configparser`-compatible
//! inline comments: `KEY = value  # comment` yields `value`, while `abc#def` and
//! `"x # y"` keep their `#`. Section and key names are case-insensitive (`[Connect]`
//! and `[CONNECT]` are one section), as configparser treats keys.

use std::fmt;

/// Where a setting came from, so an error can send the admin straight to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// 1-based line of the INI text.
    Line(usize),
    /// An environment variable that overrode or added the key.
    Env(String),
    /// Not set anywhere: a built-in default or a missing required key.
    Unset,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Line(n) => write!(f, "line {n}"),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::Unset => f.write_str("not set"),
        }
    }
}

/// One `KEY = value` with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key as written (for messages); matching uses [`normalize`].
    pub key: String,
    pub value: String,
    pub origin: Origin,
}

/// One `[section]` with its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub origin: Origin,
    pub entries: Vec<Entry>,
}

impl Section {
    /// The entry whose key matches `key` case-insensitively.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        let key = normalize(key);
        self.entries.iter().find(|e| normalize(&e.key) == key)
    }
}

/// A syntax error in the INI text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub problem: String,
}

/// Upper-cases and maps every non-alphanumeric character to `_`: the form used to match
/// names case-insensitively and to build environment-variable names.
pub fn normalize(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Parses INI text into sections. Rejects keys outside a section, duplicate sections,
/// duplicate keys within a section, lines that are neither, and unterminated quotes.
pub fn parse(text: &str) -> Result<Vec<Section>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let err = |problem: String| SyntaxError {
            line: number,
            problem,
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix('[') {
            let (name, after) = rest
                .split_once(']')
                .ok_or_else(|| err("section header has no closing ']'".into()))?;
            let after = strip_inline_comment(after).trim();
            if !after.is_empty() {
                return Err(err(format!(
                    "unexpected text after section header: {after:?}"
                )));
            }
            let name = name.trim();
            if name.is_empty() {
                return Err(err("empty section name".into()));
            }
            if let Some(first) = sections
                .iter()
                .find(|s| normalize(&s.name) == normalize(name))
            {
                return Err(err(format!(
                    "section [{name}] appears twice (first at {})",
                    first.origin
                )));
            }
            sections.push(Section {
                name: name.to_string(),
                origin: Origin::Line(number),
                entries: Vec::new(),
            });
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(err(
                "indented line: continuation lines are not supported; put the value on one line"
                    .into(),
            ));
        }
        let (key, value) = trimmed.split_once('=').ok_or_else(|| {
            err(format!(
                "expected KEY = value or [section], got {trimmed:?}"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(err("a line starts with '=' and names no key".into()));
        }
        let value = read_value(value).map_err(err)?;
        let section = sections
            .last_mut()
            .ok_or_else(|| err(format!("key {key} appears before any [section] header")))?;
        if let Some(first) = section.get(key) {
            return Err(err(format!(
                "key {key} appears twice in [{}] (first at {})",
                section.name, first.origin
            )));
        }
        section.entries.push(Entry {
            key: key.to_string(),
            value,
            origin: Origin::Line(number),
        });
    }
    Ok(sections)
}

/// A value with its inline comment removed and surrounding quotes, if any, taken off.
fn read_value(raw: &str) -> Result<String, String> {
    let raw = raw.trim_start();
    if let Some(quoted) = raw.strip_prefix('"') {
        let (inside, after) = quoted
            .split_once('"')
            .ok_or_else(|| "value opens a quote that never closes".to_string())?;
        let after = strip_inline_comment(after).trim();
        if !after.is_empty() {
            return Err(format!("unexpected text after quoted value: {after:?}"));
        }
        return Ok(inside.to_string());
    }
    Ok(strip_inline_comment(raw).trim().to_string())
}

/// Cuts a `#` or `;` comment that starts the text or follows whitespace, as
/// configparser's `inline_comment_prefixes` does; `abc#def` is left whole.
fn strip_inline_comment(text: &str) -> &str {
    let mut previous_is_space = true;
    for (i, c) in text.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            return &text[..i];
        }
        previous_is_space = c.is_whitespace();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of(text: &str) -> String {
        let sections = parse(&format!("[s]\nK = {text}\n")).unwrap();
        sections[0].entries[0].value.clone()
    }

    #[test]
    fn inline_comments_follow_configparser() {
        assert_eq!(
            value_of("AWS Account Federation  # Your app"),
            "AWS Account Federation"
        );
        assert_eq!(value_of("abc#def"), "abc#def");
        assert_eq!(value_of("\"x # y\"  # real comment"), "x # y");
        assert_eq!(value_of("# only a comment"), "");
        assert_eq!(value_of("value ; semicolon comment"), "value");
        assert_eq!(value_of(""), "");
    }

    #[test]
    fn remembers_lines_and_ignores_comment_lines() {
        let text = "# header\n\n[OKTA]\n; note\nAPP_NAME = a\n\n[Connect]\nINSTANCE_ID = b\n";
        let sections = parse(text).unwrap();
        assert_eq!(sections[0].origin, Origin::Line(3));
        assert_eq!(sections[0].entries[0].origin, Origin::Line(5));
        assert_eq!(
            sections[1].get("instance_id").unwrap().origin,
            Origin::Line(8)
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let cases = [
            ("KEY = v\n", 1, "before any [section]"),
            ("[a]\n[A]\n", 2, "appears twice"),
            ("[a]\nK = 1\nk = 2\n", 3, "appears twice"),
            ("[a]\n  K = 1\n", 2, "indented"),
            ("[a\n", 1, "closing"),
            ("[a]\njust words\n", 2, "expected KEY = value"),
            ("[a]\nK = \"open\n", 2, "never closes"),
            ("[]\n", 1, "empty section"),
            ("[a]\n= v\n", 2, "names no key"),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}");
            assert!(e.problem.contains(needle), "{text:?}: {}", e.problem);
        }
    }

    #[test]
    fn bom_and_crlf_are_accepted() {
        let sections = parse("\u{feff}[a]\r\nK = v\r\n").unwrap();
        assert_eq!(sections[0].entries[0].value, "v");
    }

    #[test]
    fn normalize_maps_to_env_form() {
        assert_eq!(normalize("Mapping supervisors"), "MAPPING_SUPERVISORS");
        assert_eq!(normalize(" app_name "), "APP_NAME");
    }
}
