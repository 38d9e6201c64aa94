//! The planner: decides how a convolution is computed, separately from computing it, so the choice
//! can be tested on its own (RustFFT's planner/recipe split).

use crate::calibration;
use crate::error::ConvError;
use crate::geometry::ConvGeometry;
use crate::gemm::NR;
use crate::simd::LANES;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Auto,
    Direct,
    Im2col,
    Winograd,
    Fft,
}

impl Algorithm {
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Algorithm::Auto,
            1 => Algorithm::Direct,
            2 => Algorithm::Im2col,
            3 => Algorithm::Winograd,
            4 => Algorithm::Fft,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Auto => "auto",
            Algorithm::Direct => "direct",
            Algorithm::Im2col => "im2col",
            Algorithm::Winograd => "winograd",
            Algorithm::Fft => "fft",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvPlan {
    /// Register-blocked direct loops: output tiles stay in registers over every channel and tap.
    Direct,
    /// Direct loops for one input channel per group, with unrolled small-kernel tiles.
    Depthwise,
    /// im2col packed straight into GEMM panels, `column_block` output positions at a time.
    Im2col { column_block: usize },
    /// Winograd F(m,3) per transformed axis on `tile_block` tiles at a time (3x3 or size-3 1-D
    /// kernels, stride 1; dilation by polyphase decomposition).
    Winograd { tile: WinogradTile, tile_block: usize },
    /// Overlap-save FFT over `tile` (rows, columns) windows of each padded plane. With `fold` (a
    /// one-row output and a one-row kernel, e.g. 1-D) a tile's rows are consecutive segments of
    /// that row instead of consecutive rows, so no tile row is wasted.
    Fft { tile: [usize; 2], fold: bool },
}

impl ConvPlan {
    /// The executor's name, as reported to callers.
    pub fn name(&self) -> &'static str {
        match self {
            ConvPlan::Direct | ConvPlan::Depthwise => "direct",
            ConvPlan::Im2col { .. } => "im2col",
            ConvPlan::Winograd { .. } => "winograd",
            ConvPlan::Fft { .. } => "fft",
        }
    }
}

/// Outputs per tile and transformed axis: F(2,3) (F(2x2,3x3) in 2-D) is the more accurate, F(4,3)
/// (F(4x4,3x3)) does fewer multiplications (4x fewer than direct in 2-D, against 2.25x).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinogradTile {
    F2,
    F4,
}

impl WinogradTile {
    pub fn outputs(self) -> usize {
        match self {
            WinogradTile::F2 => 2,
            WinogradTile::F4 => 4,
        }
    }
    /// Inputs per tile and axis for a size-3 kernel.
    pub fn inputs(self) -> usize {
        self.outputs() + 2
    }
}

/// Bytes of packed im2col columns kept live at once: sized to sit in L2 next to the weights.
const COLUMN_BLOCK_BYTES: usize = 256 * 1024;

/// Bytes of transformed input tiles kept live at once (the GEMM results take as much again).
const WINOGRAD_BLOCK_BYTES: usize = 256 * 1024;

/// Why Winograd cannot serve `g`, or None when it can.
fn winograd_unsupported(g: &ConvGeometry) -> Option<String> {
    let spatial = g.spatial_dims;
    let kernel = &g.kernel[3 - spatial..];
    if spatial == 3 || kernel.iter().any(|&k| k != 3) || g.stride != [1; 3] {
        return Some(format!(
            "algorithm 'winograd' serves 1-D and 2-D convolutions with kernel size 3 on every axis and stride 1, got a {spatial}-D kernel {kernel:?} with stride {:?}",
            &g.stride[3 - spatial..]
        ));
    }
    None
}

/// When 'auto' takes Winograd: enough channels per group for its small GEMMs, and enough output
/// positions for its ragged last tiles to pay off (thresholds measured by `npm run calibrate`).
fn auto_prefers_winograd(g: &ConvGeometry) -> bool {
    winograd_unsupported(g).is_none()
        && g.in_channels_per_group().min(g.out_channels_per_group()) >= calibration::WINOGRAD_MIN_CHANNELS
        && g.batch * g.out_plane() >= calibration::WINOGRAD_MIN_POSITIONS
}

fn winograd_plan(g: &ConvGeometry) -> ConvPlan {
    let transformed = &g.out_size[3 - g.spatial_dims..];
    let dilation = &g.dilation[3 - g.spatial_dims..];
    // F(4,3) tiles waste most of their work when a phase of the output is narrower than a tile.
    let tile = if transformed.iter().zip(dilation).all(|(&o, &d)| o.div_ceil(d) >= 4) { WinogradTile::F4 } else { WinogradTile::F2 };
    let per_tile = tile.inputs().pow(g.spatial_dims as u32) * g.in_channels_per_group() * std::mem::size_of::<f32>();
    let tiles: usize = (0..g.spatial_dims)
        .map(|a| {
            let (o, d) = (transformed[a], dilation[a]);
            // Each of the d phases of this axis has ceil((o - r) / d) outputs.
            (0..d).map(|r| (o.saturating_sub(r)).div_ceil(d).div_ceil(tile.outputs())).sum::<usize>()
        })
        .product();
    let block = (WINOGRAD_BLOCK_BYTES / per_tile).max(NR) / NR * NR;
    ConvPlan::Winograd { tile, tile_block: block.min(tiles.div_ceil(NR) * NR) }
}

pub fn plan_conv(g: &ConvGeometry, requested: Algorithm) -> Result<ConvPlan, ConvError> {
    let im2col = || {
        let k = g.in_channels_per_group() * g.kernel_volume();
        let per_column = k * std::mem::size_of::<f32>();
        let block = (COLUMN_BLOCK_BYTES / per_column).max(NR) / NR * NR;
        ConvPlan::Im2col { column_block: block.min(g.out_plane().div_ceil(NR) * NR) }
    };
    let direct = if g.in_channels_per_group() == 1 { ConvPlan::Depthwise } else { ConvPlan::Direct };
    match requested {
        Algorithm::Direct => Ok(direct),
        Algorithm::Im2col => Ok(im2col()),
        Algorithm::Winograd => match winograd_unsupported(g) {
            None => Ok(winograd_plan(g)),
            Some(why) => Err(ConvError::unsupported(why)),
        },
        Algorithm::Auto if fft_wins(g) => Ok(ConvPlan::Fft { tile: fft_tile(g), fold: fft_folds(g) }),
        Algorithm::Auto if auto_prefers_winograd(g) => Ok(winograd_plan(g)),
        Algorithm::Auto if prefers_direct(g) => Ok(direct),
        Algorithm::Auto => Ok(im2col()),
        Algorithm::Fft if g.stride != [1; 3] => Err(ConvError::unsupported(format!(
            "algorithm 'fft' needs stride 1 (got {:?}): a strided output keeps only a fraction of \
             the positions the transform computes; use 'auto', 'direct' or 'im2col'",
            &g.stride[3 - g.spatial_dims..]
        ))),
        Algorithm::Fft => {
            let tile = fft_tile(g);
            let bytes = fft_weights_bytes(g, tile);
            if bytes > FFT_WEIGHTS_MAX_BYTES {
                return Err(ConvError::out_of_memory(format!(
                    "algorithm 'fft' would hold {} MiB of kernel spectra ({} x {} kernels on {}x{} tiles), \
                     more than {} MiB; use 'auto' or 'im2col'",
                    bytes >> 20,
                    g.out_channels,
                    g.in_channels_per_group() * g.kernel[0],
                    tile[0],
                    tile[1],
                    FFT_WEIGHTS_MAX_BYTES >> 20
                )));
            }
            Ok(ConvPlan::Fft { tile, fold: fft_folds(g) })
        }
    }
}

/// Bytes of kernel spectra Auto lets an FFT plan hold (explicit 'fft' may exceed it with the
/// smallest tile).
const FFT_WEIGHTS_BYTES: usize = 64 << 20;

/// Bytes of kernel spectra an explicit 'fft' may hold: a quarter of wasm32's address space.
const FFT_WEIGHTS_MAX_BYTES: usize = 1 << 30;

/// Bytes of the kernel spectra of an FFT plan with `tile` (see `fft_conv::FftWeights`), saturating.
fn fft_weights_bytes(g: &ConvGeometry, [th, tw]: [usize; 2]) -> usize {
    let spectrum = tw * 2 * (th / 2 + 1).div_ceil(LANES) * LANES;
    [g.out_channels, g.in_channels_per_group(), g.kernel[0], spectrum, std::mem::size_of::<f32>()]
        .iter()
        .fold(1usize, |n, &f| n.saturating_mul(f))
}

/// Auto takes FFT for large kernels, whose cost per output grows with log(tile) instead of with the
/// taps: 2-D kernels at least `FFT_MIN_KERNEL_SIDE` on both axes and 1-D kernels (folded rows) of
/// at least `FFT_MIN_KERNEL_TAPS_1D` taps, where `npm run calibrate` measured it fastest on one
/// channel. Several channels would favour it from smaller kernels, but FFT rounding depends on
/// where the tiles fall, so a call split into row bands can differ from the whole call in the last
/// bits; below the calibrated sizes the exact-order executors keep the pool's split calls bit for
/// bit equal to whole ones.
fn fft_wins(g: &ConvGeometry) -> bool {
    let large = if fft_folds(g) {
        g.kernel[2] >= calibration::FFT_MIN_KERNEL_TAPS_1D
    } else {
        g.kernel[1].min(g.kernel[2]) >= calibration::FFT_MIN_KERNEL_SIDE
    };
    g.stride == [1; 3] && large && fft_weights_bytes(g, fft_tile(g)) <= FFT_WEIGHTS_BYTES
}

/// A one-row output convolved with a one-row kernel: tile rows can be segments of that row.
fn fft_folds(g: &ConvGeometry) -> bool {
    g.out_size[1] == 1 && g.kernel[1] == 1
}

/// Overlap-save tile (rows, columns): the powers of two (at least the kernel's extent; rows >= 2 and
/// columns >= one vector for the transform's layout) that minimize the modeled work of the whole
/// plane: per tile, a transform per input plane and output channel (`n log n`) plus the spectral
/// multiply-accumulates. Tiles whose kernel spectra exceed the memory budget are passed over
/// unless none fits.
pub fn fft_tile(g: &ConvGeometry) -> [usize; 2] {
    let extent = |a: usize| g.dilation[a] * (g.kernel[a] - 1) + 1;
    let fold = fft_folds(g);
    let candidates = |a: usize, min: usize| {
        let first = extent(a).max(min).next_power_of_two();
        // Past the first size that covers the whole axis in one tile, larger tiles only add work
        // (folded rows cover the row's segments, at most one per output).
        let covered = if fold && a == 1 { g.out_size[2] } else { g.out_size[a] + extent(a) - 1 };
        let cover = covered.next_power_of_two().max(first);
        (first.trailing_zeros()..=cover.trailing_zeros().min(first.trailing_zeros().max(10))).map(|p| 1usize << p)
    };
    let transforms = (g.in_channels_per_group() * g.kernel[0] + g.out_channels_per_group()) as f64;
    let products = (g.in_channels_per_group() * g.kernel[0] * g.out_channels_per_group()) as f64;
    let cost = |th: usize, tw: usize| {
        let valid_w = tw - extent(2) + 1;
        let tiles = if fold {
            g.out_size[2].div_ceil(th * valid_w)
        } else {
            g.out_size[1].div_ceil(th - extent(1) + 1) * g.out_size[2].div_ceil(valid_w)
        };
        // A spectrum holds rows/2 + 1 vertical frequencies rounded up to whole vectors.
        let spectrum = (tw * 2 * (th / 2 + 1).div_ceil(LANES) * LANES) as f64;
        tiles as f64 * spectrum * (transforms * ((th * tw) as f64).log2() + 2.0 * products)
    };
    let mut best = (f64::INFINITY, [0, 0]);
    for th in candidates(1, 2) {
        for tw in candidates(2, LANES) {
            let c = cost(th, tw);
            let fits = fft_weights_bytes(g, [th, tw]) <= FFT_WEIGHTS_BYTES;
            if c < best.0 && (fits || best.1 == [0, 0]) {
                best = (c, [th, tw]);
            }
        }
    }
    best.1
}

/// The rule for 'auto' between the direct tiles and im2col + GEMM. GEMM needs a few output
/// channels per group to fill its 4-row tiles and enough of them to pay for packing; below that
/// the direct tiles win (thresholds measured by `npm run calibrate`: channel products at stride 1,
/// depth multipliers at any stride). Strided dense convolutions gather their inputs, which the
/// GEMM path does once in packing.
fn prefers_direct(g: &ConvGeometry) -> bool {
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let unit_stride = g.stride.iter().all(|&s| s == 1);
    cout_g < 4
        || (cin_g == 1 && cout_g <= calibration::DIRECT_MAX_DEPTH_MULTIPLIER)
        || (cin_g > 1 && unit_stride && cin_g * cout_g <= calibration::DIRECT_MAX_CHANNEL_PRODUCT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::ConvParams;

    fn geometry(input: &[usize], weight: &[usize], groups: usize) -> ConvGeometry {
        let mut p = ConvParams::new(input.len() - 2);
        p.groups = groups;
        ConvGeometry::new(input, weight, None, &p).unwrap()
    }

    #[test]
    fn auto_picks_winograd_for_wide_3x3_gemm_for_dense_and_direct_for_depthwise() {
        let wide = geometry(&[1, 64, 56, 56], &[64, 64, 3, 3], 1);
        assert!(matches!(plan_conv(&wide, Algorithm::Auto).unwrap(), ConvPlan::Winograd { tile: WinogradTile::F4, .. }));
        let batched = geometry(&[4, 64, 12, 12], &[64, 64, 3, 3], 1);
        assert!(matches!(plan_conv(&batched, Algorithm::Auto).unwrap(), ConvPlan::Winograd { .. }));
        let five = geometry(&[1, 64, 56, 56], &[64, 64, 5, 5], 1);
        assert!(matches!(plan_conv(&five, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
        let depthwise = geometry(&[1, 32, 56, 56], &[32, 1, 3, 3], 32);
        assert_eq!(plan_conv(&depthwise, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        let large = geometry(&[1, 1, 512, 512], &[1, 1, 15, 15], 1);
        assert!(matches!(plan_conv(&large, Algorithm::Auto).unwrap(), ConvPlan::Fft { .. }));
        let five_narrow = geometry(&[1, 16, 40, 40], &[24, 16, 5, 5], 1);
        assert!(matches!(plan_conv(&five_narrow, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
        let small = geometry(&[1, 1, 512, 512], &[1, 1, 3, 3], 1);
        assert_eq!(plan_conv(&small, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        let line = geometry(&[1, 1, 4096], &[1, 1, 127], 1);
        assert!(matches!(plan_conv(&line, Algorithm::Auto).unwrap(), ConvPlan::Fft { fold: true, .. }));
        let short_line = geometry(&[1, 1, 4096], &[1, 1, 15], 1);
        assert_eq!(plan_conv(&short_line, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        let skinny = geometry(&[1, 1, 512, 512], &[1, 1, 41, 3], 1);
        assert_eq!(plan_conv(&skinny, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        // 1024 x 1024 kernels of 15x15 spectra would need far more than the budget.
        let wide = geometry(&[1, 1024, 64, 64], &[1024, 1024, 15, 15], 1);
        assert!(matches!(plan_conv(&wide, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
    }

    #[test]
    fn explicit_winograd_serves_3x3_stride_1_and_names_why_otherwise() {
        let narrow = geometry(&[1, 2, 6, 3], &[1, 2, 3, 3], 1);
        assert!(matches!(plan_conv(&narrow, Algorithm::Winograd).unwrap(), ConvPlan::Winograd { tile: WinogradTile::F2, .. }));
        let line = geometry(&[1, 4, 40], &[4, 4, 3], 1);
        let ConvPlan::Winograd { tile: WinogradTile::F4, tile_block } = plan_conv(&line, Algorithm::Winograd).unwrap() else {
            panic!()
        };
        // 38 outputs in tiles of 4, rounded up to whole GEMM panels.
        assert_eq!(tile_block, 16);
        let mut p = ConvParams::new(2);
        p.stride = vec![2, 2];
        let strided = ConvGeometry::new(&[1, 4, 9, 9], &[4, 4, 3, 3], None, &p).unwrap();
        let e = plan_conv(&strided, Algorithm::Winograd).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::Unsupported);
        assert!(e.message.contains("winograd") && e.message.contains("stride [2, 2]"), "{}", e.message);
        let five = geometry(&[1, 4, 9, 9], &[4, 4, 5, 5], 1);
        assert!(plan_conv(&five, Algorithm::Winograd).unwrap_err().message.contains("[5, 5]"));
        let cube = geometry(&[1, 4, 5, 5, 5], &[4, 4, 3, 3, 3], 1);
        assert!(plan_conv(&cube, Algorithm::Winograd).unwrap_err().message.contains("3-D"));
        assert!(matches!(plan_conv(&cube, Algorithm::Fft).unwrap(), ConvPlan::Fft { .. }));
    }

    #[test]
    fn fft_tiles_cover_the_kernel_and_strides_are_refused() {
        let s10 = geometry(&[1, 1, 1038, 1038], &[1, 1, 15, 15], 1);
        let ConvPlan::Fft { tile: [th, tw], fold: false } = plan_conv(&s10, Algorithm::Fft).unwrap() else { panic!() };
        assert!(th.is_power_of_two() && tw.is_power_of_two() && th >= 15 && tw >= 15 && th < 1024, "{th}x{tw}");
        let line = geometry(&[1, 1, 30000], &[1, 1, 31], 1);
        let ConvPlan::Fft { tile: [th, tw], fold: true } = plan_conv(&line, Algorithm::Fft).unwrap() else { panic!() };
        assert!(th > 2 && tw >= 32, "a long 1-D call stacks segments as rows: {th}x{tw}");
        let wide = geometry(&[1, 256, 256, 256], &[256, 256, 9, 9], 1);
        assert_eq!(fft_tile(&wide), [16, 16], "spectra over budget: the smallest tile");
        let huge = geometry(&[1, 2048, 64, 64], &[2048, 2048, 31, 31], 1);
        let e = plan_conv(&huge, Algorithm::Fft).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::OutOfMemory);
        assert!(e.message.contains("kernel spectra"), "{}", e.message);
        let tiny = geometry(&[1, 1, 5, 5], &[1, 1, 3, 3], 1);
        // Never past the first size that holds the whole plane in one tile.
        assert!(fft_tile(&tiny).iter().all(|&t| (4..=8).contains(&t)), "{:?}", fft_tile(&tiny));
        let mut p = ConvParams::new(2);
        p.stride = vec![2, 2];
        let strided = ConvGeometry::new(&[1, 1, 32, 32], &[1, 1, 9, 9], None, &p).unwrap();
        let e = plan_conv(&strided, Algorithm::Fft).unwrap_err();
        assert!(e.message.contains("stride 1") && e.message.contains("[2, 2]"), "{}", e.message);
        assert!(!matches!(plan_conv(&strided, Algorithm::Auto).unwrap(), ConvPlan::Fft { .. }));
    }

    #[test]
    fn auto_picks_gemm_for_many_channels_and_direct_for_few() {
        let dense = geometry(&[1, 64, 56, 56], &[64, 64, 5, 5], 1);
        assert!(matches!(plan_conv(&dense, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
        let depthwise = geometry(&[1, 32, 56, 56], &[32, 1, 3, 3], 32);
        assert_eq!(plan_conv(&depthwise, Algorithm::Direct).unwrap(), ConvPlan::Depthwise);
        let filter = geometry(&[1, 3, 64, 64], &[1, 3, 5, 5], 1);
        assert_eq!(plan_conv(&filter, Algorithm::Auto).unwrap(), ConvPlan::Direct);
        let mut strided = ConvParams::new(2);
        strided.stride = vec![2, 2];
        let stem = ConvGeometry::new(&[1, 3, 224, 224], &[64, 3, 7, 7], None, &strided).unwrap();
        assert!(matches!(plan_conv(&stem, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
    }

    /// Auto switches exactly at the thresholds `npm run calibrate` measured (whatever they are).
    #[test]
    fn auto_switches_at_the_calibrated_thresholds() {
        use crate::calibration::*;
        let auto = |input: &[usize], weight: &[usize], groups: usize| plan_conv(&geometry(input, weight, groups), Algorithm::Auto).unwrap();
        let is = |plan: ConvPlan, name: &str| plan.name() == name;
        // Winograd from its channel count (when above GEMM's 4-row minimum) and output positions.
        let c = WINOGRAD_MIN_CHANNELS.max(4);
        assert!(is(auto(&[1, c, 56, 56], &[c, c, 3, 3], 1), "winograd"));
        if WINOGRAD_MIN_CHANNELS > 4 {
            let c = WINOGRAD_MIN_CHANNELS - 1;
            assert!(!is(auto(&[1, c, 56, 56], &[c, c, 3, 3], 1), "winograd"));
        }
        // Unpadded: a side of s gives (s - 2)^2 output positions.
        let side = (WINOGRAD_MIN_POSITIONS as f64).sqrt().ceil() as usize + 2;
        assert!(is(auto(&[1, 64, side, side], &[64, 64, 3, 3], 1), "winograd"));
        if WINOGRAD_MIN_POSITIONS > 1 {
            let side = ((WINOGRAD_MIN_POSITIONS - 1) as f64).sqrt().floor() as usize + 2;
            assert!(!is(auto(&[1, 64, side, side], &[64, 64, 3, 3], 1), "winograd"));
        }
        // Direct tiles up to the channel product at stride 1 (5x5: no Winograd), GEMM past it.
        let c = (1..64).take_while(|c| c * c <= DIRECT_MAX_CHANNEL_PRODUCT).last().unwrap_or(0);
        if c >= 4 {
            assert_eq!(auto(&[1, c, 40, 40], &[c, c, 5, 5], 1), ConvPlan::Direct);
        }
        let c = c.max(3) + 1;
        assert!(is(auto(&[1, c, 40, 40], &[c, c, 5, 5], 1), "im2col"));
        // Depthwise tiles up to the depth multiplier (below 4 output channels per group always).
        let m = DIRECT_MAX_DEPTH_MULTIPLIER.max(3);
        assert_eq!(auto(&[1, 8, 56, 56], &[8 * m, 1, 3, 3], 8), ConvPlan::Depthwise);
        assert!(is(auto(&[1, 8, 56, 56], &[8 * (m + 1), 1, 3, 3], 8), "im2col"));
        // FFT from the kernel side (2-D) and the taps (1-D).
        let k = FFT_MIN_KERNEL_SIDE;
        assert!(is(auto(&[1, 1, 256, 256], &[1, 1, k, k], 1), "fft"));
        assert!(!is(auto(&[1, 1, 256, 256], &[1, 1, k - 1, k - 1], 1), "fft"));
        let k = FFT_MIN_KERNEL_TAPS_1D;
        assert!(is(auto(&[1, 4, 65536], &[4, 4, k], 1), "fft"));
        assert!(!is(auto(&[1, 4, 65536], &[4, 4, k - 1], 1), "fft"));
    }

    #[test]
    fn column_block_is_a_multiple_of_the_panel_width_and_bounded() {
        let g = geometry(&[1, 64, 56, 56], &[64, 64, 3, 3], 1);
        let ConvPlan::Im2col { column_block } = plan_conv(&g, Algorithm::Im2col).unwrap() else {
            panic!()
        };
        assert_eq!(column_block % NR, 0);
        assert!(column_block * 64 * 9 * 4 <= COLUMN_BLOCK_BYTES);
        let tiny = geometry(&[1, 1, 3, 3], &[1, 1, 3, 3], 1);
        assert_eq!(plan_conv(&tiny, Algorithm::Im2col).unwrap(), ConvPlan::Im2col { column_block: NR });
    }
}
