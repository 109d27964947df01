//! Okta's filter and search expressions (SCIM-like): `profile.login eq "a@b.com"`,
//! `eventType eq "a" or eventType eq "b"`, `profile.name sw "amazon"`, with `and`, `or`
//! (`and` binds tighter) and parentheses. Operators: `eq`, `ne`, `sw`, `co`, `pr`.
//! String comparisons ignore ASCII case, as Okta's search does.

use serde_json::Value;

/// A parsed expression, evaluated against an object's JSON as the API renders it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Compare {
        path: String,
        op: Op,
        value: Option<Value>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    StartsWith,
    Contains,
    Present,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
}

/// Why an expression did not parse (the text goes into the 400's `errorCauses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterError(pub String);

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(FilterError("unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => s.push(escaped),
                            None => return Err(FilterError("unterminated string".into())),
                        },
                        Some(other) => s.push(other),
                    }
                }
                tokens.push(Token::Str(s));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                        w.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token::Word(w));
            }
            other => return Err(FilterError(format!("unexpected character {other:?}"))),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.and()?];
        while self.peek_word("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.term()?];
        while self.peek_word("and") {
            self.pos += 1;
            items.push(self.term()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(FilterError("missing )".into())),
                }
            }
            Some(Token::Word(path)) => {
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "sw" => Op::StartsWith,
                        "co" => Op::Contains,
                        "pr" => {
                            return Ok(Expr::Compare {
                                path,
                                op: Op::Present,
                                value: None,
                            });
                        }
                        other => return Err(FilterError(format!("unknown operator {other}"))),
                    },
                    _ => return Err(FilterError(format!("missing operator after {path}"))),
                };
                let value = match self.next() {
                    Some(Token::Str(s)) => Value::String(s),
                    Some(Token::Word(w)) if w == "true" => Value::Bool(true),
                    Some(Token::Word(w)) if w == "false" => Value::Bool(false),
                    Some(Token::Word(w)) if w.parse::<f64>().is_ok() => {
                        serde_json::from_str(&w).unwrap_or(Value::String(w))
                    }
                    _ => return Err(FilterError(format!("missing value after {path}"))),
                };
                Ok(Expr::Compare {
                    path,
                    op,
                    value: Some(value),
                })
            }
            _ => Err(FilterError("expected an attribute or (".into())),
        }
    }
}

/// Parses an expression; every attribute must be one of `allowed` (Okta refuses
/// filters on attributes an endpoint does not support).
pub(crate) fn parse(text: &str, allowed: &[&str]) -> Result<Expr, FilterError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
    };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(FilterError("unexpected text after the expression".into()));
    }
    check_paths(&expr, allowed)?;
    Ok(expr)
}

fn check_paths(expr: &Expr, allowed: &[&str]) -> Result<(), FilterError> {
    match expr {
        Expr::Or(items) | Expr::And(items) => {
            items.iter().try_for_each(|e| check_paths(e, allowed))
        }
        Expr::Compare { path, .. } => {
            if allowed.iter().any(|a| {
                *a == "*" || a == path || (a.ends_with(".*") && path.starts_with(&a[..a.len() - 1]))
            }) {
                Ok(())
            } else {
                Err(FilterError(format!("unsupported attribute {path}")))
            }
        }
    }
}

fn lookup<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(object, |v, key| v.get(key))
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.to_ascii_lowercase()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Expr {
    /// Whether `object` (the JSON the API renders) satisfies the expression.
    pub(crate) fn matches(&self, object: &Value) -> bool {
        match self {
            Expr::Or(items) => items.iter().any(|e| e.matches(object)),
            Expr::And(items) => items.iter().all(|e| e.matches(object)),
            Expr::Compare { path, op, value } => {
                let actual = lookup(object, path).filter(|v| !v.is_null());
                let (actual, wanted) = match (*op, actual, value) {
                    (Op::Present, actual, _) => return actual.is_some(),
                    (Op::Ne, None, _) => return true,
                    (_, None, _) | (_, _, None) => return false,
                    (_, Some(a), Some(w)) => (text_of(a), text_of(w)),
                };
                let (Some(actual), Some(wanted)) = (actual, wanted) else {
                    return false;
                };
                match op {
                    Op::Eq => actual == wanted,
                    Op::Ne => actual != wanted,
                    Op::StartsWith => actual.starts_with(&wanted),
                    Op::Contains => actual.contains(&wanted),
                    Op::Present => true,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &[&str] = &["profile.*", "status", "id"];

    #[test]
    fn login_eq_matches_ignoring_case() {
        let expr = parse(r#"profile.login eq "Jane@Example.com""#, USER).unwrap();
        assert!(expr.matches(&json!({"profile": {"login": "jane@example.com"}})));
        assert!(!expr.matches(&json!({"profile": {"login": "john@example.com"}})));
        assert!(!expr.matches(&json!({"profile": {}})));
    }

    #[test]
    fn or_of_event_types() {
        let expr = parse(
            r#"eventType eq "group.user_membership.add" or eventType eq "user.lifecycle.suspend""#,
            &["eventType"],
        )
        .unwrap();
        assert!(expr.matches(&json!({"eventType": "user.lifecycle.suspend"})));
        assert!(expr.matches(&json!({"eventType": "group.user_membership.add"})));
        assert!(!expr.matches(&json!({"eventType": "user.lifecycle.create"})));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parens_group() {
        let expr = parse(
            r#"status eq "ACTIVE" and profile.login sw "a" or id eq "x""#,
            USER,
        )
        .unwrap();
        assert!(expr.matches(&json!({"id": "x", "status": "SUSPENDED", "profile": {}})));
        assert!(expr.matches(&json!({"id": "y", "status": "ACTIVE", "profile": {"login": "ab"}})));
        let expr = parse(
            r#"status eq "ACTIVE" and (profile.login sw "a" or id eq "x")"#,
            USER,
        )
        .unwrap();
        assert!(!expr.matches(&json!({"id": "x", "status": "SUSPENDED", "profile": {}})));
    }

    #[test]
    fn escaped_quotes_and_operators() {
        let expr = parse(r#"profile.name eq "say \"hi\"""#, &["profile.name"]).unwrap();
        assert!(expr.matches(&json!({"profile": {"name": "say \"hi\""}})));
        let expr = parse("profile.email pr", USER).unwrap();
        assert!(expr.matches(&json!({"profile": {"email": "a"}})));
        assert!(!expr.matches(&json!({"profile": {"email": null}})));
        let expr = parse(r#"profile.email co "EXAMPLE""#, USER).unwrap();
        assert!(expr.matches(&json!({"profile": {"email": "a@example.com"}})));
        let expr = parse(r#"status ne "ACTIVE""#, USER).unwrap();
        assert!(expr.matches(&json!({"status": "SUSPENDED"})));
    }

    #[test]
    fn malformed_expressions_are_refused() {
        for bad in [
            "profile.login",
            r#"profile.login eq"#,
            r#"profile.login like "x""#,
            r#"profile.login eq "x"#,
            r#"(profile.login eq "x""#,
            r#"profile.login eq "x" junk"#,
            r#"profile.login eq "x" or"#,
            "!",
        ] {
            assert!(parse(bad, USER).is_err(), "{bad} should fail");
        }
        assert!(parse(r#"password eq "x""#, USER).is_err());
    }
}
