//! FFT convolution against the naive reference: forced tile sizes so every case spans several tiles
//! with ragged edges, in 1-D, 2-D and 3-D, with channels, groups, dilation, flips and every padding
//! mode. Adding a case is one line.

use convkit_core::conv::execute;
use convkit_core::reference::conv_reference;
use convkit_core::{ConvGeometry, ConvParams, ConvPlan, PaddingMode};

struct Case {
    input: &'static [usize],
    weight: &'static [usize],
    groups: usize,
    dilation: usize,
    pad: usize,
    mode: PaddingMode,
    flip: bool,
    tile: [usize; 2],
    fold: bool,
}

const fn case(input: &'static [usize], weight: &'static [usize], tile: [usize; 2]) -> Case {
    Case { input, weight, groups: 1, dilation: 1, pad: 0, mode: PaddingMode::Zeros, flip: false, tile, fold: false }
}

fn values(len: usize, seed: u32) -> Vec<f32> {
    (0..len).map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) as f32 / (1u32 << 24) as f32 - 0.5).collect()
}

#[test]
fn fft_conv_matches_the_reference_over_ragged_tiles() {
    use PaddingMode::*;
    let cases = [
        case(&[1, 1, 37, 41], &[1, 1, 5, 7], [16, 16]),
        case(&[2, 3, 20, 23], &[4, 3, 9, 9], [16, 32]),
        case(&[1, 2, 19, 30], &[3, 2, 3, 4], [8, 8]),
        Case { groups: 2, ..case(&[1, 4, 21, 18], &[6, 2, 5, 5], [16, 8]) },
        Case { dilation: 3, ..case(&[1, 1, 33, 29], &[2, 1, 4, 3], [16, 16]) },
        Case { pad: 4, mode: Reflect, ..case(&[1, 2, 17, 19], &[1, 2, 9, 9], [16, 16]) },
        Case { pad: 3, mode: Symmetric, flip: true, ..case(&[1, 1, 15, 22], &[2, 1, 7, 6], [32, 16]) },
        Case { pad: 5, mode: Replicate, ..case(&[1, 1, 12, 12], &[1, 1, 11, 11], [16, 16]) },
        Case { pad: 2, mode: Circular, ..case(&[1, 3, 14, 9], &[2, 3, 5, 5], [8, 8]) },
        case(&[1, 1, 8, 8], &[1, 1, 8, 8], [8, 8]),
        case(&[1, 1, 300], &[1, 1, 31], [2, 64]),
        Case { fold: true, ..case(&[1, 1, 300], &[1, 1, 31], [4, 64]) },
        Case { fold: true, pad: 9, mode: Circular, ..case(&[2, 2, 1000], &[3, 2, 19], [16, 32]) },
        Case { fold: true, groups: 2, dilation: 3, ..case(&[1, 4, 777], &[2, 2, 9], [8, 32]) },
        Case { fold: true, ..case(&[1, 1, 1, 500], &[1, 1, 1, 13], [32, 16]) },
        Case { dilation: 2, pad: 7, flip: true, ..case(&[2, 2, 150], &[3, 2, 15], [2, 32]) },
        Case { groups: 3, ..case(&[1, 3, 9, 10, 11], &[3, 1, 3, 4, 5], [8, 8]) },
        Case { pad: 1, mode: Reflect, ..case(&[1, 2, 6, 13, 12], &[2, 2, 2, 3, 3], [4, 8]) },
    ];
    for c in &cases {
        let dims = c.input.len() - 2;
        let mut p = ConvParams::new(dims);
        p.groups = c.groups;
        p.dilation = vec![c.dilation; dims];
        p.pad_before = vec![c.pad; dims];
        p.pad_after = vec![c.pad; dims];
        p.padding_mode = c.mode;
        p.flip = c.flip;
        let input = values(c.input.iter().product(), 1);
        let weight = values(c.weight.iter().product(), 2);
        let bias = values(c.weight[0], 3);
        let g = ConvGeometry::new(c.input, c.weight, Some(bias.len()), &p).unwrap();
        let mut got = vec![f32::NAN; g.output_len()];
        execute(&g, &ConvPlan::Fft { tile: c.tile, fold: c.fold }, &input, &weight, Some(&bias), &mut got);
        let want = conv_reference(&input, c.input, &weight, c.weight, Some(&bias), &p);
        let taps = (c.weight[1..].iter().product::<usize>()) as f32;
        for (i, (&y, &w)) in got.iter().zip(&want).enumerate() {
            // Each output sums `taps` products of values below 0.5; f32 transforms add rounding
            // proportional to that scale, not to the (possibly cancelled) result.
            assert!((y - w).abs() <= 2e-6 * taps.sqrt() * 8.0, "input {:?} weight {:?} tile {:?}: {y} vs {w} at {i}", c.input, c.weight, c.tile);
        }
    }
}
