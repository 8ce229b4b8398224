//! SQL literals of values, as hoist writes them into statements and dump files.

/// Quote bytes as a MySQL string literal that means the same bytes in any sql_mode but
/// NO_BACKSLASH_ESCAPES (the session never has it unless a dump sets it, and CSV is not SQL).
pub fn push_quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'\'');
    let mut last = 0;
    for (i, &b) in value.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\'' => b"\\'",
            b'\\' => b"\\\\",
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0x1a => b"\\Z",
            _ => continue,
        };
        out.extend_from_slice(&value[last..i]);
        out.extend_from_slice(esc);
        last = i + 1;
    }
    out.extend_from_slice(&value[last..]);
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
    fn hex_literals() {
        let mut out = Vec::new();
        super::push_hex(&mut out, &[0, 0xab, 0xff]);
        assert_eq!(out, b"0x00abff");
        out.clear();
        super::push_hex(&mut out, b"");
        assert_eq!(out, b"''");
    }
}
