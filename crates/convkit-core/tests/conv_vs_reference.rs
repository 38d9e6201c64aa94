//! Every algorithm against the naive reference over a broad, seeded table of random problems.

use convkit_core::reference::conv_reference;
use convkit_core::{conv_forward, Algorithm, ConvParams, ErrorCode};

mod common;
use common::MODES;

/// Small deterministic generator (xorshift) so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    fn float(&mut self) -> f32 {
        (self.next() % 2001) as f32 / 1000.0 - 1.0
    }

    /// A grouped problem's parameters (padding mode and flip random) and its input `[N, C]` and
    /// weight `[Cout, C/groups]` shapes, which the caller extends by `dims` spatial axes.
    fn grouped_problem(&mut self, dims: usize, max_in_per_group: usize, max_out_per_group: usize) -> (ConvParams, Vec<usize>, Vec<usize>) {
        let groups = self.range(1, 3);
        let cin = groups * self.range(1, max_in_per_group);
        let cout = groups * self.range(1, max_out_per_group);
        let mut params = ConvParams::new(dims);
        params.groups = groups;
        params.padding_mode = MODES[self.range(0, 4)];
        params.flip = self.range(0, 1) == 1;
        (params, vec![self.range(1, 2), cin], vec![cout, cin / groups])
    }

    /// Random input and weight for the shapes, and a bias half the time.
    fn data(&mut self, input_shape: &[usize], weight_shape: &[usize]) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
        let input = (0..input_shape.iter().product()).map(|_| self.float()).collect();
        let weight = (0..weight_shape.iter().product()).map(|_| self.float()).collect();
        let bias = (self.range(0, 1) == 1).then(|| (0..weight_shape[0]).map(|_| self.float()).collect());
        (input, weight, bias)
    }
}

#[test]
fn every_algorithm_matches_the_reference() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut checked = 0;
    while checked < 400 {
        let dims = rng.range(1, 3);
        let (mut params, mut input_shape, mut weight_shape) = rng.grouped_problem(dims, 3, 5);
        for a in 0..dims {
            let size = if dims == 3 { rng.range(2, 7) } else { rng.range(3, 13) };
            input_shape.push(size);
            weight_shape.push(rng.range(1, 4));
            params.stride[a] = rng.range(1, 3);
            params.dilation[a] = rng.range(1, 2);
            params.pad_before[a] = rng.range(0, 2);
            params.pad_after[a] = rng.range(0, 2);
        }
        let (input, weight, bias) = rng.data(&input_shape, &weight_shape);
        // Invalid combinations (kernel too large, reflect pad too wide) are covered elsewhere.
        let Ok((direct, shape)) = conv_forward(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params, Algorithm::Direct) else {
            continue;
        };
        let want = conv_reference(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params);
        let (gemm, _) = conv_forward(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params, Algorithm::Im2col).unwrap();
        assert_eq!(want.len(), shape.iter().product::<usize>());
        let fft = conv_forward(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params, Algorithm::Fft);
        let fft = match fft {
            Ok((y, _)) => y,
            Err(e) => {
                assert!(params.stride.iter().any(|&s| s > 1), "fft refused a stride-1 call: {}", e.message);
                direct.clone()
            }
        };
        for (name, got) in [("direct", &direct), ("im2col", &gemm), ("fft", &fft)] {
            for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-5 * (1.0 + w.abs()) * 10.0,
                    "{name} differs at {i}: {g} vs {w}; input {input_shape:?} weight {weight_shape:?} {params:?}"
                );
            }
        }
        checked += 1;
    }
}

/// Winograd over a seeded table of the problems it serves (size-3 kernels, stride 1, 1-D and 2-D),
/// within the tolerance documented in README: |got - want| <= 1e-4 + 1e-3 |want|.
#[test]
fn winograd_matches_the_reference() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut checked = 0;
    while checked < 300 {
        let dims = rng.range(1, 2);
        let (mut params, mut input_shape, mut weight_shape) = rng.grouped_problem(dims, 12, 12);
        for a in 0..dims {
            input_shape.push(rng.range(3, 23));
            weight_shape.push(3);
            params.dilation[a] = rng.range(1, 3);
            params.pad_before[a] = rng.range(0, 3);
            params.pad_after[a] = rng.range(0, 3);
        }
        let (input, weight, bias) = rng.data(&input_shape, &weight_shape);
        let (got, _) = match conv_forward(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params, Algorithm::Winograd) {
            Ok(result) => result,
            // Invalid combinations (kernel too large, reflect pad too wide); never UNSUPPORTED.
            Err(e) => {
                assert_ne!(e.code, ErrorCode::Unsupported, "{}", e.message);
                continue;
            }
        };
        let want = conv_reference(&input, &input_shape, &weight, &weight_shape, bias.as_deref(), &params);
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 + 1e-3 * w.abs(),
                "winograd differs at {i}: {g} vs {w}; input {input_shape:?} weight {weight_shape:?} {params:?}"
            );
        }
        checked += 1;
    }
}

#[test]
fn data_length_must_match_shape() {
    let params = ConvParams::new(2);
    let err = conv_forward(&[0.0; 8], &[1, 1, 3, 3], &[0.0; 4], &[1, 1, 2, 2], None, &params, Algorithm::Auto)
        .unwrap_err();
    assert!(err.message.contains("input data has 8 elements"), "{}", err.message);
}
