//! Pooling (max, min, average) over 1 to 3 spatial axes with PyTorch's semantics: implicit padding
//! that max/min never pick and average counts only with `count_include_pad`, `ceil_mode`, dilation
//! for max/min, a divisor override, and PyTorch's flat per-plane argmax/argmin indices.

use crate::error::ConvError;
use crate::geometry::{checked_len, lift};
use crate::simd::{F32x4, LANES};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Min,
    Avg,
}

impl PoolKind {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => PoolKind::Max,
            1 => PoolKind::Min,
            2 => PoolKind::Avg,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct PoolParams {
    pub kind: PoolKind,
    pub kernel: Vec<usize>,
    pub stride: Vec<usize>,
    pub padding: Vec<usize>,
    pub dilation: Vec<usize>,
    pub ceil_mode: bool,
    pub count_include_pad: bool,
    pub divisor_override: Option<usize>,
}

/// PyTorch's pooling output length (`pooling_output_shape`), in i128 so that no size a caller can
/// pass overflows on any target.
pub fn pool_output_length(input: usize, kernel: usize, stride: usize, pad: usize, dilation: usize, ceil_mode: bool) -> i128 {
    let (input, kernel, stride, pad, dilation) = (input as i128, kernel as i128, stride as i128, pad as i128, dilation as i128);
    // Saturating: a dilation times a kernel near usize::MAX squared exceeds even i128.
    let numerator = (input + 2 * pad).saturating_sub(dilation.saturating_mul(kernel - 1)) - 1 + if ceil_mode { stride - 1 } else { 0 };
    let mut out = numerator.div_euclid(stride.max(1)) + 1;
    // The last window must start inside the input or its left padding.
    if ceil_mode && (out - 1).saturating_mul(stride) >= input + pad {
        out -= 1;
    }
    out
}

/// Validated pooling geometry lifted to three spatial axes.
#[derive(Clone, Debug)]
pub struct PoolGeometry {
    pub planes: usize,
    pub in_size: [usize; 3],
    pub out_size: [usize; 3],
    pub kernel: [usize; 3],
    pub stride: [usize; 3],
    pub padding: [usize; 3],
    pub dilation: [usize; 3],
    pub params: PoolParams,
}

impl PoolGeometry {
    /// `input` is `[N, C, ...spatial]`.
    pub fn new(input: &[usize], params: &PoolParams) -> Result<Self, ConvError> {
        let dims = input.len().wrapping_sub(2);
        if !(1..=3).contains(&dims) {
            return Err(ConvError::invalid(format!("input must have 3 to 5 dimensions, got {}", input.len())));
        }
        for v in [&params.kernel, &params.stride, &params.padding, &params.dilation] {
            if v.len() != dims {
                return Err(ConvError::invalid(format!("pooling options must have {dims} entries per axis")));
            }
        }
        if params.kernel.contains(&0) || params.stride.contains(&0) || params.dilation.contains(&0) {
            return Err(ConvError::invalid("kernelSize, stride and dilation must be >= 1"));
        }
        if params.divisor_override == Some(0) {
            return Err(ConvError::invalid("divisorOverride must be >= 1"));
        }
        let mut out = vec![0; dims];
        for a in 0..dims {
            if params.padding[a] > params.kernel[a] / 2 {
                return Err(ConvError::invalid(format!(
                    "padding {} must be at most half the kernel size {} on axis {a}",
                    params.padding[a], params.kernel[a]
                )));
            }
            let o = pool_output_length(input[2 + a], params.kernel[a], params.stride[a], params.padding[a], params.dilation[a], params.ceil_mode);
            if o < 1 {
                return Err(ConvError::invalid(format!("the output would be empty on axis {a} (input size {})", input[2 + a])));
            }
            out[a] = o as usize;
        }
        checked_len("input", input)?;
        Ok(PoolGeometry {
            planes: input[0] * input[1],
            in_size: lift(&input[2..], 1),
            out_size: lift(&out, 1),
            kernel: lift(&params.kernel, 1),
            stride: lift(&params.stride, 1),
            padding: lift(&params.padding, 0),
            dilation: lift(&params.dilation, 1),
            params: params.clone(),
        })
    }

    pub fn output_len(&self) -> usize {
        self.planes * self.out_size.iter().product::<usize>()
    }
}

/// One output window along one axis.
struct AxisWindow {
    /// Taps inside the input.
    taps: Vec<usize>,
    /// The window length clipped to the padded input (average pooling's `count_include_pad` divisor).
    span: usize,
    /// The first tap at or after 0, possibly past the input: PyTorch's index for a window with no
    /// tap inside the input (which max/min report as -inf/+inf).
    first: usize,
}

fn axis_window(o: usize, g: &PoolGeometry, a: usize) -> AxisWindow {
    let start = (o * g.stride[a]) as isize - g.padding[a] as isize;
    let taps = (0..g.kernel[a])
        .map(|k| start + (k * g.dilation[a]) as isize)
        .filter(|&i| i >= 0 && i < g.in_size[a] as isize)
        .map(|i| i as usize)
        .collect();
    let padded_end = (g.in_size[a] + g.padding[a]) as isize;
    let span = ((start + g.kernel[a] as isize).min(padded_end) - start) as usize;
    let step = g.dilation[a] as isize;
    let first = if start >= 0 { start } else { start + (-start + step - 1) / step * step } as usize;
    AxisWindow { taps, span, first }
}

/// Every output window, per axis.
type Windows = [Vec<AxisWindow>; 3];

fn windows(g: &PoolGeometry) -> Windows {
    std::array::from_fn(|a| (0..g.out_size[a]).map(|o| axis_window(o, g, a)).collect())
}

/// What average pooling divides a window's sum by.
fn avg_divisor(g: &PoolGeometry, z: &AxisWindow, y: &AxisWindow, x: &AxisWindow) -> f32 {
    (match g.params.divisor_override {
        Some(d) => d,
        None if g.params.count_include_pad => z.span * y.span * x.span,
        None => z.taps.len() * y.taps.len() * x.taps.len(),
    }) as f32
}

/// Runs pooling over `[planes, ...in_size]`; returns the output and, when asked for (max/min), the
/// indices.
pub fn pool_forward(input: &[f32], g: &PoolGeometry, with_indices: bool) -> (Vec<f32>, Option<Vec<i32>>) {
    let windows = windows(g);
    match g.params.kind {
        PoolKind::Max | PoolKind::Min if with_indices => {
            let (output, indices) = picks(input, g, &windows);
            (output, Some(indices))
        }
        PoolKind::Max => (pool_separable::<MaxOf>(input, g, &windows), None),
        PoolKind::Min => (pool_separable::<MinOf>(input, g, &windows), None),
        PoolKind::Avg => (pool_separable::<SumOf>(input, g, &windows), None),
    }
}

/// Max or min pooling's values and PyTorch's indices (`pool_picking`).
fn picks(input: &[f32], g: &PoolGeometry, windows: &Windows) -> (Vec<f32>, Vec<i32>) {
    match g.params.kind {
        PoolKind::Max => pool_picking(input, g, windows, |v, pick| v > pick),
        PoolKind::Min => pool_picking(input, g, windows, |v, pick| v < pick),
        PoolKind::Avg => unreachable!("average pooling picks nothing"),
    }
}

/// Max or min pooling that also says where each pick came from (PyTorch's indices), one axis at a
/// time like `pool_separable` (z, y, then x): each pass keeps a pick's value and its index in the
/// input plane. PyTorch walks a window in raster order, which is index order, taking a strictly
/// better value or any NaN: its pick is the best value with the lowest index, or the NaN with the
/// highest. `replaces` compares indices to say the same, so the passes may run in any order; the
/// passes select instead of branching.
fn pool_picking(input: &[f32], g: &PoolGeometry, windows: &Windows, better: impl Fn(f32, f32) -> bool + Copy) -> (Vec<f32>, Vec<i32>) {
    let [d, h, w] = g.in_size;
    let [od, oh, ow] = g.out_size;
    let in_plane = d * h * w;
    let out_plane = od * oh * ow;
    let active: [bool; 3] = std::array::from_fn(|a| g.kernel[a] != 1 || g.stride[a] != 1);
    let mut output = vec![0.0; g.planes * out_plane];
    let mut indices = vec![0i32; g.planes * out_plane];
    let identity: Vec<i32> = (0..in_plane as i32).collect();
    let mut after_z = Picks::new(if active[0] { od * h * w } else { 0 });
    let mut after_y = Picks::new(if active[1] { od * oh * w } else { 0 });
    let empty = if g.params.kind == PoolKind::Max { f32::NEG_INFINITY } else { f32::INFINITY };
    let nothing_picked = empty_windows(g, windows);
    for plane in 0..g.planes {
        let mut picks = Picks { values: &input[plane * in_plane..][..in_plane], at: &identity[..] };
        if active[0] {
            pick_across_rows(&picks, 1, d, h * w, &windows[0], better, &mut after_z);
            picks = after_z.borrowed();
        }
        if active[1] {
            pick_across_rows(&picks, od, h, w, &windows[1], better, &mut after_y);
            picks = after_y.borrowed();
        }
        let mut out = Picks { values: &mut output[plane * out_plane..][..out_plane], at: &mut indices[plane * out_plane..][..out_plane] };
        pick_within_rows(&picks, w, &windows[2], better, &mut out);
        // A window with no tap inside the input picked nothing: PyTorch reports the padding value.
        for &(o, at) in &nothing_picked {
            (out.values[o], out.at[o]) = (empty, at);
        }
    }
    (output, indices)
}

/// The windows with no tap inside the input, which pick nothing: each one's output in a plane and
/// the index PyTorch reports for it (the window's first tap at or after 0).
fn empty_windows(g: &PoolGeometry, windows: &Windows) -> Vec<(usize, i32)> {
    let [_, h, w] = g.in_size;
    let mut empty = Vec::new();
    let mut o = 0;
    for wz in &windows[0] {
        for wy in &windows[1] {
            for wx in &windows[2] {
                if wz.taps.is_empty() || wy.taps.is_empty() || wx.taps.is_empty() {
                    empty.push((o, ((wz.first * h + wy.first) * w + wx.first) as i32));
                }
                o += 1;
            }
        }
    }
    empty
}

/// Whether a tap (`v` at index `at`) replaces the pick (`pick` at `pick_at`), `better` saying whether
/// `v` beats `pick`: see `pool_picking`.
#[inline(always)]
fn replaces(better: bool, v: f32, at: i32, pick: f32, pick_at: i32) -> bool {
    better | ((v == pick) & (at < pick_at)) | (v.is_nan() & (!pick.is_nan() | (at > pick_at)))
}

/// `if take { a } else { b }` by masking bits: compilers may turn the `if` into a branch, which
/// mispredicts on every other tap of real data.
#[inline(always)]
fn select_i32(take: bool, a: i32, b: i32) -> i32 {
    let mask = -(take as i32);
    (a & mask) | (b & !mask)
}

#[inline(always)]
fn select(take: bool, a: f32, b: f32) -> f32 {
    f32::from_bits(select_i32(take, a.to_bits() as i32, b.to_bits() as i32) as u32)
}

/// Picked values and their indices in the input plane.
struct Picks<V, I> {
    values: V,
    at: I,
}

impl Picks<Vec<f32>, Vec<i32>> {
    fn new(len: usize) -> Self {
        Picks { values: vec![0.0; len], at: vec![0; len] }
    }
    fn borrowed(&self) -> Picks<&[f32], &[i32]> {
        Picks { values: &self.values, at: &self.at }
    }
}

/// The y and z passes of `pool_picking`: over `blocks` blocks of `len` rows of `row` picks, each
/// window's pick across its rows, whole rows at a time. A window with no tap is left alone (its
/// outputs are fixed up at the end).
fn pick_across_rows(src: &Picks<&[f32], &[i32]>, blocks: usize, len: usize, row: usize, windows: &[AxisWindow], better: impl Fn(f32, f32) -> bool, dst: &mut Picks<Vec<f32>, Vec<i32>>) {
    for b in 0..blocks {
        for (o, window) in windows.iter().enumerate() {
            let Some((&first, rest)) = window.taps.split_first() else { continue };
            let out = (b * windows.len() + o) * row;
            let (values, at) = (&mut dst.values[out..out + row], &mut dst.at[out..out + row]);
            let tap = |t: usize| (b * len + t) * row;
            values.copy_from_slice(&src.values[tap(first)..][..row]);
            at.copy_from_slice(&src.at[tap(first)..][..row]);
            for &t in rest {
                let (tap_values, tap_at) = (&src.values[tap(t)..][..row], &src.at[tap(t)..][..row]);
                for i in 0..row {
                    let (v, a) = (tap_values[i], tap_at[i]);
                    let take = replaces(better(v, values[i]), v, a, values[i], at[i]);
                    (values[i], at[i]) = (select(take, v, values[i]), select_i32(take, a, at[i]));
                }
            }
        }
    }
}

/// The x pass of `pool_picking`: each window's pick within each row of `len` picks.
fn pick_within_rows(src: &Picks<&[f32], &[i32]>, len: usize, windows: &[AxisWindow], better: impl Fn(f32, f32) -> bool, dst: &mut Picks<&mut [f32], &mut [i32]>) {
    let rows = src.values.chunks_exact(len).zip(src.at.chunks_exact(len));
    for ((row, row_at), (values, at)) in rows.zip(dst.values.chunks_exact_mut(windows.len()).zip(dst.at.chunks_exact_mut(windows.len()))) {
        for (o, window) in windows.iter().enumerate() {
            let Some((&first, rest)) = window.taps.split_first() else { continue };
            let (mut pick, mut pick_at) = (row[first], row_at[first]);
            for &x in rest {
                let (v, a) = (row[x], row_at[x]);
                let take = replaces(better(v, pick), v, a, pick, pick_at);
                (pick, pick_at) = (select(take, v, pick), select_i32(take, a, pick_at));
            }
            values[o] = pick;
            at[o] = pick_at;
        }
    }
}

/// How the separable passes combine taps: max and min propagate NaN (as PyTorch's pick of a NaN does).
trait Reduction {
    /// The value of a window with no tap inside the input.
    const EMPTY: f32;
    fn scalar(a: f32, b: f32) -> f32;
    fn vector(a: F32x4, b: F32x4) -> F32x4;
}

struct MaxOf;
struct MinOf;
struct SumOf;

impl Reduction for MaxOf {
    const EMPTY: f32 = f32::NEG_INFINITY;
    fn scalar(a: f32, b: f32) -> f32 {
        if a > b || a.is_nan() {
            a
        } else {
            b
        }
    }
    fn vector(a: F32x4, b: F32x4) -> F32x4 {
        a.max(b)
    }
}

impl Reduction for MinOf {
    const EMPTY: f32 = f32::INFINITY;
    fn scalar(a: f32, b: f32) -> f32 {
        if a < b || a.is_nan() {
            a
        } else {
            b
        }
    }
    fn vector(a: F32x4, b: F32x4) -> F32x4 {
        a.min(b)
    }
}

impl Reduction for SumOf {
    const EMPTY: f32 = 0.0;
    fn scalar(a: f32, b: f32) -> f32 {
        a + b
    }
    fn vector(a: F32x4, b: F32x4) -> F32x4 {
        a.add(b)
    }
}

/// Pooling values (no indices). A window is a box, so its max, min or sum is taken one axis at a
/// time: along x within each row, then y, then z, `kx + ky + kz` taps per output instead of their
/// product, and the y and z passes combine whole rows with vectors. An axis with a 1-wide window and
/// stride 1 is skipped.
fn pool_separable<R: Reduction>(input: &[f32], g: &PoolGeometry, windows: &Windows) -> Vec<f32> {
    let [d, h, w] = g.in_size;
    let [od, oh, ow] = g.out_size;
    let in_plane = d * h * w;
    let out_plane = od * oh * ow;
    let active: [bool; 3] = std::array::from_fn(|a| g.kernel[a] != 1 || g.stride[a] != 1);
    // The passes run x, y, z: the last active one writes the output.
    let last = (0..3).find(|&a| active[a]);
    let mut output = vec![0.0; g.planes * out_plane];
    let mut after_x = vec![0.0; if active[2] && last != Some(2) { d * h * ow } else { 0 }];
    let mut after_y = vec![0.0; if active[1] && last != Some(1) { d * oh * ow } else { 0 }];
    for (src, dst) in input.chunks_exact(in_plane).zip(output.chunks_exact_mut(out_plane)) {
        // What the next pass reads: the input, or the last pass's scratch (a pass that wrote the
        // output is the last).
        let mut rows = src;
        if active[2] {
            let into = if last == Some(2) { &mut *dst } else { &mut after_x[..] };
            reduce_within_rows::<R>(rows, w, &windows[2], g, into);
            rows = &after_x;
        }
        if active[1] {
            let into = if last == Some(1) { &mut *dst } else { &mut after_y[..] };
            reduce_across_rows::<R>(rows, d, h, ow, &windows[1], into);
            rows = &after_y;
        }
        if active[0] {
            reduce_across_rows::<R>(rows, 1, d, oh * ow, &windows[0], dst);
        } else if last.is_none() {
            dst.copy_from_slice(src);
        }
    }
    if g.params.kind == PoolKind::Avg {
        divide_by_window(&mut output, g, windows);
    }
    output
}

/// `dst[r][o] = reduce of src[r][x] over window o's taps x`, for rows of length `len` (the x pass).
/// Windows that lie wholly inside the row take four outputs at a time.
fn reduce_within_rows<R: Reduction>(src: &[f32], len: usize, windows: &[AxisWindow], g: &PoolGeometry, dst: &mut [f32]) {
    let (kernel, stride, dilation, pad) = (g.kernel[2], g.stride[2], g.dilation[2], g.padding[2]);
    let out_len = windows.len();
    // Outputs `inside` have every tap in the row: start = o * stride - pad >= 0 and
    // start + (kernel - 1) * dilation < len.
    let first_inside = pad.div_ceil(stride);
    let reach = (kernel - 1) * dilation;
    let end_inside = if len + pad > reach { ((len + pad - reach - 1) / stride + 1).min(out_len) } else { 0 };
    let first_inside = first_inside.min(out_len);
    let inside = first_inside..end_inside.max(first_inside);
    for (row, out) in src.chunks_exact(len).zip(dst.chunks_exact_mut(out_len)) {
        for o in (0..inside.start).chain(inside.end..out_len) {
            out[o] = windows[o].taps.iter().fold(R::EMPTY, |acc, &x| R::scalar(acc, row[x]));
        }
        let mut o = inside.start;
        while o + LANES <= inside.end {
            let start = o * stride - pad;
            // SAFETY (both loads): they read `row[at..=at + 3 * stride]`, the four lanes' taps,
            // which lie inside the row because the lanes' outputs are `inside`.
            let load = |at: usize| match stride {
                1 => unsafe { F32x4::load_unchecked(row, at) },
                2 => unsafe { F32x4::load_even_unchecked(row, at) },
                _ => F32x4::gather(&row[at..], stride),
            };
            let mut acc = load(start);
            for k in 1..kernel {
                acc = R::vector(acc, load(start + k * dilation));
            }
            // SAFETY: o + LANES <= inside.end <= out_len = out.len().
            unsafe { acc.store_unchecked(out, o) };
            o += LANES;
        }
        for (o, value) in out.iter_mut().enumerate().take(inside.end).skip(o) {
            let start = o * stride - pad;
            *value = (1..kernel).fold(row[start], |acc, k| R::scalar(acc, row[start + k * dilation]));
        }
    }
}

/// `dst[b][o][i] = reduce of src[b][t][i] over window o's taps t`, over `blocks` blocks of `len`
/// rows of `row` elements (the y and z passes): whole rows combined with vectors.
fn reduce_across_rows<R: Reduction>(src: &[f32], blocks: usize, len: usize, row: usize, windows: &[AxisWindow], dst: &mut [f32]) {
    for b in 0..blocks {
        let block = &src[b * len * row..(b + 1) * len * row];
        for (o, window) in windows.iter().enumerate() {
            let out = &mut dst[(b * windows.len() + o) * row..][..row];
            let Some((&first, rest)) = window.taps.split_first() else {
                out.fill(R::EMPTY);
                continue;
            };
            out.copy_from_slice(&block[first * row..(first + 1) * row]);
            for &t in rest {
                let tap = &block[t * row..(t + 1) * row];
                let mut i = 0;
                while i + LANES <= row {
                    // SAFETY: i + LANES <= row = out.len() = tap.len().
                    unsafe { R::vector(F32x4::load_unchecked(out, i), F32x4::load_unchecked(tap, i)).store_unchecked(out, i) };
                    i += LANES;
                }
                for i in i..row {
                    out[i] = R::scalar(out[i], tap[i]);
                }
            }
        }
    }
}

/// Average pooling's last step: each window's sum divided by its divisor.
fn divide_by_window(output: &mut [f32], g: &PoolGeometry, windows: &Windows) {
    let out_plane: usize = g.out_size.iter().product();
    for plane in output.chunks_exact_mut(out_plane) {
        let mut sums = plane.iter_mut();
        for wz in &windows[0] {
            for wy in &windows[1] {
                for wx in &windows[2] {
                    *sums.next().unwrap() /= avg_divisor(g, wz, wy, wx);
                }
            }
        }
    }
}

/// Gradient of `pool_forward` with respect to its input: max/min route each output's gradient to
/// the element it picked; average spreads it over the window's taps, divided as in the forward.
pub fn pool_backward(input: &[f32], grad_output: &[f32], g: &PoolGeometry) -> Vec<f32> {
    let in_plane: usize = g.in_size.iter().product();
    let out_plane: usize = g.out_size.iter().product();
    let mut grad = vec![0.0; input.len()];
    let windows = windows(g);
    if g.params.kind != PoolKind::Avg {
        let (_, indices) = picks(input, g, &windows);
        // A window with no tap inside the input picked nothing: its (PyTorch) index may even alias
        // another element, so such windows are skipped by their geometry.
        let mut empty = vec![false; out_plane];
        for (o, _) in empty_windows(g, &windows) {
            empty[o] = true;
        }
        for (o, (&dy, &at)) in grad_output.iter().zip(&indices).enumerate() {
            if !empty[o % out_plane] {
                grad[(o / out_plane) * in_plane + at as usize] += dy;
            }
        }
        return grad;
    }
    // Average: each output's gradient divided by its window's divisor, then spread back over the
    // window one axis at a time (the transposes of `pool_separable`'s passes: z, y, then x).
    let [d, h, w] = g.in_size;
    let [_, oh, ow] = g.out_size;
    let mut shares = grad_output.to_vec();
    divide_by_window(&mut shares, g, &windows);
    let mut after_z = vec![0.0; d * oh * ow];
    let mut after_y = vec![0.0; d * h * ow];
    for (src, dst) in shares.chunks_exact(out_plane).zip(grad.chunks_exact_mut(in_plane)) {
        after_z.fill(0.0);
        spread_across_rows(src, 1, d, oh * ow, &windows[0], &mut after_z);
        after_y.fill(0.0);
        spread_across_rows(&after_z, d, h, ow, &windows[1], &mut after_y);
        spread_within_rows(&after_y, w, &windows[2], dst);
    }
    grad
}

/// `dst[b][t] += src[b][o]` for every tap t of window o, rows of `row` elements, `dst` in `blocks`
/// blocks of `len` rows (the transpose of `reduce_across_rows`).
fn spread_across_rows(src: &[f32], blocks: usize, len: usize, row: usize, windows: &[AxisWindow], dst: &mut [f32]) {
    for b in 0..blocks {
        for (o, window) in windows.iter().enumerate() {
            let from = &src[(b * windows.len() + o) * row..][..row];
            for &t in &window.taps {
                for (to, &v) in dst[(b * len + t) * row..][..row].iter_mut().zip(from) {
                    *to += v;
                }
            }
        }
    }
}

/// `dst[r][x] += src[r][o]` for every tap x of window o, `dst` in rows of `len` (the transpose of
/// `reduce_within_rows`).
fn spread_within_rows(src: &[f32], len: usize, windows: &[AxisWindow], dst: &mut [f32]) {
    for (from, to) in src.chunks_exact(windows.len()).zip(dst.chunks_exact_mut(len)) {
        for (window, &v) in windows.iter().zip(from) {
            for &x in &window.taps {
                to[x] += v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::uniform;

    /// Average pooling the plain way: each window summed in f64 and divided.
    fn naive_average(input: &[f32], g: &PoolGeometry) -> Vec<f64> {
        let w = windows(g);
        let in_plane: usize = g.in_size.iter().product();
        let mut out = Vec::new();
        for src in input.chunks_exact(in_plane) {
            for wz in &w[0] {
                for wy in &w[1] {
                    for wx in &w[2] {
                        let mut sum = 0.0f64;
                        for &z in &wz.taps {
                            for &y in &wy.taps {
                                for &x in &wx.taps {
                                    sum += src[(z * g.in_size[1] + y) * g.in_size[2] + x] as f64;
                                }
                            }
                        }
                        out.push(sum / avg_divisor(g, wz, wy, wx) as f64);
                    }
                }
            }
        }
        out
    }

    /// Max or min pooling window by window, each window's taps in raster order: the pick is the
    /// first better value or the last NaN (PyTorch's CPU kernel), with its index.
    fn walk_picking(input: &[f32], g: &PoolGeometry) -> (Vec<f32>, Vec<i32>) {
        let w = windows(g);
        let in_plane: usize = g.in_size.iter().product();
        let max = g.params.kind == PoolKind::Max;
        let (mut values, mut indices) = (Vec::new(), Vec::new());
        for src in input.chunks_exact(in_plane) {
            for wz in &w[0] {
                for wy in &w[1] {
                    for wx in &w[2] {
                        let mut best = if max { f32::NEG_INFINITY } else { f32::INFINITY };
                        let mut best_at = ((wz.first * g.in_size[1] + wy.first) * g.in_size[2] + wx.first) as i32;
                        let mut seen = false;
                        for &z in &wz.taps {
                            for &y in &wy.taps {
                                for &x in &wx.taps {
                                    let at = (z * g.in_size[1] + y) * g.in_size[2] + x;
                                    let v = src[at];
                                    if !seen || (if max { v > best } else { v < best }) || v.is_nan() {
                                        (best, best_at, seen) = (v, at as i32, true);
                                    }
                                }
                            }
                        }
                        values.push(best);
                        indices.push(best_at);
                    }
                }
            }
        }
        (values, indices)
    }

    /// The average pooling gradient window by window: each output's gradient over its divisor,
    /// added in f64 to every tap.
    fn walk_average_gradient(input_len: usize, grad_output: &[f32], g: &PoolGeometry) -> Vec<f64> {
        let w = windows(g);
        let in_plane: usize = g.in_size.iter().product();
        let mut grad = vec![0.0f64; input_len];
        let mut dys = grad_output.iter();
        for plane in grad.chunks_exact_mut(in_plane) {
            for wz in &w[0] {
                for wy in &w[1] {
                    for wx in &w[2] {
                        let share = *dys.next().unwrap() as f64 / avg_divisor(g, wz, wy, wx) as f64;
                        for &z in &wz.taps {
                            for &y in &wy.taps {
                                for &x in &wx.taps {
                                    plane[(z * g.in_size[1] + y) * g.in_size[2] + x] += share;
                                }
                            }
                        }
                    }
                }
            }
        }
        grad
    }

    #[test]
    fn separable_pooling_matches_window_by_window_pooling() {
        // Geometries in 1 to 3 dimensions with every stride path of the x pass (1, 2, gathered),
        // dilation, padding, ceil mode, rows too short for a vector, and NaN and infinities among
        // the values (max and min must pick a NaN, as the window-by-window pick does): values,
        // max/min indices and the average gradient against the window-by-window walk.
        let mut cases = 0;
        for seed in 0..400u64 {
            let r = |i: u64| (seed.wrapping_mul(2654435761).wrapping_add(i * 40503) >> 7) as usize;
            let dims = 1 + r(1) % 3;
            let kind = [PoolKind::Max, PoolKind::Min, PoolKind::Avg][r(2) % 3];
            let kernel: Vec<usize> = (0..dims).map(|a| 1 + r(10 + a as u64) % 4).collect();
            let stride: Vec<usize> = (0..dims).map(|a| 1 + r(20 + a as u64) % 3).collect();
            let dilation: Vec<usize> = (0..dims).map(|a| if kind == PoolKind::Avg { 1 } else { 1 + r(30 + a as u64) % 2 }).collect();
            let padding: Vec<usize> = (0..dims).map(|a| r(40 + a as u64) % (kernel[a] / 2 + 1)).collect();
            let size: Vec<usize> = (0..dims).map(|a| [1, 3, 7, 19, 26][r(50 + a as u64) % 5]).collect();
            let params = PoolParams {
                kind,
                kernel,
                stride,
                padding,
                dilation,
                ceil_mode: r(3) % 2 == 0,
                count_include_pad: r(4) % 2 == 0,
                divisor_override: (r(5) % 4 == 0).then_some(5),
            };
            let shape: Vec<usize> = [2, 1].into_iter().chain(size).collect();
            let Ok(g) = PoolGeometry::new(&shape, &params) else { continue };
            cases += 1;
            let mut x = uniform(shape.iter().product(), seed);
            for (i, v) in x.iter_mut().enumerate() {
                match (i * 7 + seed as usize) % 23 {
                    0 if kind != PoolKind::Avg => *v = f32::NAN,
                    1 => *v = f32::NEG_INFINITY,
                    2 => *v = f32::INFINITY,
                    _ => {}
                }
            }
            let (got, none) = pool_forward(&x, &g, false);
            assert!(none.is_none());
            if kind == PoolKind::Avg {
                for (o, (&got, want)) in got.iter().zip(naive_average(&x, &g)).enumerate() {
                    let close = (got as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()) || (got.is_nan() && want.is_nan()) || got as f64 == want;
                    assert!(close, "{params:?} {shape:?}: output {o} is {got}, expected {want}");
                }
                let dy = uniform(got.len(), seed + 1);
                let grad = pool_backward(&x, &dy, &g);
                for (i, (&got, want)) in grad.iter().zip(walk_average_gradient(x.len(), &dy, &g)).enumerate() {
                    assert!((got as f64 - want).abs() <= 1e-5 * (1.0 + want.abs()), "{params:?} {shape:?}: gradient {i} is {got}, expected {want}");
                }
            } else {
                let (want, want_at) = walk_picking(&x, &g);
                let (picked, at) = pool_forward(&x, &g, true);
                assert_eq!(at.unwrap(), want_at, "{params:?} {shape:?}: indices");
                for (o, ((&got, &picked), &want)) in got.iter().zip(&picked).zip(&want).enumerate() {
                    assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{params:?} {shape:?}: output {o} is {got}, expected {want}");
                    assert!(picked.to_bits() == want.to_bits() || (picked.is_nan() && want.is_nan()), "{params:?} {shape:?}: picked {o} is {picked}, expected {want}");
                }
            }
        }
        assert!(cases > 250, "only {cases} geometries were valid");
    }

    fn params(kind: PoolKind, k: usize, s: usize, p: usize) -> PoolParams {
        PoolParams {
            kind,
            kernel: vec![k],
            stride: vec![s],
            padding: vec![p],
            dilation: vec![1],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    #[test]
    fn output_length_matches_pytorch_including_ceil_mode() {
        assert_eq!(pool_output_length(5, 2, 2, 0, 1, false), 2);
        assert_eq!(pool_output_length(5, 2, 2, 0, 1, true), 3);
        // ceil_mode drops a window that would start in the right padding.
        assert_eq!(pool_output_length(4, 3, 3, 1, 1, true), 2);
    }

    #[test]
    fn max_min_avg_with_indices() {
        let x = [1.0, 5.0, -2.0, 4.0, 3.0];
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 2, 1)).unwrap();
        let (out, idx) = pool_forward(&x, &g, true);
        assert_eq!(out, vec![1.0, 5.0, 4.0]);
        assert_eq!(idx.unwrap(), vec![0, 1, 3]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Min, 2, 2, 1)).unwrap();
        assert_eq!(pool_forward(&x, &g, false).0, vec![1.0, -2.0, 3.0]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Avg, 2, 2, 1)).unwrap();
        assert_eq!(pool_forward(&x, &g, false).0, vec![0.5, 1.5, 3.5]);
        let mut p = params(PoolKind::Avg, 2, 2, 1);
        p.count_include_pad = false;
        let g = PoolGeometry::new(&[1, 1, 5], &p).unwrap();
        assert_eq!(pool_forward(&x, &g, false).0, vec![1.0, 1.5, 3.5]);
    }

    #[test]
    fn backward_routes_to_the_pick_or_spreads_over_the_window() {
        let x = [1.0, 5.0, -2.0, 4.0, 3.0];
        let dy = [10.0, 20.0, 30.0];
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![10.0, 20.0, 0.0, 30.0, 0.0]);
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Min, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![10.0, 0.0, 20.0, 0.0, 30.0]);
        // Windows [pad, 0], [1, 2], [3, 4], each divided by 2.
        let g = PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Avg, 2, 2, 1)).unwrap();
        assert_eq!(pool_backward(&x, &dy, &g), vec![5.0, 10.0, 10.0, 15.0, 15.0]);
    }

    #[test]
    fn a_window_entirely_in_the_padding_reports_pytorchs_index_and_gets_no_gradient() {
        // PyTorch: max_pool1d([[[5.]]], 2, stride=2, padding=1, dilation=2) -> (-inf, index 1).
        let mut p = params(PoolKind::Max, 2, 2, 1);
        p.dilation = vec![2];
        let g = PoolGeometry::new(&[1, 1, 1], &p).unwrap();
        let (out, idx) = pool_forward(&[5.0], &g, true);
        assert_eq!((out, idx.unwrap()), (vec![f32::NEG_INFINITY], vec![1]));
        assert_eq!(pool_backward(&[5.0], &[1.0], &g), vec![0.0]);
    }

    #[test]
    fn rejects_padding_over_half_the_kernel() {
        assert!(PoolGeometry::new(&[1, 1, 5], &params(PoolKind::Max, 2, 1, 2)).is_err());
    }
}
