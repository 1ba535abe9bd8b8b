//! Salesforce record ids: 15 case-sensitive characters plus a 3-character checksum.
//!
//! The checksum (salesforce-facts §10, Salesforce help 000385066): split the 15-character id into
//! three 5-character chunks; for each chunk set bit i when character i is an upper-case letter;
//! map the 5-bit number to `A`–`Z` (0–25) or `0`–`5` (26–31).

const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The three checksum characters of a 15-character id.
pub(crate) fn checksum(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            CHECKSUM_ALPHABET[bits] as char
        })
        .collect()
}

/// The 18-character form of a 15- or 18-character id, or `None` when the text is not an id
/// (wrong length, a character outside `[0-9A-Za-z]`, or an 18-character id whose checksum does
/// not match its first 15 characters — compared case-insensitively, as Salesforce does).
pub(crate) fn normalize(text: &str) -> Option<String> {
    if !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match text.len() {
        15 => Some(format!("{text}{}", checksum(text))),
        18 => {
            let (head, tail) = text.split_at(15);
            tail.eq_ignore_ascii_case(&checksum(head))
                .then(|| format!("{head}{}", checksum(head)))
        }
        _ => None,
    }
}

/// An 18-character id: the 3-character key prefix, a 2-character instance part and a base-62
/// counter, then the checksum.
pub(crate) fn make(key_prefix: &str, instance: &str, counter: u64) -> String {
    let mut digits = [b'0'; 10];
    let mut n = counter;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let id15 = format!(
        "{key_prefix}{instance}{}",
        std::str::from_utf8(&digits).expect("base-62 digits are ASCII")
    );
    let sum = checksum(&id15);
    id15 + &sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_documented_examples() {
        assert_eq!(checksum("00558000001N0Ke"), "AAK");
        assert_eq!(checksum("001A0000006Vm9u"), "IAC");
    }

    #[test]
    fn fifteen_character_id_gains_its_checksum() {
        assert_eq!(
            normalize("001A0000006Vm9u").as_deref(),
            Some("001A0000006Vm9uIAC")
        );
    }

    #[test]
    fn eighteen_character_id_with_bad_checksum_is_refused() {
        assert_eq!(
            normalize("001A0000006Vm9uIAC").as_deref(),
            Some("001A0000006Vm9uIAC")
        );
        assert_eq!(
            normalize("001A0000006Vm9uIAc").as_deref(),
            Some("001A0000006Vm9uIAC")
        );
        assert_eq!(normalize("001A0000006Vm9uAAA"), None);
    }

    #[test]
    fn wrong_length_or_characters_are_not_ids() {
        assert_eq!(normalize("001A0000006Vm9"), None);
        assert_eq!(normalize("001A0000006Vm9-"), None);
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn made_ids_are_valid_and_distinct() {
        let a = make("750", "R0", 1);
        let b = make("750", "R0", 2);
        assert_eq!(a.len(), 18);
        assert_ne!(a, b);
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
        assert!(a.starts_with("750R0"));
    }
}
