//! Loading the built files: hashed names, files that name each other, the split loader.

use super::*;

fn files(list: &[(&str, &str)]) -> BTreeMap<String, Raw> {
    resolve(
        list.iter()
            .map(|(p, b)| (p.to_string(), b.as_bytes().to_vec()))
            .collect(),
    )
}

#[test]
fn the_split_loaders_name_is_the_placeholder() {
    let stem = app::assets::SPLIT_LOADER.strip_prefix("__wasm_split.");
    assert_eq!(stem, Some(format!("{PLACEHOLDER}.js").as_str()));
}

#[test]
fn the_entry_names_hashed_files_and_keeps_its_own_name() {
    let out = files(&[
        (
            "w/entry.js",
            "import init from './app.js'; new URL('app_bg.wasm', here); 'main.css'",
        ),
        ("w/app.js", "fetch(new URL('app_bg.wasm', import.meta.url))"),
        ("w/app_bg.wasm", "\0asm"),
        ("w/main.css", ".cs-app{}"),
    ]);
    let name = |p: &str| split(&out[p].hashed_path).1.to_string();
    let entry = String::from_utf8(out["w/entry.js"].bytes.clone()).unwrap();
    assert!(
        entry.contains(&format!("'./{}'", name("w/app.js"))),
        "{entry}"
    );
    assert!(
        entry.contains(&format!("'{}'", name("w/app_bg.wasm"))),
        "{entry}"
    );
    assert!(
        entry.contains(&format!("'{}'", name("w/main.css"))),
        "{entry}"
    );
    let app = String::from_utf8(out["w/app.js"].bytes.clone()).unwrap();
    assert!(app.contains(&name("w/app_bg.wasm")));
    assert!(name("w/app.js").starts_with("app.") && name("w/app.js").ends_with(".js"));
}

#[test]
fn only_whole_names_are_rewritten() {
    let out = files(&[
        ("a.js", "myapp.js app.json app.jsx ./app.js"),
        ("app.js", "x"),
    ]);
    let text = String::from_utf8(out["a.js"].bytes.clone()).unwrap();
    let hashed = &out["app.js"].hashed_path;
    assert_eq!(text, format!("myapp.js app.json app.jsx ./{hashed}"));
}

#[test]
fn a_change_in_a_leaf_changes_the_hash_of_what_names_it() {
    let a = files(&[("e.js", "'./b.wasm'"), ("b.wasm", "1")]);
    let b = files(&[("e.js", "'./b.wasm'"), ("b.wasm", "2")]);
    assert_ne!(a["e.js"].hash, b["e.js"].hash);
}

#[test]
fn files_that_import_each_other_name_each_other_by_hashed_name() {
    // The split bundle: its JS imports the chunk loader, which imports it back and fetches
    // a chunk; the wasm imports the loader by its placeholder name.
    let loader = app::assets::SPLIT_LOADER;
    let build = |chunk: &str| {
        files(&[
            (
                "pkg/main.js",
                &format!("import * as t from './{loader}'; 'main.wasm'"),
            ),
            // A wasm string is followed by the next one's length: here 0x31, "1".
            (
                "pkg/main.wasm",
                &format!("\0asm\x01./{loader}1__wasm_split_load"),
            ),
            (
                &format!("pkg/{loader}"),
                "import { initSync } from './main.js'; './chunk_1.wasm'",
            ),
            ("pkg/chunk_1.wasm", chunk),
        ])
    };
    let out = build("\0asm1");
    let name = |p: &str| split(&out[p].hashed_path).1.to_string();
    let text = |p: &str| String::from_utf8(out[p].bytes.clone()).unwrap();
    let loader_path = format!("pkg/{loader}");
    let hashed_loader = name(&loader_path);
    assert_eq!(hashed_loader.len(), loader.len(), "{hashed_loader}");
    assert!(!hashed_loader.contains(PLACEHOLDER));
    assert!(text("pkg/main.js").contains(&format!("'./{hashed_loader}'")));
    assert!(text("pkg/main.js").contains(&name("pkg/main.wasm")));
    assert!(text(&loader_path).contains(&format!("'./{}'", name("pkg/main.js"))));
    assert!(text(&loader_path).contains(&name("pkg/chunk_1.wasm")));
    // In the wasm, only the placeholder name is filled in, in place.
    assert_eq!(
        text("pkg/main.wasm"),
        format!("\0asm\x01./{hashed_loader}1__wasm_split_load")
    );
    assert!(name("pkg/main.js").starts_with("main.") && name("pkg/main.js") != "main.js");

    // A change in the chunk renames the loader and the JS that imports it.
    let changed = build("\0asm2");
    assert_ne!(
        out["pkg/main.js"].hashed_path,
        changed["pkg/main.js"].hashed_path
    );
    assert_ne!(
        out[&loader_path].hashed_path,
        changed[&loader_path].hashed_path
    );
}

#[test]
fn binary_files_keep_other_names_as_they_are() {
    let out = files(&[("a.wasm", "\0asm b.js"), ("b.js", "x")]);
    assert_eq!(out["a.wasm"].bytes, b"\0asm b.js");
}
