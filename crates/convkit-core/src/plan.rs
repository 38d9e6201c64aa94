//! The planner: decides how a convolution is computed, separately from computing it, so the choice
//! can be tested on its own (RustFFT's planner/recipe split).

use crate::error::ConvError;
use crate::geometry::ConvGeometry;
use crate::gemm::NR;

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
}

/// Bytes of packed im2col columns kept live at once: sized to sit in L2 next to the weights.
const COLUMN_BLOCK_BYTES: usize = 256 * 1024;

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
        Algorithm::Auto if prefers_direct(g) => Ok(direct),
        Algorithm::Auto => Ok(im2col()),
        Algorithm::Winograd | Algorithm::Fft => Err(ConvError::unsupported(format!(
            "algorithm '{}' is not implemented yet; use 'auto', 'direct' or 'im2col'",
            requested.name()
        ))),
    }
}

/// The rule for 'auto' between the direct tiles and im2col + GEMM. GEMM needs a few output
/// channels per group to fill its 4-row tiles and enough of them to pay for packing; below that
/// the direct tiles win: measured (wasm SIMD) up to 16 -> 16 channels at stride 1, and for
/// depthwise with small depth multipliers at any stride. Strided dense convolutions gather their
/// inputs, which the GEMM path does once in packing.
fn prefers_direct(g: &ConvGeometry) -> bool {
    let (cin_g, cout_g) = (g.in_channels_per_group(), g.out_channels_per_group());
    let unit_stride = g.stride.iter().all(|&s| s == 1);
    cout_g < 4 || (cin_g == 1 && cout_g <= 8) || (unit_stride && cin_g * cout_g <= 256)
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
    fn auto_picks_gemm_for_many_channels_and_direct_for_few() {
        let dense = geometry(&[1, 64, 56, 56], &[64, 64, 3, 3], 1);
        assert!(matches!(plan_conv(&dense, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
        let depthwise = geometry(&[1, 32, 56, 56], &[32, 1, 3, 3], 32);
        assert_eq!(plan_conv(&depthwise, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        assert_eq!(plan_conv(&depthwise, Algorithm::Direct).unwrap(), ConvPlan::Depthwise);
        let filter = geometry(&[1, 3, 64, 64], &[1, 3, 7, 7], 1);
        assert_eq!(plan_conv(&filter, Algorithm::Auto).unwrap(), ConvPlan::Direct);
        let narrow = geometry(&[1, 16, 56, 56], &[16, 16, 3, 3], 1);
        assert_eq!(plan_conv(&narrow, Algorithm::Auto).unwrap(), ConvPlan::Direct);
        let multiplier = geometry(&[1, 8, 56, 56], &[32, 1, 3, 3], 8);
        assert_eq!(plan_conv(&multiplier, Algorithm::Auto).unwrap(), ConvPlan::Depthwise);
        let mut strided = ConvParams::new(2);
        strided.stride = vec![2, 2];
        let stem = ConvGeometry::new(&[1, 3, 224, 224], &[64, 3, 7, 7], None, &strided).unwrap();
        assert!(matches!(plan_conv(&stem, Algorithm::Auto).unwrap(), ConvPlan::Im2col { .. }));
        assert!(plan_conv(&dense, Algorithm::Winograd).is_err());
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
