//! `CHL`/`QRY` challenge answers and the MD5 helper they need.
//!
//! - MSNP6–10: the answer is lowercase hex `md5(challenge + key)` for the
//!   client id `msmsgs@msnmsgr.com` and key `Q1P7W2E4J9R8U3S5`
//!   (<https://wiki.nina.chat/wiki/Protocols/MSNP/Commands/QRY>).
//! - MSNP11+: a keyed hash over `challenge + product id`, for the product id
//!   `PROD0090YUAUV{2B` and key `YMM8C_H7KCQ2S_KL` of MSN Messenger 7.0
//!   (<https://wiki.nina.chat/wiki/Protocols/MSNP/MSNP11/Challenges>); see
//!   [`msnp11_answer`].
//!
//! [`qry_answer`] picks the algorithm and product for a dialect, as the
//! runner's client does.

use md5::{Digest, Md5};

use crate::dialect::Dialect;

/// Client id sent in `QRY` by MSN Messenger 4.5–6 (MSNP6–10).
pub const MSNP8_CLIENT_ID: &str = "msmsgs@msnmsgr.com";
/// The key that goes with [`MSNP8_CLIENT_ID`].
pub const MSNP8_CLIENT_KEY: &str = "Q1P7W2E4J9R8U3S5";
/// Product id sent in `QRY` by MSN Messenger 7.0 (MSNP11; also accepted for
/// MSNP12).
pub const MSNP11_PRODUCT_ID: &str = "PROD0090YUAUV{2B";
/// The key that goes with [`MSNP11_PRODUCT_ID`].
pub const MSNP11_PRODUCT_KEY: &str = "YMM8C_H7KCQ2S_KL";

/// The modulus of the MSNP11 hash, 2^31 - 1.
const MODULUS: u64 = 0x7FFF_FFFF;
/// The factor every first word of a pair is multiplied with.
const FACTOR: u64 = 0x0E79_A9C1;

/// Lowercase hex MD5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    hex(&Md5::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The MSNP6–10 `QRY` payload for `challenge` (32 hex characters).
pub fn msnp8_answer(challenge: &str) -> String {
    md5_hex(format!("{challenge}{MSNP8_CLIENT_KEY}").as_bytes())
}

/// Reads little-endian 32-bit words.
fn le_words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The MSNP11+ `QRY` payload for `challenge` under `product_id` and its
/// `product_key` (32 lowercase hex characters):
///
/// 1. `d = md5(challenge + key)` read as four little-endian words `d0..d3`;
///    the hash keys are `k_i = d_i & 0x7FFFFFFF`.
/// 2. `challenge + product_id`, padded with ASCII `0` to a multiple of 8
///    bytes, read as little-endian words, taken in pairs `(a, b)`.
/// 3. Starting from `x = y = 0`, per pair:
///    `t = (k0 * ((a * 0x0E79A9C1) mod M + x) mod M + k1) mod M`,
///    `x = (k2 * ((b + t) mod M) + k3) mod M`, `y += x + t`; M = 2^31 - 1.
/// 4. `x = (x + k1) mod M`, `y = (y + k3) mod M`.
/// 5. The answer is the hex of the little-endian bytes of
///    `d0 ^ x, d1 ^ y, d2 ^ x, d3 ^ y`.
pub fn msnp11_answer(challenge: &str, product_id: &str, product_key: &str) -> String {
    let digest = Md5::digest(format!("{challenge}{product_key}").as_bytes());
    let d = le_words(&digest);
    let k: Vec<u64> = d.iter().map(|w| u64::from(w & 0x7FFF_FFFF)).collect();

    let mut text = format!("{challenge}{product_id}").into_bytes();
    while text.len() % 8 != 0 {
        text.push(b'0');
    }
    let words = le_words(&text);

    let (mut x, mut y) = (0u64, 0u64);
    for pair in words.chunks_exact(2) {
        let (a, b) = (u64::from(pair[0]), u64::from(pair[1]));
        // Every factor is below 2^31 and every sum below 2^33: no overflow.
        let t = (a * FACTOR % MODULUS + x) % MODULUS;
        let t = (k[0] * t + k[1]) % MODULUS;
        x = (k[2] * ((b + t) % MODULUS) + k[3]) % MODULUS;
        y += x + t;
    }
    x = (x + k[1]) % MODULUS;
    y = (y + k[3]) % MODULUS;

    // Both are below 2^31 now.
    let (x, y) = (x as u32, y as u32);
    let mixed = [d[0] ^ x, d[1] ^ y, d[2] ^ x, d[3] ^ y];
    let bytes: Vec<u8> = mixed.iter().flat_map(|w| w.to_le_bytes()).collect();
    hex(&bytes)
}

/// The product id a client of `dialect` names in `QRY`, and its answer to
/// `challenge`: MSNP6–10 `msmsgs@msnmsgr.com` with `md5(challenge + key)`;
/// MSNP11+ `PROD0090YUAUV{2B` with [`msnp11_answer`].
pub fn qry_answer(dialect: Dialect, challenge: &str) -> (&'static str, String) {
    if dialect.version() >= 11 {
        (
            MSNP11_PRODUCT_ID,
            msnp11_answer(challenge, MSNP11_PRODUCT_ID, MSNP11_PRODUCT_KEY),
        )
    } else {
        (MSNP8_CLIENT_ID, msnp8_answer(challenge))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            msnp8_answer("15570131571988941333"),
            "8f2f5a91b72102cd28355e9fc9000d6e"
        );
        assert_eq!(
            msnp8_answer("11111111111111111111"),
            "3b6666b60157322b6fc6e41a115968f5"
        );
    }

    /// The vectors collected in research/msnp.md §2.8 (from the Eclipse ECF,
    /// Ruby and Kopete/Papillon test suites).
    #[test]
    fn msnp11_vectors() {
        let msn70 = |c: &str| msnp11_answer(c, MSNP11_PRODUCT_ID, MSNP11_PRODUCT_KEY);
        assert_eq!(
            msn70("22210219642164014968"),
            "85ecb0db8f32113df79ce0892b9a102c"
        );
        assert_eq!(
            msn70("36819795137093047918"),
            "e7ad3cb09d3e9e4e7c720175984809e9"
        );
        assert_eq!(
            msn70("21948129323261853323"),
            "59bcf63ed21f44906c3d3e121ddbed65"
        );
        assert_eq!(
            msn70("41525959199453244913"),
            "dcb8ff529e4dd12cc43389851128d2db"
        );
        let wlm = |c: &str| msnp11_answer(c, "PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5");
        assert_eq!(
            wlm("11533365622852247127"),
            "f086d1ded067186deca8dba2231602cf"
        );
        // A challenge longer than 20 digits (padding to a multiple of 8).
        assert_eq!(
            wlm("237191752526424888127371168"),
            "65b6b623c649c25629af048d34066040"
        );
        assert_eq!(
            msnp11_answer(
                "15570131571988941333",
                "PROD01065C%ZFN6F",
                "O4BG@C7BWLYQX?5G"
            ),
            "47d2b1e24f85947bdd29b3bfe29f027b"
        );
    }

    #[test]
    fn answer_follows_the_dialect() {
        let d = |v| Dialect::new(v).unwrap();
        let chl = "15570131571988941333";
        assert_eq!(qry_answer(d(6), chl), (MSNP8_CLIENT_ID, msnp8_answer(chl)));
        assert_eq!(qry_answer(d(10), chl), (MSNP8_CLIENT_ID, msnp8_answer(chl)));
        for v in [11, 12] {
            let (id, answer) = qry_answer(d(v), "22210219642164014968");
            assert_eq!(id, MSNP11_PRODUCT_ID);
            assert_eq!(answer, "85ecb0db8f32113df79ce0892b9a102c");
        }
    }
}
