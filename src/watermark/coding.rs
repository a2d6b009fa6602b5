//! Payload coding: 64-bit payload + CRC-24, key-seeded scrambling, and a
//! rate-1/3, constraint-length-7 convolutional code with soft-decision
//! Viterbi decoding. Chips are +1 for a coded 0 bit and -1 for a 1 bit, so
//! decoding depends only on signs and relative sizes: a gain change cannot
//! flip a bit.

use super::prng::Prng;

/// Bits of payload carried.
pub const PAYLOAD_BITS: usize = 64;
/// Bits of CRC protecting the payload.
pub const CRC_BITS: usize = 24;
/// Payload + CRC.
pub const DATA_BITS: usize = PAYLOAD_BITS + CRC_BITS;
const MEMORY: usize = 6;
const STATES: usize = 1 << MEMORY;
const POLYS: [u32; 3] = [0o133, 0o171, 0o165];
/// Coded bits (chips) per embedded message, tail included.
pub const CODED_BITS: usize = (DATA_BITS + MEMORY) * POLYS.len();

const SCRAMBLE_DOMAIN: u64 = 0x5343_5241_4D42_4C45;

/// CRC-24 (OpenPGP polynomial and initial value), so an all-zero message
/// does not carry a valid CRC.
pub fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

fn scramble_bits(key: u64) -> [u8; DATA_BITS] {
    let mut p = Prng::new(key, SCRAMBLE_DOMAIN);
    let mut s = [0u8; DATA_BITS];
    for b in s.iter_mut() {
        *b = (p.next_u64() >> 63) as u8;
    }
    s
}

/// The scrambled data bits (payload MSB first, then the CRC) for `payload`.
fn data_bits(payload: u64, key: u64) -> [u8; DATA_BITS] {
    let crc = crc24(&payload.to_be_bytes());
    let s = scramble_bits(key);
    let mut bits = [0u8; DATA_BITS];
    for (i, b) in bits.iter_mut().enumerate() {
        let raw = if i < PAYLOAD_BITS {
            (payload >> (63 - i)) & 1
        } else {
            u64::from((crc >> (CRC_BITS - 1 - (i - PAYLOAD_BITS))) & 1)
        };
        *b = raw as u8 ^ s[i];
    }
    bits
}

fn parity(x: u32) -> u8 {
    (x.count_ones() & 1) as u8
}

/// Encoder outputs for shift-register contents `reg` (newest bit at bit 6).
fn outputs(reg: u32) -> [u8; 3] {
    [
        parity(reg & POLYS[0]),
        parity(reg & POLYS[1]),
        parity(reg & POLYS[2]),
    ]
}

fn chip(bit: u8) -> f32 {
    1.0 - 2.0 * f32::from(bit)
}

/// Encode `payload` into [`CODED_BITS`] chips of +-1.
pub fn encode(payload: u64, key: u64) -> Vec<f32> {
    encode_bits(&data_bits(payload, key))
}

fn encode_bits(bits: &[u8; DATA_BITS]) -> Vec<f32> {
    let mut out = Vec::with_capacity(CODED_BITS);
    let mut state: u32 = 0;
    for &b in bits.iter().chain([0u8; MEMORY].iter()) {
        let reg = (u32::from(b) << MEMORY) | state;
        out.extend(outputs(reg).iter().map(|&o| chip(o)));
        state = reg >> 1;
    }
    out
}

/// The result of decoding one set of soft chips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    /// The decoded payload (meaningful only when `crc_ok`).
    pub payload: u64,
    /// Whether the CRC matched.
    pub crc_ok: bool,
    /// Hard chip decisions that disagree with the re-encoded codeword.
    pub bits_corrected: usize,
}

/// Soft-decision Viterbi decoding of [`CODED_BITS`] soft chips (positive
/// means a 0 bit), then descrambling and the CRC check.
pub fn decode(soft: &[f32], key: u64) -> Decoded {
    let steps = DATA_BITS + MEMORY;
    let mut metric = [f32::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    let mut decisions = vec![0u64; steps];
    let table: Vec<[f32; 3]> = (0..(2 * STATES) as u32)
        .map(|reg| {
            let o = outputs(reg);
            [chip(o[0]), chip(o[1]), chip(o[2])]
        })
        .collect();
    for (t, dec) in decisions.iter_mut().enumerate() {
        let s = [
            soft.get(3 * t).copied().unwrap_or(0.0),
            soft.get(3 * t + 1).copied().unwrap_or(0.0),
            soft.get(3 * t + 2).copied().unwrap_or(0.0),
        ];
        let mut next = [f32::NEG_INFINITY; STATES];
        for (ns, slot) in next.iter_mut().enumerate() {
            for lsb in 0..2usize {
                let ps = ((ns << 1) & (STATES - 1)) | lsb;
                let reg = ((ns >> (MEMORY - 1)) << MEMORY) | ps;
                let c = &table[reg];
                let m = metric[ps] + c[0] * s[0] + c[1] * s[1] + c[2] * s[2];
                if m > *slot {
                    *slot = m;
                    if lsb == 1 {
                        *dec |= 1 << ns;
                    } else {
                        *dec &= !(1 << ns);
                    }
                }
            }
        }
        metric = next;
    }
    // Traceback from the zero state (the code is tail-terminated).
    let mut bits = [0u8; DATA_BITS + MEMORY];
    let mut ns = 0usize;
    for t in (0..steps).rev() {
        bits[t] = (ns >> (MEMORY - 1)) as u8;
        let lsb = ((decisions[t] >> ns) & 1) as usize;
        ns = ((ns << 1) & (STATES - 1)) | lsb;
    }
    let mut data = [0u8; DATA_BITS];
    data.copy_from_slice(&bits[..DATA_BITS]);
    let recoded = encode_bits(&data);
    let bits_corrected = recoded
        .iter()
        .zip(soft)
        .filter(|(c, s)| **s == 0.0 || (**c > 0.0) != (**s > 0.0))
        .count();
    let sc = scramble_bits(key);
    let mut payload = 0u64;
    let mut crc = 0u32;
    for i in 0..DATA_BITS {
        let b = data[i] ^ sc[i];
        if i < PAYLOAD_BITS {
            payload = (payload << 1) | u64::from(b);
        } else {
            crc = (crc << 1) | u32::from(b);
        }
    }
    Decoded {
        payload,
        crc_ok: crc == crc24(&payload.to_be_bytes()),
        bits_corrected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_round_trip() {
        for &p in &[0u64, 1, 0xDEAD_BEEF_0123_4567, u64::MAX] {
            let chips = encode(p, 42);
            assert_eq!(chips.len(), CODED_BITS);
            let d = decode(&chips, 42);
            assert!(d.crc_ok);
            assert_eq!(d.payload, p);
            assert_eq!(d.bits_corrected, 0);
        }
    }

    #[test]
    fn corrects_flipped_and_erased_chips() {
        let p = 0x0123_4567_89AB_CDEF;
        let mut chips = encode(p, 9);
        for i in (0..CODED_BITS).step_by(9) {
            chips[i] = -chips[i] * 0.5;
        }
        for i in (4..CODED_BITS).step_by(11) {
            chips[i] = 0.0;
        }
        let d = decode(&chips, 9);
        assert!(d.crc_ok);
        assert_eq!(d.payload, p);
        assert!(d.bits_corrected > 0);
    }

    #[test]
    fn wrong_key_or_zero_input_fails_crc() {
        let chips = encode(77, 1);
        assert!(!decode(&chips, 2).crc_ok);
        assert!(!decode(&[0.0; CODED_BITS], 1).crc_ok);
    }
}
