//! GUIDs for MSNP10–12, which address groups and forward-list contacts by GUID
//! instead of numeric id / email. msnpd's model has no stored GUIDs, so the codec
//! derives them deterministically:
//!
//! - group `id` ↔ `00000000-0000-0000-0001-` + `id` as 12 lowercase hex digits
//!   (reversible: [`parse_group_guid`]);
//! - contact `email` → a name-based GUID: MD5 of `msnpd-contact:` + the lower-cased
//!   email, formatted as a version-3 UUID. Not reversible; a handler maps a GUID back
//!   by comparing against [`contact_guid`] of each entry of the user's list.

use bytes::BytesMut;
use md5::{Digest, Md5};

const GROUP_PREFIX: &str = "00000000-0000-0000-0001-";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the GUID of group `id`.
pub fn write_group_guid(out: &mut BytesMut, id: u32) {
    out.extend_from_slice(GROUP_PREFIX.as_bytes());
    let id = u64::from(id);
    for shift in (0..12).rev() {
        out.extend_from_slice(&[HEX[((id >> (shift * 4)) & 0xf) as usize]]);
    }
}

/// The GUID of group `id`.
pub fn group_guid(id: u32) -> String {
    let mut out = BytesMut::with_capacity(36);
    write_group_guid(&mut out, id);
    String::from_utf8_lossy(&out).into_owned()
}

/// The group id of a GUID made by [`group_guid`] (hex digits in either case).
pub fn parse_group_guid(guid: &str) -> Option<u32> {
    let (prefix, hex) = guid.split_at_checked(GROUP_PREFIX.len())?;
    if prefix != GROUP_PREFIX || hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
}

/// Appends the GUID of the contact `email` (case-insensitive in `email`).
pub fn write_contact_guid(out: &mut BytesMut, email: &str) {
    let mut hasher = Md5::new();
    hasher.update(b"msnpd-contact:");
    hasher.update(email.to_ascii_lowercase().as_bytes());
    let mut bytes: [u8; 16] = hasher.finalize().into();
    bytes[6] = (bytes[6] & 0x0f) | 0x30;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.extend_from_slice(b"-");
        }
        out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
    }
}

/// The GUID of the contact `email`.
pub fn contact_guid(email: &str) -> String {
    let mut out = BytesMut::with_capacity(36);
    write_contact_guid(&mut out, email);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_guids_round_trip() {
        assert_eq!(group_guid(0), "00000000-0000-0000-0001-000000000000");
        assert_eq!(group_guid(29), "00000000-0000-0000-0001-00000000001d");
        for id in [0, 1, 29, 4096, u32::MAX] {
            assert_eq!(parse_group_guid(&group_guid(id)), Some(id));
        }
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0001-00000000001D"),
            Some(29)
        );
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0001-0001000000000"),
            None
        );
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0001-000100000000"),
            None
        );
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0002-000000000001"),
            None
        );
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0001-00000000000g"),
            None
        );
        assert_eq!(parse_group_guid("7"), None);
        assert_eq!(
            parse_group_guid("00000000-0000-0000-0001-+0000000001"),
            None
        );
    }

    #[test]
    fn contact_guids_are_stable_uuids() {
        let a = contact_guid("Bob@Example.com");
        assert_eq!(a, contact_guid("bob@example.com"));
        assert_ne!(a, contact_guid("fred@example.com"));
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('3'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(a.bytes().all(|b| b == b'-' || HEX.contains(&b)));
    }
}
