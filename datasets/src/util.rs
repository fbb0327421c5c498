//! Small helpers shared by the generators: allocation-free number formatting, the calendar,
//! and a bounded parallel loop over file indices.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{at, DatasetError};

/// Size of the `BufWriter`s used for every output file.
pub(crate) const WRITE_BUFFER: usize = 1 << 20;

/// Appends the decimal representation of `n` to `out`.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends `n` as exactly two digits (`0..=99`).
#[inline]
pub(crate) fn push_2digits(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// Appends `x` rounded to 3 decimals, with trailing zeros removed but at least one decimal
/// digit kept, so the text always reads as a float: `101.234`, `99.5`, `100.0`, `-3.25`.
#[inline]
pub(crate) fn push_f64_3(out: &mut Vec<u8>, x: f64) {
    let milli = (x * 1000.0).round() as i64;
    if milli < 0 {
        out.push(b'-');
    }
    let m = milli.unsigned_abs();
    push_u64(out, m / 1000);
    out.push(b'.');
    let frac = (m % 1000) as u32;
    let digits = [
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ];
    let keep = if frac.is_multiple_of(100) {
        1
    } else if frac.is_multiple_of(10) {
        2
    } else {
        3
    };
    out.extend_from_slice(&digits[..keep]);
}

/// Days from 1970-01-01 to 2015-01-01, the first day of every dated dataset.
const EPOCH_DAY_2015_01_01: i64 = 16_436;

/// The proleptic Gregorian calendar date `(year, month, day)` of a day count since
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The date `day` days after 2015-01-01, formatted `YYYY-MM-DD`.
pub fn date_for_day(day: usize) -> String {
    let (y, m, d) = civil_from_days(EPOCH_DAY_2015_01_01 + day as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Creates `dir` and all its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<(), DatasetError> {
    fs::create_dir_all(dir).map_err(at(dir))
}

/// Creates the parent directory of `path`, if it has one.
pub(crate) fn create_parent(path: &Path) -> Result<(), DatasetError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => create_dir(parent),
        _ => Ok(()),
    }
}

/// The number of worker threads to use for `jobs` independent jobs.
pub(crate) fn worker_count(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(jobs).max(1)
}

/// Runs `job(0)`, ..., `job(n - 1)` on at most `available_parallelism()` scoped threads.
///
/// Workers pull indices from a shared counter. After the first failure no new jobs start;
/// the error of the lowest failing index is returned, so the result does not depend on
/// thread timing.
pub(crate) fn for_each_index<F>(n: usize, job: F) -> Result<(), DatasetError>
where
    F: Fn(usize) -> Result<(), DatasetError> + Sync,
{
    let workers = worker_count(n);
    if workers <= 1 {
        return (0..n).try_for_each(job);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let errors: Mutex<Vec<(usize, DatasetError)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    if let Err(e) = job(i) {
                        failed.store(true, Ordering::Relaxed);
                        errors
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .push((i, e));
                    }
                }
            });
        }
    });
    let errors = errors
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match errors.into_iter().min_by_key(|(i, _)| *i) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f3(x: f64) -> String {
        let mut v = Vec::new();
        push_f64_3(&mut v, x);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn float_formatting() {
        assert_eq!(f3(101.2344), "101.234");
        assert_eq!(f3(99.5), "99.5");
        assert_eq!(f3(99.25), "99.25");
        assert_eq!(f3(100.0), "100.0");
        assert_eq!(f3(0.0004), "0.0");
        assert_eq!(f3(-0.0004), "0.0");
        assert_eq!(f3(-3.25), "-3.25");
        assert_eq!(f3(0.001), "0.001");
        assert_eq!(f3(12.0999), "12.1");
        for x in [-12.5, 0.125, 3.0, 77.777, 1e6 + 0.5] {
            let parsed: f64 = f3(x).parse().unwrap();
            assert!((parsed - x).abs() <= 0.0005 + 1e-9, "{x}");
        }
    }

    #[test]
    fn integer_formatting() {
        let mut v = Vec::new();
        for n in [0, 7, 10, 99, 12345, u64::MAX] {
            v.clear();
            push_u64(&mut v, n);
            assert_eq!(String::from_utf8(v.clone()).unwrap(), n.to_string());
        }
        v.clear();
        push_2digits(&mut v, 5);
        push_2digits(&mut v, 59);
        assert_eq!(v, b"0559");
    }

    #[test]
    fn calendar() {
        assert_eq!(date_for_day(0), "2015-01-01");
        assert_eq!(date_for_day(30), "2015-01-31");
        assert_eq!(date_for_day(31), "2015-02-01");
        assert_eq!(date_for_day(58), "2015-02-28");
        assert_eq!(date_for_day(59), "2015-03-01");
        assert_eq!(date_for_day(364), "2015-12-31");
        assert_eq!(date_for_day(365), "2016-01-01");
        assert_eq!(date_for_day(365 + 59), "2016-02-29");
        assert_eq!(date_for_day(365 + 60), "2016-03-01");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn parallel_loop_runs_every_index_and_reports_lowest_error() {
        let seen = Mutex::new(vec![0u32; 50]);
        for_each_index(50, |i| {
            seen.lock().unwrap()[i] += 1;
            Ok(())
        })
        .unwrap();
        assert!(seen.into_inner().unwrap().iter().all(|&c| c == 1));

        let err = for_each_index(8, |i| {
            if i >= 2 {
                Err(DatasetError::InvalidParameter(format!("job {i}")))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        // Workers stop after the first failure, but index 2 is always the first to fail
        // among those that ran, because indices are handed out in order.
        assert_eq!(err.to_string(), "invalid dataset parameter: job 2");
    }
}
