//! G.711 (ITU-T): 16-bit linear PCM to and from 8-bit µ-law (PCMU) and A-law (PCMA).
//!
//! Table-driven: every table is computed at compile time from the reference algorithm
//! (ITU-T G.191's `g711.c`, which takes the magnitude of a negative sample as its one's
//! complement, so -1 encodes to the negative zero). µ-law works on the top 14 bits of a
//! sample and A-law on the top 13, so an encode table indexed by those bits gives exactly
//! the reference answer for every 16-bit input.

/// The two G.711 laws, as negotiated in SDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, static RTP payload type 0.
    Pcmu,
    /// A-law, static RTP payload type 8.
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec with this static payload type.
    pub const fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The byte a silent (zero) sample encodes to.
    pub const fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => ulaw_encode(sample),
            Codec::Pcma => alaw_encode(sample),
        }
    }

    pub fn decode_sample(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ulaw_decode(byte),
            Codec::Pcma => alaw_decode(byte),
        }
    }

    /// Encodes `pcm` into the front of `out`, one byte per sample; `out` must be at least
    /// as long as `pcm`.
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) {
        let out = &mut out[..pcm.len()];
        match self {
            Codec::Pcmu => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &s)| *o = ulaw_encode(s)),
            Codec::Pcma => out
                .iter_mut()
                .zip(pcm)
                .for_each(|(o, &s)| *o = alaw_encode(s)),
        }
    }

    /// Decodes `data` into the front of `out`; `out` must be at least as long as `data`.
    pub fn decode(self, data: &[u8], out: &mut [i16]) {
        let table = match self {
            Codec::Pcmu => &ULAW_DECODE,
            Codec::Pcma => &ALAW_DECODE,
        };
        let out = &mut out[..data.len()];
        out.iter_mut()
            .zip(data)
            .for_each(|(o, &b)| *o = table[b as usize]);
    }
}

/// µ-law encoding of one sample.
#[inline]
pub fn ulaw_encode(sample: i16) -> u8 {
    ULAW_ENCODE[((sample >> 2) as u16 & 0x3FFF) as usize]
}

/// µ-law decoding of one byte.
#[inline]
pub fn ulaw_decode(byte: u8) -> i16 {
    ULAW_DECODE[byte as usize]
}

/// A-law encoding of one sample.
#[inline]
pub fn alaw_encode(sample: i16) -> u8 {
    ALAW_ENCODE[((sample >> 3) as u16 & 0x1FFF) as usize]
}

/// A-law decoding of one byte.
#[inline]
pub fn alaw_decode(byte: u8) -> i16 {
    ALAW_DECODE[byte as usize]
}

static ULAW_ENCODE: [u8; 1 << 14] = {
    let mut t = [0u8; 1 << 14];
    let mut i = 0;
    while i < t.len() {
        // Index `i` holds the 14-bit two's-complement value `sample >> 2`.
        let v = if i >= 1 << 13 {
            i as i32 - (1 << 14)
        } else {
            i as i32
        };
        t[i] = ulaw_encode_reference(v);
        i += 1;
    }
    t
};

static ALAW_ENCODE: [u8; 1 << 13] = {
    let mut t = [0u8; 1 << 13];
    let mut i = 0;
    while i < t.len() {
        // Index `i` holds the 13-bit two's-complement value `sample >> 3`.
        let v = if i >= 1 << 12 {
            i as i32 - (1 << 13)
        } else {
            i as i32
        };
        t[i] = alaw_encode_reference(v);
        i += 1;
    }
    t
};

static ULAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_decode_reference(i as u8);
        i += 1;
    }
    t
};

static ALAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_decode_reference(i as u8);
        i += 1;
    }
    t
};

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;

/// The index of the first segment end at or above `v`, or 8 when `v` is above them all.
const fn segment(v: i32, ends: &[i32; 8]) -> i32 {
    let mut i = 0;
    while i < 8 {
        if v <= ends[i] {
            return i as i32;
        }
        i += 1;
    }
    8
}

/// `v` is a sample shifted right by 2 (14 bits, signed); for a negative one, `-v - 1` is
/// the magnitude of `!sample >> 2`.
const fn ulaw_encode_reference(v: i32) -> u8 {
    const ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
    let (mut v, mask) = if v < 0 { (-v - 1, 0x7F) } else { (v, 0xFF) };
    if v > ULAW_CLIP {
        v = ULAW_CLIP;
    }
    v += ULAW_BIAS >> 2;
    let seg = segment(v, &ENDS);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    (((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask) as u8
}

const fn ulaw_decode_reference(byte: u8) -> i16 {
    let u = !byte as i32;
    let t = (((u & 0x0F) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
    (if u & 0x80 != 0 {
        ULAW_BIAS - t
    } else {
        t - ULAW_BIAS
    }) as i16
}

/// `v` is a sample shifted right by 3 (13 bits, signed).
const fn alaw_encode_reference(v: i32) -> u8 {
    const ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let (v, mask) = if v >= 0 { (v, 0xD5) } else { (-v - 1, 0x55) };
    let seg = segment(v, &ENDS);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let mantissa = if seg < 2 {
        (v >> 1) & 0xF
    } else {
        (v >> seg) & 0xF
    };
    (((seg << 4) | mantissa) ^ mask) as u8
}

const fn alaw_decode_reference(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (seg - 1),
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Silence, the extremes and a few points from the G.711 tables.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(ulaw_decode(0xF0), 120);
        assert_eq!(ulaw_decode(0xEF), 132);

        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(alaw_encode(-1), 0x55);
    }

    #[test]
    fn decoding_then_encoding_gives_the_same_byte() {
        for b in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(b)), b, "A-law {b:#04x}");
            // µ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes to 0xFF.
            let expected = if b == 0x7F { 0xFF } else { b };
            assert_eq!(ulaw_encode(ulaw_decode(b)), expected, "µ-law {b:#04x}");
        }
    }

    #[test]
    fn round_trip_error_is_within_the_quantisation_step() {
        for s in i16::MIN..=i16::MAX {
            let s32 = s as i32;
            // The step doubles with each segment: within 1/16 of the magnitude, at least 8 / 16.
            let u = ulaw_decode(ulaw_encode(s)) as i32;
            assert!(
                (u - s32).abs() <= (s32.abs() / 16).max(8) + 4,
                "µ-law {s} -> {u}"
            );
            let a = alaw_decode(alaw_encode(s)) as i32;
            assert!(
                (a - s32).abs() <= (s32.abs() / 16).max(16),
                "A-law {s} -> {a}"
            );
        }
    }

    #[test]
    fn monotonic() {
        let mut last_u = i16::MIN;
        let mut last_a = i16::MIN;
        for s in i16::MIN..=i16::MAX {
            let u = ulaw_decode(ulaw_encode(s));
            let a = alaw_decode(alaw_encode(s));
            assert!(u >= last_u && a >= last_a, "not monotonic at {s}");
            last_u = u;
            last_a = a;
        }
    }

    #[test]
    fn slices() {
        let pcm = [0i16, 1000, -1000, 32000, -32000];
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut bytes = [0u8; 8];
            codec.encode(&pcm, &mut bytes);
            assert_eq!(bytes[0], codec.silence());
            let mut back = [0i16; 5];
            codec.decode(&bytes[..5], &mut back);
            for (b, s) in back.iter().zip(pcm) {
                assert_eq!(*b, codec.decode_sample(codec.encode_sample(s)));
            }
        }
    }
}
