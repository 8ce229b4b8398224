//! Test helpers shared by the scanner tests.

/// xorshift64*: deterministic, so a failing "random bytes" case replays exactly.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Random bytes, mostly drawn from `alphabet` so that the interesting paths are hit.
    pub fn bytes(&mut self, alphabet: &[&[u8]], max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            if self.below(8) == 0 {
                out.push(self.next_u64() as u8);
            } else {
                out.extend_from_slice(alphabet[self.below(alphabet.len())]);
            }
        }
        out
    }
}
