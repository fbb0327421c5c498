//! Which side of an inner join Polars builds its hash table on.
//!
//! Polars' in-memory join builds on the shorter side (the left one on a tie). When both sides
//! are about as long but one has far fewer distinct keys, building on that one is several
//! times cheaper: a small table stays in cache while the other side probes it. A 625k-row
//! partition with 6k distinct keys joins a 625k-row partition of distinct keys in about 12 ms
//! when built on the former and about 55 ms when built on the latter, and which side is a few
//! rows shorter after a hash shuffle is chance. Polars' streaming engine makes the same choice
//! from sampled cardinalities; the in-memory engine cannot be told, so [`join_in_pieces`] cuts
//! the side to build on into pieces shorter than the other side and joins each in turn (an
//! inner join of a union is the union of the joins).

use std::collections::HashSet;

use polars::prelude::*;

use super::shuffle::row_hashes;

/// Rows sampled from each side to compare their key cardinalities.
const SAMPLE: usize = 4096;

/// Joins shorter than this (rows of the longer side) are not worth sampling.
const MIN_ROWS: usize = 16 * SAMPLE;

/// The most pieces the side to build on is cut into (each piece is probed by the whole other
/// side).
const MAX_PIECES: usize = 4;

/// An estimate of the distinct keys of `df` from `SAMPLE` rows at pseudo-random places (even
/// steps would see one row per key of data sorted by its keys): `s`
/// rows drawn from `D` equally frequent keys show `D (1 - e^(-s/D))` distinct ones on average,
/// solved for `D` (a sample without repeats says "as many as there are rows").
fn estimated_distinct(df: &DataFrame, on: &[String]) -> PolarsResult<f64> {
    let height = df.height() as u64;
    let rows: Vec<IdxSize> = (0..df.height().min(SAMPLE) as u64)
        .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29) % height) as IdxSize)
        .collect();
    let drawn = rows.len() as f64;
    let sample = df.select(on.iter().map(|c| c.as_str()))?;
    let sample = sample.take(&IdxCa::from_vec("sample".into(), rows))?;
    let seen = row_hashes(&sample, on)?
        .into_iter()
        .collect::<HashSet<u64>>()
        .len() as f64;
    let all = df.height() as f64;
    let expected_seen = |keys: f64| keys * (1.0 - (-drawn / keys).exp());
    if seen >= drawn || expected_seen(all) <= seen {
        return Ok(all);
    }
    // `expected_seen` grows with `keys`: bisect between `seen` and every row distinct.
    let (mut low, mut high) = (seen, all);
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if expected_seen(mid) < seen {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(high)
}

/// Into how many pieces to cut the *longer* side of an inner join so that Polars builds on it:
/// `Some(n)` when the longer side has an estimated quarter of the distinct keys of the shorter
/// one or fewer and is at most [`MAX_PIECES`] times as long; `None` to leave Polars' choice.
pub(crate) fn pieces_of_longer_side(
    left: &DataFrame,
    right: &DataFrame,
    left_on: &[String],
    right_on: &[String],
) -> PolarsResult<Option<usize>> {
    let (long, long_on, short, short_on) = if left.height() > right.height() {
        (left, left_on, right, right_on)
    } else {
        (right, right_on, left, left_on)
    };
    if short.height() < SAMPLE || long.height() < MIN_ROWS {
        return Ok(None);
    }
    let pieces = long.height() / short.height() + 1;
    if pieces > MAX_PIECES {
        return Ok(None);
    }
    let (long_keys, short_keys) = (
        estimated_distinct(long, long_on)?,
        estimated_distinct(short, short_on)?,
    );
    Ok((4.0 * long_keys <= short_keys).then_some(pieces))
}

/// `join(left, right)` with the longer side cut into `pieces` even slices, each strictly
/// shorter than the other side, so that Polars builds its hash table on each slice.
pub(crate) fn join_in_pieces(
    left: &DataFrame,
    right: &DataFrame,
    pieces: usize,
    join: impl Fn(DataFrame, DataFrame) -> PolarsResult<DataFrame>,
) -> PolarsResult<DataFrame> {
    let cut_left = left.height() > right.height();
    let long = if cut_left { left } else { right };
    let height = long.height();
    let mut out: Option<DataFrame> = None;
    for p in 0..pieces {
        let (start, end) = (height * p / pieces, height * (p + 1) / pieces);
        let slice = long.slice(start as i64, end - start);
        let joined = if cut_left {
            join(slice, right.clone())?
        } else {
            join(left.clone(), slice)?
        };
        match &mut out {
            None => out = Some(joined),
            Some(out) => {
                out.vstack_mut(&joined)?;
            }
        }
    }
    out.ok_or_else(|| polars_err!(ComputeError: "a join in no pieces"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows` rows whose key takes `keys` values, spread pseudo-randomly.
    fn table(rows: usize, keys: u64, seed: u64) -> DataFrame {
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let key: Vec<i64> = (0..rows as u64)
            .map(|i| (mix(i ^ (seed << 40)) % keys) as i64)
            .collect();
        let value: Vec<f64> = (0..rows).map(|i| i as f64).collect();
        df!("key" => key, "value" => value).unwrap()
    }

    #[test]
    fn distinct_keys_are_estimated_within_a_fifth() {
        let on = ["key".to_string()];
        for keys in [50u64, 6_000, 60_000] {
            let got = estimated_distinct(&table(600_000, keys, 1), &on).unwrap();
            assert!((got / keys as f64 - 1.0).abs() < 0.2, "{keys} keys: {got}");
        }
        let unique = estimated_distinct(&table(600_000, 1 << 40, 1), &on).unwrap();
        assert!(unique > 300_000.0, "{unique}");
        // Sorted by the key, as after a sort or in a file written in key order.
        let sorted = table(600_000, 6_000, 1)
            .sort(["key"], SortMultipleOptions::default())
            .unwrap();
        let got = estimated_distinct(&sorted, &on).unwrap();
        assert!((got / 6_000.0 - 1.0).abs() < 0.2, "sorted: {got}");
    }

    #[test]
    fn the_side_with_few_keys_is_built_on_even_when_a_little_longer() {
        let on = ["key".to_string()];
        let few = table(MIN_ROWS + 10, 500, 1);
        let many = table(MIN_ROWS, 1 << 40, 2);
        assert_eq!(
            pieces_of_longer_side(&few, &many, &on, &on).unwrap(),
            Some(2)
        );
        assert_eq!(
            pieces_of_longer_side(&many, &few, &on, &on).unwrap(),
            Some(2)
        );
        // The shorter side already has the fewer keys, or the sides are alike, or small.
        let short_few = table(MIN_ROWS - 10, 500, 1);
        assert_eq!(
            pieces_of_longer_side(&short_few, &many, &on, &on).unwrap(),
            None
        );
        let other_many = table(MIN_ROWS + 10, 1 << 40, 3);
        assert_eq!(
            pieces_of_longer_side(&other_many, &many, &on, &on).unwrap(),
            None
        );
        assert_eq!(
            pieces_of_longer_side(&table(1000, 5, 1), &table(900, 1 << 40, 2), &on, &on).unwrap(),
            None
        );
    }

    #[test]
    fn a_join_in_pieces_finds_the_same_rows() {
        let sorted = |df: DataFrame| {
            df.sort(["key", "value", "value_r"], SortMultipleOptions::default())
                .unwrap()
        };
        let join = |l: DataFrame, r: DataFrame| {
            l.join(
                &r,
                ["key"],
                ["key"],
                JoinArgs::new(JoinType::Inner).with_suffix(Some("_r".into())),
                None,
            )
        };
        let few = table(3000, 40, 1);
        let many = table(2000, 400, 2);
        for (l, r) in [(&few, &many), (&many, &few)] {
            let whole = join(l.clone(), r.clone()).unwrap();
            for pieces in [1, 2, 3] {
                let cut = join_in_pieces(l, r, pieces, join).unwrap();
                assert_eq!(cut.get_column_names(), whole.get_column_names());
                assert!(
                    sorted(cut).equals(&sorted(whole.clone())),
                    "{pieces} pieces"
                );
            }
        }
    }
}
