//! FFT convolution by overlap-save over the padded image `execute` makes. The output plane is cut
//! into tiles; each tile's input window (`tile` rows and columns, powers of two) is transformed,
//! multiplied with every kernel spectrum and summed over input channels (and depth taps, for 3-D),
//! then transformed back. Each kernel is stored wrapped around the tile origin (tap `t` at
//! `-t * dilation` modulo the tile), so the circular product is the cross-correlation itself and
//! the first `tile - extent + 1` rows and columns of the result are exact outputs.

use crate::fft::{block_index, RealFft2, BLOCK};
use crate::geometry::ConvGeometry;
use crate::simd::{F32x4, LANES};

/// Kernel spectra for one geometry and tile: computed once per weight tensor, kept apart from
/// execution so a caller can reuse them across calls with the same weights.
pub struct FftWeights {
    fft: RealFft2,
    /// `[out_channels][in_channels_per_group][kernel depth][spectrum]`, scaled so the inverse
    /// transform of a product needs no further scaling.
    spectra: Vec<f32>,
}

impl FftWeights {
    /// Floats held.
    pub fn len(&self) -> usize {
        self.spectra.len()
    }

    /// `weight` as the executors see it (already flipped when `g.flip`); `tile` from the planner.
    pub fn new(g: &ConvGeometry, tile: [usize; 2], weight: &[f32]) -> Self {
        let fft = RealFft2::new(tile[0], tile[1]);
        let [kd, kh, kw] = g.kernel;
        let (th, tw) = (fft.rows(), fft.cols());
        let spectrum_len = fft.spectrum_len();
        let planes = weight.len() / (kh * kw);
        let mut spectra = vec![0.0; planes * spectrum_len];
        let mut packed = vec![0.0; fft.packed_len()];
        // forward doubles each spectrum and inverse multiplies by th * tw.
        let scale = F32x4::splat(1.0 / (4 * th * tw) as f32);
        debug_assert_eq!(planes, g.out_channels * g.in_channels_per_group() * kd);
        for (kernel, spectrum) in weight.chunks_exact(kh * kw).zip(spectra.chunks_exact_mut(spectrum_len)) {
            packed.fill(0.0);
            for b in 0..kh {
                for e in 0..kw {
                    let r = (th - b * g.dilation[1] % th) % th;
                    let c = (tw - e * g.dilation[2] % tw) % tw;
                    packed[block_index(tw, r / 2, c) + (r % 2) * LANES] = kernel[b * kw + e];
                }
            }
            fft.forward(&mut packed, spectrum);
            for v in spectrum.chunks_exact_mut(LANES) {
                F32x4::load(v).mul(scale).store(v);
            }
        }
        FftWeights { fft, spectra }
    }

    fn spectrum(&self, index: usize) -> &[f32] {
        let len = self.fft.spectrum_len();
        &self.spectra[index * len..(index + 1) * len]
    }
}

/// One image of a stride-1 convolution: `padded` is `[in_channels, padded d, h, w]`, `out` is
/// `[out_channels, out d, h, w]`. With `fold` (one output row, one kernel row) tile row `r` is the
/// `r`-th segment of `valid columns` outputs along the row rather than the next row.
pub fn fft_conv(g: &ConvGeometry, fold: bool, weights: &FftWeights, padded: &[f32], bias: Option<&[f32]>, out: &mut [f32]) {
    let fft = &weights.fft;
    let [pd, ph, pw] = g.padded_size();
    let [od_n, oh_n, ow_n] = g.out_size;
    let kd = g.kernel[0];
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let valid_h = fft.rows() + 1 - (g.dilation[1] * (g.kernel[1] - 1) + 1);
    let valid_w = fft.cols() + 1 - (g.dilation[2] * (g.kernel[2] - 1) + 1);
    // Output (and padded input) coordinates of row `r` of the tile at (oy, ox).
    let origin = |oy: usize, ox: usize, r: usize| if fold { (0, ox + r * valid_w) } else { (oy + r, ox) };
    let (step_y, step_x) = if fold { (1, fft.rows() * valid_w) } else { (valid_h, valid_w) };
    let (plane, out_plane) = (ph * pw, g.out_plane());
    let spectrum_len = fft.spectrum_len();
    let mut packed = vec![0.0; fft.packed_len()];
    let mut spectrum = vec![0.0; spectrum_len];
    let mut acc = vec![0.0; cout_g * spectrum_len];
    for group in 0..g.groups {
        for od in 0..od_n {
            for oy in (0..oh_n).step_by(step_y) {
                for ox in (0..ow_n).step_by(step_x) {
                    for ci in 0..cin_g {
                        for a in 0..kd {
                            let z = od + a * g.dilation[0];
                            let src = &padded[((group * cin_g + ci) * pd + z) * plane..][..plane];
                            gather_tile(src, ph, pw, |r| origin(oy, ox, r), fft.rows(), fft.cols(), &mut packed);
                            fft.forward(&mut packed, &mut spectrum);
                            for (co, acc_co) in acc.chunks_exact_mut(spectrum_len).enumerate() {
                                let kernel = weights.spectrum(((group * cout_g + co) * cin_g + ci) * kd + a);
                                // The first product starts the sum: no separate clearing pass.
                                multiply_accumulate(acc_co, &spectrum, kernel, ci + a > 0);
                            }
                        }
                    }
                    for (co, acc_co) in acc.chunks_exact_mut(spectrum_len).enumerate() {
                        let co = group * cout_g + co;
                        fft.inverse(acc_co, &mut packed);
                        let out_c = &mut out[co * out_plane + od * oh_n * ow_n..][..oh_n * ow_n];
                        for r in 0..if fold { fft.rows() } else { valid_h } {
                            let (y, x) = origin(oy, ox, r);
                            if y >= oh_n || x >= ow_n {
                                break;
                            }
                            let dst = &mut out_c[y * ow_n + x..][..valid_w.min(ow_n - x)];
                            scatter_row(&packed, fft.cols(), r, dst, bias.map_or(0.0, |b| b[co]));
                        }
                    }
                }
            }
        }
    }
}

/// Packs the `rows x cols` tile whose row `r` starts at padded coordinates `origin(r)` for
/// `RealFft2::forward`, reading zeros past the plane's edge (they only reach outputs past the
/// output's edge).
fn gather_tile(src: &[f32], ph: usize, pw: usize, origin: impl Fn(usize) -> (usize, usize), rows: usize, cols: usize, packed: &mut [f32]) {
    for r in 0..rows {
        let dst_row = &mut packed[(r / 2) * 2 * cols..][..2 * cols];
        let part = (r % 2) * LANES;
        let (y, x) = origin(r);
        if y >= ph || x >= pw {
            for b in dst_row.chunks_exact_mut(BLOCK) {
                b[part..part + LANES].fill(0.0);
            }
            continue;
        }
        let src_row = &src[y * pw..][..pw];
        let inside = (pw - x).min(cols);
        let whole = inside / LANES;
        for (b, lanes) in dst_row.chunks_exact_mut(BLOCK).zip(src_row[x..x + whole * LANES].chunks_exact(LANES)) {
            F32x4::load(lanes).store(&mut b[part..part + LANES]);
        }
        for c in whole * LANES..cols {
            dst_row[(c / LANES) * BLOCK + part + c % LANES] = if c < inside { src_row[x + c] } else { 0.0 };
        }
    }
}

/// Writes row `r` of an inverse-transformed tile (its first `dst.len()` columns) plus `bias`.
fn scatter_row(packed: &[f32], cols: usize, r: usize, dst: &mut [f32], bias: f32) {
    let src = &packed[(r / 2) * 2 * cols..][..2 * cols];
    let part = (r % 2) * LANES;
    let whole = dst.len() / LANES;
    let vbias = F32x4::splat(bias);
    for (d, b) in dst.chunks_exact_mut(LANES).zip(src.chunks_exact(BLOCK)) {
        F32x4::load(&b[part..part + LANES]).add(vbias).store(d);
    }
    for c in whole * LANES..dst.len() {
        dst[c] = src[(c / LANES) * BLOCK + part + c % LANES] + bias;
    }
}

/// `acc += x * k` (or `acc = x * k` when not `accumulate`) elementwise over two spectra.
fn multiply_accumulate(acc: &mut [f32], x: &[f32], k: &[f32], accumulate: bool) {
    for ((a, x), k) in acc.chunks_exact_mut(BLOCK).zip(x.chunks_exact(BLOCK)).zip(k.chunks_exact(BLOCK)) {
        let (xr, xi) = (F32x4::load(&x[..LANES]), F32x4::load(&x[LANES..]));
        let (kr, ki) = (F32x4::load(&k[..LANES]), F32x4::load(&k[LANES..]));
        let (ar, ai) = if accumulate {
            (F32x4::load(&a[..LANES]), F32x4::load(&a[LANES..]))
        } else {
            (F32x4::zero(), F32x4::zero())
        };
        ar.mul_add(xr, kr).sub(xi.mul(ki)).store(&mut a[..LANES]);
        ai.mul_add(xr, ki).mul_add(xi, kr).store(&mut a[LANES..]);
    }
}
