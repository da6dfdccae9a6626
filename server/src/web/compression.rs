//! On-the-fly compression of dynamic answers (the page's HTML, server-function JSON, listings),
//! brotli or gzip as the client prefers, at a quality that costs little CPU per request.

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
        .br(true)
        .gzip(true)
        // brotli 4 / gzip 4: most of the saving for HTML and JSON at a fraction of the CPU of
        // the default levels.
        .quality(CompressionLevel::Precise(4))
        .compress_when(predicate)
}
