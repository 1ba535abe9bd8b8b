//! Salesforce record ids: 15 case-sensitive characters (key prefix, instance, base-62 counter)
//! plus a 3-character checksum that makes the 18-character form case-insensitive.
//!
//! Generated ids encode the record's index in the counter, so id → index is arithmetic and a
//! record of a 10-million-row object costs nothing until it is asked for.
//! Checksum algorithm: <https://help.salesforce.com/s/articleView?id=000385066&type=1>.

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_CHARS: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
/// Characters 4–5 of every id this org makes (Salesforce's instance/pod characters).
const INSTANCE: &str = "Dn";
/// Counter digits after prefix (3) and instance (2): 15 - 5.
const COUNTER_DIGITS: usize = 10;

/// The 3-character checksum of a 15-character id.
pub(crate) fn checksum(id15: &[u8; 15]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk_index, chunk) in id15.chunks(5).enumerate() {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out[chunk_index] = CHECKSUM_CHARS[bits];
    }
    out
}

/// The 18-character id of counter `n` under `prefix` (three characters).
pub(crate) fn encode(prefix: &str, n: u64) -> String {
    let mut id = [b'0'; 15];
    id[..3].copy_from_slice(&prefix.as_bytes()[..3]);
    id[3..5].copy_from_slice(INSTANCE.as_bytes());
    let mut rest = n;
    // Leading digits stay '0'; only as many divisions as the counter has digits.
    for slot in id[5..].iter_mut().rev() {
        if rest == 0 {
            break;
        }
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let sum = checksum(&id);
    let mut s = String::with_capacity(18);
    for b in id.iter().chain(sum.iter()) {
        s.push(char::from(*b));
    }
    s
}

/// The 18-character form of a 15- or 18-character id; `None` when it is neither or an
/// 18-character id's checksum does not match (Salesforce answers MALFORMED_ID then).
pub(crate) fn to_18(id: &str) -> Option<String> {
    let bytes = id.as_bytes();
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match bytes.len() {
        15 => {
            let mut id15 = [0u8; 15];
            id15.copy_from_slice(bytes);
            let sum = checksum(&id15);
            Some(format!("{id}{}", std::str::from_utf8(&sum).ok()?))
        }
        18 => {
            let mut id15 = [0u8; 15];
            id15.copy_from_slice(&bytes[..15]);
            let sum = checksum(&id15);
            if sum.eq_ignore_ascii_case(&bytes[15..]) {
                Some(format!("{}{}", &id[..15], std::str::from_utf8(&sum).ok()?))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The counter of an id this org made under `prefix` (15 or 18 characters), or `None`.
pub(crate) fn decode(prefix: &str, id: &str) -> Option<u64> {
    let full = to_18(id)?;
    if !full.starts_with(prefix) || &full[3..5] != INSTANCE {
        return None;
    }
    let mut n: u64 = 0;
    for c in full[5..5 + COUNTER_DIGITS].bytes() {
        let digit = BASE62.iter().position(|b| *b == c)? as u64;
        n = n.checked_mul(62)?.checked_add(digit)?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_salesforce_examples() {
        assert_eq!(to_18("00558000001N0Ke").unwrap(), "00558000001N0KeAAK");
        assert_eq!(to_18("001A0000006Vm9u").unwrap(), "001A0000006Vm9uIAC");
    }

    #[test]
    fn eighteen_char_id_with_wrong_checksum_is_refused() {
        assert!(to_18("001A0000006Vm9uAAA").is_none());
        assert_eq!(to_18("001A0000006Vm9uiac").unwrap(), "001A0000006Vm9uIAC");
    }

    #[test]
    fn encoded_ids_decode_to_their_counter_and_sort_like_it() {
        let a = encode("001", 61);
        let b = encode("001", 62);
        assert_eq!(a.len(), 18);
        assert_eq!(decode("001", &a), Some(61));
        assert_eq!(decode("001", &b[..15]), Some(62));
        assert!(a < b);
        assert_eq!(decode("003", &a), None);
        assert_eq!(to_18(&a).unwrap(), a);
    }
}
