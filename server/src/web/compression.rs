//! On-the-fly compression of dynamic answers (server-function JSON, listings, pages the page
//! cache does not keep), gzip at a level that costs little CPU per request. (Static files are
//! precompressed, brotli included: see web/assets; the page's HTML is compressed once per cached
//! entry: web/page_cache. Both arrive with `Content-Encoding` set and are left alone here.)

use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Answers smaller than this go out as they are (the credential API's JSON, health checks):
/// compressing them saves a few hundred bytes and costs a request's worth of CPU.
const MIN_SIZE: u16 = 1024;

pub fn layer() -> CompressionLayer<impl Predicate> {
    let predicate = SizeAbove::new(MIN_SIZE)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        // Static files bring their own precompressed variants (or are incompressible).
        .and(NotForContentType::const_new("application/wasm"))
        .and(NotForContentType::const_new("font/"));
    CompressionLayer::new()
        // gzip only: a brotli stream allocates its window and hash tables per response (MiBs),
        // which cut the page's throughput by two thirds and grew the server by ~2 MB per open
        // connection under load (bench/perf.sh); for ~8 KB of HTML gzip is within a few percent.
        .br(false)
        .gzip(true)
        // Level 4: most of the saving for HTML and JSON at a fraction of the CPU of the default.
        .quality(CompressionLevel::Precise(4))
        .compress_when(predicate)
}
