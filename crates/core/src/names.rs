//! Connect usernames and person names from what Okta tells us.

use serde::{Deserialize, Serialize};

use crate::config::UsernameSource;

/// Connect's limit for usernames on SAML instances.
pub const MAX_USERNAME_LEN: usize = 64;
/// Connect's limit for `FirstName` / `LastName`.
pub const MAX_NAME_LEN: usize = 100;

/// A username Connect would reject. Permanent: the Okta login must change, or the
/// username source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("no Okta login is known for this user")]
    Missing,
    #[error("username {0:?} is longer than {MAX_USERNAME_LEN} characters")]
    TooLong(String),
    #[error(
        "username {username:?} has {bad:?}; Connect (SAML) allows only letters, digits and _ . @ -"
    )]
    BadCharacter { username: String, bad: char },
}

/// Checks a username against Connect's SAML rules: 1–64 of `[A-Za-z0-9_.@-]`.
pub fn check_username(username: &str) -> Result<(), UsernameError> {
    if username.is_empty() {
        return Err(UsernameError::Missing);
    }
    if let Some(bad) = username
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')))
    {
        return Err(UsernameError::BadCharacter {
            username: username.to_string(),
            bad,
        });
    }
    if username.len() > MAX_USERNAME_LEN {
        return Err(UsernameError::TooLong(username.to_string()));
    }
    Ok(())
}

/// The Connect username for an Okta user, checked. `email` is used only by
/// [`UsernameSource::Email`] and falls back to the login when unknown.
pub fn username_for(
    source: UsernameSource,
    login: Option<&str>,
    email: Option<&str>,
) -> Result<String, UsernameError> {
    let login = login.filter(|l| !l.is_empty());
    let chosen = match source {
        UsernameSource::Login => login,
        UsernameSource::LoginLocalPart => login.map(|l| l.split('@').next().unwrap_or(l)),
        UsernameSource::Email => email.filter(|e| !e.is_empty()).or(login),
    }
    .ok_or(UsernameError::Missing)?;
    check_username(chosen)?;
    Ok(chosen.to_string())
}

/// First and last name as Connect stores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub first: String,
    pub last: String,
}

/// Splits an Okta `displayName` when the Users API has not given real names.
///
/// - `"Last, First Middle"` → first `First Middle`, last `Last` (Okta's own sample
///   payloads use this form);
/// - `"First Middle Last"` → first `First Middle`, last `Last`;
/// - one word → that word as both, because Connect requires both names.
///
/// Each part is capped at Connect's 100 characters. `None` for a blank name.
pub fn split_display_name(display: &str) -> Option<PersonName> {
    let display = display.split_whitespace().collect::<Vec<_>>().join(" ");
    if display.is_empty() {
        return None;
    }
    let (first, last) = match display.split_once(',') {
        Some((last, first)) if !last.trim().is_empty() && !first.trim().is_empty() => {
            (first.trim().to_string(), last.trim().to_string())
        }
        _ => {
            let cleaned = display.trim_matches(|c: char| c == ',' || c.is_whitespace());
            match cleaned.rsplit_once(' ') {
                Some((first, last)) => (first.to_string(), last.to_string()),
                None => (cleaned.to_string(), cleaned.to_string()),
            }
        }
    };
    if first.is_empty() {
        return None;
    }
    Some(PersonName {
        first: cap(&first),
        last: cap(&last),
    })
}

/// Caps a name at Connect's limit, on a character boundary.
pub fn cap(name: &str) -> String {
    name.chars().take(MAX_NAME_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(display: &str) -> (String, String) {
        let n = split_display_name(display).unwrap();
        (n.first, n.last)
    }

    #[test]
    fn display_names_split_like_a_person_would() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(split("Jane Doe"), s("Jane", "Doe"));
        assert_eq!(split("Chen, Lin"), s("Lin", "Chen"));
        assert_eq!(split("Müller, Jürgen"), s("Jürgen", "Müller"));
        assert_eq!(split("User, User"), s("User", "User"));
        assert_eq!(
            split("Ana María de la Cruz Rogers"),
            s("Ana María de la Cruz", "Rogers")
        );
        assert_eq!(split("Prince"), s("Prince", "Prince"));
        assert_eq!(split("田中 明"), s("田中", "明"));
        assert_eq!(split("  Jane   Doe  "), s("Jane", "Doe"));
        assert_eq!(split("Doe,"), s("Doe", "Doe"));
        assert_eq!(split(", Jane"), s("Jane", "Jane"));
        assert_eq!(split_display_name("   "), None);
        assert_eq!(split_display_name(","), None);
        let long = "x".repeat(300);
        assert_eq!(split(&long).0.chars().count(), MAX_NAME_LEN);
    }

    #[test]
    fn usernames_follow_connects_saml_rules() {
        assert!(check_username("jane.doe@acme.example").is_ok());
        assert!(check_username("a_b-c.d@e").is_ok());
        assert_eq!(
            check_username("sam+connect@acme.example"),
            Err(UsernameError::BadCharacter {
                username: "sam+connect@acme.example".into(),
                bad: '+'
            })
        );
        assert!(matches!(
            check_username("zoë@x"),
            Err(UsernameError::BadCharacter { bad: 'ë', .. })
        ));
        assert!(matches!(
            check_username("has space"),
            Err(UsernameError::BadCharacter { bad: ' ', .. })
        ));
        assert!(check_username(&"a".repeat(64)).is_ok());
        assert!(matches!(
            check_username(&"a".repeat(65)),
            Err(UsernameError::TooLong(_))
        ));
        assert_eq!(check_username(""), Err(UsernameError::Missing));
    }

    #[test]
    fn username_source_picks_the_attribute() {
        let login = Some("jane.doe@acme.example");
        assert_eq!(
            username_for(UsernameSource::Login, login, None).unwrap(),
            "jane.doe@acme.example"
        );
        assert_eq!(
            username_for(UsernameSource::LoginLocalPart, login, None).unwrap(),
            "jane.doe"
        );
        assert_eq!(
            username_for(UsernameSource::Email, login, Some("jd@acme.example")).unwrap(),
            "jd@acme.example"
        );
        assert_eq!(
            username_for(UsernameSource::Email, login, None).unwrap(),
            "jane.doe@acme.example"
        );
        assert_eq!(
            username_for(UsernameSource::Login, None, None),
            Err(UsernameError::Missing)
        );
    }
}
