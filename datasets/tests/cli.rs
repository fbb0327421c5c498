//! The `dusk-datagen` binary writes the same bytes as the library.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use dusk_datasets as ds;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dusk-datasets-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn datagen(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dusk-datagen"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dusk-datagen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn subcommands_match_the_library() {
    let dir = temp_dir("subcommands");
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();

    let cli_events = dir.join("cli-events");
    datagen(&[
        "events",
        "--out",
        &s(&cli_events),
        "--days",
        "3",
        "--rows-per-day",
        "50",
        "--users",
        "20",
        "--seed",
        "5",
    ]);
    let lib_events = ds::write_events(
        &dir.join("lib-events"),
        &ds::EventsSpec {
            days: 3,
            rows_per_day: 50,
            n_users: 20,
            seed: 5,
        },
    )
    .unwrap();
    for lib in &lib_events {
        let cli = cli_events.join(lib.file_name().unwrap());
        assert_eq!(fs::read(cli).unwrap(), fs::read(lib).unwrap());
    }

    let cli_users = dir.join("cli/users.csv");
    datagen(&["users", "--out", &s(&cli_users), "--users", "30"]);
    let lib_users = ds::write_users(&dir.join("lib-users.csv"), 30, 42).unwrap();
    assert_eq!(fs::read(cli_users).unwrap(), fs::read(lib_users).unwrap());

    let cli_json = dir.join("cli-json");
    datagen(&[
        "json",
        "--out",
        &s(&cli_json),
        "--files",
        "2",
        "--records",
        "40",
    ]);
    let lib_json = ds::write_json(
        &dir.join("lib-json"),
        &ds::JsonSpec {
            files: 2,
            records_per_file: 40,
            seed: 42,
        },
    )
    .unwrap();
    for lib in &lib_json {
        let cli = cli_json.join(lib.file_name().unwrap());
        assert_eq!(fs::read(cli).unwrap(), fs::read(lib).unwrap());
    }

    let cli_npy = dir.join("cli.npy");
    datagen(&[
        "npy",
        "--out",
        &s(&cli_npy),
        "--rows",
        "7",
        "--cols",
        "3",
        "--seed",
        "1",
    ]);
    let lib_npy = ds::write_npy(&dir.join("lib.npy"), 7, 3, 1).unwrap();
    assert_eq!(fs::read(cli_npy).unwrap(), fs::read(lib_npy).unwrap());

    let cli_letters = dir.join("cli-letters");
    let out = datagen(&[
        "letters",
        "--out",
        &s(&cli_letters),
        "--files",
        "2",
        "--bytes",
        "99",
    ]);
    assert!(out.contains("198 bytes"), "{out}");
    let lib_letters = ds::write_letters(&dir.join("lib-letters"), 2, 99, 42).unwrap();
    for lib in &lib_letters {
        let cli = cli_letters.join(lib.file_name().unwrap());
        assert_eq!(fs::read(cli).unwrap(), fs::read(lib).unwrap());
    }

    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_explains_every_subcommand() {
    let help = datagen(&["--help"]);
    for sub in [
        "events", "users", "json", "npy", "letters", "sample", "bench",
    ] {
        assert!(help.contains(sub), "{sub} missing from --help:\n{help}");
    }
    let events_help = datagen(&["events", "--help"]);
    assert!(events_help.contains("--rows-per-day"), "{events_help}");
    assert!(events_help.contains("timestamp,user_id,name,value,count,active"));
    let bench_help = datagen(&["bench", "--help"]);
    for preset in ["events", "json", "npy", "letters", "all"] {
        assert!(bench_help.contains(preset), "{bench_help}");
    }
}
