//! Brotli and gzip variants of the assets.
//!
//! Two qualities: [`Quality::Best`] at build time (`codesource precompress`, run by
//! `.ci/test.sh`, `.ci/serve.sh` and the benchmark after the bundles are built), and
//! [`Quality::Fast`] at start-up for any asset whose build-time variant is missing (a plain
//! `cargo leptos serve`), so every deployment serves compressed assets, the built ones just
//! smaller. Variants are stored content-addressed (`<hashed name>.br`), so a variant of an older
//! build is never served for a newer file: it simply is not found.

use std::io::Write;

/// Files smaller than this are served as they are: the saving does not pay for the header.
pub const MIN_SIZE: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    /// Brotli 11 / gzip 9: minutes of CPU are fine once per build.
    Best,
    /// Brotli 4 / gzip 6: well under a second for a debug bundle, at start-up.
    Fast,
}

/// Whether a file of this media type gains from compression (text, JSON, wasm, SVG).
pub fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/javascript")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("image/svg+xml")
}

pub fn brotli(data: &[u8], quality: Quality) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: match quality {
            Quality::Best => 11,
            Quality::Fast => 4,
        },
        // The window need not exceed the input: a 10 KB page gets 16 KB, not 4 MB, of it (and
        // of the hash tables sized after it).
        lgwin: window_bits(data.len()),
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 3);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("compressing into memory");
    out
}

/// log2 of the smallest brotli window (10–22 bits) that holds `len` bytes.
fn window_bits(len: usize) -> i32 {
    let bits = usize::BITS - len.saturating_sub(1).leading_zeros();
    bits.clamp(10, 22) as i32
}

pub fn gzip(data: &[u8], quality: Quality) -> Vec<u8> {
    let level = match quality {
        Quality::Best => flate2::Compression::best(),
        Quality::Fast => flate2::Compression::default(),
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), level);
    enc.write_all(data).expect("compressing into memory");
    enc.finish().expect("compressing into memory")
}

/// A variant is kept only if it saves at least a tenth.
pub fn worth_it(original: usize, compressed: usize) -> bool {
    compressed * 10 < original * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_decode_to_the_original() {
        let data = "fn main() { println!(\"hello\"); }\n"
            .repeat(200)
            .into_bytes();
        for q in [Quality::Best, Quality::Fast] {
            let br = brotli(&data, q);
            let mut back = Vec::new();
            brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
            assert_eq!(back, data);
            let gz = gzip(&data, q);
            let mut back = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back)
                .unwrap();
            assert_eq!(back, data);
            assert!(worth_it(data.len(), br.len()) && worth_it(data.len(), gz.len()));
        }
    }

    #[test]
    fn the_window_fits_the_input() {
        assert_eq!(window_bits(0), 10);
        assert_eq!(window_bits(1024), 10);
        assert_eq!(window_bits(1025), 11);
        assert_eq!(window_bits(10_000), 14);
        assert_eq!(window_bits(5 << 20), 22);
    }

    #[test]
    fn only_text_like_types_are_compressed() {
        assert!(compressible("application/wasm"));
        assert!(compressible("text/css; charset=utf-8"));
        assert!(!compressible("image/png"));
        assert!(!compressible("font/woff2"));
    }
}
