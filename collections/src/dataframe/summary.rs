//! Mergeable summaries of numeric columns, for `quantile` and `describe`.
//!
//! An exact quantile needs every value in one place — a full sort of the column. Dask instead
//! computes approximate quantiles from per-partition summaries, and so does dusk: each partition
//! yields, per column, its exact moments (count, mean, M2, min, max — merged with Chan's
//! formula) and a *weighted sketch*: at most [`SKETCH_POINTS`] of its sorted values, each
//! standing for the same number of rows. Sketches merge by concatenation, sorting and
//! re-thinning to the same size, so a tree of merges has bounded memory. With fewer rows than
//! points per partition and a single partition, the sketch is exact.
//!
//! Summaries travel between tasks as serialized values (`Data::encode`), so they can cross a
//! process boundary.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// How many sorted values a sketch keeps; the rank error is about `1 / SKETCH_POINTS` per
/// merge level.
pub(crate) const SKETCH_POINTS: usize = 2048;

/// The summary of one numeric column over some rows.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Summary {
    /// Non-null, non-NaN values seen.
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
    /// Sorted `(value, weight)` pairs; the weights sum to `n`.
    pub points: Vec<(f64, f64)>,
}

impl Summary {
    /// Summarizes the values of a column (nulls and NaNs are skipped, as pandas does).
    pub(crate) fn of(column: &Column) -> PolarsResult<Summary> {
        let cast = column.cast(&DataType::Float64)?;
        let mut values: Vec<f64> = cast
            .f64()?
            .iter()
            .flatten()
            .filter(|v| !v.is_nan())
            .collect();
        if values.is_empty() {
            return Ok(Summary::default());
        }
        values.sort_unstable_by(f64::total_cmp);
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        let points = if n <= SKETCH_POINTS {
            values.iter().map(|&v| (v, 1.0)).collect()
        } else {
            let weight = n as f64 / SKETCH_POINTS as f64;
            (0..SKETCH_POINTS)
                .map(|j| {
                    let i = ((j as f64 + 0.5) * weight) as usize;
                    (values[i.min(n - 1)], weight)
                })
                .collect()
        };
        Ok(Summary {
            n: n as u64,
            mean,
            m2,
            min: values[0],
            max: values[n - 1],
            points,
        })
    }

    /// Merges summaries of disjoint row sets.
    pub(crate) fn merge(parts: Vec<Summary>) -> Summary {
        let mut out = Summary::default();
        let mut points = Vec::new();
        for part in parts.into_iter().filter(|p| p.n > 0) {
            if out.n == 0 {
                out.mean = part.mean;
                out.m2 = part.m2;
                out.min = part.min;
                out.max = part.max;
            } else {
                let (na, nb) = (out.n as f64, part.n as f64);
                let delta = part.mean - out.mean;
                out.mean += delta * nb / (na + nb);
                out.m2 += part.m2 + delta * delta * na * nb / (na + nb);
                out.min = out.min.min(part.min);
                out.max = out.max.max(part.max);
            }
            out.n += part.n;
            points.extend(part.points);
        }
        points.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        out.points = thin(points, out.n);
        out
    }

    /// The variance with `ddof` degrees of freedom, if defined.
    pub(crate) fn var(&self, ddof: u8) -> Option<f64> {
        let denom = self.n as f64 - ddof as f64;
        (denom > 0.0).then(|| self.m2 / denom)
    }

    /// The approximate `q`-quantile (`0 ≤ q ≤ 1`), interpolating linearly between ranks as
    /// Polars' `QuantileMethod::Linear` does; exact while the sketch holds every value.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        if self.n == 0 {
            return None;
        }
        if q <= 0.0 {
            return Some(self.min);
        }
        if q >= 1.0 {
            return Some(self.max);
        }
        let rank = q * (self.n as f64 - 1.0);
        // Each point stands for `weight` consecutive ranks; its value sits at their middle.
        let mut before = 0.0;
        let mut prev: Option<(f64, f64)> = None; // (rank, value)
        for &(value, weight) in &self.points {
            let at = before + (weight - 1.0) / 2.0;
            if at >= rank {
                return Some(match prev {
                    None => value,
                    Some((prev_rank, prev_value)) if at > prev_rank => {
                        prev_value + (value - prev_value) * (rank - prev_rank) / (at - prev_rank)
                    }
                    Some(_) => value,
                });
            }
            prev = Some((at, value));
            before += weight;
        }
        Some(self.max)
    }
}

/// Keeps at most [`SKETCH_POINTS`] points of a sorted, weighted list: the points found at
/// evenly spaced cumulative weights, each carrying an equal share of the total.
fn thin(points: Vec<(f64, f64)>, n: u64) -> Vec<(f64, f64)> {
    if points.len() <= SKETCH_POINTS {
        return points;
    }
    let total = n as f64;
    let share = total / SKETCH_POINTS as f64;
    let mut out = Vec::with_capacity(SKETCH_POINTS);
    let mut cumulative = 0.0;
    let mut next = 0usize;
    for (value, weight) in points {
        cumulative += weight;
        while next < SKETCH_POINTS && cumulative >= (next as f64 + 0.5) * share {
            out.push((value, share));
            next += 1;
        }
    }
    while out.len() < SKETCH_POINTS {
        let last = out.last().map_or(0.0, |p: &(f64, f64)| p.0);
        out.push((last, share));
    }
    out
}

/// Summaries of several columns, in order.
pub(crate) fn summarize(df: &DataFrame, columns: &[String]) -> PolarsResult<Vec<Summary>> {
    columns
        .iter()
        .map(|c| Summary::of(df.column(c.as_str())?))
        .collect()
}

/// Merges lists of per-column summaries.
pub(crate) fn merge_all(parts: Vec<Vec<Summary>>) -> Vec<Summary> {
    let width = parts.first().map_or(0, Vec::len);
    let mut by_column: Vec<Vec<Summary>> = vec![Vec::with_capacity(parts.len()); width];
    for part in parts {
        for (i, s) in part.into_iter().enumerate() {
            if let Some(slot) = by_column.get_mut(i) {
                slot.push(s);
            }
        }
    }
    by_column.into_iter().map(Summary::merge).collect()
}

/// `describe()`'s table: one row per statistic (pandas' order), one column per summarized
/// column.
pub(crate) fn describe_frame(columns: &[String], summaries: &[Summary]) -> PolarsResult<DataFrame> {
    let stats = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];
    let mut out = vec![Column::new("statistic".into(), stats)];
    for (name, s) in columns.iter().zip(summaries) {
        let present = |v: f64| (s.n > 0).then_some(v);
        let values = [
            Some(s.n as f64),
            present(s.mean),
            s.var(1).map(f64::sqrt),
            present(s.min),
            s.quantile(0.25),
            s.quantile(0.5),
            s.quantile(0.75),
            present(s.max),
        ];
        out.push(Column::new(name.as_str().into(), values));
    }
    DataFrame::new_infer_height(out)
}

/// The quantiles of one column as a frame with columns `quantile` and the column's name.
pub(crate) fn quantile_frame(column: &str, qs: &[f64], s: &Summary) -> PolarsResult<DataFrame> {
    let values: Vec<Option<f64>> = qs.iter().map(|&q| s.quantile(q)).collect();
    DataFrame::new_infer_height(vec![
        Column::new("quantile".into(), qs),
        Column::new(column.into(), values),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
        let rank = q * (sorted.len() - 1) as f64;
        let lo = rank.floor() as usize;
        let hi = rank.ceil() as usize;
        sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
    }

    #[test]
    fn small_summary_is_exact() {
        let values = [5.0, 1.0, 3.0, 2.0, 4.0];
        let s = Summary::of(&Column::new("x".into(), values)).unwrap();
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.1, 0.25, 0.5, 0.77, 1.0] {
            let got = s.quantile(q).unwrap();
            assert!(
                (got - exact_quantile(&sorted, q)).abs() < 1e-12,
                "q={q}: {got}"
            );
        }
        assert_eq!(s.var(1), Some(2.5));
    }

    #[test]
    fn merged_sketches_stay_within_rank_error() {
        // 20 partitions of a shuffled 0..200_000: the merged sketch must find each quantile
        // within a fraction of a percent of the value range.
        let n = 200_000u64;
        let values: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64).collect();
        let parts: Vec<Summary> = values
            .chunks(10_000)
            .map(|c| Summary::of(&Column::new("x".into(), c)).unwrap())
            .collect();
        let merged = Summary::merge(parts);
        assert_eq!(merged.n, n);
        assert!(merged.points.len() <= SKETCH_POINTS);
        for q in [0.01, 0.25, 0.5, 0.9, 0.999] {
            let got = merged.quantile(q).unwrap();
            let want = q * (n - 1) as f64;
            assert!(
                (got - want).abs() < 0.002 * n as f64,
                "q={q}: {got} vs {want}"
            );
        }
        let mean = (n - 1) as f64 / 2.0;
        assert!((merged.mean - mean).abs() < 1e-6);
    }

    #[test]
    fn nulls_and_nans_are_skipped() {
        let s = Summary::of(&Column::new(
            "x".into(),
            [Some(1.0), None, Some(f64::NAN), Some(3.0)],
        ))
        .unwrap();
        assert_eq!(s.n, 2);
        assert_eq!(s.quantile(0.5), Some(2.0));
        assert_eq!(Summary::merge(vec![]).quantile(0.5), None);
    }
}
