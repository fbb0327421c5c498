//! Aggregations split into partial, combine and final steps (tree reductions).
//!
//! A mean over many partitions cannot be a mean of means. Each aggregation a user writes with a
//! Polars expression (`col("value").mean().alias("m")`) is decomposed into:
//!
//! - **chunk** expressions, run on each partition (sum and count for a mean);
//! - **combine** expressions, which merge a concatenation of chunk (or combine) results and
//!   produce the same columns, so they can be applied level after level of a tree;
//! - a **final** expression, which turns the combined columns into the answer (sum / count).
//!
//! Variance and standard deviation carry (count, mean, M2) and merge with Chan's parallel
//! formula, which stays accurate where a sum of squares would cancel.

use polars::prelude::*;

use super::error::FrameError;

/// What an aggregation computes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AggKind {
    Sum,
    Count,
    Size,
    Mean,
    Min,
    Max,
    Var(u8),
    Std(u8),
    First,
    Last,
    NUnique,
    Any(bool),
    All(bool),
}

/// One aggregation: kind, input column, output name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AggSpec {
    pub kind: AggKind,
    pub column: Option<String>,
    pub output: String,
}

impl AggSpec {
    /// Parses `col(x).sum()`, `col(x).mean().alias("m")`, `len()` and the like.
    pub(crate) fn parse(expr: &Expr) -> Result<AggSpec, FrameError> {
        let unsupported = || {
            FrameError::Unsupported(format!(
                "`{expr}` is not an aggregation dusk can split across partitions; use \
                 col(name) with sum, count, len, mean, min, max, var, std, first, last, \
                 n_unique, any or all"
            ))
        };
        let (inner, alias) = match expr {
            Expr::Alias(inner, name) => (inner.as_ref(), Some(name.to_string())),
            e => (e, None),
        };
        let column_of = |e: &Expr| match e {
            Expr::Column(name) => Ok(name.to_string()),
            _ => Err(unsupported()),
        };
        let (kind, column) = match inner {
            Expr::Len => (AggKind::Size, None),
            Expr::Agg(agg) => match agg {
                AggExpr::Sum(e) => (AggKind::Sum, Some(column_of(e)?)),
                AggExpr::Count {
                    input,
                    include_nulls: false,
                } => (AggKind::Count, Some(column_of(input)?)),
                AggExpr::Count {
                    input,
                    include_nulls: true,
                } => {
                    column_of(input)?;
                    (AggKind::Size, None)
                }
                AggExpr::Mean(e) => (AggKind::Mean, Some(column_of(e)?)),
                AggExpr::Min { input, .. } => (AggKind::Min, Some(column_of(input)?)),
                AggExpr::Max { input, .. } => (AggKind::Max, Some(column_of(input)?)),
                AggExpr::Var(e, ddof) => (AggKind::Var(*ddof), Some(column_of(e)?)),
                AggExpr::Std(e, ddof) => (AggKind::Std(*ddof), Some(column_of(e)?)),
                AggExpr::First(e) => (AggKind::First, Some(column_of(e)?)),
                AggExpr::Last(e) => (AggKind::Last, Some(column_of(e)?)),
                AggExpr::NUnique(e) => (AggKind::NUnique, Some(column_of(e)?)),
                _ => return Err(unsupported()),
            },
            Expr::Function { input, function } if input.len() == 1 => match function {
                FunctionExpr::Boolean(BooleanFunction::Any { ignore_nulls }) => {
                    (AggKind::Any(*ignore_nulls), Some(column_of(&input[0])?))
                }
                FunctionExpr::Boolean(BooleanFunction::All { ignore_nulls }) => {
                    (AggKind::All(*ignore_nulls), Some(column_of(&input[0])?))
                }
                _ => return Err(unsupported()),
            },
            _ => return Err(unsupported()),
        };
        let output = alias
            .or_else(|| column.clone())
            .unwrap_or_else(|| "len".to_string());
        Ok(AggSpec {
            kind,
            column,
            output,
        })
    }

    /// The row count (`len()`), named `output`.
    pub(crate) fn size(output: &str) -> AggSpec {
        AggSpec {
            kind: AggKind::Size,
            column: None,
            output: output.to_string(),
        }
    }

    fn tmp(&self, i: usize, part: &str) -> String {
        format!("__dusk_{i}_{part}")
    }

    /// Expressions run on each partition (`grouped`: inside a group-by's `agg`, where a
    /// non-aggregating expression already yields one list per group).
    pub(crate) fn chunk(&self, i: usize, grouped: bool) -> Vec<Expr> {
        let c = || col(self.column.clone().unwrap_or_default());
        let t = |p: &str| self.tmp(i, p);
        match self.kind {
            AggKind::Sum => vec![c().sum().alias(t("sum"))],
            AggKind::Count => vec![c().count().cast(DataType::UInt64).alias(t("count"))],
            AggKind::Size => vec![len().cast(DataType::UInt64).alias(t("count"))],
            AggKind::Mean => vec![
                c().cast(DataType::Float64).sum().alias(t("sum")),
                c().count().cast(DataType::UInt64).alias(t("count")),
            ],
            AggKind::Min => vec![c().min().alias(t("min"))],
            AggKind::Max => vec![c().max().alias(t("max"))],
            AggKind::Var(_) | AggKind::Std(_) => {
                let x = || c().cast(DataType::Float64);
                vec![
                    x().count().cast(DataType::UInt64).alias(t("n")),
                    x().mean().fill_null(lit(0.0)).alias(t("mean")),
                    ((x() - x().mean()) * (x() - x().mean()))
                        .sum()
                        .alias(t("m2")),
                ]
            }
            AggKind::First => vec![c().first().alias(t("first"))],
            AggKind::Last => vec![c().last().alias(t("last"))],
            AggKind::NUnique => vec![implode_unless(c().unique(), grouped).alias(t("set"))],
            AggKind::Any(ignore) => vec![c().any(ignore).alias(t("any"))],
            AggKind::All(ignore) => vec![c().all(ignore).alias(t("all"))],
        }
    }

    /// Expressions that merge concatenated chunk results into one row (per group).
    pub(crate) fn combine(&self, i: usize, grouped: bool) -> Vec<Expr> {
        let t = |p: &str| self.tmp(i, p);
        let c = |p: &str| col(self.tmp(i, p));
        match self.kind {
            AggKind::Sum => vec![c("sum").sum().alias(t("sum"))],
            AggKind::Count | AggKind::Size => vec![c("count").sum().alias(t("count"))],
            AggKind::Mean => vec![
                c("sum").sum().alias(t("sum")),
                c("count").sum().alias(t("count")),
            ],
            AggKind::Min => vec![c("min").min().alias(t("min"))],
            AggKind::Max => vec![c("max").max().alias(t("max"))],
            AggKind::Var(_) | AggKind::Std(_) => {
                // Rows with no values (n = 0) carry no information and must not turn the
                // merged moments into NaN.
                let n = || c("n").cast(DataType::Float64);
                let total = || n().sum();
                let mean = || {
                    when(total().gt(lit(0.0)))
                        .then((n() * c("mean")).sum() / total())
                        .otherwise(lit(0.0))
                };
                let delta = || c("mean") - mean();
                let spread = when(n().gt(lit(0.0)))
                    .then(n() * delta() * delta())
                    .otherwise(lit(0.0));
                vec![
                    c("n").sum().alias(t("n")),
                    mean().alias(t("mean")),
                    (c("m2").fill_null(lit(0.0)).sum() + spread.sum()).alias(t("m2")),
                ]
            }
            AggKind::First => vec![c("first").first().alias(t("first"))],
            AggKind::Last => vec![c("last").last().alias(t("last"))],
            AggKind::NUnique => {
                let values = c("set").explode(ExplodeOptions {
                    empty_as_null: false,
                    keep_nulls: false,
                });
                vec![implode_unless(values.unique(), grouped).alias(t("set"))]
            }
            AggKind::Any(ignore) => vec![c("any").any(ignore).alias(t("any"))],
            AggKind::All(ignore) => vec![c("all").all(ignore).alias(t("all"))],
        }
    }

    /// The expression producing the answer from the combined columns.
    pub(crate) fn finish(&self, i: usize) -> Expr {
        let c = |p: &str| col(self.tmp(i, p));
        let out = self.output.as_str();
        match self.kind {
            AggKind::Sum => c("sum").alias(out),
            AggKind::Count | AggKind::Size => c("count").cast(DataType::UInt32).alias(out),
            AggKind::Mean => when(c("count").gt(lit(0)))
                .then(c("sum") / c("count").cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(out),
            AggKind::Min => c("min").alias(out),
            AggKind::Max => c("max").alias(out),
            AggKind::Var(ddof) | AggKind::Std(ddof) => {
                let denom = c("n").cast(DataType::Float64) - lit(ddof as f64);
                let var = when(denom.clone().gt(lit(0.0)))
                    .then(c("m2") / denom)
                    .otherwise(lit(NULL).cast(DataType::Float64));
                if matches!(self.kind, AggKind::Std(_)) {
                    var.sqrt().alias(out)
                } else {
                    var.alias(out)
                }
            }
            AggKind::First => c("first").alias(out),
            AggKind::Last => c("last").alias(out),
            AggKind::NUnique => c("set").list().len().cast(DataType::UInt32).alias(out),
            AggKind::Any(_) => c("any").alias(out),
            AggKind::All(_) => c("all").alias(out),
        }
    }
}

/// Outside a group-by, a per-row expression must be gathered into one list to stay one row.
fn implode_unless(e: Expr, grouped: bool) -> Expr {
    if grouped {
        e
    } else {
        e.implode(false)
    }
}

/// Whether an expression aggregates (and therefore cannot run partition by partition).
pub(crate) fn has_aggregation(expr: &Expr) -> bool {
    expr.into_iter().any(|e| {
        matches!(
            e,
            Expr::Agg(_)
                | Expr::Len
                | Expr::Function {
                    function: FunctionExpr::Boolean(
                        BooleanFunction::Any { .. } | BooleanFunction::All { .. }
                    ),
                    ..
                }
        )
    })
}
