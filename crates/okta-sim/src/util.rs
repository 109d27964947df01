//! Small pure helpers: Okta-style ids, timestamps, cursors, percent-decoding.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use rand::distr::Alphanumeric;
use time::OffsetDateTime;
use time::macros::format_description;

/// An Okta-style id: the object's prefix (`00u` user, `00g` group, `0oa` app, `0ua` app
/// user, `who` event hook) and 17 random alphanumerics, 20 characters in all.
pub(crate) fn okta_id(prefix: &str) -> String {
    let body: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(17)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

/// A random alphanumeric string (request ids, tokens, challenges).
pub(crate) fn random_alnum(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// RFC 3339 in UTC with milliseconds and `Z`, as Okta writes `published` and `created`.
pub(crate) fn rfc3339_ms(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp (`since`/`until`).
pub(crate) fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// An opaque pagination cursor naming the last item of a page. Clients must not parse it;
/// base64 keeps them from being tempted.
pub(crate) fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{key}"))
}

/// The key inside a cursor made by [`encode_cursor`]; `None` for anything else.
pub(crate) fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("c1:").map(str::to_owned)
}

/// Decodes `%XX` escapes in a path segment (logins such as `a%40b.com`). `None` when an
/// escape is malformed or the result is not UTF-8.
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `"First Last"`, the `displayName` Okta gives a User target.
pub(crate) fn display_name(first: &str, last: &str) -> String {
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first} {last}"),
        (false, true) => first.to_owned(),
        _ => last.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_twenty_alphanumerics() {
        let id = okta_id("00u");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("00u"));
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(okta_id("00u"), okta_id("00u"));
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_123_456_789)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let text = rfc3339_ms(at);
        assert!(text.ends_with(".123Z"), "{text}");
        assert_eq!(
            parse_rfc3339(&text).map(|t| t.unix_timestamp()),
            Some(1_795_000_000)
        );
        assert!(parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let cursor = encode_cursor("00uABC");
        assert!(!cursor.contains("00uABC"), "cursor must be opaque");
        assert_eq!(decode_cursor(&cursor).as_deref(), Some("00uABC"));
        assert_eq!(decode_cursor("00uABC"), None);
        assert_eq!(decode_cursor("!!!"), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b.com").as_deref(), Some("a@b.com"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%4"), None);
        assert_eq!(percent_decode("bad%zz"), None);
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("Jane", "Doe"), "Jane Doe");
        assert_eq!(display_name("Jane", ""), "Jane");
        assert_eq!(display_name("", "Doe"), "Doe");
    }
}
