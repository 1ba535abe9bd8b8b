//! One gzip stream whose chunks are compressed on different threads, as pigz does: each chunk
//! is raw deflate ended with a sync flush (byte-aligned, not final), the stream closes with an
//! empty final block, and the trailer's CRC-32 is combined from the chunks' CRCs. The result
//! is a single ordinary gzip member (RFC 1952), so every decoder reads it.

use std::io::Write;

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// The 10-byte gzip header: deflate, no flags, no mtime, unknown OS.
pub(crate) const HEADER: [u8; 10] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
/// An empty final fixed-Huffman block: ends the deflate stream after sync-flushed chunks.
const FINAL_BLOCK: [u8; 2] = [0x03, 0x00];

/// A compressed chunk and what the trailer needs to know of it.
pub(crate) struct Chunk {
    pub deflated: Vec<u8>,
    pub crc: crc32fast::Hasher,
    pub length: u64,
}

/// Compresses one chunk at the fastest level.
pub(crate) fn compress(data: &[u8]) -> Chunk {
    let mut crc = crc32fast::Hasher::new();
    crc.update(data);
    let mut encoder =
        DeflateEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    let _ = encoder.flush();
    // Take the sync-flushed bytes; dropping the encoder then finishes into the emptied Vec,
    // and those final bytes are discarded (the stream's end comes from `Trailer`).
    let deflated = std::mem::take(encoder.get_mut());
    Chunk {
        deflated,
        crc,
        length: data.len() as u64,
    }
}

/// Running CRC and length of the chunks sent so far.
pub(crate) struct Trailer {
    crc: crc32fast::Hasher,
    length: u64,
}

impl Default for Trailer {
    fn default() -> Self {
        Trailer {
            crc: crc32fast::Hasher::new(),
            length: 0,
        }
    }
}

impl Trailer {
    pub(crate) fn add(&mut self, chunk: &Chunk) {
        self.crc.combine(&chunk.crc);
        self.length += chunk.length;
    }

    /// The final block, CRC-32 and ISIZE.
    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = FINAL_BLOCK.to_vec();
        out.extend_from_slice(&self.crc.finalize().to_le_bytes());
        out.extend_from_slice(&((self.length & 0xffff_ffff) as u32).to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn chunks_compressed_apart_make_one_readable_gzip_member() {
        let parts: Vec<Vec<u8>> = (0..5)
            .map(|i| {
                format!("\"row\",\"{i}\"\n")
                    .repeat(1000 + i * 37)
                    .into_bytes()
            })
            .collect();
        let mut gz = HEADER.to_vec();
        let mut trailer = Trailer::default();
        for part in &parts {
            let chunk = compress(part);
            gz.extend_from_slice(&chunk.deflated);
            trailer.add(&chunk);
        }
        gz.extend(trailer.finish());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, parts.concat());
    }
}
