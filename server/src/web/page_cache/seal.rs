//! From a nonce to hashes: the inline scripts a render marked with its nonce are the page's own;
//! their SHA-256 hashes allow exactly them, on every answer of the cached HTML.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

/// `html` without the ` nonce="…"` attributes, and the base64 SHA-256 of the text of each
/// script that carried one, in document order. A script without the nonce (one injected into
/// the HTML) is left as it is and gets no hash, so the CSP keeps refusing it.
///
/// A script's text ends at the first `</script` (any case), as an HTML parser ends it; the hash
/// is over those UTF-8 bytes, as the browser computes it.
pub fn seal(html: &str, nonce: &str) -> (String, Vec<String>) {
    let attr = format!(" nonce=\"{nonce}\"");
    let mut out = String::with_capacity(html.len());
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let Some(open_end) = from.find('>') else {
            rest = from;
            break;
        };
        let (open, after) = from.split_at(open_end + 1);
        let close = find_ascii_ci(after, "</script").unwrap_or(after.len());
        let (text, after_text) = after.split_at(close);
        if open.contains(&attr) {
            hashes.push(B64.encode(Sha256::digest(text.as_bytes())));
            out.push_str(&open.replacen(&attr, "", 1));
        } else {
            out.push_str(open);
        }
        out.push_str(text);
        rest = after_text;
    }
    out.push_str(rest);
    (out, hashes)
}

/// Byte offset of the first case-insensitive match of an ASCII `needle`.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(text: &str) -> String {
        B64.encode(Sha256::digest(text.as_bytes()))
    }

    #[test]
    fn marked_scripts_get_hashes_and_lose_the_nonce() {
        let html = "<head><script type=\"module\" nonce=\"n1\">import(\"/a.js\")</script></head>\
                    <body><p>x</p><script nonce=\"n1\">__R=[\"é\"];</script></body>";
        let (out, hashes) = seal(html, "n1");
        assert_eq!(hashes, vec![sha("import(\"/a.js\")"), sha("__R=[\"é\"];")]);
        assert!(!out.contains("nonce"), "{out}");
        assert_eq!(
            out,
            "<head><script type=\"module\">import(\"/a.js\")</script></head>\
             <body><p>x</p><script>__R=[\"é\"];</script></body>"
        );
    }

    #[test]
    fn an_injected_script_is_not_allowed() {
        // Without the render's nonce (or with another one), a script gets no hash.
        let html = "<p><script>alert(1)</script><SCRIPT nonce=\"guess\">alert(2)</SCRIPT></p>\
                    <script nonce=\"real\">ok()</script>";
        let (out, hashes) = seal(html, "real");
        assert_eq!(hashes, vec![sha("ok()")]);
        assert!(out.contains("<script>alert(1)</script>"));
        assert!(out.contains("nonce=\"guess\""));
    }

    #[test]
    fn a_script_ends_where_a_parser_ends_it() {
        // `</SCRIPT` in any case ends the text; `<script` inside a script does not start one.
        let html = "<script nonce=\"n\">a=\"<script>\";</SCRIPT ><script nonce=\"n\">b</script>";
        let (_, hashes) = seal(html, "n");
        assert_eq!(hashes, vec![sha("a=\"<script>\";"), sha("b")]);
        // Unterminated: the rest is the text.
        assert_eq!(seal("<script nonce=\"n\">c", "n").1, vec![sha("c")]);
        assert_eq!(
            seal("<p>no scripts</p>", "n"),
            ("<p>no scripts</p>".into(), vec![])
        );
    }
}
