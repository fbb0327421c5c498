//! `users.csv`: one row per user, to join with the `events` dataset on `user_id`.
//!
//! Header [`USERS_HEADER`], then rows for `user_id` 1, 2, ..., `n_users` in order:
//!
//! | column    | type    | content                                   | nulls |
//! |-----------|---------|-------------------------------------------|-------|
//! | `user_id` | integer | `1..=n_users`, each exactly once, in order | none  |
//! | `country` | string  | uniform over [`COUNTRIES`] (no commas)    | none  |
//! | `age`     | integer | uniform in `18..=90`                      | none  |

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{at, DatasetError};
use crate::rng::{stream, SplitMix64};
use crate::util::{create_parent, push_u64, WRITE_BUFFER};

/// The header line of `users.csv` (without the trailing newline).
pub const USERS_HEADER: &str = "user_id,country,age";

/// The countries users live in.
pub const COUNTRIES: [&str; 12] = [
    "United States",
    "Canada",
    "Mexico",
    "Brazil",
    "United Kingdom",
    "France",
    "Germany",
    "Spain",
    "Italy",
    "India",
    "China",
    "Japan",
];

/// Youngest user age.
pub const MIN_AGE: u64 = 18;
/// Oldest user age.
pub const MAX_AGE: u64 = 90;

/// Writes the users table for `user_id` 1..=`n_users` to `path` (parent directories are
/// created) and returns `path`.
pub fn write_users(path: &Path, n_users: u32, seed: u64) -> Result<PathBuf, DatasetError> {
    create_parent(path)?;
    let file = File::create(path).map_err(at(path))?;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    write_rows(&mut out, n_users, seed).map_err(at(path))?;
    out.into_inner()
        .map_err(|e| DatasetError::io(path, e.into_error()))?;
    Ok(path.to_path_buf())
}

fn write_rows(out: &mut impl Write, n_users: u32, seed: u64) -> std::io::Result<()> {
    let mut rng = SplitMix64::for_stream(seed, stream::USERS, 0);
    let mut line = Vec::with_capacity(64);
    line.extend_from_slice(USERS_HEADER.as_bytes());
    line.push(b'\n');
    out.write_all(&line)?;
    for user in 1..=u64::from(n_users) {
        line.clear();
        push_u64(&mut line, user);
        line.push(b',');
        let country = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
        line.extend_from_slice(country.as_bytes());
        line.push(b',');
        push_u64(&mut line, rng.range_inclusive(MIN_AGE, MAX_AGE));
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{read, TempDir};

    #[test]
    fn shape_and_determinism() {
        let dir = TempDir::new("users");
        let a = write_users(&dir.path().join("a/users.csv"), 1000, 42).unwrap();
        let b = write_users(&dir.path().join("b/users.csv"), 1000, 42).unwrap();
        let c = write_users(&dir.path().join("c/users.csv"), 1000, 7).unwrap();
        assert_eq!(read(&a), read(&b));
        assert_ne!(read(&a), read(&c));
        let text = String::from_utf8(read(&a)).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(USERS_HEADER));
        let mut countries = std::collections::HashSet::new();
        let mut n = 0u64;
        for line in lines {
            n += 1;
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 3, "{line}");
            assert_eq!(f[0].parse::<u64>().unwrap(), n);
            assert!(COUNTRIES.contains(&f[1]));
            countries.insert(f[1]);
            let age: u64 = f[2].parse().unwrap();
            assert!((MIN_AGE..=MAX_AGE).contains(&age));
        }
        assert_eq!(n, 1000);
        assert_eq!(countries.len(), COUNTRIES.len());
    }

    #[test]
    fn a_prefix_of_users_is_stable() {
        // Growing n_users appends rows without changing the existing ones.
        let dir = TempDir::new("users-prefix");
        let small = read(&write_users(&dir.path().join("s.csv"), 10, 42).unwrap());
        let big = read(&write_users(&dir.path().join("b.csv"), 20, 42).unwrap());
        assert!(big.starts_with(&small));
    }
}
