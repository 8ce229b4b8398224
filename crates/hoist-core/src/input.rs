//! A growable window over a blocking byte stream, for the incremental scanners: they look at
//! `data()`, say how much they consumed, and ask for more when an item does not fit yet.

use std::io::{self, Read};

pub struct Input {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Absolute offset (in the uncompressed file) of `buf[start]`.
    base: u64,
    /// Bytes that may still be read before the chunk's end.
    remaining: u64,
    eof: bool,
}

const BLOCK: usize = 1 << 20;

impl Input {
    pub fn new(reader: Box<dyn Read + Send>, base: u64, limit: u64) -> Input {
        // A small chunk (thousands of small tables) gets a small window; it grows if an item needs it.
        let size = usize::try_from(limit.saturating_add(1)).unwrap_or(BLOCK).clamp(4096, BLOCK);
        Input { reader, buf: vec![0; size], start: 0, end: 0, base, remaining: limit, eof: limit == 0 }
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn eof(&self) -> bool {
        self.eof
    }

    /// Absolute offset of the first byte of `data()`.
    pub fn position(&self) -> u64 {
        self.base
    }

    /// Absolute offset of the first byte not read yet: where a reader opened again must start.
    pub fn read_to(&self) -> u64 {
        self.base + (self.end - self.start) as u64
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
    }

    /// Read more bytes after those held (growing the window when it is full). Sets `eof` at the
    /// end of the stream or of the chunk.
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
        let n = loop {
            match self.reader.read(&mut self.buf[self.end..self.end + want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        self.remaining -= n as u64;
        if n == 0 || self.remaining == 0 {
            self.eof = true;
        }
        Ok(())
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
}
