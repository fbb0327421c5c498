//! The committed sample must be exactly what the generators produce today (gzip files compared
//! by their contents); if a generator
//! changes, regenerate it with `cargo run -p dusk-datasets --bin dusk-datagen -- sample`
//! (and bump `GENERATOR_VERSION`).

use std::fs;
use std::path::{Path, PathBuf};

use dusk_datasets::{sample_dir, total_size, write_sample};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dusk-datasets-it-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn relative_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// A file's bytes; for gzip files, the bytes inside. Compressed bytes depend on which deflate
/// implementation the build links (features of other crates can switch it), the data does not.
fn contents(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

#[test]
fn committed_sample_matches_the_generators() {
    let fresh = temp_dir("sample");
    let written = write_sample(&fresh).unwrap();
    let committed = sample_dir();
    let expected = relative_files(&fresh);
    assert_eq!(expected.len(), written.len());
    assert_eq!(
        relative_files(&committed),
        expected,
        "sample/ has missing or extra files; regenerate it with `dusk-datagen sample`"
    );
    for rel in &expected {
        let a = contents(&fresh.join(rel));
        let b = contents(&committed.join(rel));
        assert!(
            a == b,
            "sample/{} differs from the generator's output; regenerate it with `dusk-datagen sample`",
            rel.display()
        );
    }
    let size = total_size(&committed).unwrap();
    assert!(size < 3_000_000, "the committed sample is {size} bytes");
    fs::remove_dir_all(&fresh).unwrap();
}

#[test]
fn committed_sample_layout() {
    let dir = sample_dir();
    let events = relative_files(&dir.join("events"));
    assert_eq!(events.len(), 7);
    assert_eq!(events[0], Path::new("2015-01-01.csv"));
    assert_eq!(events[6], Path::new("2015-01-07.csv"));
    let users = fs::read_to_string(dir.join("users.csv")).unwrap();
    assert_eq!(users.lines().count(), 1001);
    assert_eq!(relative_files(&dir.join("logs")).len(), 4);
    assert_eq!(
        fs::metadata(dir.join("array.npy")).unwrap().len(),
        128 + 8 * 200 * 150
    );
    let letters = relative_files(&dir.join("letters"));
    assert_eq!(letters.len(), 10);
    assert_eq!(letters[9], Path::new("letters-009.txt"));
}
