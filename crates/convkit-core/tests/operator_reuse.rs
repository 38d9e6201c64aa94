//! A prepared `ConvOperator` runs again and again into the same output buffer (the wasm boundary
//! keeps one per kernel and does not clear it): every plan must write every output element, and a
//! run must not depend on what an earlier run left in its scratch.

use convkit_core::conv::ConvOperator;
use convkit_core::{plan_conv, Algorithm, ConvGeometry, ConvParams, PaddingMode};

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32).map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 1999) as f32 / 999.5 - 1.0).collect()
}

#[test]
fn every_plan_overwrites_its_whole_output_on_every_run() {
    // (input shape, weight shape, groups, stride, padding, mode): one problem per executor, plus
    // ragged sizes and padding modes that take each executor's edge paths.
    let cases: &[(&[usize], &[usize], usize, usize, usize, PaddingMode)] = &[
        (&[2, 6, 9, 11], &[4, 3, 3, 3], 2, 1, 1, PaddingMode::Zeros),
        (&[1, 8, 13, 10], &[8, 1, 3, 3], 8, 1, 1, PaddingMode::Reflect),
        (&[1, 4, 12, 12], &[8, 1, 5, 5], 4, 2, 2, PaddingMode::Replicate),
        (&[2, 3, 17, 9], &[5, 3, 7, 7], 1, 1, 3, PaddingMode::Circular),
        (&[1, 2, 40], &[3, 2, 3], 1, 1, 1, PaddingMode::Symmetric),
        (&[1, 3, 5, 6, 7], &[2, 3, 3, 3, 3], 1, 1, 1, PaddingMode::Zeros),
    ];
    let algorithms = [Algorithm::Auto, Algorithm::Direct, Algorithm::Im2col, Algorithm::Winograd, Algorithm::Fft];
    let mut runs = 0;
    for &(input_shape, weight_shape, groups, stride, pad, mode) in cases {
        let dims = input_shape.len() - 2;
        let mut params = ConvParams::new(dims);
        params.groups = groups;
        params.padding_mode = mode;
        for a in 0..dims {
            params.stride[a] = stride;
            params.pad_before[a] = pad;
            params.pad_after[a] = pad;
        }
        let g = ConvGeometry::new(input_shape, weight_shape, Some(weight_shape[0]), &params).unwrap();
        let weight = values(g.weight_len(), 1);
        let bias = values(weight_shape[0], 2);
        let input_len: usize = input_shape.iter().product();
        let (first, second) = (values(input_len, 3), values(input_len, 4));
        let out_len = input_shape[0] * g.out_channels * g.out_plane();
        for algorithm in algorithms {
            let Ok(plan) = plan_conv(&g, algorithm) else { continue };
            let mut fresh = ConvOperator::new(&g, plan.clone(), &weight);
            let mut want = vec![0.0; out_len];
            fresh.run(&second, Some(&bias), &mut want);

            let mut reused = ConvOperator::new(&g, plan.clone(), &weight);
            let mut output = vec![0.0; out_len];
            reused.run(&first, Some(&bias), &mut output);
            output.fill(f32::NAN);
            reused.run(&second, Some(&bias), &mut output);
            assert!(
                output.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{plan:?} on {input_shape:?} * {weight_shape:?}: a second run into a used buffer differs"
            );
            runs += 1;
        }
    }
    assert!(runs >= 20, "only {runs} plans ran");
}
