//! Property tests (proptest; PROPTEST_CASES sets the number of cases): validation never panics,
//! whatever the sizes; every algorithm computes the same exact result on integer data; gradients
//! satisfy the adjoint identities exactly.

use convkit_core::backward::{conv_backward, conv_transpose_backward};
use convkit_core::deform::{DeformGeometry, DeformParams};
use convkit_core::pool::{pool_backward, pool_forward, PoolGeometry, PoolKind, PoolParams};
use convkit_core::reference::conv_reference;
use convkit_core::transpose::{conv_transpose_forward, TransposeGeometry, TransposeParams};
use convkit_core::{conv_forward, Algorithm, ConvGeometry, ConvParams, PaddingMode};
use proptest::prelude::*;

mod common;
use common::MODES;

fn ints(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 61) as f32) - 3.0
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// A convolution problem with every size small but anything else random, often invalid.
fn conv_problem() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, ConvParams, u64)> {
    (1usize..=3, 0usize..=2, 1usize..=3, 1usize..=3, 1usize..=3, any::<u64>()).prop_flat_map(|(dims, batch, groups, cin, cout, seed)| {
        (
            prop::collection::vec(1usize..=7, dims),
            prop::collection::vec(1usize..=4, dims),
            prop::collection::vec(1usize..=3, dims),
            prop::collection::vec(1usize..=3, dims),
            prop::collection::vec(0usize..=4, dims),
            prop::collection::vec(0usize..=4, dims),
            0usize..5,
            any::<bool>(),
        )
            .prop_map(move |(size, kernel, stride, dilation, before, after, mode, flip)| {
                let mut input = vec![batch, groups * cin];
                input.extend(&size);
                let mut weight = vec![groups * cout, cin];
                weight.extend(&kernel);
                let params = ConvParams { stride, dilation, pad_before: before, pad_after: after, padding_mode: MODES[mode], groups, flip };
                (input, weight, params, seed)
            })
    })
}

proptest! {
    #[test]
    fn conv_algorithms_agree_exactly_and_match_the_reference((input, weight, params, seed) in conv_problem()) {
        let Ok(g) = ConvGeometry::new(&input, &weight, None, &params) else { return Ok(()) };
        let (x, w) = (ints(g.input_len(), seed), ints(g.weight_len(), seed ^ 7));
        let (direct, shape) = conv_forward(&x, &input, &w, &weight, None, &params, Algorithm::Direct).unwrap();
        let (im2col, _) = conv_forward(&x, &input, &w, &weight, None, &params, Algorithm::Im2col).unwrap();
        prop_assert_eq!(&direct, &im2col);
        prop_assert_eq!(shape.iter().product::<usize>(), direct.len());
        prop_assert_eq!(direct, conv_reference(&x, &input, &w, &weight, None, &params));
    }

    #[test]
    fn conv_gradients_are_exact_adjoints((input, weight, params, seed) in conv_problem()) {
        let Ok(g) = ConvGeometry::new(&input, &weight, None, &params) else { return Ok(()) };
        let (x, w, dy) = (ints(g.input_len(), seed), ints(g.weight_len(), seed ^ 7), ints(g.output_len(), seed ^ 11));
        let (y, _) = conv_forward(&x, &input, &w, &weight, None, &params, Algorithm::Auto).unwrap();
        let grads = conv_backward(&g, &x, &w, &dy, false).unwrap();
        prop_assert_eq!(dot(&x, &grads.input), dot(&y, &dy));
        prop_assert_eq!(dot(&w, &grads.weight), dot(&y, &dy));
    }

    /// Any sizes at all, up to the edges of usize: an error or a geometry, never a panic.
    #[test]
    fn validation_never_panics(
        input in prop::collection::vec(prop_oneof![0usize..5, Just(usize::MAX), Just(usize::MAX / 2), any::<usize>()], 0..6),
        weight in prop::collection::vec(prop_oneof![0usize..5, Just(usize::MAX), any::<usize>()], 0..6),
        values in prop::collection::vec(prop_oneof![0usize..4, Just(usize::MAX), Just(usize::MAX / 3), any::<usize>()], 6),
        groups in prop_oneof![0usize..4, Just(usize::MAX)],
    ) {
        let dims = input.len().saturating_sub(2);
        let take = |i: usize| vec![values[i]; dims];
        let params = ConvParams { stride: take(0), dilation: take(1), pad_before: take(2), pad_after: take(3), padding_mode: PaddingMode::Reflect, groups, flip: false };
        let _ = ConvGeometry::new(&input, &weight, Some(values[4]), &params);
        let tp = TransposeParams { stride: take(0), padding: take(2), output_padding: take(3), dilation: take(1), groups };
        let _ = TransposeGeometry::new(&input, &weight, None, &tp);
        let pp = PoolParams { kind: PoolKind::Max, kernel: take(5), stride: take(0), padding: take(2), dilation: take(1), ceil_mode: values[4] % 2 == 0, count_include_pad: true, divisor_override: None };
        let _ = PoolGeometry::new(&input, &pp);
        if let (Ok(i), Ok(w)) = (<[usize; 4]>::try_from(input.as_slice()), <[usize; 4]>::try_from(weight.as_slice())) {
            let dp = DeformParams { stride: [values[0]; 2], padding: [values[2]; 2], dilation: [values[1]; 2], groups };
            let _ = DeformGeometry::new(&i, &[i[0], values[4], values[5], values[3]], &w, Some(&i), Some(values[4]), &dp);
        }
    }

    #[test]
    fn transposed_gradients_are_exact_adjoints(
        (dims, batch, groups, cin, cout, seed) in (1usize..=3, 1usize..=2, 1usize..=2, 1usize..=3, 1usize..=3, any::<u64>()),
        size in prop::collection::vec(1usize..=5, 3), kernel in prop::collection::vec(1usize..=4, 3),
        stride in 1usize..=3, dilation in 1usize..=3, padding in 0usize..=3, output_padding in 0usize..=2,
    ) {
        let mut input = vec![batch, groups * cin];
        input.extend(&size[..dims]);
        let mut weight = vec![groups * cin, cout];
        weight.extend(&kernel[..dims]);
        let p = TransposeParams { stride: vec![stride; dims], padding: vec![padding; dims], output_padding: vec![output_padding; dims], dilation: vec![dilation; dims], groups };
        let Ok(g) = TransposeGeometry::new(&input, &weight, None, &p) else { return Ok(()) };
        let (x, w, dy) = (ints(g.input_len(), seed), ints(g.weight_len(), seed ^ 3), ints(g.output_len(), seed ^ 5));
        let y = conv_transpose_forward(&g, &x, &w, None);
        let grads = conv_transpose_backward(&g, &x, &w, &dy, false).unwrap();
        prop_assert_eq!(dot(&x, &grads.input), dot(&y, &dy));
        prop_assert_eq!(dot(&w, &grads.weight), dot(&y, &dy));
    }

    /// Max and min pooling copy one element per output: the adjoint identity is exact.
    #[test]
    fn max_and_min_pool_gradients_are_exact_adjoints(
        (dims, planes, seed, min) in (1usize..=3, 1usize..=3, any::<u64>(), any::<bool>()),
        size in prop::collection::vec(1usize..=7, 3), kernel in prop::collection::vec(1usize..=4, 3),
        stride in 1usize..=3, dilation in 1usize..=2, padding in 0usize..=2, ceil_mode in any::<bool>(),
    ) {
        let mut input = vec![1, planes];
        input.extend(&size[..dims]);
        let p = PoolParams { kind: if min { PoolKind::Min } else { PoolKind::Max }, kernel: kernel[..dims].to_vec(), stride: vec![stride; dims], padding: vec![padding; dims], dilation: vec![dilation; dims], ceil_mode, count_include_pad: true, divisor_override: None };
        let Ok(g) = PoolGeometry::new(&input, &p) else { return Ok(()) };
        let x = ints(input.iter().product(), seed);
        let (y, _) = pool_forward(&x, &g, false);
        let dy = ints(y.len(), seed ^ 9);
        let grad = pool_backward(&x, &dy, &g);
        // Windows wholly in the padding give -inf/+inf and receive no gradient: leave them out.
        let finite: Vec<(f32, f32)> = y.iter().zip(&dy).filter(|(v, _)| v.is_finite()).map(|(v, d)| (*v, *d)).collect();
        let want: f64 = finite.iter().map(|(v, d)| *v as f64 * *d as f64).sum();
        prop_assert_eq!(dot(&x, &grad), want);
    }
}
