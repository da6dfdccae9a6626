//! Reading a directory of built files into memory: content hashes, hashed names, and the
//! references between the files rewritten to those names.
//!
//! The page's HTML names its bundle by hashed URL (the shell asks [`super::AssetDir`]). The
//! widget cannot: consoles import its entry `codesource-widget.js` by a stable URL. So the entry
//! keeps its name, but every file name it mentions (`./app.js`, `app_bg.wasm`, `main.css`), and
//! the ones those mention, are rewritten to hashed names here, leaves first; then only the small
//! entry is revalidated and everything it pulls in is immutable.
//!
//! The page's split bundle is the other case: its JS and its chunk loader import each other,
//! and its wasm imports the loader by name (see [`name_together`] and [`PLACEHOLDER`]).

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;

/// One file as read, before compression.
pub struct Raw {
    pub bytes: Vec<u8>,
    pub hash: String,
    /// `dir/name.<hash>.ext`, relative to the directory.
    pub hashed_path: String,
}

/// A directory as read.
pub struct Dir {
    /// Every file by relative path (`/`-separated), rewritten and hashed.
    pub files: BTreeMap<String, Raw>,
    /// The compressed variants found on disk (`<hashed name>.br`, `.gz`) by relative path.
    pub variants: HashMap<String, Vec<u8>>,
}

pub fn read_dir(root: &Path) -> io::Result<Dir> {
    let mut files = BTreeMap::new();
    let mut variants = HashMap::new();
    walk(root, "", &mut files, &mut variants)?;
    Ok(Dir {
        files: resolve(files),
        variants,
    })
}

fn walk(
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
    variants: &mut HashMap<String, Vec<u8>>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), &format!("{rel}/"), files, variants)?;
        } else if name.ends_with(".br") || name.ends_with(".gz") {
            variants.insert(rel, std::fs::read(entry.path())?);
        } else {
            files.insert(rel, std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

/// Hashes every file; text files first get the names of their (already hashed) siblings
/// rewritten. A file waits while it mentions a sibling that is not hashed yet. Files that name
/// each other (the split bundle's JS and its chunk loader import each other) are named
/// together: see [`name_together`].
fn resolve(mut pending: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Raw> {
    let mut done: BTreeMap<String, Raw> = BTreeMap::new();
    loop {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(path, bytes)| {
                !pending
                    .keys()
                    .any(|other| other != *path && mentions(bytes, path, other))
            })
            .map(|(path, _)| path.clone())
            .collect();
        if ready.is_empty() {
            // Everything left is in a cycle or waits on one.
            name_together(std::mem::take(&mut pending), &mut done);
            return done;
        }
        for path in ready {
            let bytes = rewrite(pending.remove(&path).expect("listed above"), &path, &done);
            let hash = content_hash(&[&bytes]);
            let hashed_path = hashed_path(&path, &hash);
            done.insert(
                path,
                Raw {
                    bytes,
                    hash: hash[..16].to_string(),
                    hashed_path,
                },
            );
        }
        if pending.is_empty() {
            return done;
        }
    }
}

/// Names files that mention each other. Their hashed names cannot each come from their own
/// final content (each contains the others' names), so all of them take one hash of the whole
/// group's content, with the names of files outside it already rewritten; then their mentions
/// of each other are rewritten. A change in any member renames every member.
fn name_together(group: BTreeMap<String, Vec<u8>>, done: &mut BTreeMap<String, Raw>) {
    let group: Vec<(String, Vec<u8>)> = group
        .into_iter()
        .map(|(path, bytes)| {
            let bytes = rewrite(bytes, &path, done);
            (path, bytes)
        })
        .collect();
    let parts: Vec<&[u8]> = group
        .iter()
        .flat_map(|(path, bytes)| [path.as_bytes(), bytes.as_slice()])
        .collect();
    let group_hash = content_hash(&parts);
    let named: BTreeMap<String, String> = group
        .iter()
        .map(|(path, _)| (path.clone(), hashed_path(path, &group_hash)))
        .collect();
    for (path, mut bytes) in group {
        let members = named.iter().map(|(p, h)| (p.as_str(), h.as_str()));
        rename(&mut bytes, &path, members);
        let raw = Raw {
            hash: content_hash(&[&bytes])[..16].to_string(),
            hashed_path: named[&path].clone(),
            bytes,
        };
        done.insert(path, raw);
    }
}

/// The SHA-256 of `parts` (length-prefixed, so parts cannot run together), in hex.
fn content_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a file name leaves room for its hash, of exactly this length: the split bundle's
/// chunk loader is `app::assets::SPLIT_LOADER`, and the wasm imports it under that name, so
/// its hashed name must fit in place (a wasm string cannot grow).
const PLACEHOLDER: &str = "______________________";

/// `dir/name.<hash>.ext` for `dir/name.ext`; the placeholder filled in, for a name that has one.
fn hashed_path(path: &str, hash: &str) -> String {
    let (dir, name) = split(path);
    let hashed_name = if name.contains(PLACEHOLDER) {
        name.replacen(PLACEHOLDER, &hash[..PLACEHOLDER.len()], 1)
    } else {
        let hash = &hash[..16];
        match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
            _ => format!("{name}.{hash}"),
        }
    };
    format!("{dir}{hashed_name}")
}

/// `("pkg/", "app.js")` from `"pkg/app.js"`.
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => path.split_at(i + 1),
        None => ("", path),
    }
}

fn is_text(path: &str) -> bool {
    [".js", ".mjs", ".css", ".html"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// Whether the file at `path` can have its mentions of `other` rewritten: any sibling's in a
/// text file; in any other file (wasm) only a placeholder name's, which keeps its length.
fn can_name(path: &str, other: &str) -> bool {
    let (dir, _) = split(path);
    let (other_dir, name) = split(other);
    dir == other_dir && (is_text(path) || name.contains(PLACEHOLDER))
}

/// Whether `bytes` (the file at `path`) names `other` as a whole name (`./app.js`, `"app.js"`;
/// not `myapp.js` or `app.json`), in a way [`rewrite`] changes.
fn mentions(bytes: &[u8], path: &str, other: &str) -> bool {
    can_name(path, other)
        && !occurrences(bytes, split(other).1.as_bytes(), is_text(path)).is_empty()
}

/// Where `needle` occurs; in text only as a whole name. In a binary the bytes around a string
/// can be anything (a wasm string is followed by the next one's length byte), so there every
/// occurrence counts; only placeholder names, which nothing else contains, are looked for there.
fn occurrences(hay: &[u8], needle: &[u8], whole_names: bool) -> Vec<usize> {
    let name_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let mut found = Vec::new();
    if needle.is_empty() || hay.len() < needle.len() {
        return found;
    }
    for i in 0..=hay.len() - needle.len() {
        if &hay[i..i + needle.len()] == needle
            && (!whole_names
                || (i == 0 || !name_char(hay[i - 1]))
                    && hay
                        .get(i + needle.len())
                        .is_none_or(|&c| !(c.is_ascii_alphanumeric() || c == b'_')))
        {
            found.push(i);
        }
    }
    found
}

/// Replaces every whole mention of a hashed sibling's name with its hashed name.
fn rewrite(mut bytes: Vec<u8>, path: &str, done: &BTreeMap<String, Raw>) -> Vec<u8> {
    rename(
        &mut bytes,
        path,
        done.iter()
            .map(|(p, raw)| (p.as_str(), raw.hashed_path.as_str())),
    );
    bytes
}

/// Replaces every whole mention of each `(path, hashed path)` sibling's name with its hashed
/// name, in the file at `path`.
fn rename<'a>(bytes: &mut Vec<u8>, path: &str, names: impl Iterator<Item = (&'a str, &'a str)>) {
    for (other, hashed_path) in names {
        if !can_name(path, other) {
            continue;
        }
        let (_, name) = split(other);
        let at = occurrences(bytes, name.as_bytes(), is_text(path));
        if at.is_empty() {
            continue;
        }
        let (_, new_name) = split(hashed_path);
        let mut out = Vec::with_capacity(bytes.len() + at.len() * 17);
        let mut last = 0;
        for i in at {
            out.extend_from_slice(&bytes[last..i]);
            out.extend_from_slice(new_name.as_bytes());
            last = i + name.len();
        }
        out.extend_from_slice(&bytes[last..]);
        *bytes = out;
    }
}

#[cfg(test)]
mod tests;
