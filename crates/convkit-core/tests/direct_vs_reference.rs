//! The direct executors (register-blocked tiles, depthwise with unrolled small kernels) against the
//! naive reference on a table of shapes chosen to reach every tile path: multi-row tiles and their
//! leftover rows, full and single-vector column tiles and the scalar tail, strides 1/2/3,
//! dilation, depth multipliers, every padding mode, and 1-D/3-D inputs. One case per line.

use convkit_core::reference::conv_reference;
use convkit_core::{conv_forward, plan_conv, Algorithm, ConvGeometry, ConvParams, ConvPlan, PaddingMode};

mod common;
use common::MODES;

/// One case: input shape, weight shape, groups, stride, dilation, padding (same on both sides).
struct Case {
    input: &'static [usize],
    weight: &'static [usize],
    groups: usize,
    stride: usize,
    dilation: usize,
    pad: usize,
}

const fn case(input: &'static [usize], weight: &'static [usize], groups: usize, stride: usize, dilation: usize, pad: usize) -> Case {
    Case { input, weight, groups, stride, dilation, pad }
}

const CASES: &[Case] = &[
    // Depthwise 2-D: unrolled 3x3/5x5 at stride 1 and 2, ragged widths and heights.
    case(&[1, 3, 11, 23], &[3, 1, 3, 3], 3, 1, 1, 1),
    case(&[2, 2, 9, 17], &[2, 1, 3, 3], 2, 2, 1, 1),
    case(&[1, 2, 13, 21], &[2, 1, 5, 5], 2, 1, 1, 2),
    case(&[1, 2, 14, 22], &[2, 1, 5, 5], 2, 2, 1, 2),
    // Depth multipliers 2 and 3.
    case(&[1, 2, 10, 19], &[4, 1, 3, 3], 2, 1, 1, 1),
    case(&[1, 3, 9, 13], &[9, 1, 3, 3], 3, 2, 1, 1),
    // Depthwise with windows the generic tiles serve: stride 3, dilation, 7x7, 1x1.
    case(&[1, 2, 16, 25], &[2, 1, 3, 3], 2, 3, 1, 1),
    case(&[1, 2, 15, 22], &[4, 1, 3, 3], 2, 1, 2, 2),
    case(&[1, 2, 15, 22], &[2, 1, 3, 3], 2, 2, 3, 3),
    case(&[1, 1, 20, 37], &[1, 1, 7, 7], 1, 1, 1, 3),
    case(&[1, 3, 7, 9], &[3, 1, 1, 1], 3, 1, 1, 0),
    // Few dense channels and large kernels (image filters, the 15x15 case shrunk).
    case(&[1, 1, 24, 41], &[1, 1, 15, 15], 1, 1, 1, 7),
    case(&[1, 3, 12, 35], &[1, 3, 7, 7], 1, 1, 1, 3),
    case(&[2, 3, 12, 35], &[2, 3, 5, 5], 1, 2, 1, 2),
    case(&[1, 4, 11, 30], &[2, 2, 3, 3], 2, 3, 2, 2),
    case(&[1, 2, 9, 18], &[3, 2, 4, 2], 1, 1, 1, 1),
    // 1-D and 3-D.
    case(&[2, 4, 45], &[8, 1, 3], 4, 1, 1, 1),
    case(&[1, 2, 40], &[2, 1, 5], 2, 2, 2, 4),
    case(&[1, 2, 50], &[1, 2, 9], 1, 1, 1, 4),
    case(&[1, 2, 5, 9, 19], &[4, 1, 3, 3, 3], 2, 1, 1, 1),
    case(&[1, 2, 6, 10, 18], &[2, 1, 3, 3, 3], 2, 2, 1, 1),
    case(&[1, 2, 5, 7, 21], &[1, 2, 2, 3, 3], 1, 1, 1, 1),
];

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        })
        .collect()
}

/// Runs one problem on the direct executors and compares it with the reference. Returns false when
/// the geometry is rejected, which only a padding wider than its mode allows may cause.
#[allow(clippy::too_many_arguments)]
fn check(label: &str, input: &[usize], weight: &[usize], groups: usize, stride: usize, dilation: usize, pad: usize, mode: PaddingMode, flip: bool, with_bias: bool, seed: u64) -> bool {
    let dims = input.len() - 2;
    let mut params = ConvParams::new(dims);
    params.groups = groups;
    params.stride = vec![stride; dims];
    params.dilation = vec![dilation; dims];
    params.pad_before = vec![pad; dims];
    params.pad_after = vec![pad; dims];
    params.padding_mode = mode;
    params.flip = flip;
    let x = values(input.iter().product(), seed);
    let w = values(weight.iter().product(), seed ^ 0x55);
    let b = with_bias.then(|| values(weight[0], seed ^ 0xaa));
    let Ok(g) = ConvGeometry::new(input, weight, b.as_ref().map(Vec::len), &params) else {
        assert!(input[2..].iter().any(|&n| pad > mode.max_pad(n)), "{label} {mode:?} rejected");
        return false;
    };
    let want_plan = if weight[1] == 1 { ConvPlan::Depthwise } else { ConvPlan::Direct };
    assert_eq!(plan_conv(&g, Algorithm::Direct).unwrap(), want_plan, "{label}");
    let (got, shape) = conv_forward(&x, input, &w, weight, b.as_deref(), &params, Algorithm::Direct).unwrap();
    let want = conv_reference(&x, input, &w, weight, b.as_deref(), &params);
    assert_eq!(got.len(), shape.iter().product::<usize>());
    assert_eq!(got.len(), want.len());
    for (i, (&a, &e)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 * (1.0 + e.abs()) * 10.0,
            "{label} {mode:?} flip={flip} bias={with_bias}: output {i} is {a}, want {e}"
        );
    }
    true
}

#[test]
fn direct_tiles_match_the_reference_on_every_padding_mode() {
    for (n, c) in CASES.iter().enumerate() {
        for (m, &mode) in MODES.iter().enumerate() {
            for flip in [false, true] {
                let label = format!("case {n}");
                check(&label, c.input, c.weight, c.groups, c.stride, c.dilation, c.pad, mode, flip, true, (n * 10 + m) as u64);
            }
        }
    }
}

#[test]
fn depthwise_matches_the_reference_on_ragged_and_tiny_planes() {
    // Every output width from 1 to 9 (narrower than a vector, one vector, a vector and a ragged
    // rest), heights down to one row, each unrolled window and stride, depth multipliers 1 to 3,
    // two images, with and without bias.
    let (mut checked, mut total) = (0, 0);
    for (k, s) in [(3, 1), (3, 2), (5, 1), (5, 2), (7, 1), (7, 2), (3, 3)] {
        for out_w in 1..=9 {
            for (out_h, m) in [(1, 1), (2, 2), (5, 3)] {
                let pad = k / 2;
                let (h, w) = ((out_h - 1) * s + k - 2 * pad, (out_w - 1) * s + k - 2 * pad);
                let (input, weight) = ([2, 2, h, w], [2 * m, 1, k, k]);
                for (i, &mode) in MODES.iter().enumerate() {
                    let label = format!("{k}x{k} s{s} out {out_h}x{out_w} x{m}");
                    let seed = (k * 1000 + s * 100 + out_w * 10 + i) as u64;
                    total += 1;
                    checked += check(&label, &input, &weight, 2, s, 1, pad, mode, i % 2 == 1, i % 3 != 0, seed) as usize;
                }
            }
        }
    }
    // Only planes smaller than their padding are rejected (by the mirroring modes): few.
    assert!(checked * 4 > total * 3, "only {checked} of {total} problems ran");
}
