//! The one padding mechanism every op shares: a padded coordinate maps back to a source index
//! (or to nothing, for zeros), and `pad_image` materializes a padded copy with that map.

use crate::simd::F32x4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingMode {
    Zeros,
    /// Mirror without repeating the edge (PyTorch reflect, OpenCV REFLECT_101, scipy 'mirror').
    Reflect,
    /// Mirror repeating the edge (OpenCV REFLECT, scipy 'reflect', numpy 'symmetric').
    Symmetric,
    Replicate,
    Circular,
}

impl PaddingMode {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => PaddingMode::Zeros,
            1 => PaddingMode::Reflect,
            2 => PaddingMode::Symmetric,
            3 => PaddingMode::Replicate,
            4 => PaddingMode::Circular,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Symmetric => "symmetric",
            PaddingMode::Replicate => "replicate",
            PaddingMode::Circular => "circular",
        }
    }

    /// Largest padding on one side this mode accepts for an axis of length `n` (PyTorch's limits:
    /// reflect needs pad < n; circular, and by analogy symmetric, need pad <= n).
    pub fn max_pad(self, n: usize) -> usize {
        match self {
            PaddingMode::Zeros | PaddingMode::Replicate => usize::MAX,
            PaddingMode::Reflect => n.saturating_sub(1),
            PaddingMode::Symmetric | PaddingMode::Circular => n,
        }
    }

    /// Source index for coordinate `i` of an axis padded by `before` in front of its `n` elements.
    /// Inside the axis it is a subtraction; only the padding takes the mode's (costlier) mapping.
    #[inline(always)]
    fn padded_source(self, i: usize, before: usize, n: usize) -> Option<usize> {
        let j = i.wrapping_sub(before);
        if j < n {
            Some(j)
        } else {
            self.source_index(i as isize - before as isize, n)
        }
    }

    /// Source index for coordinate `i` of an axis of length `n` (`i` may lie outside 0..n).
    #[inline]
    pub fn source_index(self, i: isize, n: usize) -> Option<usize> {
        let n_i = n as isize;
        if (0..n_i).contains(&i) {
            return Some(i as usize);
        }
        match self {
            PaddingMode::Zeros => None,
            PaddingMode::Replicate => Some(i.clamp(0, n_i - 1) as usize),
            PaddingMode::Circular => Some(i.rem_euclid(n_i) as usize),
            PaddingMode::Reflect => {
                if n == 1 {
                    return Some(0);
                }
                let period = 2 * (n_i - 1);
                let j = i.rem_euclid(period);
                Some(if j < n_i { j } else { period - j } as usize)
            }
            PaddingMode::Symmetric => {
                let period = 2 * n_i;
                let j = i.rem_euclid(period);
                Some(if j < n_i { j } else { period - 1 - j } as usize)
            }
        }
    }
}

/// How an image of `size` (`[d, h, w]` per channel) is padded: the widths before and after it on
/// each axis, and the mode that fills them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImagePadding {
    pub size: [usize; 3],
    pub before: [usize; 3],
    pub after: [usize; 3],
    pub mode: PaddingMode,
}

impl ImagePadding {
    pub fn padded_size(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.size[a] + self.before[a] + self.after[a])
    }

    fn plane(&self) -> usize {
        self.size.iter().product()
    }

    fn padded_plane(&self) -> usize {
        self.padded_size().iter().product()
    }
}

/// Pads a `[channels, d, h, w]` block to `[channels, d+pd, h+ph, w+pw]`.
pub fn pad_image(src: &[f32], channels: usize, p: &ImagePadding, dst: &mut Vec<f32>) {
    let (size, pad_before, mode) = (p.size, p.before, p.mode);
    let (padded, plane, padded_plane) = (p.padded_size(), p.plane(), p.padded_plane());
    // Every element is written below, so a reused buffer is not cleared first.
    dst.truncate(channels * padded_plane);
    dst.resize(channels * padded_plane, 0.0);
    for (src_c, dst_c) in src.chunks_exact(plane).zip(dst.chunks_exact_mut(padded_plane)).take(channels) {
        for (z, dst_z) in dst_c.chunks_exact_mut(padded[1] * padded[2]).enumerate() {
            let sz = mode.padded_source(z, pad_before[0], size[0]);
            for (y, dst_row) in dst_z.chunks_exact_mut(padded[2]).enumerate() {
                let sy = mode.padded_source(y, pad_before[1], size[1]);
                let (Some(sz), Some(sy)) = (sz, sy) else {
                    dst_row.fill(0.0);
                    continue;
                };
                let src_row = &src_c[(sz * size[1] + sy) * size[2]..][..size[2]];
                let (left, rest) = dst_row.split_at_mut(pad_before[2]);
                let (middle, right) = rest.split_at_mut(size[2]);
                copy_row(src_row, middle);
                let edge = |x: usize| mode.padded_source(x, pad_before[2], size[2]).map_or(0.0, |sx| src_row[sx]);
                for (x, v) in left.iter_mut().enumerate() {
                    *v = edge(x);
                }
                for (x, v) in right.iter_mut().enumerate() {
                    *v = edge(pad_before[2] + size[2] + x);
                }
            }
        }
    }
}

/// A padded copy of an image kept between calls. Zero padding writes the same border for every
/// image of a shape, so once written it is kept: later fills of that shape copy only the image's
/// rows, which matters for depthwise convolutions, where the border is a fifth of each small plane.
#[derive(Default)]
pub struct PaddedImage {
    data: Vec<f32>,
    /// `(channels, padding, tail)` of the zero border `data` holds, if any.
    zero_border: Option<(usize, ImagePadding, usize)>,
}

impl PaddedImage {
    /// Pads `src` (`[channels, ...p.size]`) as `pad_image` does, followed by `tail` zeros (for
    /// kernels whose loads run past the image), and returns the padded copy.
    pub fn fill(&mut self, src: &[f32], channels: usize, p: &ImagePadding, tail: usize) -> &[f32] {
        let shape = Some((channels, *p, tail));
        if p.mode == PaddingMode::Zeros && self.zero_border == shape {
            copy_interior(src, channels, p, &mut self.data);
        } else {
            pad_image(src, channels, p, &mut self.data);
            self.data.resize(self.data.len() + tail, 0.0);
            self.zero_border = shape.filter(|_| p.mode == PaddingMode::Zeros);
        }
        &self.data
    }

    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

/// Copies the rows of `src` into the interior of `dst`, an image padded by `p`, leaving its border
/// as it is.
fn copy_interior(src: &[f32], channels: usize, p: &ImagePadding, dst: &mut [f32]) {
    let (size, before, padded) = (p.size, p.before, p.padded_size());
    for (src_c, dst_c) in src.chunks_exact(p.plane()).zip(dst.chunks_exact_mut(p.padded_plane())).take(channels) {
        for (r, src_row) in src_c.chunks_exact(size[2]).enumerate() {
            let (z, y) = (r / size[1] + before[0], r % size[1] + before[1]);
            copy_row(src_row, &mut dst_c[(z * padded[1] + y) * padded[2] + before[2]..][..size[2]]);
        }
    }
}

/// `dst.copy_from_slice(src)` for a short row, two vectors at a time: LLVM turns a plain copy loop
/// into wasm's `memory.copy`, which V8 runs as a call out of wasm, costly for one row.
fn copy_row(src: &[f32], dst: &mut [f32]) {
    let (s8, s_rest) = src.as_chunks::<8>();
    let (d8, d_rest) = dst[..src.len()].as_chunks_mut::<8>();
    for (d, s) in d8.iter_mut().zip(s8) {
        let (lo, hi) = (F32x4::load(&s[..4]), F32x4::load(&s[4..]));
        hi.store(&mut d[4..]);
        lo.store(&mut d[..4]);
    }
    for (d, s) in d_rest.iter_mut().zip(s_rest) {
        *d = *s;
    }
}

/// The adjoint of `pad_image`: adds the gradient of every padded element to the source element it
/// was read from (elements that read zeros have no source). `dst` holds `[channels, d, h, w]` and
/// is accumulated into.
pub fn unpad_add(grad_padded: &[f32], channels: usize, p: &ImagePadding, dst: &mut [f32]) {
    let (size, padded) = (p.size, p.padded_size());
    let maps: [Vec<Option<usize>>; 3] = std::array::from_fn(|a| {
        (0..padded[a]).map(|i| p.mode.padded_source(i, p.before[a], size[a])).collect()
    });
    let (plane, padded_plane) = (p.plane(), p.padded_plane());
    for c in 0..channels {
        let src_c = &grad_padded[c * padded_plane..(c + 1) * padded_plane];
        let dst_c = &mut dst[c * plane..(c + 1) * plane];
        for (z, sz) in maps[0].iter().enumerate() {
            let Some(sz) = sz else { continue };
            for (y, sy) in maps[1].iter().enumerate() {
                let Some(sy) = sy else { continue };
                let src_row = &src_c[(z * padded[1] + y) * padded[2]..][..padded[2]];
                let dst_row = &mut dst_c[(sz * size[1] + sy) * size[2]..][..size[2]];
                for (&g, sx) in src_row.iter().zip(&maps[2]) {
                    if let Some(sx) = sx {
                        dst_row[*sx] += g;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::MODES;

    fn padding(size: [usize; 3], before: [usize; 3], after: [usize; 3], mode: PaddingMode) -> ImagePadding {
        ImagePadding { size, before, after, mode }
    }

    fn extend(mode: PaddingMode, n: usize, lo: isize, hi: isize) -> Vec<Option<usize>> {
        (lo..hi).map(|i| mode.source_index(i, n)).collect()
    }

    #[test]
    fn modes_match_numpy_pad_conventions() {
        // numpy.pad([0,1,2,3], 3, mode) for each mode, written as source indices.
        let s = |v: &[usize]| v.iter().map(|&i| Some(i)).collect::<Vec<_>>();
        assert_eq!(extend(PaddingMode::Reflect, 4, -3, 7), s(&[3, 2, 1, 0, 1, 2, 3, 2, 1, 0]));
        assert_eq!(extend(PaddingMode::Symmetric, 4, -3, 7), s(&[2, 1, 0, 0, 1, 2, 3, 3, 2, 1]));
        assert_eq!(extend(PaddingMode::Replicate, 4, -3, 7), s(&[0, 0, 0, 0, 1, 2, 3, 3, 3, 3]));
        assert_eq!(extend(PaddingMode::Circular, 4, -3, 7), s(&[1, 2, 3, 0, 1, 2, 3, 0, 1, 2]));
        assert_eq!(extend(PaddingMode::Zeros, 2, -1, 3), vec![None, Some(0), Some(1), None]);
        assert_eq!(extend(PaddingMode::Reflect, 1, -2, 3), s(&[0, 0, 0, 0, 0]));
    }

    #[test]
    fn pad_image_pads_every_axis() {
        // 1 channel, 1x2x3 -> pad h by (1,0) and w by (0,2) with replicate.
        let src = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut dst = Vec::new();
        pad_image(&src, 1, &padding([1, 2, 3], [0, 1, 0], [0, 0, 2], PaddingMode::Replicate), &mut dst);
        assert_eq!(
            dst,
            vec![1.0, 2.0, 3.0, 3.0, 3.0, 1.0, 2.0, 3.0, 3.0, 3.0, 4.0, 5.0, 6.0, 6.0, 6.0]
        );
    }

    #[test]
    fn pad_image_overwrites_a_reused_buffer() {
        // A buffer left longer and full of NaN by an earlier call ends up exactly the fresh result:
        // every padded element is written, zeros included. Widths 9 and 16 take the vector copy
        // with and without a scalar rest.
        for (mode, w) in MODES.iter().flat_map(|&m| [(m, 9), (m, 16)]) {
            let x: Vec<f32> = (0..2 * 3 * w).map(|i| i as f32).collect();
            let (mut fresh, mut reused) = (Vec::new(), vec![f32::NAN; 1000]);
            pad_image(&x, 2, &padding([1, 3, w], [0, 2, 2], [0, 1, 3], mode), &mut fresh);
            pad_image(&x, 2, &padding([1, 3, w], [0, 2, 2], [0, 1, 3], mode), &mut reused);
            assert_eq!(fresh.len(), 2 * 6 * (w + 5));
            assert_eq!(reused, fresh, "{mode:?} width {w}");
        }
    }

    #[test]
    fn padded_image_refills_match_a_fresh_pad() {
        // Each fill equals a fresh pad_image plus the zero tail, whatever the previous fill was:
        // zero fills of one shape in a row (the kept border), then other modes, shapes and tails
        // that must not reuse it. 3-D, so the interior copy walks depth and rows.
        let image = |seed: usize, n: usize| (0..n).map(|i| ((i * 7 + seed * 3) % 11) as f32 - 5.0).collect::<Vec<_>>();
        let steps = [
            (PaddingMode::Zeros, [2, 3, 5], [1, 1, 2], [0, 2, 1], 0),
            (PaddingMode::Zeros, [2, 3, 5], [1, 1, 2], [0, 2, 1], 0),
            (PaddingMode::Reflect, [2, 3, 5], [1, 1, 2], [0, 2, 1], 0),
            (PaddingMode::Zeros, [2, 3, 5], [1, 1, 2], [0, 2, 1], 0),
            (PaddingMode::Zeros, [2, 3, 5], [1, 1, 2], [0, 2, 1], 4),
            (PaddingMode::Zeros, [2, 3, 5], [1, 1, 2], [0, 2, 1], 4),
            (PaddingMode::Zeros, [1, 4, 5], [0, 1, 1], [0, 1, 1], 4),
            (PaddingMode::Replicate, [1, 4, 5], [0, 1, 1], [0, 1, 1], 4),
        ];
        let mut kept = PaddedImage::default();
        for (step, &(mode, size, before, after, tail)) in steps.iter().enumerate() {
            let x = image(step, 3 * size.iter().product::<usize>());
            let mut fresh = Vec::new();
            let p = padding(size, before, after, mode);
            pad_image(&x, 3, &p, &mut fresh);
            fresh.resize(fresh.len() + tail, 0.0);
            assert_eq!(kept.fill(&x, 3, &p, tail), &fresh[..], "step {step}");
        }
    }

    #[test]
    fn unpad_add_is_the_adjoint_of_pad_image() {
        // <pad(x), g> == <x, unpad_add(g)> for every mode, with asymmetric padding on every axis.
        let (size, before, after) = ([2, 3, 4], [1, 2, 0], [2, 1, 3]);
        let x: Vec<f32> = (0..2 * 24).map(|i| ((i * 7 % 13) as f32) - 6.0).collect();
        let padded_len = 2 * 5 * 6 * 7;
        let g: Vec<f32> = (0..padded_len).map(|i| ((i * 5 % 11) as f32) - 5.0).collect();
        for mode in MODES {
            let (before, after) = if mode == PaddingMode::Reflect { ([1, 2, 0], [1, 1, 3]) } else { (before, after) };
            let mut padded = Vec::new();
            let p = padding(size, before, after, mode);
            pad_image(&x, 2, &p, &mut padded);
            let mut back = vec![0.0; x.len()];
            unpad_add(&g[..padded.len()], 2, &p, &mut back);
            let lhs: f32 = padded.iter().zip(&g).map(|(a, b)| a * b).sum();
            let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert_eq!(lhs, rhs, "{mode:?}");
        }
    }
}
