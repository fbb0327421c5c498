//! Array through the public API: every operation against ndarray on the whole array, with
//! chunks that do not divide the shape, single-chunk arrays and 1-D to 4-D shapes; and bad
//! input (broadcasting, axes, chunks, `.npy` files) reported when the expression is built.

use dusk::array::{self, concatenate, matmul, stack, where_, ArrayError, Axes, ChunkSpec, Idx};
use dusk::prelude::*;
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

/// Deterministic, varied test data (negative and positive, no ties that matter).
fn data(shape: &[usize]) -> ArrayD<f64> {
    let mut k = 0u64;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        k += 1;
        ((k as f64 * 12.9898).sin() * 43758.5453).fract() * 10.0
    })
}

/// Shapes of 1 to 4 dimensions, each with chunkings: one block, uneven blocks, irregular.
fn cases() -> Vec<(Vec<usize>, Vec<ChunkSpec>)> {
    vec![
        (
            vec![7],
            vec![
                ChunkSpec::from(7),
                ChunkSpec::from(3),
                ChunkSpec::from(vec![vec![1, 4, 2]]),
            ],
        ),
        (
            vec![5, 6],
            vec![
                ChunkSpec::from([5, 6]),
                ChunkSpec::from([2, 4]),
                ChunkSpec::from(vec![vec![3, 2], vec![1, 1, 4]]),
            ],
        ),
        (
            vec![4, 3, 5],
            vec![ChunkSpec::from(10), ChunkSpec::from([3, 2, 2])],
        ),
        (
            vec![3, 2, 4, 3],
            vec![ChunkSpec::from(4), ChunkSpec::from([2, 1, 3, 2])],
        ),
    ]
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b.iter()).all(|(x, y)| {
            (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs()))
        })
}

fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert!(close(got, want), "{what}:\n got {got:?}\nwant {want:?}");
}

/// All subsets of the axes of an `nd`-dimensional array, as lists.
fn axis_sets(nd: usize) -> Vec<Vec<isize>> {
    (0..(1u32 << nd))
        .map(|m| (0..nd as isize).filter(|&d| m & (1 << d) != 0).collect())
        .collect()
}

/// ndarray: reduces `a` over `axes` by moving them last and reducing each lane with `f`.
fn lanes(
    a: &ArrayD<f64>,
    axes: &[usize],
    keepdims: bool,
    f: impl Fn(ndarray::ArrayView1<f64>) -> f64,
) -> ArrayD<f64> {
    let nd = a.ndim();
    let kept: Vec<usize> = (0..nd).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let outer: usize = kept.iter().map(|&d| a.shape()[d]).product();
    let inner: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let p = a
        .view()
        .permuted_axes(IxDyn(&perm))
        .as_standard_layout()
        .into_owned();
    let two = p.into_shape_with_order((outer, inner)).unwrap();
    let v: Vec<f64> = two.outer_iter().map(&f).collect();
    let shape: Vec<usize> = if keepdims {
        (0..nd)
            .map(|d| if axes.contains(&d) { 1 } else { a.shape()[d] })
            .collect()
    } else {
        kept.iter().map(|&d| a.shape()[d]).collect()
    };
    ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
}

#[test]
fn round_trip_and_metadata() {
    for (shape, specs) in cases() {
        let a = data(&shape);
        for spec in specs {
            let x = array::from_array(a.clone(), spec.clone()).unwrap();
            assert_eq!(x.shape(), shape.as_slice());
            let chunks = spec.normalize(&shape, 8).unwrap();
            assert_eq!(x.chunks(), chunks.as_slice());
            assert_eq!(
                x.numblocks(),
                chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
            );
            assert_eq!(x.compute().unwrap(), a);
        }
    }
}

#[test]
fn auto_chunks_stay_under_the_limit() {
    let x = array::zeros::<f64>(&[20_000, 20_000], ChunkSpec::Auto).unwrap();
    let c = x.chunks();
    assert!(c[0][0] * c[1][0] * 8 <= array::AUTO_CHUNK_BYTES);
    assert!(x.numblocks().iter().product::<usize>() > 1);
    let small = array::ones::<f32>(&[10, 10], ChunkSpec::Auto).unwrap();
    assert_eq!(small.numblocks(), vec![1, 1]);
}

#[test]
fn elementwise_chains_match_ndarray_and_run_as_one_task_per_block() {
    for (shape, specs) in cases() {
        let a = data(&shape);
        let b = a.mapv(|v| v * 0.5 - 1.0);
        for spec in specs {
            let x = array::from_array(a.clone(), spec.clone()).unwrap();
            let y = array::from_array(b.clone(), spec).unwrap();
            let z = &(&(&x - &y) * 2.0) + &(&x.abs().sqrt() / 3.0);
            let want = (&a - &b) * 2.0 + a.mapv(|v| v.abs().sqrt() / 3.0);
            assert_close(&z.compute().unwrap(), &want, "chain");
            let blocks: usize = x.numblocks().iter().product();
            // Two sources of `blocks` literal tasks each, then one task per block for the chain.
            assert_eq!(z.graph().unwrap().len(), 3 * blocks, "{shape:?}");
            let m = [
                (x.exp().compute().unwrap(), a.mapv(f64::exp)),
                (x.sin().compute().unwrap(), a.mapv(f64::sin)),
                (x.cos().compute().unwrap(), a.mapv(f64::cos)),
                (x.abs().log().compute().unwrap(), a.mapv(|v| v.abs().ln())),
                (
                    x.pow_scalar(2.0).compute().unwrap(),
                    a.mapv(|v| v.powf(2.0)),
                ),
                (
                    x.clip(-1.0, 2.0).compute().unwrap(),
                    a.mapv(|v| v.clamp(-1.0, 2.0)),
                ),
                ((-&x).compute().unwrap(), a.mapv(|v| -v)),
                (
                    x.maximum(&y).unwrap().compute().unwrap(),
                    ndarray::Zip::from(&a)
                        .and(&b)
                        .map_collect(|&p, &q| p.max(q)),
                ),
            ];
            for (i, (got, want)) in m.iter().enumerate() {
                assert_close(got, want, &format!("math {i}"));
            }
            let gt = x.greater(&y).unwrap().compute().unwrap();
            assert_eq!(gt, ndarray::Zip::from(&a).and(&b).map_collect(|p, q| p > q));
            let w = where_(&x.gt_scalar(0.0), &x, &y)
                .unwrap()
                .compute()
                .unwrap();
            assert_eq!(
                w,
                ndarray::Zip::from(&a)
                    .and(&b)
                    .map_collect(|&p, &q| if p > 0.0 { p } else { q })
            );
            let t = x.astype::<i32>().compute().unwrap();
            assert_eq!(t, a.mapv(|v| v as i32));
        }
    }
}

#[test]
fn broadcasting_follows_numpy_with_different_chunks() {
    let a = data(&[5, 6]);
    let row = data(&[6]);
    let col = data(&[5, 1]);
    let x = array::from_array(a.clone(), [2, 4]).unwrap();
    let r = array::from_array(row.clone(), 5).unwrap(); // other chunks than x along axis 1
    let c = array::from_array(col.clone(), [3, 1]).unwrap();
    assert_close(&(&x + &r).compute().unwrap(), &(&a + &row), "row");
    assert_close(&(&x * &c).compute().unwrap(), &(&a * &col), "column");
    let outer = (&c - &r).compute().unwrap();
    assert_close(&outer, &(&col - &row), "outer");
    let s = array::from_array(
        ndarray::arr0(2.0).into_dyn(),
        ChunkSpec::from(Vec::<usize>::new()),
    )
    .unwrap();
    assert_close(&(&x / &s).compute().unwrap(), &(&a / 2.0), "0-d");
}

#[test]
fn reductions_match_ndarray_over_every_axis_set() {
    for (shape, specs) in cases() {
        let a = data(&shape);
        for spec in specs {
            let x = array::from_array(a.clone(), spec).unwrap().split_every(2);
            for axes in axis_sets(shape.len()) {
                let ax: Vec<usize> = axes.iter().map(|&d| d as usize).collect();
                for keepdims in [false, true] {
                    let l = Axes::List(axes.clone());
                    let checks: Vec<(&str, ArrayD<f64>, ArrayD<f64>)> = vec![
                        (
                            "sum",
                            x.sum(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.sum()),
                        ),
                        (
                            "mean",
                            x.mean(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.mean().unwrap_or(f64::NAN)),
                        ),
                        (
                            "var",
                            x.var(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.var(0.0)),
                        ),
                        (
                            "std",
                            x.std(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.std(0.0)),
                        ),
                        (
                            "std1",
                            x.std_ddof(l.clone(), keepdims, 1.0)
                                .unwrap()
                                .compute()
                                .unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.std(1.0)),
                        ),
                        (
                            "min",
                            x.min(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| {
                                v.fold(f64::INFINITY, |m, &y| m.min(y))
                            }),
                        ),
                        (
                            "max",
                            x.max(l.clone(), keepdims).unwrap().compute().unwrap(),
                            lanes(&a, &ax, keepdims, |v| {
                                v.fold(f64::NEG_INFINITY, |m, &y| m.max(y))
                            }),
                        ),
                        (
                            "prod",
                            (&x / 5.0)
                                .prod(l.clone(), keepdims)
                                .unwrap()
                                .compute()
                                .unwrap(),
                            lanes(&a, &ax, keepdims, |v| v.iter().map(|y| y / 5.0).product()),
                        ),
                    ];
                    for (what, got, want) in checks {
                        if ax.is_empty() && what.starts_with("std")
                            || ax.is_empty() && what == "var"
                        {
                            continue; // variance of single elements: 0 (or NaN with ddof 1) either way
                        }
                        assert_close(
                            &got,
                            &want,
                            &format!("{what} over {axes:?} keepdims={keepdims} of {shape:?}"),
                        );
                    }
                    let pos = x.gt_scalar(0.0);
                    let want_cnt = lanes(&a, &ax, keepdims, |v| {
                        v.iter().filter(|&&y| y > 0.0).count() as f64
                    });
                    let cnt = pos
                        .count_nonzero(l.clone(), keepdims)
                        .unwrap()
                        .compute()
                        .unwrap()
                        .mapv(|c| c as f64);
                    assert_close(&cnt, &want_cnt, "count_nonzero");
                    let any = pos.any(l.clone(), keepdims).unwrap().compute().unwrap();
                    assert_eq!(any, want_cnt.mapv(|c| c > 0.0), "any");
                    let all = pos.all(l.clone(), keepdims).unwrap().compute().unwrap();
                    let total = lanes(&a, &ax, keepdims, |v| v.len() as f64);
                    assert_eq!(
                        all,
                        ndarray::Zip::from(&want_cnt)
                            .and(&total)
                            .map_collect(|c, t| c == t),
                        "all"
                    );
                }
            }
            // argmin / argmax: along each axis and flattened.
            for d in 0..shape.len() {
                for keepdims in [false, true] {
                    let got = x.argmin(d as isize, keepdims).unwrap().compute().unwrap();
                    let want = lanes(&a, &[d], keepdims, |v| {
                        v.iter()
                            .enumerate()
                            .fold(
                                (0, f64::INFINITY),
                                |b, (i, &y)| if y < b.1 { (i, y) } else { b },
                            )
                            .0 as f64
                    });
                    assert_eq!(got.mapv(|v| v as f64), want, "argmin axis {d}");
                    let got = x.argmax(d as isize, keepdims).unwrap().compute().unwrap();
                    let want = lanes(&a, &[d], keepdims, |v| {
                        v.iter()
                            .enumerate()
                            .fold(
                                (0, f64::NEG_INFINITY),
                                |b, (i, &y)| if y > b.1 { (i, y) } else { b },
                            )
                            .0 as f64
                    });
                    assert_eq!(got.mapv(|v| v as f64), want, "argmax axis {d}");
                }
            }
            let flat = a
                .iter()
                .enumerate()
                .fold(
                    (0, f64::INFINITY),
                    |b, (i, &y)| if y < b.1 { (i, y) } else { b },
                )
                .0;
            assert_eq!(
                x.argmin(Axes::All, false)
                    .unwrap()
                    .compute()
                    .unwrap()
                    .first()
                    .copied(),
                Some(flat as i64)
            );
        }
    }
}

#[test]
fn integer_reductions_and_cumulative_ops() {
    let a = ndarray::Array::from_shape_fn((7, 5), |(i, j)| (i as i32 * 3 - j as i32 * 2) % 5)
        .into_dyn();
    let x = array::from_array(a.clone(), [3, 2]).unwrap();
    let s = x.sum(0, false).unwrap().compute().unwrap();
    assert_eq!(s, a.mapv(i64::from).sum_axis(Axis(0)));
    assert_eq!(
        x.min(1, false).unwrap().compute().unwrap(),
        a.map_axis(Axis(1), |v| *v.iter().min().unwrap())
    );
    let f = data(&[6, 5]);
    let y = array::from_array(f.clone(), [4, 2]).unwrap();
    for axis in 0..2 {
        let mut want = f.clone();
        want.accumulate_axis_inplace(Axis(axis), |&p, c| *c += p);
        assert_close(
            &y.cumsum(axis as isize).unwrap().compute().unwrap(),
            &want,
            "cumsum",
        );
        let mut want = f.mapv(|v| v / 4.0);
        want.accumulate_axis_inplace(Axis(axis), |&p, c| *c *= p);
        assert_close(
            &(&y / 4.0)
                .cumprod(axis as isize)
                .unwrap()
                .compute()
                .unwrap(),
            &want,
            "cumprod",
        );
    }
    let mut want = a.mapv(i64::from);
    want.accumulate_axis_inplace(Axis(1), |&p, c| *c += p);
    assert_eq!(x.cumsum(-1).unwrap().compute().unwrap(), want);
}

#[test]
fn nan_variants_skip_nan() {
    let mut a = data(&[6, 4]);
    a[[0, 1]] = f64::NAN;
    a[[3, 3]] = f64::NAN;
    a[[5, 0]] = f64::NAN;
    let x = array::from_array(a.clone(), [4, 3]).unwrap();
    for axis in 0..2usize {
        let skip = |f: fn(&[f64]) -> f64| {
            lanes(&a, &[axis], false, move |v| {
                let kept: Vec<f64> = v.iter().copied().filter(|y| !y.is_nan()).collect();
                f(&kept)
            })
        };
        let ax = axis as isize;
        assert_close(
            &x.nansum(ax, false).unwrap().compute().unwrap(),
            &skip(|v| v.iter().sum()),
            "nansum",
        );
        assert_close(
            &x.nanmean(ax, false).unwrap().compute().unwrap(),
            &skip(|v| v.iter().sum::<f64>() / v.len() as f64),
            "nanmean",
        );
        assert_close(
            &x.nanmin(ax, false).unwrap().compute().unwrap(),
            &skip(|v| v.iter().copied().fold(f64::INFINITY, f64::min)),
            "nanmin",
        );
        assert_close(
            &x.nanmax(ax, false).unwrap().compute().unwrap(),
            &skip(|v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            "nanmax",
        );
        assert_close(
            &x.nanstd(ax, false).unwrap().compute().unwrap(),
            &skip(|v| ndarray::ArrayView1::from(v).std(0.0)),
            "nanstd",
        );
        // Plain variants propagate NaN.
        let plain = x.sum(ax, false).unwrap().compute().unwrap();
        assert_eq!(plain.iter().filter(|v| v.is_nan()).count(), 3);
        let pmax = x.max(ax, false).unwrap().compute().unwrap();
        assert_eq!(pmax.iter().filter(|v| v.is_nan()).count(), 3);
    }
}

#[test]
fn slicing_take_and_masks_match_ndarray() {
    let a = data(&[9, 7]);
    let x = array::from_array(a.clone(), [4, 3]).unwrap();
    let cases: Vec<(Vec<Idx>, ArrayD<f64>)> = vec![
        (
            vec![Idx::range(Some(1), Some(8), 2)],
            a.slice(ndarray::s![1..8;2, ..]).to_owned().into_dyn(),
        ),
        (
            vec![Idx::all(), Idx::range(None, None, -1)],
            a.slice(ndarray::s![.., ..;-1]).to_owned().into_dyn(),
        ),
        (
            vec![Idx::range(Some(-3), None, 1), Idx::Index(-2)],
            a.slice(ndarray::s![6.., 5]).to_owned().into_dyn(),
        ),
        (
            vec![Idx::Index(4), Idx::range(Some(6), Some(0), -3)],
            ndarray::arr1(&[a[[4, 6]], a[[4, 3]]]).into_dyn(),
        ),
        (
            vec![Idx::NewAxis, Idx::range(Some(2), Some(5), 1), Idx::NewAxis],
            a.slice(ndarray::s![ndarray::NewAxis, 2..5, ndarray::NewAxis, ..])
                .to_owned()
                .into_dyn(),
        ),
        (
            vec![Idx::range(Some(5), Some(2), 1)],
            ArrayD::zeros(IxDyn(&[0, 7])),
        ),
    ];
    for (idx, want) in cases {
        let got = x.slice(&idx).unwrap();
        assert_eq!(got.shape(), want.shape(), "{idx:?}");
        assert_eq!(got.compute().unwrap(), want, "{idx:?}");
    }
    let picks = [8isize, 0, -1, 3, 3];
    let want = a.select(Axis(0), &[8, 0, 8, 3, 3]);
    assert_eq!(x.take(&picks, 0).unwrap().compute().unwrap(), want);
    let mask: Vec<bool> = (0..7).map(|j| j % 3 != 1).collect();
    let keep: Vec<usize> = (0..7).filter(|j| j % 3 != 1).collect();
    assert_eq!(
        x.compress(&mask, 1).unwrap().compute().unwrap(),
        a.select(Axis(1), &keep)
    );
}

#[test]
fn shape_manipulation_matches_ndarray() {
    let a = data(&[4, 3, 5]);
    let x = array::from_array(a.clone(), [3, 2, 2]).unwrap();
    assert_eq!(
        x.transpose(&[1, 2, 0]).unwrap().compute().unwrap(),
        a.clone()
            .permuted_axes(vec![1, 2, 0])
            .as_standard_layout()
            .into_owned()
    );
    assert_eq!(
        x.swapaxes(0, 2).unwrap().compute().unwrap(),
        a.clone().permuted_axes(vec![2, 1, 0])
    );
    for shape in [
        vec![60],
        vec![12, 5],
        vec![2, 30],
        vec![5, 4, 3],
        vec![2, 2, 15],
        vec![1, 60, 1],
    ] {
        let got = x.reshape(&shape).unwrap().compute().unwrap();
        let want = a
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(&shape))
            .unwrap();
        assert_eq!(got, want, "reshape to {shape:?}");
    }
    let y = x.reshape(&[1, 60, 1]).unwrap();
    assert_eq!(
        y.squeeze(&[]).unwrap().compute().unwrap(),
        a.iter()
            .copied()
            .collect::<ndarray::Array1<f64>>()
            .into_dyn()
    );
    for chunks in [
        ChunkSpec::from(1),
        ChunkSpec::from([4, 3, 5]),
        ChunkSpec::from(vec![vec![1, 3], vec![2, 1], vec![4, 1]]),
    ] {
        let r = x.rechunk(chunks.clone()).unwrap();
        assert_eq!(
            r.chunks(),
            chunks.normalize(&[4, 3, 5], 8).unwrap().as_slice()
        );
        assert_eq!(r.compute().unwrap(), a);
    }
    let b = data(&[2, 3, 5]);
    let y = array::from_array(b.clone(), [1, 3, 4]).unwrap();
    let c = concatenate(&[x.clone(), y], 0).unwrap();
    assert_eq!(
        c.compute().unwrap(),
        ndarray::concatenate(Axis(0), &[a.view(), b.view()]).unwrap()
    );
    let s = stack(&[x.clone(), x.clone()], 1).unwrap();
    assert_eq!(
        s.compute().unwrap(),
        ndarray::stack(Axis(1), &[a.view(), a.view()]).unwrap()
    );
}

#[test]
fn matmul_matches_ndarray() {
    let a = data(&[7, 5]).into_dimensionality::<ndarray::Ix2>().unwrap();
    let b = data(&[5, 4]).into_dimensionality::<ndarray::Ix2>().unwrap();
    for (ca, cb) in [([7, 5], [5, 4]), ([3, 2], [4, 3]), ([2, 5], [1, 1])] {
        let x = array::from_array(a.clone(), ca).unwrap();
        let y = array::from_array(b.clone(), cb).unwrap();
        assert_close(
            &matmul(&x, &y).unwrap().compute().unwrap(),
            &a.dot(&b).into_dyn(),
            "matmul",
        );
    }
    let v = ndarray::Array1::from_iter((0..5).map(|i| i as f64));
    let xv = array::from_array(v.clone(), 2).unwrap();
    let x = array::from_array(a.clone(), [3, 2]).unwrap();
    assert_close(
        &x.dot(&xv).unwrap().compute().unwrap(),
        &a.dot(&v).into_dyn(),
        "matvec",
    );
}

#[test]
fn creation_functions_match_ndarray() {
    assert_eq!(
        array::arange(11, 4).unwrap().compute().unwrap(),
        ndarray::Array1::from_iter(0..11i64).into_dyn()
    );
    assert_close(
        &array::linspace(-1.0, 2.0, 13, 5)
            .unwrap()
            .compute()
            .unwrap(),
        &ndarray::Array1::linspace(-1.0, 2.0, 13).into_dyn(),
        "linspace",
    );
    assert_eq!(
        array::eye::<i32>(5, 2).unwrap().compute().unwrap(),
        ndarray::Array2::<i32>::eye(5).into_dyn()
    );
    assert_eq!(
        array::full(&[3, 2, 2], 1.5f32, 2)
            .unwrap()
            .compute()
            .unwrap(),
        ArrayD::from_elem(vec![3, 2, 2], 1.5f32)
    );
    let u1 = array::random_uniform(3, -2.0, 5.0, &[13, 9], [13, 9])
        .unwrap()
        .compute()
        .unwrap();
    let u2 = array::random_uniform(3, -2.0, 5.0, &[13, 9], [4, 2])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(u1, u2);
    assert!(u1.iter().all(|&v| (-2.0..5.0).contains(&v)));
    let other = array::random_uniform(4, -2.0, 5.0, &[13, 9], [4, 2])
        .unwrap()
        .compute()
        .unwrap();
    assert_ne!(u1, other);
    let n1 = array::random_normal(9, 1.0, 2.0, &[200, 100], 64).unwrap();
    let n2 = array::random_normal(9, 1.0, 2.0, &[200, 100], [7, 100]).unwrap();
    let (a, b) = (n1.compute().unwrap(), n2.compute().unwrap());
    assert_eq!(a, b);
    let mean = a.mean().unwrap();
    let std = a.std(0.0);
    assert!(
        (mean - 1.0).abs() < 0.1 && (std - 2.0).abs() < 0.1,
        "{mean} {std}"
    );
}

#[test]
fn npy_round_trips_and_reads_the_sample_by_blocks() {
    let path = dusk_datasets::sample_dir().join("array.npy");
    let want = ArrayD::from_shape_fn(IxDyn(&[200, 150]), |i| {
        dusk_datasets::npy_value(42, i[0], i[1])
    });
    for chunks in [
        ChunkSpec::from([200, 150]),
        ChunkSpec::from([64, 45]),
        ChunkSpec::from([7, 150]),
    ] {
        let x = array::from_npy::<f64>(&path, chunks).unwrap();
        assert_eq!(x.shape(), &[200, 150]);
        assert_eq!(x.compute().unwrap(), want);
    }
    let dir = std::env::temp_dir().join(format!("dusk-array-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = data(&[5, 4, 3]);
    let x = array::from_array(a.clone(), [2, 3, 2]).unwrap();
    let out = dir.join("out.npy");
    x.to_npy(&out).unwrap().compute().unwrap();
    assert_eq!(
        array::from_npy::<f64>(&out, [4, 1, 3])
            .unwrap()
            .compute()
            .unwrap(),
        a
    );
    let t = dir.join("t.npy");
    x.t().to_npy(&t).unwrap().compute().unwrap();
    assert_eq!(
        array::from_npy::<f64>(&t, 2).unwrap().compute().unwrap(),
        a.t().as_standard_layout().into_owned()
    );
    let i = dir.join("i.npy");
    let ints = array::arange(10, 3).unwrap();
    ints.to_npy(&i).unwrap().compute().unwrap();
    // Wrong dtype: named file, clear message.
    let err = array::from_npy::<f64>(&i, 3).unwrap_err();
    assert!(matches!(err, ArrayError::Npy { .. }));
    assert!(
        err.to_string().contains("i.npy") && err.to_string().contains("i64"),
        "{err}"
    );
    // Truncated: named file.
    let bytes = std::fs::read(&out).unwrap();
    let cut = dir.join("cut.npy");
    std::fs::write(&cut, &bytes[..bytes.len() - 9]).unwrap();
    let err = array::from_npy::<f64>(&cut, 2).unwrap_err().to_string();
    assert!(
        err.contains("cut.npy") && err.contains("truncated"),
        "{err}"
    );
    let junk = dir.join("junk.npy");
    std::fs::write(&junk, b"not an array").unwrap();
    assert!(array::from_npy::<f64>(&junk, 2)
        .unwrap_err()
        .to_string()
        .contains("junk.npy"));
    let missing = array::from_npy::<f64>(dir.join("missing.npy"), 2)
        .unwrap_err()
        .to_string();
    assert!(missing.contains("missing.npy"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn map_blocks_from_fn_and_every_scheduler() {
    let x = array::from_fn(&[6, 5], [4, 2], |r| {
        ArrayD::from_shape_fn(IxDyn(&[r[0].len(), r[1].len()]), |i| {
            ((r[0].start + i[0]) * 5 + r[1].start + i[1]) as f64
        })
    })
    .unwrap();
    let want = ndarray::Array::from_shape_fn((6, 5), |(i, j)| (i * 5 + j) as f64).into_dyn();
    let y = x.map_blocks(|b: &ArrayD<f64>| b.mapv(|v| v * 2.0)).unwrap();
    for s in [
        Scheduler::Sync,
        Scheduler::Threads(Some(1)),
        Scheduler::Threads(Some(3)),
    ] {
        let got = y
            .compute_with(&ComputeOptions::default().scheduler(s))
            .unwrap();
        assert_eq!(got, want.mapv(|v| v * 2.0));
    }
    let bad = array::from_fn(&[4], 2, |_| ArrayD::<f64>::zeros(IxDyn(&[3]))).unwrap();
    let err = bad.compute().unwrap_err().to_string();
    assert!(err.contains("shape"), "{err}");
}

#[test]
fn bad_input_is_reported_when_the_expression_is_built() {
    let x = array::zeros::<f64>(&[4, 3], 2).unwrap();
    let y = array::zeros::<f64>(&[4, 2], 2).unwrap();
    assert!(matches!(x.add(&y), Err(ArrayError::Broadcast { .. })));
    assert!(matches!(
        x.sum(2, false),
        Err(ArrayError::Axis { axis: 2, ndim: 2 })
    ));
    assert!(matches!(x.mean(-3, true), Err(ArrayError::Axis { .. })));
    assert!(matches!(x.cumsum(5), Err(ArrayError::Axis { .. })));
    assert!(matches!(
        array::zeros::<f64>(&[4, 3], vec![vec![2, 1], vec![3]]),
        Err(ArrayError::Chunks { .. })
    ));
    assert!(matches!(
        array::zeros::<f64>(&[4, 3], [2]),
        Err(ArrayError::Chunks { .. })
    ));
    assert!(matches!(
        array::zeros::<f64>(&[4, 3], 0),
        Err(ArrayError::Chunks { .. })
    ));
    assert!(x.rechunk(vec![vec![4], vec![2]]).is_err());
    assert!(x.reshape(&[5, 2]).is_err());
    assert!(x.slice(&[Idx::Index(4)]).is_err());
    assert!(x.transpose(&[1, 1]).is_err());
    assert!(matmul(&x, &x).is_err());
    assert!(concatenate(&[x.clone(), y.t()], 1).is_err());
    let err = x.sum(7, false).unwrap_err().to_string();
    assert!(err.contains('7'), "{err}");
}

#[test]
#[should_panic(expected = "cannot be broadcast")]
fn operators_panic_on_broadcast_mismatch() {
    let x = array::zeros::<f64>(&[4, 3], 2).unwrap();
    let y = array::zeros::<f64>(&[5], 2).unwrap();
    let _ = &x + &y;
}

fn chunk_strategy() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, usize)> {
    prop::collection::vec(1usize..6, 1..5).prop_flat_map(|shape| {
        let n = shape.len();
        let chunks = shape.iter().map(|&d| 1..=d).collect::<Vec<_>>();
        (Just(shape), chunks, 0..n)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn random_shapes_and_chunks_agree_with_ndarray((shape, chunks, axis) in chunk_strategy()) {
        let a = data(&shape);
        let x = array::from_array(a.clone(), chunks.clone()).unwrap();
        let centered = &x - &x.mean(axis as isize, true).unwrap();
        let want = &a - &a.mean_axis(Axis(axis)).unwrap().insert_axis(Axis(axis));
        prop_assert!(close(&centered.compute().unwrap(), &want));
        let s = x.sum(axis as isize, false).unwrap().compute().unwrap();
        prop_assert!(close(&s, &a.sum_axis(Axis(axis))));
        let st = x.std(Axes::All, false).unwrap().compute().unwrap();
        prop_assert!(close(&st, &ndarray::arr0(a.std(0.0)).into_dyn()));
        prop_assert_eq!(x.t().compute().unwrap(), a.t().as_standard_layout().into_owned());
        prop_assert_eq!(x.rechunk(2).unwrap().compute().unwrap(), a.clone());
        let last = shape[axis] as isize - 1;
        let picked = x.take(&[last, 0], axis as isize).unwrap().compute().unwrap();
        prop_assert_eq!(picked, a.select(Axis(axis), &[last as usize, 0]));
        let mut cum = a.clone();
        cum.accumulate_axis_inplace(Axis(axis), |&p, c| *c += p);
        prop_assert!(close(&x.cumsum(axis as isize).unwrap().compute().unwrap(), &cum));
        let sl = x.slice(&[Idx::range(None, None, -2)]).unwrap().compute().unwrap();
        prop_assert_eq!(sl, a.slice_axis(Axis(0), ndarray::Slice::new(0, None, -2)).to_owned());
    }
}

#[test]
fn seed_example_matches_ndarray() {
    let a = ArrayD::from_shape_fn(IxDyn(&[23, 23]), |i| {
        dusk_datasets::npy_value(7, i[0], i[1])
    });
    for chunks in [
        ChunkSpec::from(23),
        ChunkSpec::from(5),
        ChunkSpec::from(vec![vec![10, 13], vec![4, 19]]),
    ] {
        let x = array::from_array(a.clone(), chunks).unwrap();
        let spread = (&x - &x.mean(1, true).unwrap())
            .std(Axes::All, false)
            .unwrap();
        let sym = (&x + &x.t()).sum(0, false).unwrap();
        let (spread, sym) = (&spread, &sym).compute().unwrap();
        let m = a.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
        let want_spread = (&a - &m).std(0.0);
        assert!((spread.first().unwrap() - want_spread).abs() < 1e-12);
        let want_sym = (&a + &a.t()).sum_axis(Axis(0));
        assert_close(&sym, &want_sym, "sym");
    }
}

/// A 3×3 box sum on a grown block, leaving the one-cell rim at zero.
fn box_sum(b: &ArrayD<f64>) -> ArrayD<f64> {
    let (r, c) = (b.shape()[0], b.shape()[1]);
    ArrayD::from_shape_fn(b.raw_dim(), |i| {
        let (y, x) = (i[0], i[1]);
        if y == 0 || x == 0 || y + 1 == r || x + 1 == c {
            return 0.0;
        }
        let mut s = 0.0;
        for dy in 0..3 {
            for dx in 0..3 {
                s += b[[y + dy - 1, x + dx - 1]];
            }
        }
        s
    })
}

#[test]
fn map_overlap_matches_a_stencil_on_the_padded_whole_array() {
    let a = data(&[7, 9]);
    let (r, c) = (7isize, 9isize);
    let modes = [
        (array::Boundary::Constant(1.5), None),
        (array::Boundary::Nearest, Some(0)),
        (array::Boundary::Reflect, Some(1)),
        (array::Boundary::Periodic, Some(2)),
    ];
    for (mode, rule) in modes {
        // The whole array padded by one cell with ndarray indexing, then the stencil.
        let src = |g: isize, n: isize| -> Option<usize> {
            if (0..n).contains(&g) {
                return Some(g as usize);
            }
            match rule {
                None => None,
                Some(0) => Some(g.clamp(0, n - 1) as usize),
                Some(1) => Some(if g < 0 { -g - 1 } else { 2 * n - g - 1 } as usize),
                _ => Some(g.rem_euclid(n) as usize),
            }
        };
        let padded = ArrayD::from_shape_fn(IxDyn(&[9, 11]), |i| {
            match (src(i[0] as isize - 1, r), src(i[1] as isize - 1, c)) {
                (Some(y), Some(x)) => a[[y, x]],
                _ => 1.5,
            }
        });
        let want = box_sum(&padded)
            .slice(ndarray::s![1..8, 1..10])
            .to_owned()
            .into_dyn();
        for chunks in [
            ChunkSpec::from([7, 9]),
            ChunkSpec::from([3, 4]),
            ChunkSpec::from([2, 5]),
        ] {
            let x = array::from_array(a.clone(), chunks).unwrap();
            let y = x.map_overlap(&[1, 1], mode, box_sum).unwrap();
            assert_close(&y.compute().unwrap(), &want, &format!("{mode:?}"));
        }
    }
    let x = array::from_array(a.clone(), [3, 4]).unwrap();
    let same = x
        .map_overlap(&[1, 2], array::Boundary::None, |b: &ArrayD<f64>| b.clone())
        .unwrap();
    assert_eq!(same.compute().unwrap(), a);
    assert!(x
        .map_overlap(&[1], array::Boundary::Nearest, |b: &ArrayD<f64>| b.clone())
        .is_err());
    // A halo deeper than the neighbouring blocks reaches further.
    let deep = x
        .map_overlap(&[4, 5], array::Boundary::Reflect, |b: &ArrayD<f64>| {
            b.clone()
        })
        .unwrap();
    assert_eq!(deep.compute().unwrap(), a);
}

#[test]
fn tensordot_matches_ndarray_dot_of_reshaped_operands() {
    let a = data(&[3, 4, 2, 5]);
    let b = data(&[5, 3, 4]);
    let x = array::from_array(a.clone(), [2, 3, 2, 2]).unwrap();
    let y = array::from_array(b.clone(), [4, 1, 3]).unwrap();
    // Contract a's axes (1, 3) with b's axes (2, 0): free axes a(0, 2), b(1).
    let got = array::tensordot(&x, &y, &[1, 3], &[2, 0]).unwrap();
    assert_eq!(got.shape(), &[3, 2, 3]);
    let am = a
        .view()
        .permuted_axes(vec![0, 2, 1, 3])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((6, 20))
        .unwrap();
    let bm = b
        .view()
        .permuted_axes(vec![2, 0, 1])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((20, 3))
        .unwrap();
    let want = am
        .dot(&bm)
        .into_shape_with_order(IxDyn(&[3, 2, 3]))
        .unwrap();
    assert_close(&got.compute().unwrap(), &want, "tensordot");
    assert!(array::tensordot(&x, &y, &[0], &[0]).is_err());
    assert!(array::tensordot(&x, &y, &[0, 1], &[1]).is_err());
}

#[test]
fn persisted_arrays_keep_their_keys_and_values() {
    let a = data(&[6, 5]);
    let x = array::from_array(a.clone(), [4, 2]).unwrap();
    let y = (&x * 3.0).sqrt();
    let kept = y.persist().unwrap();
    assert_eq!(kept.name(), y.name());
    assert_eq!(kept.graph().unwrap().len(), 6);
    let want = a.mapv(|v| (v * 3.0).sqrt());
    assert_close(&kept.compute().unwrap(), &want, "persisted");
    let s = kept.nansum(Axes::All, false).unwrap().compute().unwrap();
    let want_sum: f64 = want.iter().filter(|v| !v.is_nan()).sum();
    assert!((s.first().unwrap() - want_sum).abs() < 1e-9);
}

#[test]
fn npy_stacks_round_trip_and_report_bad_files() {
    let dir = std::env::temp_dir().join(format!("dusk-array-stack-{}", std::process::id()));
    let a = data(&[7, 4, 3]);
    let x = array::from_array(a.clone(), [3, 3, 2]).unwrap();
    for axis in [0isize, 1, -1] {
        let d = dir.join(format!("axis{axis}"));
        x.to_npy_stack(&d, axis).unwrap().compute().unwrap();
        let back = array::from_npy_stack::<f64>(&d).unwrap();
        let ax = axis.rem_euclid(3) as usize;
        assert_eq!(back.chunks()[ax], x.chunks()[ax]);
        assert_eq!(back.compute().unwrap(), a);
    }
    let d = dir.join("axis0");
    assert!(array::from_npy_stack::<i64>(&d)
        .unwrap_err()
        .to_string()
        .contains("info.json"));
    std::fs::write(d.join("1.npy"), b"junk").unwrap();
    let err = array::from_npy_stack::<f64>(&d).unwrap_err().to_string();
    assert!(err.contains("1.npy"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rechunking_bands_to_columns_splits_before_merging() {
    let a = data(&[8, 8]);
    let x = array::from_array(a.clone(), [1, 8]).unwrap();
    let y = x.rechunk([8, 1]).unwrap();
    assert_eq!(y.compute().unwrap(), a);
    let g = y.graph().unwrap();
    // Every task reading a source block reads only that one (it splits it); the merge tasks
    // read the pieces.
    for (_, task) in g.iter() {
        let reads_source = task.deps.iter().any(|k| k.name() == x.name());
        if reads_source {
            assert_eq!(task.deps.len(), 1, "{task:?}");
        }
    }
    assert_eq!(g.len(), 8 + 64 + 8);
}

#[test]
fn empty_and_zero_dimensional_arrays() {
    let a = ArrayD::<f64>::zeros(IxDyn(&[0, 3]));
    let x = array::from_array(a.clone(), 2).unwrap();
    assert_eq!(x.compute().unwrap(), a);
    assert_eq!((&x + 1.0).compute().unwrap().shape(), &[0, 3]);
    assert_eq!(
        x.sum(0, false).unwrap().compute().unwrap(),
        a.sum_axis(Axis(0))
    );
    assert_eq!(
        x.sum(1, false).unwrap().compute().unwrap(),
        a.sum_axis(Axis(1))
    );
    assert!(x
        .mean(0, false)
        .unwrap()
        .compute()
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
    assert!(x.max(Axes::All, false).is_err());
    assert_eq!(x.t().compute().unwrap().shape(), &[3, 0]);
    let s = array::full(&[], 4.0f64, ChunkSpec::from(Vec::<usize>::new())).unwrap();
    assert_eq!((&s * 2.0).compute().unwrap(), ndarray::arr0(8.0).into_dyn());
    assert_eq!(
        s.sum_all().compute().unwrap(),
        ndarray::arr0(4.0).into_dyn()
    );
}
