//! The page resource's JSON encoding: `codee`'s `JsonSerdeCodec`, except that it decodes from
//! bytes. The server functions' client decodes its answers from bytes too, so the wasm carries
//! one JSON decoder per wire type instead of two (`serde_json`'s `from_str` and `from_slice`
//! are separate instantiations of every `Deserialize`).

use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        from_json(val)
    }
}

/// Every JSON text the browser side reads goes through here, for the same reason.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_like_json() {
        let value = vec![Some("a".to_string()), None];
        let text = <JsonBytes as Encoder<_>>::encode(&value).unwrap();
        assert_eq!(text, r#"["a",null]"#);
        let back: Vec<Option<String>> = <JsonBytes as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
    }
}
