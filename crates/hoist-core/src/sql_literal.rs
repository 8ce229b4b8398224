//! SQL literals of values, as hoist writes them into statements and dump files.

/// Quote bytes as a MySQL string literal that means the same bytes in any sql_mode but
/// NO_BACKSLASH_ESCAPES (the session never has it unless a dump sets it, and CSV is not SQL).
/// Most values hold none of the six bytes that need escaping, so memchr jumps between them;
/// each search resumes only after the byte it found, so the work stays linear.
pub fn push_quoted(out: &mut Vec<u8>, value: &[u8]) {
    let quotes = |from: usize| memchr::memchr3(b'\'', b'\\', 0, &value[from..]).map(|i| i + from);
    let controls = |from: usize| memchr::memchr3(b'\n', b'\r', 0x1a, &value[from..]).map(|i| i + from);
    out.push(b'\'');
    let (mut at, mut q, mut c) = (0, quotes(0), controls(0));
    while let Some(next) = match (q, c) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    } {
        out.extend_from_slice(&value[at..next]);
        out.extend_from_slice(match value[next] {
            b'\'' => b"\\'",
            b'\\' => b"\\\\",
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => b"\\Z",
        });
        at = next + 1;
        if q == Some(next) {
            q = quotes(at);
        }
        if c == Some(next) {
            c = controls(at);
        }
    }
    out.extend_from_slice(&value[at..]);
    out.push(b'\'');
}

/// Bytes as a hex literal (`0x...`, or `''` for none): exact for binary columns whatever
/// the session's character set.
pub fn push_hex(out: &mut Vec<u8>, value: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if value.is_empty() {
        out.extend_from_slice(b"''");
        return;
    }
    out.extend_from_slice(b"0x");
    for &b in value {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_that_needs_it_is_escaped_and_no_other() {
        let all: Vec<u8> = (0..=255u8).chain(b"'\\\0\n\r\x1a'".iter().copied()).collect();
        let mut want = vec![b'\''];
        for &b in &all {
            match b {
                b'\'' => want.extend_from_slice(b"\\'"),
                b'\\' => want.extend_from_slice(b"\\\\"),
                0 => want.extend_from_slice(b"\\0"),
                b'\n' => want.extend_from_slice(b"\\n"),
                b'\r' => want.extend_from_slice(b"\\r"),
                0x1a => want.extend_from_slice(b"\\Z"),
                _ => want.push(b),
            }
        }
        want.push(b'\'');
        let mut out = Vec::new();
        super::push_quoted(&mut out, &all);
        assert_eq!(out, want);
        out.clear();
        super::push_quoted(&mut out, b"");
        assert_eq!(out, b"''");
    }

    #[test]
    fn hex_literals() {
        let mut out = Vec::new();
        super::push_hex(&mut out, &[0, 0xab, 0xff]);
        assert_eq!(out, b"0x00abff");
        out.clear();
        super::push_hex(&mut out, b"");
        assert_eq!(out, b"''");
    }
}
