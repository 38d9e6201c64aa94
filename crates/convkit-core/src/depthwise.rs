//! The depthwise executor (one input channel per group, any depth multiplier). Each input channel
//! is padded on its own (through `PaddedImage`, so every padding mode works, and a zero border is
//! written once for all channels) into a plane small enough to stay in L1, and its output channels
//! are computed from that plane. Square 3x3 and 5x5 windows at stride 1 or 2 (and 7x7 at stride 2)
//! run `plane`: down each 4-wide column strip, every input row is loaded once and updates all the
//! output rows that read it (rolling accumulators), with the kernel's weights splatted once per
//! output channel and the bias as the accumulators' start.
//! Other windows, 3-D kernels and planes narrower than a vector run the direct tiles on the plane.

use crate::direct::{direct, run, Fixed};
use crate::geometry::ConvGeometry;
use crate::padding::PaddedImage;
use crate::simd::{F32x4, LANES};

/// Runs one image (`[Cin, ...in_size]`); `plane` holds one padded channel at a time.
pub(crate) fn depthwise(
    g: &ConvGeometry,
    image: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    plane: &mut PaddedImage,
) {
    debug_assert_eq!(g.in_channels_per_group(), 1);
    let m = g.out_channels_per_group();
    // One group on its own: what the direct tiles run for windows `plane` does not serve.
    let one = ConvGeometry { batch: 1, in_channels: 1, out_channels: m, groups: 1, ..g.clone() };
    let [_, oh_n, ow_n] = g.out_size;
    let padding = g.padding();
    let pw = padding.padded_size()[2];
    let kvol = g.kernel_volume();
    let kernel = channel_kernel(g);
    // Rows past the padded plane only feed output rows that do not exist, but `plane` loads them.
    let tail = match kernel {
        ChannelKernel::Strips(_, rows) => (rows * pw).saturating_sub(padding.padded_size().iter().product()),
        ChannelKernel::Tiles(_) => 0,
    };
    for (c, (x, y)) in image.chunks_exact(g.in_plane()).zip(out.chunks_exact_mut(m * g.out_plane())).enumerate() {
        let plane = plane.fill(x, 1, &padding, tail);
        let w = &weight[c * m * kvol..][..m * kvol];
        let b = bias.map(|b| &b[c * m..][..m]);
        match kernel {
            ChannelKernel::Strips(strips, _) => {
                for (j, (w_j, y_j)) in w.chunks_exact(kvol).zip(y.chunks_exact_mut(oh_n * ow_n)).enumerate() {
                    strips(plane, pw, w_j, b.map_or(0.0, |b| b[j]), y_j, oh_n, ow_n);
                }
            }
            ChannelKernel::Tiles(tiles) => tiles(&one, plane, w, b, y),
        }
    }
}

/// How one channel's padded plane is convolved.
#[derive(Clone, Copy)]
enum ChannelKernel {
    /// `plane`'s rolling strips (for one output channel), reading this many rows of the plane.
    Strips(StripsFn, usize),
    /// The direct tiles, for the one-group geometry.
    Tiles(TilesFn),
}

type StripsFn = fn(&[f32], usize, &[f32], f32, &mut [f32], usize, usize);
type TilesFn = fn(&ConvGeometry, &[f32], &[f32], Option<&[f32]>, &mut [f32]);

fn channel_kernel(g: &ConvGeometry) -> ChannelKernel {
    let (k, s) = (g.kernel, g.stride);
    let flat = g.padded_size()[0] == 1 && k[1] == k[2] && s[1] == s[2] && g.dilation[1..] == [1, 1];
    if !flat || g.out_size[2] < LANES {
        return ChannelKernel::Tiles(direct);
    }
    let strips = match (k[1], s[1]) {
        (3, 1) => plane::<3, 1, 3>,
        (3, 2) => plane::<3, 2, 2>,
        (5, 1) => plane::<5, 1, 5>,
        (5, 2) => plane::<5, 2, 3>,
        // Seven rows in flight and 49 weights overflow the registers: tiles of 2 x 8 outputs.
        (7, 1) => return ChannelKernel::Tiles(|g, p, w, b, y| run::<_, 2, 2>(g, Fixed::<7, 1>, p, w, b, y)),
        (7, 2) => plane::<7, 2, 4>,
        _ => return ChannelKernel::Tiles(direct),
    };
    let in_flight = (k[1] - 1) / s[1] + 1;
    ChannelKernel::Strips(strips, (g.out_size[1] + in_flight - 1) * s[1])
}

/// The inputs of tap `k` of four outputs along a row: `s[i + k + l * S]` for lanes `l` 0 to 3, for
/// every `k` below `K`. At stride 2 each tap past the first two is the one two before it shifted by
/// one lane, so a row costs `K` loads and `K` shuffles.
///
/// # Safety
/// `i + 3 * S + K <= s.len()`.
#[inline(always)]
unsafe fn load_taps<const K: usize, const S: usize>(s: &[f32], i: usize) -> [F32x4; K] {
    match S {
        1 => std::array::from_fn(|k| F32x4::load_unchecked(s, i + k)),
        2 => {
            let (even, odd) = F32x4::deinterleave(F32x4::load_unchecked(s, i), F32x4::load_unchecked(s, i + 4));
            let mut v = [even; K];
            if K > 1 {
                v[1] = odd;
            }
            for k in 2..K {
                // Lane 3 of the load is s[i + k + 6], the last input of tap k.
                v[k] = v[k - 2].shift_in(F32x4::load_unchecked(s, i + k + 3));
            }
            v
        }
        _ => unreachable!("channel_kernel picks strides 1 and 2"),
    }
}

/// One output plane (`oh_n x ow_n`, `ow_n >= LANES`) of a `K x K` window at stride `S` over a
/// padded plane `pw` wide holding at least `(oh_n + A - 1) * S` rows. `A = (K - 1) / S + 1` output
/// rows are in flight at once: each step reads `S` input rows and completes one output row.
fn plane<const K: usize, const S: usize, const A: usize>(
    src: &[f32],
    pw: usize,
    w: &[f32],
    bias: f32,
    out: &mut [f32],
    oh_n: usize,
    ow_n: usize,
) {
    debug_assert_eq!(A, (K - 1) / S + 1);
    assert!(ow_n >= LANES && (ow_n - 1) * S + K <= pw && (oh_n + A - 1) * S * pw <= src.len());
    let out = &mut out[..oh_n * ow_n];
    let w: [[F32x4; K]; K] = std::array::from_fn(|t| std::array::from_fn(|k| F32x4::splat(w[t * K + k])));
    let b = F32x4::splat(bias);
    // Every 4-wide strip, the last one overlapping its neighbour when the width is ragged.
    for x in (0..ow_n - LANES).step_by(LANES).chain([ow_n - LANES]) {
        // acc[i] accumulates output row n - i while step n reads input rows [nS, nS + S); arrays
        // passed by value so that they stay in registers.
        let mut acc = [b; A];
        for n in 0..A - 1 {
            acc = shift(step::<K, S, A>(src, pw, &w, acc, n * S * pw + x * S), b);
        }
        for o in 0..oh_n {
            acc = step::<K, S, A>(src, pw, &w, acc, (o + A - 1) * S * pw + x * S);
            // SAFETY: o < oh_n and x + LANES <= ow_n.
            unsafe { acc[A - 1].store_unchecked(out, o * ow_n + x) };
            acc = shift(acc, b);
        }
    }
}

/// Adds the `S` input rows starting at `at` to the output rows in flight. Each row's taps are
/// summed apart first, so the accumulators (carried from step to step) wait on one add, not `K`.
#[inline(always)]
fn step<const K: usize, const S: usize, const A: usize>(
    src: &[f32],
    pw: usize,
    w: &[[F32x4; K]; K],
    mut acc: [F32x4; A],
    at: usize,
) -> [F32x4; A] {
    for q in 0..S {
        // SAFETY (from `plane`'s assert): the input row lies inside `src`, and the loads read
        // columns up to (x + 3) * S + K <= (ow_n - 1) * S + K <= pw.
        let v = unsafe { load_taps::<K, S>(src, at + q * pw) };
        for (i, a) in acc.iter_mut().enumerate() {
            if let Some(w_t) = w.get(q + i * S) {
                let row = (1..K).fold(v[0].mul(w_t[0]), |p, k| p.mul_add(v[k], w_t[k]));
                *a = a.add(row);
            }
        }
    }
    acc
}

/// Moves every output row in flight one step on and starts a new one at the bias.
#[inline(always)]
fn shift<const A: usize>(acc: [F32x4; A], b: F32x4) -> [F32x4; A] {
    std::array::from_fn(|i| if i == 0 { b } else { acc[i - 1] })
}
