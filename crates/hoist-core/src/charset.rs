//! Character sets of dump files, as TiDB Lightning defines them: `[mydumper] character-set`
//! (schema files) and `data-character-set` with `data-invalid-char-replace` (data files).
//!
//! Schema files are decoded whole into UTF-8 before their statements are split
//! ([`SchemaCharset::decode`]; `auto` is UTF-8, else GB18030, as Lightning tries them).
//!
//! Data files are decoded as they stream, before the scanners see them ([`Transcoder`]): a
//! GBK or GB18030 trail byte may be `\` or `` ` ``, so the scanners must read characters, not
//! bytes, or a string would seem to end (or not) where it does not. Everything a checkpoint
//! keeps stays a byte offset in the *original* file, so the transcoder keeps a map from
//! decoded offsets back to source offsets: runs of characters of the same (source length,
//! decoded length), derived by walking the source and its output side by side. Positions the
//! reader records (a row's start, the end of a batch) fall on character boundaries, so they
//! map exactly, and a resumed read starts its decoder on a character's first byte. A sequence
//! split between two reads is held back until its last byte comes.
//!
//! The decoders are `encoding_rs`'s (the WHATWG ones): `latin1` is cp1252, as MySQL's is;
//! `gbk` reads as GB18030, its superset. A byte sequence that is not valid in the file's
//! character set is an error naming its offset, or, with a replacement configured, is
//! replaced by it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;

use encoding_rs::{DecoderResult, Encoding};

/// A character set a dump's files may be in, other than `binary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    Utf8mb4,
    Gb18030,
    Gbk,
    Latin1,
}

impl Charset {
    /// Lightning's names (and MySQL's `utf8` for utf8mb4's subset); None for `binary` and
    /// anything else.
    fn parse(name: &str) -> Option<Charset> {
        match name.to_ascii_lowercase().as_str() {
            "utf8mb4" | "utf8" => Some(Charset::Utf8mb4),
            "gb18030" => Some(Charset::Gb18030),
            "gbk" => Some(Charset::Gbk),
            "latin1" => Some(Charset::Latin1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8mb4 => "utf8mb4",
            Charset::Gb18030 => "gb18030",
            Charset::Gbk => "gbk",
            Charset::Latin1 => "latin1",
        }
    }

    fn encoding(self) -> &'static Encoding {
        match self {
            Charset::Utf8mb4 => encoding_rs::UTF_8,
            // WHATWG's gbk decoder is the gb18030 one.
            Charset::Gb18030 | Charset::Gbk => encoding_rs::GB18030,
            Charset::Latin1 => encoding_rs::WINDOWS_1252,
        }
    }

    /// Whether a character's bytes may include ASCII bytes (`\`, `` ` ``, letters), so that a
    /// byte scanner would misread the text: then files must be split on decoded text.
    pub fn hides_ascii(self) -> bool {
        matches!(self, Charset::Gb18030 | Charset::Gbk)
    }

    /// Length of the well-formed sequence that starts `src` (which a decoder accepted).
    fn sequence_len(self, src: &[u8]) -> usize {
        match self {
            Charset::Latin1 => 1,
            Charset::Utf8mb4 => match src[0] {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            },
            Charset::Gb18030 | Charset::Gbk => match src {
                [0x00..=0x80, ..] => 1,
                [_, 0x30..=0x39, ..] => 4,
                _ => 2,
            },
        }
    }
}

/// Length of the UTF-8 character whose first byte is `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Bytes that are not valid in the character set they are read in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bytes {} at byte {offset} are not valid {charset}", hex(bytes))]
pub struct InvalidBytes {
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub charset: &'static str,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// `[mydumper] character-set`: how schema files are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaCharset {
    /// UTF-8 if the file is valid UTF-8, else GB18030 (Lightning's default).
    #[default]
    Auto,
    /// The bytes as they are; hoist sends statements as UTF-8 text, so they must be UTF-8.
    Binary,
    Is(Charset),
}

impl SchemaCharset {
    pub fn parse(name: &str) -> Result<SchemaCharset, String> {
        match name.to_ascii_lowercase().as_str() {
            "auto" => Ok(SchemaCharset::Auto),
            "binary" => Ok(SchemaCharset::Binary),
            other => Charset::parse(other).map(SchemaCharset::Is).ok_or_else(|| {
                format!("[mydumper] character-set = {name:?} is not one of auto, utf8mb4, gb18030, gbk, latin1, binary")
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SchemaCharset::Auto => "auto",
            SchemaCharset::Binary => "binary",
            SchemaCharset::Is(c) => c.name(),
        }
    }

    /// The text of schema file `file`. The error reads as Lightning's ("invalid schema
    /// encoding") and says where and what to set.
    pub fn decode<'a>(self, file: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, String> {
        let utf8 = std::str::from_utf8(bytes);
        let result = match (self, utf8) {
            (SchemaCharset::Auto | SchemaCharset::Binary | SchemaCharset::Is(Charset::Utf8mb4), Ok(text)) => {
                return Ok(Cow::Borrowed(text))
            }
            (SchemaCharset::Auto, Err(_)) => decode_whole(Charset::Gb18030, bytes),
            (SchemaCharset::Is(charset), _) => decode_whole(charset, bytes),
            (SchemaCharset::Binary, Err(e)) => {
                let at = e.valid_up_to();
                let bad = &bytes[at..at + e.error_len().unwrap_or(bytes.len() - at)];
                return Err(format!(
                    "{file}: invalid schema encoding: the bytes {} at byte {at} are not UTF-8, and with \
                     [mydumper] character-set = \"binary\" they would reach the server as they are, which a \
                     MySQL-family server does not take in a statement; set character-set to the file's",
                    hex(bad)
                ));
            }
        };
        result.map(Cow::Owned).map_err(|e| {
            let tried = match self {
                SchemaCharset::Auto => "neither utf8mb4 nor gb18030 ([mydumper] character-set = \"auto\")".to_string(),
                _ => format!("not {} ([mydumper] character-set = \"{}\")", e.charset, self.name()),
            };
            format!(
                "{file}: invalid schema encoding: the bytes {} at byte {} are {tried}; set character-set to the \
                 file's",
                hex(&e.bytes),
                e.offset
            )
        })
    }
}

/// All of `bytes` decoded, or the first invalid sequence.
fn decode_whole(charset: Charset, bytes: &[u8]) -> Result<String, InvalidBytes> {
    let mut out = Vec::with_capacity(bytes.len() * 3 / 2);
    Transcoder::new(charset, None, 0).feed(bytes, true, &mut out)?;
    Ok(String::from_utf8(out).expect("a decoder writes UTF-8"))
}

/// `[mydumper] data-character-set` and `data-invalid-char-replace`: how data files are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataCharset {
    /// None: `binary`, the bytes go to the target as they are (Lightning's default).
    pub charset: Option<Charset>,
    /// What an invalid sequence becomes; None: it is an error.
    pub replacement: Option<Arc<str>>,
}

impl DataCharset {
    pub fn parse(name: &str, replacement: Option<&str>) -> Result<DataCharset, String> {
        let charset = match name.to_ascii_lowercase().as_str() {
            "binary" | "" => None,
            other => Some(Charset::parse(other).ok_or_else(|| {
                format!("[mydumper] data-character-set = {name:?} is not one of binary, utf8mb4, gb18030, gbk, latin1")
            })?),
        };
        if let Some(r) = replacement {
            // The replacement goes into the text before it is parsed: it must not be able to
            // end a string, a field or a statement.
            if let Some(c) = r.chars().find(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || " ?_".contains(*c))) {
                return Err(format!(
                    "[mydumper] data-invalid-char-replace = {r:?} holds {c:?}: it may hold letters, digits, spaces, \
                     '?', '_' and any character that is not ASCII"
                ));
            }
        }
        Ok(DataCharset { charset, replacement: replacement.map(Arc::from) })
    }

    pub fn name(&self) -> &'static str {
        self.charset.map_or("binary", Charset::name)
    }

    /// A transcoder for a read that starts at source offset `at`; None for `binary`.
    pub fn transcoder(&self, at: u64) -> Option<Transcoder> {
        let charset = self.charset?;
        Some(Transcoder::new(charset, self.replacement.as_deref(), at))
    }

    /// One that never fails, for finding statement boundaries: invalid bytes are the
    /// reader's to report, and a replacement (which holds no ASCII punctuation) moves no
    /// boundary.
    pub fn lossy_transcoder(&self, at: u64) -> Option<Transcoder> {
        let charset = self.charset?;
        Some(Transcoder::new(charset, Some(self.replacement.as_deref().unwrap_or("\u{FFFD}")), at))
    }

    /// Text of a data file shown in a message (`near "..."`), decoded as the file is read.
    pub fn display(&self, bytes: &[u8]) -> String {
        match self.charset {
            None => String::from_utf8_lossy(bytes).into_owned(),
            Some(c) => c.encoding().decode_without_bom_handling(bytes).0.into_owned(),
        }
    }
}

/// A run of `count` characters, each `src_len` bytes in the source and `dec_len` in UTF-8,
/// starting at decoded offset `dec` and source offset `src`. An invalid sequence that was
/// replaced is a run of one (`dec_len` the replacement's length, maybe 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    dec: u64,
    src: u64,
    dec_len: u32,
    src_len: u32,
    count: u64,
}

impl Run {
    fn dec_end(&self) -> u64 {
        self.dec + u64::from(self.dec_len) * self.count
    }
    fn src_end(&self) -> u64 {
        self.src + u64::from(self.src_len) * self.count
    }
}

/// Streaming decoder of one read of a data file into UTF-8, with the map from decoded offsets
/// (counted from 0 at the read's start) back to source offsets. See the module docs.
pub struct Transcoder {
    charset: Charset,
    decoder: encoding_rs::Decoder,
    replacement: Option<Box<[u8]>>,
    /// Source bytes fed whose characters have not come out yet (a split sequence, or bytes a
    /// decoder holds after an invalid one), from source offset `carry_at`.
    carry: Vec<u8>,
    carry_at: u64,
    /// Decoded bytes produced so far.
    decoded: u64,
    runs: VecDeque<Run>,
}

impl Transcoder {
    /// For a read whose first byte is at source offset `at` (a character's first byte).
    fn new(charset: Charset, replacement: Option<&str>, at: u64) -> Transcoder {
        Transcoder {
            charset,
            decoder: charset.encoding().new_decoder_without_bom_handling(),
            replacement: replacement.map(|r| r.as_bytes().into()),
            carry: Vec::new(),
            carry_at: at,
            decoded: 0,
            runs: VecDeque::new(),
        }
    }

    /// Decode `src`, the bytes that follow those fed before, appending to `out`; `last`: the
    /// read ends after them (a sequence still open is then invalid).
    pub fn feed(&mut self, src: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), InvalidBytes> {
        let out_start = out.len();
        let mut walk = std::mem::take(&mut self.carry);
        let src_at = self.carry_at + walk.len() as u64;
        walk.extend_from_slice(src);
        // Invalid sequences replaced: (source offset, length, offset in `out` of the replacement).
        let mut replaced: Vec<(u64, usize, usize)> = Vec::new();
        let mut pos = 0;
        loop {
            let left = src.len() - pos;
            let room = self.decoder.max_utf8_buffer_length_without_replacement(left).unwrap_or(left * 4 + 16);
            let old = out.len();
            out.resize(old + room.max(4), 0);
            let (result, read, written) =
                self.decoder.decode_to_utf8_without_replacement(&src[pos..], &mut out[old..], last);
            out.truncate(old + written);
            pos += read;
            match result {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => continue,
                DecoderResult::Malformed(len, extra) => {
                    // The sequence may have begun in an earlier feed (it is then in `carry`).
                    let at = src_at + pos as u64 - u64::from(extra) - u64::from(len);
                    let from = (at - self.carry_at) as usize;
                    let Some(r) = &self.replacement else {
                        let bytes = walk[from..from + len as usize].to_vec();
                        return Err(InvalidBytes { offset: at, bytes, charset: self.charset.name() });
                    };
                    replaced.push((at, len as usize, out.len()));
                    out.extend_from_slice(r);
                }
            }
        }
        self.map(&walk, &out[out_start..], out_start, &replaced);
        debug_assert!(!last || self.carry.is_empty(), "a last feed leaves nothing behind");
        Ok(())
    }

    /// Extend the map over what one feed produced: the source `walk` (from `carry_at`) and its
    /// output `out` (which starts at `out_start` of the caller's buffer), with the replaced
    /// sequences between valid text. What of `walk` has no output yet is the new carry.
    fn map(&mut self, walk: &[u8], out: &[u8], out_start: usize, replaced: &[(u64, usize, usize)]) {
        let base = self.carry_at;
        let (mut s, mut d) = (0usize, 0usize);
        let replacement_len = self.replacement.as_ref().map_or(0, |r| r.len());
        for &(at, len, in_out) in replaced {
            let upto = (at - base) as usize;
            let used = self.map_valid(&walk[s..upto], &out[d..in_out - out_start]);
            debug_assert_eq!(used, upto - s, "valid text maps whole up to an invalid sequence");
            self.push(len as u32, replacement_len as u32, 1);
            s = upto + len;
            d = in_out - out_start + replacement_len;
        }
        let used = self.map_valid(&walk[s..], &out[d..]);
        self.carry = walk[s + used..].to_vec();
        self.carry_at = base + (s + used) as u64;
    }

    /// Map valid source text `src` to its output `dec`, character by character, until `dec`
    /// is used up; returns the source bytes used.
    fn map_valid(&mut self, src: &[u8], dec: &[u8]) -> usize {
        if self.charset == Charset::Utf8mb4 {
            // Valid UTF-8 comes out as it went in.
            self.push(1, 1, dec.len() as u64);
            return dec.len();
        }
        let (mut s, mut d) = (0, 0);
        while d < dec.len() && s < src.len() {
            let ascii = src[s..].iter().zip(&dec[d..]).take_while(|(&a, &b)| a < 0x80 && a == b).count();
            if ascii > 0 {
                self.push(1, 1, ascii as u64);
                s += ascii;
                d += ascii;
                continue;
            }
            let (src_len, dec_len) = (self.charset.sequence_len(&src[s..]), utf8_len(dec[d]));
            self.push(src_len as u32, dec_len as u32, 1);
            s += src_len;
            d += dec_len;
        }
        s
    }

    fn push(&mut self, src_len: u32, dec_len: u32, count: u64) {
        if count == 0 {
            return;
        }
        let src = self.runs.back().map_or(self.carry_at, Run::src_end);
        let dec = self.decoded;
        self.decoded += u64::from(dec_len) * count;
        if let Some(last) = self.runs.back_mut() {
            if last.src_len == src_len && last.dec_len == dec_len && dec_len > 0 {
                last.count += count;
                return;
            }
        }
        self.runs.push_back(Run { dec, src, dec_len, src_len, count });
    }

    /// The source offset of decoded offset `dec` (a character's first byte, or the end of
    /// what was decoded).
    pub fn source_offset(&self, dec: u64) -> u64 {
        let i = self.runs.partition_point(|r| r.dec_end() <= dec);
        match self.runs.get(i) {
            Some(r) if r.dec <= dec => r.src + (dec - r.dec) / u64::from(r.dec_len) * u64::from(r.src_len),
            Some(r) => r.src,
            None => self.carry_at,
        }
    }

    /// The source offset after the last byte fed: where the stream must be opened again to
    /// go on with the next feed.
    pub fn fed_to(&self) -> u64 {
        self.carry_at + self.carry.len() as u64
    }

    /// Offsets before `dec` will not be asked for again.
    pub fn forget_before(&mut self, dec: u64) {
        while self.runs.front().is_some_and(|r| r.dec_end() <= dec) && self.runs.len() > 1 {
            self.runs.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `src` fed in pieces of `piece` bytes: the output, and the source offset of every
    /// character boundary of the output as the map gives it.
    fn feed_in_pieces(data: &DataCharset, src: &[u8], piece: usize) -> Result<(Vec<u8>, Transcoder), InvalidBytes> {
        let mut t = data.transcoder(100).unwrap();
        let mut out = Vec::new();
        let pieces: Vec<&[u8]> = src.chunks(piece.max(1)).collect();
        for (i, p) in pieces.iter().enumerate() {
            t.feed(p, i + 1 == pieces.len(), &mut out)?;
        }
        if pieces.is_empty() {
            t.feed(&[], true, &mut out)?;
        }
        Ok((out, t))
    }

    /// Source offsets of each character, decoded one by one: the reference for the map.
    fn reference(charset: Charset, text: &str) -> Vec<(usize, Vec<u8>)> {
        // Encode char by char, so each one's source length is known.
        let mut at = 0;
        let mut out = Vec::new();
        for c in text.chars() {
            let text = c.to_string();
            let bytes = match charset {
                Charset::Utf8mb4 => text.into_bytes(),
                _ => charset.encoding().encode(&text).0.into_owned(),
            };
            out.push((at, bytes.clone()));
            at += bytes.len();
        }
        out
    }

    const TEXT: &str = "INSERT INTO t VALUES ('注释\\', '主键'),('a€b','丂乗 ‘’“” ¡¢'),('𠀀x','é');\n";

    #[test]
    fn positions_map_back_to_the_source_fed_in_any_pieces() {
        for charset in [Charset::Gb18030, Charset::Gbk, Charset::Utf8mb4] {
            let chars = reference(charset, TEXT);
            let src: Vec<u8> = chars.iter().flat_map(|(_, b)| b.clone()).collect();
            let data = DataCharset { charset: Some(charset), replacement: None };
            for piece in [1, 2, 3, 5, 7, 64, 4096] {
                let (out, t) = feed_in_pieces(&data, &src, piece).unwrap();
                assert_eq!(std::str::from_utf8(&out).unwrap(), TEXT, "{charset:?} in pieces of {piece}");
                let mut dec = 0u64;
                for ((at, _), c) in chars.iter().zip(TEXT.chars()) {
                    assert_eq!(t.source_offset(dec), 100 + *at as u64, "{charset:?} {c:?} pieces of {piece}");
                    dec += c.len_utf8() as u64;
                }
                assert_eq!(t.source_offset(dec), 100 + src.len() as u64, "the end");
                assert_eq!(t.fed_to(), 100 + src.len() as u64);
            }
        }
    }

    #[test]
    fn latin1_is_cp1252_one_byte_a_character() {
        let data = DataCharset { charset: Some(Charset::Latin1), replacement: None };
        let src = b"1,\"\x91\x92\x93\x94\"\n2,\"\xa1\xa2\xa3\xa4\"";
        for piece in [1, 3, 100] {
            let (out, t) = feed_in_pieces(&data, src, piece).unwrap();
            assert_eq!(String::from_utf8(out.clone()).unwrap(), "1,\"‘’“”\"\n2,\"¡¢£¤\"");
            // `2` starts at source byte 9; in the output after 4 three-byte quotes.
            let two = out.iter().position(|&b| b == b'2').unwrap() as u64;
            assert_eq!(t.source_offset(two), 109);
        }
    }

    #[test]
    fn a_gb18030_backslash_trail_byte_is_part_of_its_character() {
        // 0x95 0x5C is one character; the quote after it closes the string.
        let data = DataCharset { charset: Some(Charset::Gbk), replacement: None };
        let (out, _) = feed_in_pieces(&data, b"('\x95\x5c')", 1).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\\'), "{text}");
        assert!(text.starts_with("('") && text.ends_with("')") && text.chars().count() == 5, "{text}");
    }

    #[test]
    fn invalid_bytes_are_an_error_at_their_offset_in_any_pieces() {
        let data = DataCharset { charset: Some(Charset::Gb18030), replacement: None };
        // 0xFF is never valid; a lead byte before an ASCII one is invalid alone; a lead byte
        // at the very end is a cut sequence.
        for (src, offset, bytes) in [
            (&b"(1,'ok \xd6\xf7 \xff x')"[..], 10u64, vec![0xFF]),
            (&b"(1,'\xd6\xf7\x81'x)"[..], 6, vec![0x81]),
            (&b"(1,'\xd6\xf7')\x81"[..], 8, vec![0x81]),
            (&b"('\x81\x30\x81')"[..], 2, vec![0x81]),
        ] {
            for piece in [1, 2, 3, 100] {
                let e = feed_in_pieces(&data, src, piece).map(|_| ()).unwrap_err();
                assert_eq!((e.offset, &e.bytes), (100 + offset, &bytes), "{src:?} in pieces of {piece}: {e}");
            }
        }
        let utf8 = DataCharset { charset: Some(Charset::Utf8mb4), replacement: None };
        let e = feed_in_pieces(&utf8, b"('\xe4\xb8\xbb\xe4')", 2).map(|_| ()).unwrap_err();
        assert_eq!((e.offset, e.to_string().as_str()), (105, "the bytes E4 at byte 105 are not valid utf8mb4"));
    }

    #[test]
    fn a_replacement_takes_the_place_of_invalid_bytes_and_positions_still_map() {
        for replacement in ["?", "", "😅😅"] {
            let data = DataCharset::parse("gbk", Some(replacement)).unwrap();
            let src = b"('\xd6\xf7\xff\xd6\xf7'),('\x81'),(2)";
            for piece in [1, 2, 5, 100] {
                let (out, t) = feed_in_pieces(&data, src, piece).unwrap();
                let text = String::from_utf8(out).unwrap();
                assert_eq!(text, format!("('主{replacement}主'),('{replacement}'),(2)"), "pieces of {piece}");
                let two = text.find("(2)").unwrap() as u64;
                assert_eq!(t.source_offset(two), 100 + 16, "{replacement:?} pieces of {piece}");
                let second = text.find("),(").unwrap() as u64 + 2;
                assert_eq!(t.source_offset(second), 100 + 10);
            }
        }
        assert!(DataCharset::parse("gbk", Some("'")).unwrap_err().contains("holds '\\''"));
        assert!(DataCharset::parse("ebcdic", None).is_err());
    }

    #[test]
    fn forgotten_runs_leave_later_positions_exact() {
        let data = DataCharset { charset: Some(Charset::Gb18030), replacement: None };
        let src: Vec<u8> = b"a\xd6\xf7b".repeat(1000);
        let mut t = data.transcoder(0).unwrap();
        let mut out = Vec::new();
        for p in src.chunks(333) {
            t.feed(p, false, &mut out).unwrap();
        }
        t.feed(&[], true, &mut out).unwrap();
        // Each "a主b" is 5 bytes decoded and 4 in the source.
        for k in [0u64, 10, 500, 999] {
            t.forget_before(k * 5);
            assert_eq!(t.source_offset(k * 5), k * 4);
            assert_eq!(t.source_offset(k * 5 + 4), k * 4 + 3, "the b");
        }
    }

    #[test]
    fn schema_files_decode_as_lightning_decodes_them() {
        let gb = b"create table gb18030 (`\xd6\xf7\xbc\xfc` int primary key comment '\xd7\xa2\xca\xcd');";
        let utf8 = "create table utf8mb4 (`主键` int primary key comment '注释');".as_bytes();
        let text = |cs: &str, b: &[u8]| SchemaCharset::parse(cs).unwrap().decode("f.sql", b).map(|t| t.into_owned());
        assert_eq!(text("auto", gb).unwrap(), "create table gb18030 (`主键` int primary key comment '注释');");
        assert_eq!(text("gb18030", gb).unwrap(), text("auto", gb).unwrap());
        assert_eq!(text("auto", utf8).unwrap(), std::str::from_utf8(utf8).unwrap());
        assert!(text("gb18030", utf8).unwrap().contains("`涓婚敭`"));
        let e = text("utf8mb4", gb).unwrap_err();
        assert!(e.starts_with("f.sql: invalid schema encoding: the bytes D6 at byte 23 are not utf8mb4"), "{e}");
        assert_eq!(text("latin1", b"`\xcf\xd0`").unwrap(), "`ÏÐ`");
        assert!(text("binary", gb).unwrap_err().contains("byte 23"));
        assert!(SchemaCharset::parse("greek").is_err());
    }
}
