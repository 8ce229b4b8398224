//! A growable window over a blocking byte stream, for the incremental scanners: they look at
//! `data()`, say how much they consumed, and ask for more when an item does not fit yet.
//!
//! With a [`Transcoder`] the window holds the stream decoded into UTF-8, and every offset it
//! gives (`position`, `offset_at`, `read_to`) is still one of the source stream.

use std::io::{self, Read};

use crate::charset::{InvalidBytes, Transcoder};

pub struct Input {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Offset of `buf[start]` in the stream `buf` holds: the source (uncompressed file), or the
    /// decoded text.
    base: u64,
    /// Source bytes that may still be read before the chunk's end.
    remaining: u64,
    eof: bool,
    decoding: Option<Decoding>,
}

struct Decoding {
    transcoder: Transcoder,
    /// Source bytes of one read, before they are decoded into `buf`.
    raw: Vec<u8>,
}

const BLOCK: usize = 1 << 20;

impl Input {
    pub fn new(reader: Box<dyn Read + Send>, base: u64, limit: u64) -> Input {
        // A small chunk (thousands of small tables) gets a small window; it grows if an item needs it.
        let size = usize::try_from(limit.saturating_add(1)).unwrap_or(BLOCK).clamp(4096, BLOCK);
        Input { reader, buf: vec![0; size], start: 0, end: 0, base, remaining: limit, eof: limit == 0, decoding: None }
    }

    /// The same, holding the stream decoded by `transcoder` (made for a read from `base`).
    pub fn decoded(reader: Box<dyn Read + Send>, base: u64, limit: u64, transcoder: Option<Transcoder>) -> Input {
        let mut input = Input::new(reader, base, limit);
        if let Some(transcoder) = transcoder {
            input.base = 0;
            input.decoding = Some(Decoding { transcoder, raw: Vec::new() });
        }
        input
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn eof(&self) -> bool {
        self.eof
    }

    /// Source offset of the first byte of `data()`.
    pub fn position(&self) -> u64 {
        self.offset_at(0)
    }

    /// Source offset of `data()[i]` (a character's first byte, or the end of `data()`).
    pub fn offset_at(&self, i: usize) -> u64 {
        let at = self.base + i as u64;
        match &self.decoding {
            None => at,
            Some(d) => d.transcoder.source_offset(at),
        }
    }

    /// Source offset of the first byte not read yet: where a reader opened again must start.
    pub fn read_to(&self) -> u64 {
        match &self.decoding {
            None => self.base + (self.end - self.start) as u64,
            Some(d) => d.transcoder.fed_to(),
        }
    }

    /// Go on with another stream of the same file, positioned at `read_to()` (after a read
    /// failed: the bytes held stay, the chunk's limit still counts from where it was).
    pub fn replace_reader(&mut self, reader: Box<dyn Read + Send>) {
        self.reader = reader;
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.base += n as u64;
        if let Some(d) = &mut self.decoding {
            d.transcoder.forget_before(self.base);
        }
    }

    /// Read more bytes after those held (growing the window when it is full). Sets `eof` at the
    /// end of the stream or of the chunk. Bytes invalid in the stream's character set are an
    /// error of kind `InvalidData` that holds [`InvalidBytes`].
    pub fn fill(&mut self) -> io::Result<()> {
        if self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // One item is larger than the window: grow it (an item is at most one statement or record).
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let room = (self.buf.len() - self.end) as u64;
        let want = room.min(self.remaining) as usize;
        let n = match &mut self.decoding {
            None => {
                let n = read(&mut self.reader, &mut self.buf[self.end..self.end + want])?;
                self.end += n;
                n
            }
            Some(d) => {
                d.raw.resize(want, 0);
                let n = read(&mut self.reader, &mut d.raw)?;
                let last = n == 0 || self.remaining == n as u64;
                // Decoded text may be longer than its source: the window grows to hold it.
                let size = self.buf.len();
                self.buf.truncate(self.end);
                let decoded = d.transcoder.feed(&d.raw[..n], last, &mut self.buf);
                self.end = self.buf.len();
                self.buf.resize(self.end.max(size), 0);
                decoded.map_err(|e: InvalidBytes| io::Error::new(io::ErrorKind::InvalidData, e))?;
                n
            }
        };
        self.remaining -= n as u64;
        if n == 0 || self.remaining == 0 {
            self.eof = true;
        }
        Ok(())
    }
}

fn read(reader: &mut Box<dyn Read + Send>, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides_grows_and_stops_at_the_limit() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        let mut input = Input::new(Box::new(io::Cursor::new(data.clone())), 0, 2_500_000);
        input.fill().unwrap();
        assert_eq!(input.data().len(), BLOCK);
        input.consume(10);
        assert_eq!(input.position(), 10);
        while !input.eof() {
            input.fill().unwrap();
        }
        assert_eq!(input.data(), &data[10..2_500_000]);
    }

    /// A decoded window gives source offsets: GBK text read in small pieces from offset 1000,
    /// each `(主键)` 6 bytes in the source and 8 in the window.
    #[test]
    fn a_decoded_window_gives_source_offsets() {
        let data = crate::charset::DataCharset::parse("gbk", None).unwrap();
        let src = b"(\xd6\xf7\xbc\xfc)".repeat(5000);
        let mut input =
            Input::decoded(Box::new(io::Cursor::new(src.clone())), 1000, src.len() as u64, data.transcoder(1000));
        input.fill().unwrap();
        input.consume(8 * 3);
        assert_eq!(input.position(), 1000 + 6 * 3);
        assert_eq!(input.offset_at(8), 1000 + 6 * 4);
        while !input.eof() {
            input.fill().unwrap();
        }
        assert_eq!(input.data().len(), 8 * 4997);
        assert_eq!(input.read_to(), 1000 + src.len() as u64);
        assert_eq!(input.offset_at(input.data().len()), 1000 + src.len() as u64);
    }
}
