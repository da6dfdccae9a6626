//! Encryption at rest: AES-256-GCM with a random 96-bit nonce per record, the record's identity
//! (tenant and provider) as associated data so a ciphertext cannot be moved to another row, and a
//! key id stored with each ciphertext. A keyring: one active key seals, older keys only open
//! (key rotation: `codesource rotate-key` re-seals everything to the active key).

use crate::secret::{SecretBytes, SecretString};
use crate::util::hex;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub const KEY_LEN: usize = 32;

/// A sealed secret as stored: key id, nonce and ciphertext (with tag), base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub kid: String,
    pub nonce: String,
    pub ct: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("no key with id {0} is configured")]
    UnknownKey(String),
    #[error("ciphertext is malformed")]
    Malformed,
    #[error("decryption failed: wrong key, or the record was tampered with or moved")]
    Tampered,
    #[error("the encryption key must be {KEY_LEN} bytes, base64-encoded")]
    BadKey,
}

pub struct Cipher {
    kid: String,
    aead: Aes256Gcm,
    /// Decrypt-only keys, by id.
    older: Vec<(String, Aes256Gcm)>,
}

/// The id of a key: derived from it (a truncated hash, not secret), so it needs no config.
fn key_of(key: &SecretBytes) -> Result<(String, Aes256Gcm), CryptoError> {
    if key.expose().len() != KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    let aead = Aes256Gcm::new_from_slice(key.expose()).map_err(|_| CryptoError::BadKey)?;
    let digest = Sha256::digest(key.expose());
    Ok((format!("k1-{}", hex(&digest[..6])), aead))
}

impl Cipher {
    pub fn new(key: &SecretBytes) -> Result<Self, CryptoError> {
        Self::with_older(key, &[])
    }

    /// `key` seals and opens; `older` keys only open what they sealed before a rotation.
    pub fn with_older(key: &SecretBytes, older: &[SecretBytes]) -> Result<Self, CryptoError> {
        let (kid, aead) = key_of(key)?;
        let older = older
            .iter()
            .map(key_of)
            .filter(|k| k.as_ref().map_or(true, |(id, _)| *id != kid))
            .collect::<Result<_, _>>()?;
        Ok(Cipher { kid, aead, older })
    }

    /// The active key's id.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// Ids of the decrypt-only keys.
    pub fn older_key_ids(&self) -> Vec<&str> {
        self.older.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// Opens `sealed` and seals it again with the active key (rotation). `None` when it is
    /// already sealed with the active key.
    pub fn reseal(&self, sealed: &Sealed, aad: &[u8]) -> Result<Option<Sealed>, CryptoError> {
        if sealed.kid == self.kid {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed, aad)?, aad)))
    }

    pub fn seal(&self, secret: &SecretString, aad: &[u8]) -> Sealed {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad,
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        Sealed {
            kid: self.kid.clone(),
            nonce: B64.encode(nonce),
            ct: B64.encode(ct),
        }
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<SecretString, CryptoError> {
        let aead = if sealed.kid == self.kid {
            &self.aead
        } else {
            match self.older.iter().find(|(id, _)| *id == sealed.kid) {
                Some((_, aead)) => aead,
                None => return Err(CryptoError::UnknownKey(sealed.kid.clone())),
            }
        };
        let nonce = B64
            .decode(&sealed.nonce)
            .map_err(|_| CryptoError::Malformed)?;
        let ct = B64.decode(&sealed.ct).map_err(|_| CryptoError::Malformed)?;
        if nonce.len() != 12 {
            return Err(CryptoError::Malformed);
        }
        let plain = aead
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad })
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain)
            .map(SecretString::new)
            .map_err(|_| CryptoError::Malformed)
    }
}

/// Parses a base64 key (standard alphabet, surrounding whitespace ignored).
pub fn parse_key(text: &str) -> Result<SecretBytes, CryptoError> {
    let bytes = B64.decode(text.trim()).map_err(|_| CryptoError::BadKey)?;
    if bytes.len() != KEY_LEN {
        return Err(CryptoError::BadKey);
    }
    Ok(SecretBytes::new(bytes))
}

/// Local mode: reads the key file in the data dir, or creates it (0600) on first run.
pub fn load_or_create_local_key(path: &Path) -> anyhow::Result<SecretBytes> {
    use anyhow::Context;
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the local encryption key {}", path.display()))?;
        return parse_key(&text)
            .with_context(|| format!("the local encryption key {} is invalid", path.display()));
    }
    let mut key = vec![0u8; KEY_LEN];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let encoded = B64.encode(&key);
    write_private_file(path, encoded.as_bytes())
        .with_context(|| format!("writing the local encryption key {}", path.display()))?;
    tracing::warn!(path = %path.display(), "generated a new local encryption key (local mode)");
    Ok(SecretBytes::new(key))
}

fn write_private_file(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(seed: u8) -> Cipher {
        Cipher::new(&SecretBytes::new(vec![seed; KEY_LEN])).unwrap()
    }

    #[test]
    fn round_trip() {
        let c = cipher(7);
        let sealed = c.seal(&SecretString::new("glpat-fake-token".into()), b"t1/gitlab");
        assert!(!sealed.ct.contains("glpat"));
        assert_eq!(
            c.open(&sealed, b"t1/gitlab").unwrap().expose(),
            "glpat-fake-token"
        );
    }

    #[test]
    fn nonces_differ() {
        let c = cipher(7);
        let s = SecretString::new("x".into());
        assert_ne!(c.seal(&s, b"a").nonce, c.seal(&s, b"a").nonce);
    }

    #[test]
    fn detects_tampering_moving_and_wrong_keys() {
        let c = cipher(7);
        let mut sealed = c.seal(&SecretString::new("secret".into()), b"t1/gitlab");
        // moved to another tenant's row
        assert!(matches!(
            c.open(&sealed, b"t2/gitlab"),
            Err(CryptoError::Tampered)
        ));
        // another key
        assert!(matches!(
            cipher(8).open(&sealed, b"t1/gitlab"),
            Err(CryptoError::UnknownKey(_))
        ));
        // a flipped bit
        let mut ct = B64.decode(&sealed.ct).unwrap();
        ct[0] ^= 1;
        sealed.ct = B64.encode(ct);
        assert!(matches!(
            c.open(&sealed, b"t1/gitlab"),
            Err(CryptoError::Tampered)
        ));
    }

    #[test]
    fn older_keys_open_and_reseal_to_the_active_one() {
        let old = cipher(7);
        let sealed = old.seal(&SecretString::new("secret".into()), b"row");
        let ring = Cipher::with_older(
            &SecretBytes::new(vec![9; KEY_LEN]),
            &[SecretBytes::new(vec![7; KEY_LEN])],
        )
        .unwrap();
        assert_eq!(ring.older_key_ids(), [old.key_id()]);
        assert_eq!(ring.open(&sealed, b"row").unwrap().expose(), "secret");
        let fresh = ring.reseal(&sealed, b"row").unwrap().expect("re-sealed");
        assert_eq!(fresh.kid, ring.key_id());
        assert!(
            ring.reseal(&fresh, b"row").unwrap().is_none(),
            "already active"
        );
        // Without the old key the old record cannot be opened, the new one can.
        let new_only = cipher(9);
        assert!(matches!(
            new_only.open(&sealed, b"row"),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(new_only.open(&fresh, b"row").unwrap().expose(), "secret");
    }

    #[test]
    fn parses_keys() {
        assert!(parse_key(&B64.encode([1u8; 32])).is_ok());
        assert!(parse_key(&B64.encode([1u8; 16])).is_err());
        assert!(parse_key("not base64!").is_err());
    }

    #[test]
    fn local_key_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("encryption.key");
        let k1 = load_or_create_local_key(&path).unwrap();
        let k2 = load_or_create_local_key(&path).unwrap();
        assert_eq!(k1.expose(), k2.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
