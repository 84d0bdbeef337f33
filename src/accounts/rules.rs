//! What an account's fields must look like. Pure functions shared by the
//! API and the command line; each returns why a value is refused, and the
//! caller names the field (422).

/// The statuses an account can have.
pub const STATUSES: &[&str] = &["active", "inactive", "pending"];
/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in characters (argon2 input stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest first name, surname or company, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// 3–32 characters of `a-z`, `0-9`, `_`, `.`, `-`.
pub fn username(s: &str) -> Result<(), &'static str> {
    if !(3..=32).contains(&s.chars().count()) {
        return Err("must be 3 to 32 characters long");
    }
    let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b);
    if !s.bytes().all(allowed) {
        return Err("may only contain a-z, 0-9, '_', '.' and '-'");
    }
    Ok(())
}

/// A pragmatic subset of RFC 5321 addresses: `local@domain`, where the local
/// part is 1–64 printable ASCII characters without spaces, quotes, brackets
/// or `(),:;<>@\` and without leading, trailing or doubled dots, and the
/// domain has at least two dot-separated labels of letters, digits and
/// inner hyphens, the last one not all digits.
pub fn email(s: &str) -> Result<(), &'static str> {
    const SHAPE: &str = "must look like name@example.com";
    if s.len() > MAX_EMAIL_BYTES {
        return Err("must be at most 254 characters long");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return Err(SHAPE);
    };
    if local.is_empty() || local.len() > 64 {
        return Err("the part before '@' must be 1 to 64 characters long");
    }
    let local_ok = |b: u8| b.is_ascii_graphic() && !b"\"(),:;<>@[\\]".contains(&b);
    if !local.bytes().all(local_ok)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err("the part before '@' contains a character or dot that is not allowed");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(SHAPE);
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(SHAPE);
    }
    Ok(())
}

/// At least 10 characters, at most 256, no control characters, and not all
/// of one kind: at least two of lowercase, uppercase, digits and others
/// (spaces and punctuation count as others).
pub fn password(s: &str) -> Result<(), &'static str> {
    let n = s.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err("must be at least 10 characters long");
    }
    if n > MAX_PASSWORD_CHARS {
        return Err("must be at most 256 characters long");
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    let kind = |c: char| {
        if c.is_lowercase() {
            0
        } else if c.is_uppercase() {
            1
        } else if c.is_numeric() {
            2
        } else {
            3
        }
    };
    let mut seen = [false; 4];
    for c in s.chars() {
        seen[kind(c)] = true;
    }
    if seen.iter().filter(|k| **k).count() < 2 {
        return Err(
            "must mix at least two kinds of characters (lowercase, uppercase, digits, others)",
        );
    }
    Ok(())
}

/// One of [`STATUSES`].
pub fn status(s: &str) -> Result<(), &'static str> {
    if STATUSES.contains(&s) {
        Ok(())
    } else {
        Err("must be one of: active, inactive, pending")
    }
}

/// First name, surname, company: up to 100 characters, no control
/// characters; empty clears it.
pub fn name(s: &str) -> Result<(), &'static str> {
    if s.chars().count() > MAX_NAME_CHARS {
        return Err("must be at most 100 characters long");
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn usernames() {
        for ok in [
            "abc",
            "jane.doe",
            "j_d-2",
            "a23456789012345678901234567890bc",
        ] {
            assert_eq!(username(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "ab",
            "Jane",
            "jane doe",
            "jäne",
            "a23456789012345678901234567890bcd",
            "jane@doe",
        ] {
            assert!(username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "Jane.Doe+tag@Example.COM",
            "x_y-z@mail.example-host.org",
            "o'neil@example.ie",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane@@example.com",
            "ja ne@example.com",
            ".jane@example.com",
            "jane.@example.com",
            "ja..ne@example.com",
            "jane@-example.com",
            "jane@example-.com",
            "jane@example..com",
            "jane@127.0.0.1",
            "jane@exa_mple.com",
            "jäne@example.com",
            "jane@example.com\n",
        ] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(email(&long).is_err());
    }

    #[test]
    fn passwords() {
        for ok in ["Correct-Horse-42", "correct horse battery", "1234567890a"] {
            assert_eq!(password(ok), Ok(()), "{ok}");
        }
        for bad in [
            "short1A",
            "aaaaaaaaaaaaaa",
            "ABCDEFGHIJKL",
            "12345678901",
            "tab\tinside123",
        ] {
            assert!(password(bad).is_err(), "{bad:?}");
        }
        assert!(password(&"aB".repeat(129)).is_err());
    }

    #[test]
    fn statuses_and_names() {
        for s in STATUSES {
            assert!(status(s).is_ok());
        }
        assert!(status("Active").is_err());
        assert!(status("").is_err());
        assert!(name("").is_ok());
        assert!(name("Ünal Çelik").is_ok());
        assert!(name(&"x".repeat(101)).is_err());
        assert!(name("a\u{0}b").is_err());
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in any::<String>()) {
            let _ = username(&s);
            let _ = email(&s);
            let _ = password(&s);
            let _ = status(&s);
            let _ = name(&s);
        }

        #[test]
        fn generated_usernames_follow_the_pattern(s in "[a-z0-9_.-]{3,32}") {
            prop_assert!(username(&s).is_ok());
        }

        #[test]
        fn usernames_with_any_other_character_fail(
            head in "[a-z]{2,10}",
            c in any::<char>().prop_filter("outside the set", |c| {
                !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(*c))
            }),
        ) {
            let s = format!("{head}{c}");
            prop_assert!(username(&s).is_err());
        }

        #[test]
        fn generated_emails_pass(
            local in "[a-z0-9]([a-z0-9._+-]{0,20}[a-z0-9])?",
            host in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?",
            tld in "[a-z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let e = format!("{local}@{host}.{tld}");
            prop_assert!(email(&e).is_ok(), "{}", e);
        }

        #[test]
        fn emails_without_an_at_fail(s in "[^@]{0,40}") {
            prop_assert!(email(&s).is_err());
        }
    }
}
