//! The `CHL`/`QRY` challenge of MSNP6 and later: fresh challenges, the two response
//! algorithms (MD5 for MSNP6–10, the "MSNP11" hash from MSNP11 on), the table of
//! client product ids and keys, and the server-side check of a `QRY` answer.
//!
//! Algorithm and vectors: NINA wiki "MSNP11/Challenges"
//! (<https://wiki.nina.chat/wiki/Protocols/MSNP/MSNP11/Challenges>); product ids
//! and keys as collected by Escargot (`front/msn/msnp_ns.py`, `_QRY_ID_CODES`).

use md5::{Digest, Md5};
use rand::Rng;

use super::auth::constant_time_eq_ignore_ascii_case;

/// Number of digits in a challenge we send.
const CHALLENGE_DIGITS: usize = 20;

/// A fresh challenge for `CHL 0 <challenge>`: 20 random decimal digits.
pub fn new_challenge() -> String {
    let mut rng = rand::rng();
    (0..CHALLENGE_DIGITS)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// The MSNP6–10 answer: lowercase hex `md5(challenge + product_key)`.
pub fn md5_response(challenge: &str, product_key: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(challenge.as_bytes());
    md5.update(product_key.as_bytes());
    hex::encode(md5.finalize())
}

/// The modulus of the MSNP11 hash (2^31 - 1).
const MOD: u64 = 0x7FFF_FFFF;
/// The multiplier applied to every first word of a pair.
const MULTIPLIER: u64 = 0x0E79_A9C1;

/// The MSNP11+ answer (32 lowercase hex digits).
///
/// 1. `h = md5(challenge + product_key)` as four little-endian u32 `h0..h3`;
///    `k_i = h_i & 0x7FFFFFFF`.
/// 2. `challenge + product_id`, right-padded with `'0'` to a multiple of 8 bytes,
///    read as little-endian u32 words `c[]`.
/// 3. For each pair: `t = (k0 * (c[i] * 0x0E79A9C1 % M + high) + k1) % M`,
///    `high = (k2 * ((c[i+1] + t) % M) + k3) % M`, `low += high + t`.
/// 4. `high = (high + k1) % M`, `low = (low + k3) % M`.
/// 5. The hex of the little-endian bytes of `h0^high, h1^low, h2^high, h3^low`
///    (XOR with the unmasked `h_i`).
pub fn msnp11_response(challenge: &str, product_id: &str, product_key: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(challenge.as_bytes());
    md5.update(product_key.as_bytes());
    let digest = md5.finalize();
    let mut h = [0u32; 4];
    for (word, bytes) in h.iter_mut().zip(digest.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let k = h.map(|w| u64::from(w & 0x7FFF_FFFF));

    let mut text = Vec::with_capacity(challenge.len() + product_id.len() + 8);
    text.extend_from_slice(challenge.as_bytes());
    text.extend_from_slice(product_id.as_bytes());
    text.resize(text.len().div_ceil(8) * 8, b'0');

    let (mut high, mut low) = (0u64, 0u64);
    for pair in text.chunks_exact(8) {
        let c0 = u64::from(u32::from_le_bytes([pair[0], pair[1], pair[2], pair[3]]));
        let c1 = u64::from(u32::from_le_bytes([pair[4], pair[5], pair[6], pair[7]]));
        // Every operand stays below 2^32 and every product below 2^63.
        let t = (c0 * MULTIPLIER % MOD + high) % MOD;
        let t = (k[0] * t + k[1]) % MOD;
        high = (c1 + t) % MOD;
        high = (k[2] * high + k[3]) % MOD;
        low += high + t;
    }
    high = (high + k[1]) % MOD;
    low = (low + k[3]) % MOD;

    // Both are below 2^31 after the last reductions.
    let (high, low) = (high as u32, low as u32);
    let words = [h[0] ^ high, h[1] ^ low, h[2] ^ high, h[3] ^ low];
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    hex::encode(out)
}

/// One known client product: its id (sent in `QRY`), its private key, and the
/// newest dialect it may answer for.
struct Product {
    id: &'static str,
    key: &'static str,
    max_dialect: u8,
}

/// Known product ids and keys. A product answers challenges from MSNP6 up to its
/// own family's newest dialect (a newer client speaking an older dialect keeps its
/// id, as Escargot allows; an old id cannot answer a newer dialect's challenge).
#[rustfmt::skip]
const PRODUCTS: &[Product] = &[
    // MSNP6–10 (MSN Messenger 4.x–6.x).
    Product { id: "msmsgs@msnmsgr.com", key: "Q1P7W2E4J9R8U3S5", max_dialect: 10 },
    Product { id: "PROD0038W!61ZTF9", key: "VT6PX?UQTM4WM%YR", max_dialect: 10 },
    Product { id: "PROD0058#7IL2{QD", key: "QHDCY@7R1TB6W?5B", max_dialect: 10 },
    Product { id: "PROD0061VRRZH@4F", key: "JXQ6J@TUOGYV@N0M", max_dialect: 10 },
    Product { id: "PROD00504RLUG%WL", key: "I2EBK%PYNLZL5_J4", max_dialect: 10 },
    Product { id: "PROD0076ENE8*@AW", key: "CEQJ8}OE0!WTSWII", max_dialect: 10 },
    // MSNP11–12 (MSN Messenger 7.0, 7.5).
    Product { id: "PROD0090YUAUV{2B", key: "YMM8C_H7KCQ2S_KL", max_dialect: 12 },
    Product { id: "PROD0101{0RM?UBW", key: "CFHUR$52U_{VIX5T", max_dialect: 12 },
    // MSNP13–14 (Windows Live Messenger 8.0, 8.1).
    Product { id: "PROD01065C%ZFN6F", key: "O4BG@C7BWLYQX?5G", max_dialect: 14 },
    Product { id: "PROD0112J1LW7%NB", key: "RH96F{PHI8PPX_TJ", max_dialect: 14 },
    // MSNP15 and later (Windows Live Messenger 8.5–2009).
    Product { id: "PROD0113H11T8$X_", key: "RG@XY*28Q5QHS%Q5", max_dialect: u8::MAX },
    Product { id: "PROD0114ES4Z%Q5W", key: "PK}_A_0N_K%O?A9S", max_dialect: u8::MAX },
    Product { id: "PROD0118R6%2WYOS", key: "YIXPX@5I2P0UT*LK", max_dialect: u8::MAX },
    Product { id: "PROD0119GSJUC$18", key: "ILTXC!4IXB5FB*PX", max_dialect: u8::MAX },
    Product { id: "PROD0120PW!CCV9@", key: "C1BX{V4W}Q3*10SM", max_dialect: u8::MAX },
];

/// The oldest dialect with challenges.
const FIRST_CHALLENGE_DIALECT: u8 = 6;
/// The first dialect answering with [`msnp11_response`].
const FIRST_MSNP11_DIALECT: u8 = 11;

/// The private key of `product_id` if that product may answer a challenge in
/// dialect `MSNP<dialect_version>` (ids are case-sensitive).
pub fn product_key(product_id: &str, dialect_version: u8) -> Option<&'static str> {
    if dialect_version < FIRST_CHALLENGE_DIALECT {
        return None;
    }
    PRODUCTS
        .iter()
        .find(|p| p.id == product_id && dialect_version <= p.max_dialect)
        .map(|p| p.key)
}

/// Whether `response` (from `QRY <trid> <product_id> 32`) answers `challenge` in
/// dialect `MSNP<dialect_version>`: the product must be known for that dialect and
/// the response must equal the dialect's algorithm's output (hex case ignored;
/// compared in constant time).
pub fn verify_qry(challenge: &str, product_id: &str, response: &str, dialect_version: u8) -> bool {
    let Some(key) = product_key(product_id, dialect_version) else {
        return false;
    };
    let expected = if dialect_version >= FIRST_MSNP11_DIALECT {
        msnp11_response(challenge, product_id, key)
    } else {
        md5_response(challenge, key)
    };
    constant_time_eq_ignore_ascii_case(expected.as_bytes(), response.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// research/msnp.md §2.8 (Eclipse ECF `ChallengeTest.java`, a Ruby spec,
    /// Kopete/Papillon).
    #[rustfmt::skip]
    const MSNP11_VECTORS: &[(&str, &str, &str, &str)] = &[
        ("22210219642164014968", "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL", "85ecb0db8f32113df79ce0892b9a102c"),
        ("36819795137093047918", "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL", "e7ad3cb09d3e9e4e7c720175984809e9"),
        ("21948129323261853323", "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL", "59bcf63ed21f44906c3d3e121ddbed65"),
        ("41525959199453244913", "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL", "dcb8ff529e4dd12cc43389851128d2db"),
        ("11533365622852247127", "PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5", "f086d1ded067186deca8dba2231602cf"),
        ("237191752526424888127371168", "PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5", "65b6b623c649c25629af048d34066040"),
        ("15570131571988941333", "PROD01065C%ZFN6F", "O4BG@C7BWLYQX?5G", "47d2b1e24f85947bdd29b3bfe29f027b"),
    ];

    #[test]
    fn msnp11_vectors() {
        for &(challenge, id, key, expected) in MSNP11_VECTORS {
            assert_eq!(
                msnp11_response(challenge, id, key),
                expected,
                "{challenge} {id}"
            );
        }
    }

    #[test]
    fn md5_examples() {
        assert_eq!(
            md5_response("15570131571988941333", "Q1P7W2E4J9R8U3S5"),
            "8f2f5a91b72102cd28355e9fc9000d6e"
        );
        assert_eq!(
            md5_response("11111111111111111111", "Q1P7W2E4J9R8U3S5"),
            "3b6666b60157322b6fc6e41a115968f5"
        );
    }

    #[test]
    fn verify_qry_md5_dialects() {
        let challenge = "15570131571988941333";
        let good = "8f2f5a91b72102cd28355e9fc9000d6e";
        for dialect in 6..=10 {
            assert!(verify_qry(challenge, "msmsgs@msnmsgr.com", good, dialect));
        }
        assert!(verify_qry(
            challenge,
            "msmsgs@msnmsgr.com",
            &good.to_ascii_uppercase(),
            8
        ));
        // Wrong answer, unknown id, id case, dialect without challenges, old id in MSNP11.
        assert!(!verify_qry(
            challenge,
            "msmsgs@msnmsgr.com",
            "3b6666b60157322b6fc6e41a115968f5",
            8
        ));
        assert!(!verify_qry(challenge, "nobody@example.com", good, 8));
        assert!(!verify_qry(challenge, "MSMSGS@msnmsgr.com", good, 8));
        assert!(!verify_qry(challenge, "msmsgs@msnmsgr.com", good, 5));
        assert!(!verify_qry(challenge, "msmsgs@msnmsgr.com", good, 11));
        assert!(!verify_qry(challenge, "msmsgs@msnmsgr.com", "", 8));
        assert!(!verify_qry(challenge, "msmsgs@msnmsgr.com", &good[..31], 8));
    }

    #[test]
    fn verify_qry_msnp11_dialects() {
        for &(challenge, id, _, expected) in MSNP11_VECTORS {
            for dialect in [11, 12] {
                assert!(
                    verify_qry(challenge, id, expected, dialect),
                    "{challenge} {id}"
                );
            }
            // The MSNP11 answer is not accepted where MD5 is expected.
            assert!(!verify_qry(challenge, id, expected, 10));
        }
        // The (wrong) masked-XOR variant is refused.
        assert!(!verify_qry(
            "22210219642164014968",
            "PROD0090YUAUV{2B",
            "85ecb05b8f32113df79ce0892b9a102c",
            11
        ));
        // A 7.0 id in MSNP11 with the MD5 answer is refused.
        let md5 = md5_response("22210219642164014968", "YMM8C_H7KCQ2S_KL");
        assert!(!verify_qry(
            "22210219642164014968",
            "PROD0090YUAUV{2B",
            &md5,
            11
        ));
    }

    #[test]
    fn product_key_respects_dialects() {
        assert_eq!(
            product_key("msmsgs@msnmsgr.com", 6),
            Some("Q1P7W2E4J9R8U3S5")
        );
        assert_eq!(
            product_key("msmsgs@msnmsgr.com", 10),
            Some("Q1P7W2E4J9R8U3S5")
        );
        assert_eq!(product_key("msmsgs@msnmsgr.com", 11), None);
        assert_eq!(product_key("msmsgs@msnmsgr.com", 5), None);
        assert_eq!(
            product_key("PROD0090YUAUV{2B", 12),
            Some("YMM8C_H7KCQ2S_KL")
        );
        assert_eq!(product_key("PROD0090YUAUV{2B", 13), None);
        assert_eq!(
            product_key("PROD01065C%ZFN6F", 12),
            Some("O4BG@C7BWLYQX?5G")
        );
        assert_eq!(
            product_key("PROD0120PW!CCV9@", 18),
            Some("C1BX{V4W}Q3*10SM")
        );
        assert_eq!(product_key("PROD9999XXXXXXXX", 11), None);
        assert_eq!(product_key("", 11), None);
        // Every listed product answers from MSNP6 up to its family's newest dialect.
        for p in PRODUCTS {
            assert_eq!(product_key(p.id, 6), Some(p.key));
            assert_eq!(product_key(p.id, p.max_dialect), Some(p.key));
        }
    }

    #[test]
    fn challenges_are_twenty_digits() {
        for _ in 0..100 {
            let c = new_challenge();
            assert_eq!(c.len(), 20);
            assert!(c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        assert_ne!(new_challenge(), new_challenge());
    }

    #[test]
    fn responses_are_lowercase_hex() {
        let r = msnp11_response(&new_challenge(), "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL");
        assert_eq!(r.len(), 32);
        assert!(
            r.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{r}"
        );
    }
}
