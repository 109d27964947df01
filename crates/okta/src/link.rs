//! `Link` headers (RFC 8288), as Okta pages its lists: `<url>; rel="next"`.

/// The target of the first link whose `rel` includes `next`, across every `Link` header
/// value given (Okta sends `self` and `next` either in one header or in two). A URL may
/// contain commas and semicolons inside its `<…>`, and parameters may be quoted or not.
pub(crate) fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    values
        .into_iter()
        .flat_map(parse)
        .find(|(_, rels)| rels.iter().any(|r| r.eq_ignore_ascii_case("next")))
        .map(|(url, _)| url)
}

/// Every `(target, rel values)` of one header value; malformed links are skipped.
fn parse(value: &str) -> Vec<(String, Vec<String>)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let target = after[..close].trim().to_string();
        let mut params = &after[close + 1..];
        // Parameters run up to the next comma outside quotes.
        let mut end = params.len();
        let mut quoted = false;
        for (i, c) in params.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let (own, next) = params.split_at(end);
        params = own;
        let mut rels = Vec::new();
        for param in split_unquoted(params, ';') {
            let Some((name, val)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("rel") {
                let val = val.trim().trim_matches('"');
                rels.extend(val.split_whitespace().map(String::from));
            }
        }
        links.push((target, rels));
        rest = next;
    }
    links
}

fn split_unquoted(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_links_of_one_header() {
        let v = r#"<https://x.okta.com/api/v1/users?limit=200>; rel="self", <https://x.okta.com/api/v1/users?after=00u1&limit=200>; rel="next""#;
        assert_eq!(
            next_link([v]).as_deref(),
            Some("https://x.okta.com/api/v1/users?after=00u1&limit=200")
        );
    }

    #[test]
    fn finds_next_in_a_second_header() {
        let self_only = r#"<https://x/api/v1/logs?since=a>; rel="self""#;
        let next = r#"<https://x/api/v1/logs?after=abc%3D%3D>; rel="next""#;
        assert_eq!(
            next_link([self_only, next]).as_deref(),
            Some("https://x/api/v1/logs?after=abc%3D%3D")
        );
        assert_eq!(next_link([self_only]), None);
        assert_eq!(next_link([]), None);
    }

    #[test]
    fn urls_with_commas_and_semicolons_and_odd_params() {
        let v = concat!(
            r#"<https://x/api/v1/logs?filter=a,b;c>; title="a, b; c"; rel="self", "#,
            r#"<https://x/api/v1/logs?after=1,2>;rel=next"#
        );
        assert_eq!(
            next_link([v]).as_deref(),
            Some("https://x/api/v1/logs?after=1,2")
        );
        let multi = r#"<https://x/p2>; rel="prefetch NEXT""#;
        assert_eq!(next_link([multi]).as_deref(), Some("https://x/p2"));
    }

    #[test]
    fn malformed_values_give_nothing() {
        for v in [
            "",
            "garbage",
            "<https://x/p2",
            "https://x/p2; rel=next",
            "<u>; rel",
        ] {
            assert_eq!(next_link([v]), None, "{v}");
        }
        // "nextpage" is not "next".
        assert_eq!(next_link([r#"<https://x/p>; rel="nextpage""#]), None);
    }
}
