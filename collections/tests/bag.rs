//! Bag against std iterators on the same items, for 1, 3 and many partitions (with empty
//! partitions), on every scheduler; text sources and sinks against the files themselves; and
//! bad input.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dusk_collections::bag::{from_sequence, from_sequence_sized, range, read_text, Bag, ReadText};
use dusk_scheduler::{Compute, ComputeOptions, Scheduler};

/// A fresh, empty directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dusk-bag-test-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(path: &Path, text: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    enc.write_all(text).unwrap();
    enc.finish().unwrap();
}

fn zstd(path: &Path, text: &[u8]) {
    std::fs::write(path, zstd::encode_all(text, 3).unwrap()).unwrap();
}

fn options() -> Vec<ComputeOptions> {
    [Scheduler::Sync, Scheduler::Threads(Some(3))]
        .into_iter()
        .map(|s| ComputeOptions::default().scheduler(s).quiet())
        .collect()
}

/// The items, and bags of them in 1, 3 and many partitions (more partitions than items, so
/// some are empty), plus one built by partition size.
fn items() -> Vec<i64> {
    (0..200).map(|i| (i * 7919 % 263) - 100).collect()
}

fn bags() -> Vec<Bag<i64>> {
    let xs = items();
    vec![
        from_sequence(xs.clone(), 1),
        from_sequence(xs.clone(), 3),
        from_sequence(xs.clone(), 257),
        from_sequence_sized(xs, 17),
        from_sequence(Vec::<i64>::new(), 4).split_every(2),
    ]
}

fn expected(b: &Bag<i64>) -> Vec<i64> {
    b.compute_with(&ComputeOptions::default().scheduler(Scheduler::Sync))
        .unwrap()
}

#[test]
fn element_wise_operations_match_iterators() {
    for b in bags() {
        let xs = expected(&b);
        for o in options() {
            let got = b.map(|x: &i64| x * 3).compute_with(&o).unwrap();
            assert_eq!(got, xs.iter().map(|x| x * 3).collect::<Vec<_>>());
            let got = b.filter(|x: &i64| x % 3 == 0).compute_with(&o).unwrap();
            assert_eq!(
                got,
                xs.iter()
                    .copied()
                    .filter(|x| x % 3 == 0)
                    .collect::<Vec<_>>()
            );
            let got = b
                .flat_map(|x: &i64| vec![*x; (x.unsigned_abs() % 3) as usize])
                .compute_with(&o)
                .unwrap();
            let want: Vec<i64> = xs
                .iter()
                .flat_map(|x| vec![*x; (x.unsigned_abs() % 3) as usize])
                .collect();
            assert_eq!(got, want);
            let sizes = b
                .map_partitions(|p: Vec<i64>| vec![p.len()])
                .compute_with(&o)
                .unwrap();
            assert_eq!(sizes.len(), b.npartitions());
            assert_eq!(sizes.iter().sum::<usize>(), xs.len());
        }
    }
}

#[test]
fn reductions_match_iterators() {
    for b in bags() {
        let xs = expected(&b);
        let n = xs.len() as f64;
        for o in options() {
            assert_eq!(b.count().compute_with(&o).unwrap(), xs.len() as u64);
            assert_eq!(b.sum().compute_with(&o).unwrap(), xs.iter().sum::<i64>());
            assert_eq!(b.min().compute_with(&o).unwrap(), xs.iter().min().copied());
            assert_eq!(b.max().compute_with(&o).unwrap(), xs.iter().max().copied());
            let folded = b.fold(0i64, |a, x: &i64| a + x * x, |a, c| a + c);
            assert_eq!(
                folded.compute_with(&o).unwrap(),
                xs.iter().map(|x| x * x).sum::<i64>()
            );
            let longest = b.reduction(
                |p: Vec<i64>| p.len(),
                |ls: Vec<usize>| ls.into_iter().max().unwrap_or(0),
            );
            assert!(longest.compute_with(&o).unwrap() <= xs.len());
            let mean = b.mean().compute_with(&o).unwrap();
            let var = b.var(1).compute_with(&o).unwrap();
            let std = b.std(0).compute_with(&o).unwrap();
            if xs.is_empty() {
                assert!(mean.is_nan() && var.is_nan() && std.is_nan());
            } else {
                let m = xs.iter().sum::<i64>() as f64 / n;
                let ss: f64 = xs.iter().map(|&x| (x as f64 - m).powi(2)).sum();
                assert!((mean - m).abs() < 1e-9, "{mean} vs {m}");
                assert!((var - ss / (n - 1.0)).abs() < 1e-6);
                assert!((std - (ss / n).sqrt()).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn counting_operations_match_iterators() {
    for b in bags() {
        let xs = expected(&b);
        let keyed = b.map(|x: &i64| x.rem_euclid(10));
        let mut want: HashMap<i64, u64> = HashMap::new();
        for x in &xs {
            *want.entry(x.rem_euclid(10)).or_default() += 1;
        }
        for o in options() {
            let got: HashMap<i64, u64> = keyed
                .frequencies()
                .compute_with(&o)
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(got, want);
            let got: HashSet<i64> = keyed
                .distinct()
                .compute_with(&o)
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(got, want.keys().copied().collect());

            let mut sorted = xs.clone();
            sorted.sort_by(|a, b| b.cmp(a));
            assert_eq!(
                b.topk(5, |x: &i64| *x).compute_with(&o).unwrap(),
                sorted[..5.min(xs.len())]
            );
            assert_eq!(
                b.topk(0, |x: &i64| *x).compute_with(&o).unwrap(),
                Vec::<i64>::new()
            );
            // Ties keep bag order: the first items with the largest key |x| % 5.
            let top = b.topk(7, |x: &i64| x.abs() % 5).compute_with(&o).unwrap();
            let mut stable = xs.clone();
            stable.sort_by_key(|x| std::cmp::Reverse(x.abs() % 5));
            assert_eq!(top, stable[..7.min(xs.len())]);

            let sums: HashMap<i64, i64> = b
                .foldby(
                    |x: &i64| x.rem_euclid(4),
                    0i64,
                    |a, x: &i64| a + x,
                    |a, c| a + c,
                )
                .compute_with(&o)
                .unwrap()
                .into_iter()
                .collect();
            let mut want_sums: HashMap<i64, i64> = HashMap::new();
            for x in &xs {
                *want_sums.entry(x.rem_euclid(4)).or_default() += x;
            }
            assert_eq!(sums, want_sums);

            let groups = b
                .groupby(|x: &i64| x.rem_euclid(4))
                .compute_with(&o)
                .unwrap();
            assert_eq!(groups.len(), want_sums.len());
            for (k, members) in groups {
                let want: Vec<i64> = xs
                    .iter()
                    .copied()
                    .filter(|x| x.rem_euclid(4) == k)
                    .collect();
                assert_eq!(members, want, "group {k}");
            }
        }
    }
}

#[test]
fn structural_operations_match_iterators() {
    for b in bags() {
        let xs = expected(&b);
        for o in options() {
            for n in [1, 2, 5, 300] {
                let r = b.repartition(n);
                assert_eq!(r.npartitions(), n);
                assert_eq!(r.compute_with(&o).unwrap(), xs);
            }
            let z = b.zip(&b.map(|x: &i64| x * 2)).unwrap();
            let want: Vec<(i64, i64)> = xs.iter().map(|&x| (x, x * 2)).collect();
            assert_eq!(z.compute_with(&o).unwrap(), want);

            let other: Vec<(i64, char)> = vec![(0, 'a'), (1, 'b'), (0, 'c'), (7, 'd')];
            let joined = b
                .join(
                    other.clone(),
                    |x: &i64| x.rem_euclid(3),
                    |p: &(i64, char)| p.0,
                )
                .map(|(x, p): &(i64, (i64, char))| (*x, p.1));
            let want: Vec<(i64, char)> = xs
                .iter()
                .flat_map(|&x| {
                    other
                        .iter()
                        .filter(move |p| p.0 == x.rem_euclid(3))
                        .map(move |p| (x, p.1))
                })
                .collect();
            assert_eq!(joined.compute_with(&o).unwrap(), want);

            for n in [0, 1, 5, 150, 1000] {
                let got = b.take(n).compute_with(&o).unwrap();
                assert_eq!(got, xs.iter().copied().take(n).collect::<Vec<_>>());
            }
        }
    }
}

#[test]
fn zip_reports_partitions_of_different_lengths() {
    let a = from_sequence(vec![1, 2, 3], 2);
    let b = a.filter(|x: &i32| *x != 2);
    let err = a.zip(&b).unwrap().compute().unwrap_err().to_string();
    assert!(
        err.contains("zip: partition 1 has 2 items on the left and 1 on the right"),
        "{err}"
    );
}

#[test]
fn take_reads_only_the_partitions_it_needs() {
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let b = range(10_000, 10).map(|x: &u64| {
        SEEN.fetch_add(1, Ordering::SeqCst);
        *x
    });
    assert_eq!(b.take(3).compute().unwrap(), vec![0, 1, 2]);
    // One more item is produced than taken: that is how the stream learns it may stop.
    assert!(
        SEEN.load(Ordering::SeqCst) <= 4,
        "{}",
        SEEN.load(Ordering::SeqCst)
    );
}

#[test]
fn shared_bags_compute_together() {
    let b = range(100, 7);
    let (n, total, first) = (b.count(), b.sum(), b.take(2)).compute().unwrap();
    assert_eq!((n, total, first), (100, 4950, vec![0, 1]));
    let kept = b.map(|x: &u64| x + 1).persist().unwrap();
    assert_eq!(kept.sum().compute().unwrap(), 5050);
}

/// A text with empty lines, a CRLF line, long and short lines, and multi-byte characters.
fn sample_text(lines: usize) -> String {
    let mut s = String::new();
    for i in 0..lines {
        match i % 7 {
            0 => s.push('\n'),
            1 => s.push_str(&format!("crlf {i}\r\n")),
            2 => s.push_str(&format!("{}\n", "x".repeat(i % 50))),
            3 => s.push_str(&format!("héllo wörld {i}\n")),
            _ => s.push_str(&format!("line {i}\n")),
        }
    }
    s
}

#[test]
fn read_text_blocks_give_back_the_file() {
    let dir = temp_dir("blocks");
    let text = sample_text(300);
    let path = dir.join("a.txt");
    std::fs::write(&path, &text).unwrap();
    let want: Vec<String> = text.lines().map(str::to_string).collect();
    for block in [0, 1, 2, 3, 7, 13, 64, 1000, 1 << 30] {
        let bag = ReadText::paths([&path]).block_size(block).lines().unwrap();
        if (1..=64).contains(&block) {
            assert!(bag.npartitions() > 1);
        }
        for o in options() {
            assert_eq!(bag.compute_with(&o).unwrap(), want, "block size {block}");
        }
        // Joined back with the line ends, the blocks are the file (up to CRLF normalisation).
        let joined: String = bag
            .compute()
            .unwrap()
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(joined, text.replace("\r\n", "\n"));
        let numbers = ReadText::paths([&path])
            .block_size(block)
            .lines_with_origin()
            .unwrap()
            .map(|l: &dusk_collections::bag::Line| l.number)
            .compute()
            .unwrap();
        assert_eq!(numbers, (1..=want.len() as u64).collect::<Vec<_>>());
    }
    // A file without a final newline keeps its last line.
    std::fs::write(dir.join("b.txt"), "one\ntwo").unwrap();
    let bag = ReadText::paths([dir.join("b.txt")])
        .block_size(3)
        .lines()
        .unwrap();
    assert_eq!(bag.compute().unwrap(), vec!["one", "two"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn read_text_reads_gzip_and_sorts_files() {
    let dir = temp_dir("gzip");
    let texts: Vec<String> = (0..3).map(|i| sample_text(50 + i * 40)).collect();
    for (i, t) in texts.iter().enumerate() {
        // Written out of order, read in path order.
        gzip(&dir.join(format!("part-{}.txt.gz", 2 - i)), t.as_bytes());
    }
    let want: Vec<String> = texts
        .iter()
        .rev()
        .flat_map(|t| t.lines().map(str::to_string))
        .collect();
    let pattern = format!("{}/*.txt.gz", dir.display());
    let bag = ReadText::glob(&pattern).block_size(5).lines().unwrap();
    assert_eq!(bag.npartitions(), 3, "gzip files are not split");
    for o in options() {
        assert_eq!(bag.compute_with(&o).unwrap(), want);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn read_text_reads_zstd_including_concatenated_frames() {
    let dir = temp_dir("zstd");
    let texts: Vec<String> = (0..3).map(|i| sample_text(60 + i * 30)).collect();
    zstd(&dir.join("a.txt.zst"), texts[0].as_bytes());
    // Two frames one after the other, as `cat x.zst y.zst` gives: both are read.
    let mut two = zstd::encode_all(texts[1].as_bytes(), 1).unwrap();
    two.extend(zstd::encode_all(texts[2].as_bytes(), 19).unwrap());
    std::fs::write(dir.join("b.txt.ZSTD"), two).unwrap();
    let want: Vec<String> = texts
        .iter()
        .flat_map(|t| t.lines().map(str::to_string))
        .collect();
    let pattern = format!("{}/*.txt.*", dir.display());
    let bag = ReadText::glob(&pattern).block_size(5).lines().unwrap();
    assert_eq!(bag.npartitions(), 2, "zstd files are not split");
    for o in options() {
        assert_eq!(bag.compute_with(&o).unwrap(), want);
    }
    let numbers: Vec<u64> = ReadText::glob(&pattern)
        .lines_with_origin()
        .unwrap()
        .map(|l| l.number)
        .compute()
        .unwrap();
    let n0 = texts[0].lines().count() as u64;
    let want_numbers: Vec<u64> = (1..=n0).chain(1..=(want.len() as u64 - n0)).collect();
    assert_eq!(numbers, want_numbers);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn to_textfiles_round_trips() {
    let dir = temp_dir("write");
    for ext in ["txt", "txt.gz", "txt.zst", "txt.zstd"] {
        let b = from_sequence((0..57).map(|i| format!("item {i}")).collect::<Vec<_>>(), 12);
        let pattern = format!("{}/{ext}/out-*.{ext}", dir.display());
        let written = b.to_textfiles(&pattern).unwrap().compute().unwrap();
        assert_eq!(written.len(), 12);
        assert!(
            written[3].ends_with(format!("out-03.{ext}")),
            "{:?}",
            written[3]
        );
        let back = read_text(&pattern).unwrap();
        assert_eq!(back.npartitions(), 12);
        assert_eq!(back.compute().unwrap(), b.compute().unwrap());
    }
    assert!(range(3, 1).to_textfiles("no-star.txt").is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn malformed_json_names_file_and_line() {
    let dir = temp_dir("json");
    let mut text = String::new();
    for i in 1..=40 {
        if i == 33 {
            text.push_str("{\"name\": \"Bob\", oops}\n");
        } else {
            text.push_str(&format!("{{\"name\": \"n{i}\"}}\n"));
        }
    }
    std::fs::write(dir.join("plain.json"), &text).unwrap();
    gzip(&dir.join("zipped.json.gz"), text.as_bytes());
    zstd(&dir.join("zipped.json.zst"), text.as_bytes());
    for (file, block) in [
        ("plain.json", 64),
        ("plain.json", 0),
        ("zipped.json.gz", 64),
        ("zipped.json.zst", 64),
    ] {
        let bag = ReadText::paths([dir.join(file)])
            .block_size(block)
            .lines_with_origin()
            .unwrap()
            .parse_json()
            .pluck("name");
        let err = bag.count().compute().unwrap_err().to_string();
        assert!(err.contains(&format!("{file}:33: invalid JSON")), "{err}");
    }
    // Without origin, the partition and position are named.
    let err = read_text(&format!("{}/plain.json", dir.display()))
        .unwrap()
        .parse_json()
        .count()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("item 32 of partition 0"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_field_names_the_field() {
    let b = from_sequence(
        vec![
            serde_json::json!({"name": "a"}),
            serde_json::json!({"nom": "b"}),
        ],
        2,
    );
    let err = b.pluck("name").compute().unwrap_err().to_string();
    assert!(err.contains("field `name` is missing"), "{err}");
    assert!(err.contains(r#"{"nom":"b"}"#), "{err}");
}

#[test]
fn corrupt_gzip_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt");
    let mut bytes = Vec::new();
    {
        let mut enc = flate2::write::GzEncoder::new(&mut bytes, flate2::Compression::fast());
        enc.write_all(sample_text(500).as_bytes()).unwrap();
        enc.finish().unwrap();
    }
    let n = bytes.len();
    for b in &mut bytes[n / 2..n - 8] {
        *b ^= 0x5a;
    }
    std::fs::write(dir.join("bad.txt.gz"), &bytes).unwrap();
    std::fs::write(dir.join("cut.txt.gz"), &bytes[..n / 3]).unwrap();
    for file in ["bad.txt.gz", "cut.txt.gz"] {
        let bag = read_text(&format!("{}/{file}", dir.display())).unwrap();
        let err = bag.count().compute().unwrap_err().to_string();
        assert!(err.contains(file), "{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_zstd_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt-zstd");
    let text = sample_text(500);
    let mut bytes = zstd::encode_all(text.as_bytes(), 3).unwrap();
    let n = bytes.len();
    std::fs::write(dir.join("cut.txt.zst"), &bytes[..n / 3]).unwrap();
    for b in &mut bytes[n / 2..n - 4] {
        *b ^= 0x5a;
    }
    std::fs::write(dir.join("bad.txt.zst"), &bytes).unwrap();
    std::fs::write(dir.join("plain-named.zst"), text.as_bytes()).unwrap();
    for file in ["bad.txt.zst", "cut.txt.zst", "plain-named.zst"] {
        let bag = read_text(&format!("{}/{file}", dir.display())).unwrap();
        let err = bag.count().compute().unwrap_err().to_string();
        assert!(err.contains(file), "{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unsupported_compression_is_an_error_naming_the_file() {
    let dir = temp_dir("codec");
    std::fs::write(dir.join("a.txt"), "fine\n").unwrap();
    std::fs::write(dir.join("b.txt.BZ2"), "BZh9").unwrap();
    let err = read_text(&format!("{}/*", dir.display()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b.txt.BZ2") && err.contains("`.BZ2` files are not supported"),
        "{err}"
    );
    for ext in ["xz", "lzma"] {
        let err = range(3, 1)
            .to_textfiles(&format!("{}/out-*.{ext}", dir.display()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("`.{ext}` files are not supported")),
            "{err}"
        );
    }
    assert_eq!(
        read_text(&format!("{}/*.txt", dir.display()))
            .unwrap()
            .compute()
            .unwrap(),
        vec!["fine"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn glob_matching_nothing_names_the_pattern() {
    let dir = temp_dir("empty");
    let pattern = format!("{}/*.json.gz", dir.display());
    let err = read_text(&pattern).unwrap_err().to_string();
    assert!(
        err.contains("no file matches") && err.contains(&pattern),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn seed_pipeline_matches_a_plain_loop() {
    let pattern = format!("{}/logs/*.json.gz", dusk_datasets::sample_dir().display());
    let top = ReadText::glob(&pattern)
        .lines_with_origin()
        .unwrap()
        .parse_json()
        .pluck("name")
        .frequencies()
        .topk(10, |(name, n): &(serde_json::Value, u64)| {
            (*n, std::cmp::Reverse(name.to_string()))
        })
        .compute()
        .unwrap();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dusk_datasets::sample_dir().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let mut text = String::new();
        let file = std::fs::File::open(f).unwrap();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text).unwrap();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *counts
                .entry(v["name"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let mut want: Vec<(String, u64)> = counts.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    want.truncate(10);
    let got: Vec<(String, u64)> = top
        .into_iter()
        .map(|(v, n)| (v.as_str().unwrap().to_string(), n))
        .collect();
    assert_eq!(got, want);
}

/// What went wrong in a failed task, without the task's key (which names the chain).
fn cause(e: &dusk_core::ComputeError) -> String {
    let s = e.to_string();
    match s.split_once(" failed: ") {
        Some((_, cause)) => cause.to_string(),
        None => s,
    }
}

/// `parse_json().pluck(field)` parses only the field; the same chain with a step between the
/// two parses whole items. Both must give the same items and the same errors.
#[test]
fn pluck_after_parse_json_matches_the_unfused_chain() {
    let dir = temp_dir("pluck");
    let good = [
        r#"{"name": "Alice", "age": 3}"#,
        r#"  {"age": [1, {"name": 2}], "name": {"first": "B", "n": [1.5, -2e3, null]}}  "#,
        r#"{"name": 1, "name": 2}"#,
        r#"{"na\u006de": "escaped key", "x": "\u00e9"}"#,
        r#"{"name": 12345678901234567890123, "f": 0.1, "g": 1E-7}"#,
        r#"{"name": "tab\tand \"quotes\""}"#,
    ];
    let bad = [
        r#"{"age": 3}"#,
        r#"["name"]"#,
        "5",
        r#"{"name": "x"} trailing"#,
        r#"{"name": "x", "o": "\ud800"}"#,
        r#"{"name": "x", "big": 1e400}"#,
        "{",
    ];
    let unfused = |lines: Bag<dusk_collections::bag::Line>| {
        lines
            .parse_json()
            .map(|v: &serde_json::Value| v.clone())
            .pluck("name")
    };
    let good_text = good.join("\n") + "\n";
    std::fs::write(dir.join("good.json"), &good_text).unwrap();
    let lines = ReadText::paths([dir.join("good.json")])
        .block_size(40)
        .lines_with_origin()
        .unwrap();
    let want = unfused(lines.clone()).compute().unwrap();
    assert_eq!(want.len(), good.len());
    assert_eq!(lines.parse_json().pluck("name").compute().unwrap(), want);
    let strings = read_text(&format!("{}/good.json", dir.display())).unwrap();
    let strings_want = strings
        .parse_json()
        .map(|v: &serde_json::Value| v.clone())
        .pluck("name");
    assert_eq!(
        strings.parse_json().pluck("name").compute().unwrap(),
        strings_want.compute().unwrap()
    );
    for (i, b) in bad.iter().enumerate() {
        let file = dir.join(format!("bad-{i}.json"));
        std::fs::write(&file, format!("{good_text}{b}\n{}\n", good[0])).unwrap();
        let lines = ReadText::paths([&file]).lines_with_origin().unwrap();
        let fused = lines.parse_json().pluck("name").compute().unwrap_err();
        let want = unfused(lines).compute().unwrap_err();
        assert_eq!(cause(&fused), cause(&want), "{b}");
        let json_error = cause(&fused).contains("invalid JSON");
        assert_eq!(json_error, i >= 3, "{fused}");
        if json_error {
            assert!(
                cause(&fused).contains(&format!("bad-{i}.json:7")),
                "{fused}"
            );
        }
        let strings = read_text(&file.display().to_string()).unwrap();
        let fused = strings.parse_json().pluck("name").count().compute();
        let want = strings
            .parse_json()
            .map(|v: &serde_json::Value| v.clone())
            .pluck("name")
            .count()
            .compute();
        let (fused, want) = (fused.unwrap_err(), want.unwrap_err());
        assert_eq!(cause(&fused), cause(&want), "{b}");
        assert!(cause(&fused).contains("partition 0"), "{fused}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[derive(Clone, serde::Serialize)]
struct Record {
    user: String,
    score: Option<f64>,
    visits: i64,
    admin: bool,
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            user: format!("u{}", i % 13),
            score: (i % 4 != 1).then(|| i as f64 / 3.0),
            visits: (i * 7 % 11) as i64,
            admin: i % 5 == 0,
        })
        .collect()
}

#[test]
fn to_dataframe_matches_a_polars_frame_of_the_same_items() {
    use polars::prelude::*;
    let items = records(101);
    let expected = df!(
        "user" => items.iter().map(|r| r.user.clone()).collect::<Vec<_>>(),
        "score" => items.iter().map(|r| r.score).collect::<Vec<_>>(),
        "visits" => items.iter().map(|r| r.visits).collect::<Vec<_>>(),
        "admin" => items.iter().map(|r| r.admin).collect::<Vec<_>>()
    )
    .unwrap();
    // 1, 3 and many partitions, some of them empty after a filter.
    for n in [1, 3, 40] {
        let bag = from_sequence(items.clone(), n);
        let df = bag.to_dataframe(None).unwrap();
        assert_eq!(df.columns(), ["user", "score", "visits", "admin"]);
        assert_eq!(df.npartitions(), n);
        let got = df.compute().unwrap();
        assert!(got.equals_missing(&expected), "{got}\n{expected}");

        let some = bag.filter(|r: &Record| r.visits > 8);
        let schema = expected.schema().as_ref().clone();
        let got = some.to_dataframe(Some(schema)).unwrap().compute().unwrap();
        let want = expected
            .clone()
            .lazy()
            .filter(col("visits").gt(lit(8i64)))
            .collect()
            .unwrap();
        assert!(got.equals_missing(&want), "{got}\n{want}");
        // And the frame is an ordinary DataFrame: group it.
        let sums = bag
            .to_dataframe(None)
            .unwrap()
            .group_by(["user"])
            .agg([col("visits").sum()])
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(sums.height(), 13);
    }
    // Tuples by position, scalars as `value`.
    let pairs = from_sequence(vec![(1i64, "a"), (2, "b"), (3, "c")], 2);
    let got = pairs.to_dataframe(None).unwrap();
    assert_eq!(got.columns(), ["0", "1"]);
    assert_eq!(got.compute().unwrap().height(), 3);
    let got = range(10, 3).to_dataframe(None).unwrap().compute().unwrap();
    assert_eq!(got.column("value").unwrap().i64().unwrap().sum(), Some(45));
}

#[test]
fn to_dataframe_reports_what_does_not_fit() {
    use polars::prelude::*;
    // A later partition disagrees with the schema inferred from the first.
    let mixed = from_sequence(
        vec![
            serde_json::json!({"a": 1}),
            serde_json::json!({"a": 2}),
            serde_json::json!({"a": "three"}),
        ],
        3,
    );
    let df = mixed.to_dataframe(None).unwrap();
    assert_eq!(df.schema().get("a"), Some(&DataType::Int64));
    let err = df.compute().unwrap_err().to_string();
    assert!(
        err.contains("partition 2") && err.contains("`a`") && err.contains("a string"),
        "{err}"
    );
    // An empty first partition cannot give a schema; mixed kinds within it neither.
    let err = from_sequence(Vec::<i64>::new(), 1)
        .to_dataframe(None)
        .unwrap_err();
    assert!(err.to_string().contains("pass one"), "{err}");
    let err = from_sequence(
        vec![serde_json::json!({"a": 1}), serde_json::json!({"a": true})],
        1,
    )
    .to_dataframe(None)
    .unwrap_err();
    assert!(err.to_string().contains("mixes"), "{err}");
}

#[test]
fn topk_by_count_matches_a_sort_of_the_counts() {
    // Counts with many ties, so the tie order decides.
    let words: Vec<String> = (0..300)
        .map(|i| format!("w{}", (i * 37) % 23 % 9))
        .collect();
    let mut counts: HashMap<String, u64> = HashMap::new();
    for w in &words {
        *counts.entry(w.clone()).or_default() += 1;
    }
    let mut want: Vec<(String, u64)> = counts.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for n in [1, 3, 301] {
        for k in [0, 1, 4, 9, 20] {
            let bag = from_sequence(words.clone(), n);
            let got = bag.frequencies().topk_by_count(k).compute().unwrap();
            assert_eq!(
                got,
                want[..k.min(want.len())].to_vec(),
                "{n} partitions, k = {k}"
            );
        }
    }
}

/// Every task of `graph` made to hand on its result serialized, as if each result were
/// fetched by another process: a result that cannot leave its process fails the task.
fn as_if_every_result_moved(graph: &dusk_core::Graph) -> dusk_core::Graph {
    use dusk_core::{BoxError, Data, Graph, Op, Task};
    use std::sync::Arc;
    struct Moved(Arc<dyn Op>);
    impl Op for Moved {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn run(&self, inputs: Vec<Data>) -> Result<Data, BoxError> {
            match self.0.run(inputs)? {
                Data::Local(v) => match v.to_serialized() {
                    Some(sent) => Ok(Data::Value(sent?)),
                    None => {
                        Err(format!("{} made a result that cannot be sent", self.0.name()).into())
                    }
                },
                other => Ok(other),
            }
        }
    }
    let mut moved = Graph::new();
    for (key, task) in graph.iter() {
        moved.insert(
            key.clone(),
            Task::from_arc(Arc::new(Moved(task.op.clone())), task.deps.clone()),
        );
    }
    moved
}

/// `c` computed the way a cluster would: its optimized graph encoded as a client sends it,
/// decoded as a worker does, every result serialized between tasks and for the client.
fn computed_through_the_wire<C>(c: &C) -> Result<C::Output, String>
where
    C: dusk_core::Collection,
{
    use dusk_core::{optimize, Graph, OptimizeOptions, WireGraph};
    let mut graph = Graph::new();
    let keys = c.lower(&mut graph).map_err(|e| e.to_string())?;
    let graph = optimize(&graph, &keys, OptimizeOptions::default());
    let wire = graph.to_wire().map_err(|e| e.to_string())?;
    let bytes = postcard::to_stdvec(&wire).unwrap();
    let wire: WireGraph = postcard::from_bytes(&bytes).unwrap();
    let decoded = as_if_every_result_moved(&Graph::from_wire(&wire).unwrap());
    let opts = ComputeOptions::default()
        .scheduler(Scheduler::Threads(Some(3)))
        .quiet();
    let (out, _) = dusk_scheduler::get(&decoded, &keys, &opts).map_err(|e| e.to_string())?;
    c.finalize(out).map_err(|e| e.to_string())
}

fn assert_same_through_the_wire<C>(name: &str, c: &C)
where
    C: dusk_core::Collection + Compute,
    C::Output: PartialEq + std::fmt::Debug,
{
    let shipped = computed_through_the_wire(c).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(shipped, c.compute().unwrap(), "{name}");
}

#[test]
fn built_in_bag_pipelines_survive_their_wire_form() {
    let logs = format!("{}/logs/*.json.gz", dusk_datasets::sample_dir().display());
    let dir = temp_dir("wire");
    std::fs::write(dir.join("plain.txt"), sample_text(400)).unwrap();
    let records: String = (0..500)
        .map(|i| format!("{{\"name\": \"n{}\", \"x\": {}}}\n", i % 13, i % 7))
        .collect();
    std::fs::write(dir.join("records.json"), &records).unwrap();
    let plain = ReadText::glob(&format!("{}/plain.txt", dir.display()))
        .block_size(500)
        .lines()
        .unwrap();
    assert!(plain.npartitions() > 3);
    let records = ReadText::glob(&format!("{}/records.json", dir.display())).block_size(2_000);
    let names = ReadText::glob(&logs)
        .lines_with_origin()
        .unwrap()
        .parse_json()
        .pluck("name");
    assert_same_through_the_wire("seed pipeline", &names.frequencies().topk_by_count(10));
    assert_same_through_the_wire("names", &names);
    assert_same_through_the_wire("distinct names", &names.distinct().count());
    assert_same_through_the_wire("plain lines in blocks", &plain);
    assert_same_through_the_wire("count of lines", &plain.count());
    assert_same_through_the_wire("min line", &plain.min());
    assert_same_through_the_wire("max line", &plain.max());
    assert_same_through_the_wire("line frequencies", &plain.frequencies().topk_by_count(5));
    assert_same_through_the_wire("take within a partition", &names.take(5));
    assert_same_through_the_wire("take across partitions", &plain.take(300));
    let written = computed_through_the_wire(
        &plain
            .to_textfiles(&format!("{}/out/part-*.txt.gz", dir.display()))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(written.len(), plain.npartitions());
    let back = read_text(&format!("{}/out/part-*.txt.gz", dir.display())).unwrap();
    assert_eq!(back.compute().unwrap(), plain.compute().unwrap());
    let parsed = records.lines().unwrap().parse_json();
    assert_same_through_the_wire("parse strings, then pluck", &parsed.pluck("x"));
    let frame = parsed.to_dataframe(None).unwrap();
    let shipped = computed_through_the_wire(&frame).unwrap();
    assert_eq!(shipped.height(), 500);
    assert!(
        shipped.equals_missing(&frame.compute().unwrap()),
        "{shipped}"
    );
    assert_same_through_the_wire(
        "parsed lines with origin",
        &records.lines_with_origin().unwrap().parse_json(),
    );
    // Frequencies come in hash order: ranked, every pair is compared in one order.
    let fused = records.lines().unwrap().parse_json().pluck("name");
    assert_same_through_the_wire(
        "fused pluck of strings",
        &fused.frequencies().topk_by_count(20),
    );
    for n in [1, 3, 257] {
        let xs = from_sequence(items(), n);
        let name = format!("{n} partitions");
        assert_same_through_the_wire(&name, &xs);
        assert_same_through_the_wire(&name, &xs.sum());
        assert_same_through_the_wire(&name, &(xs.min(), xs.max(), xs.count()));
        assert_same_through_the_wire(&name, &xs.split_every(2).mean());
        assert_same_through_the_wire(&name, &(xs.var(1), xs.std(0)));
        assert_same_through_the_wire(&name, &xs.frequencies().topk_by_count(7));
        assert_same_through_the_wire(&name, &xs.repartition(5));
        assert_same_through_the_wire(&name, &xs.repartition(2 * n + 1).sum());
        let mut d = computed_through_the_wire(&xs.distinct()).unwrap();
        d.sort();
        let mut want: Vec<i64> = items()
            .into_iter()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        want.sort();
        assert_eq!(d, want, "{name}");
        let r = range(1000, n);
        assert_same_through_the_wire(&name, &(r.sum(), r.count(), r.max()));
        let floats = from_sequence(
            items().iter().map(|&x| x as f64 / 3.0).collect::<Vec<_>>(),
            n,
        );
        assert_same_through_the_wire(&name, &(floats.sum(), floats.min(), floats.mean()));
        let words = from_sequence(
            items()
                .iter()
                .map(|x| format!("{{\"w\": {x}}}"))
                .collect::<Vec<String>>(),
            n,
        );
        assert_same_through_the_wire(
            &name,
            &words.parse_json().pluck("w").frequencies().topk_by_count(3),
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bags_that_cannot_travel_say_why() {
    let mapped = range(10, 2).map(|x: &u64| x + 1);
    let err = computed_through_the_wire(&mapped.count()).unwrap_err();
    assert!(
        err.contains("closure `map`") || err.contains("closure"),
        "{err}"
    );
    assert!(err.contains("count-partial"), "{err}");

    #[derive(Clone, Debug, PartialEq)]
    struct Mine(u8);
    let err = computed_through_the_wire(&from_sequence(vec![Mine(1)], 1)).unwrap_err();
    assert!(err.contains("cannot be sent to another process"), "{err}");

    let err = computed_through_the_wire(&from_sequence(vec![1u32, 2], 1).count()).unwrap_err();
    assert!(err.contains("cannot be sent"), "{err}");

    let zipped = range(4, 2).zip(&range(4, 2)).unwrap();
    // (u64, u64) pairs travel, but zip itself runs locally.
    let err = computed_through_the_wire(&zipped.count()).unwrap_err();
    assert!(
        err.contains("`zip` runs on the local schedulers only"),
        "{err}"
    );
}

/// A record parsed from a line: a user type that streams between two named steps.
#[derive(Clone, Debug)]
struct Visit {
    user: String,
    seconds: u64,
}

// A bag of `String`s hands its function a `&String`.
#[allow(clippy::ptr_arg)]
fn parse_visit(line: &String) -> Visit {
    let (user, seconds) = line.split_once(',').unwrap_or((line, "0"));
    Visit {
        user: user.to_string(),
        seconds: seconds.trim().parse().unwrap_or(0),
    }
}
dusk_collections::register_bag_fn!(map parse_visit: fn(&String) -> Visit);

fn visit_user(v: &Visit) -> String {
    v.user.clone()
}
dusk_collections::register_bag_fn!(map visit_user: fn(&Visit) -> String);

fn long_visit(v: &Visit) -> bool {
    v.seconds >= 30
}
dusk_collections::register_bag_fn!(filter long_visit: fn(&Visit) -> bool);

#[test]
fn named_functions_match_closures_and_survive_the_wire() {
    let lines: Vec<String> = (0..400)
        .map(|i| format!("u{},{}", i % 17, (i * 13) % 60))
        .collect();
    for n in [1, 3, 450] {
        let b = from_sequence(lines.clone(), n);
        let chain = || {
            b.map_named::<Visit>("parse_visit")
                .unwrap()
                .filter_named("long_visit")
                .unwrap()
                .map_named::<String>("visit_user")
                .unwrap()
        };
        let named = chain();
        let want: Vec<String> = lines
            .iter()
            .map(parse_visit)
            .filter(long_visit)
            .map(|v| visit_user(&v))
            .collect();
        assert_eq!(named.compute().unwrap(), want, "{n}");
        // Named steps are deterministic: the same chain twice has the same keys.
        assert_eq!(named.name(), chain().name());
        assert_same_through_the_wire("named chain", &named);
        assert_same_through_the_wire("named chain, ranked", &named.frequencies().topk_by_count(5));
    }
    let words = from_sequence(lines.clone(), 2);
    let err = words
        .map_named::<u64>("visit_user")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("visit_user") && err.contains("map fn(&") && err.contains("Visit"),
        "{err}"
    );
    let err = words.filter_named("parse_visit").unwrap_err().to_string();
    assert!(err.contains("used as filter"), "{err}");
    let err = words
        .map_named::<String>("no_such_fn")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no_such_fn") && err.contains("register_bag_fn!"),
        "{err}"
    );
    // A chain that ends in a user type computes locally, and refuses the wire naming the type.
    let visits = words.map_named::<Visit>("parse_visit").unwrap();
    assert_eq!(visits.count().compute().unwrap(), 400);
    let err = computed_through_the_wire(&visits.take(2)).unwrap_err();
    assert!(
        err.contains("Visit") && err.contains("local schedulers only"),
        "{err}"
    );
}
