//! Shapes and validation for an N-d (1 to 3 spatial axes) convolution. Every size is lifted to three
//! spatial axes by prepending axes of size 1, so one implementation serves 1D, 2D and 3D.

use crate::error::ConvError;
use crate::padding::{ImagePadding, PaddingMode};

/// Options of a convolution, one entry per spatial axis of the call (1 to 3 axes).
#[derive(Clone, Debug)]
pub struct ConvParams {
    pub stride: Vec<usize>,
    pub dilation: Vec<usize>,
    pub pad_before: Vec<usize>,
    pub pad_after: Vec<usize>,
    pub padding_mode: PaddingMode,
    pub groups: usize,
    /// Rotate the kernel 180 degrees (true convolution instead of cross-correlation).
    pub flip: bool,
}

impl ConvParams {
    /// Stride 1, dilation 1, no padding, one group: the defaults for `spatial_dims` axes.
    pub fn new(spatial_dims: usize) -> Self {
        ConvParams {
            stride: vec![1; spatial_dims],
            dilation: vec![1; spatial_dims],
            pad_before: vec![0; spatial_dims],
            pad_after: vec![0; spatial_dims],
            padding_mode: PaddingMode::Zeros,
            groups: 1,
            flip: false,
        }
    }
}

/// A validated convolution problem with every size lifted to three spatial axes (D, H, W).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub spatial_dims: usize,
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub groups: usize,
    pub in_size: [usize; 3],
    pub kernel: [usize; 3],
    pub out_size: [usize; 3],
    pub stride: [usize; 3],
    pub dilation: [usize; 3],
    pub pad_before: [usize; 3],
    pub pad_after: [usize; 3],
    pub padding_mode: PaddingMode,
    pub flip: bool,
}

const AXES: [&str; 3] = ["d", "h", "w"];

/// Elements of a `shape` array, or OUT_OF_MEMORY when its f32 data could not exist in this address
/// space (checked arithmetic: on wasm32 `usize` is 32 bits).
pub fn checked_len(name: &str, shape: &[usize]) -> Result<usize, ConvError> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<f32>())
        .ok_or_else(|| ConvError::out_of_memory(format!("{name} of shape {shape:?} is too large to allocate")))
}

/// `a + b + c` or OUT_OF_MEMORY on overflow.
pub(crate) fn checked_sum(name: &str, parts: [usize; 3]) -> Result<usize, ConvError> {
    parts
        .iter()
        .try_fold(0usize, |n, &d| n.checked_add(d))
        .ok_or_else(|| ConvError::out_of_memory(format!("{name} {parts:?} overflows")))
}

/// Lifts per-axis values of a 1 to 3 axis call to three axes (D, H, W) by prepending `fill`.
pub(crate) fn lift(v: &[usize], fill: usize) -> [usize; 3] {
    let mut out = [fill; 3];
    out[3 - v.len()..].copy_from_slice(v);
    out
}

impl ConvGeometry {
    /// Validates `input` `[N, C, ...spatial]` and `weight` `[Cout, C/groups, ...kernel]` against
    /// `params`; `bias_len` is the bias length when a bias is given.
    pub fn new(
        input: &[usize],
        weight: &[usize],
        bias_len: Option<usize>,
        params: &ConvParams,
    ) -> Result<Self, ConvError> {
        let dims = input.len().wrapping_sub(2);
        if !(1..=3).contains(&dims) {
            return Err(ConvError::invalid(format!(
                "input must have 3 to 5 dimensions (N, C, ...spatial), got {}",
                input.len()
            )));
        }
        if weight.len() != input.len() {
            return Err(ConvError::shape(format!(
                "weight must have {} dimensions like the input, got {}",
                input.len(),
                weight.len()
            )));
        }
        for (name, v) in [
            ("stride", &params.stride),
            ("dilation", &params.dilation),
            ("padding", &params.pad_before),
            ("padding", &params.pad_after),
        ] {
            if v.len() != dims {
                return Err(ConvError::invalid(format!(
                    "{name} must have {dims} entries, got {}",
                    v.len()
                )));
            }
        }
        if params.stride.contains(&0) {
            return Err(ConvError::invalid(format!("stride must be >= 1, got {:?}", params.stride)));
        }
        if params.dilation.contains(&0) {
            return Err(ConvError::invalid(format!(
                "dilation must be >= 1, got {:?}",
                params.dilation
            )));
        }
        let (batch, in_channels) = (input[0], input[1]);
        let (out_channels, cin_per_group) = (weight[0], weight[1]);
        if in_channels == 0 || input[2..].contains(&0) {
            return Err(ConvError::invalid(format!(
                "input has an empty dimension: {input:?}"
            )));
        }
        if weight.contains(&0) {
            return Err(ConvError::invalid(format!("weight has an empty dimension: {weight:?}")));
        }
        let groups = params.groups;
        if groups == 0 || in_channels % groups != 0 || out_channels % groups != 0 {
            return Err(ConvError::invalid(format!(
                "groups={groups} must be >= 1 and divide input channels ({in_channels}) and output channels ({out_channels})"
            )));
        }
        if cin_per_group.checked_mul(groups) != Some(in_channels) {
            return Err(ConvError::shape(format!(
                "weight has {cin_per_group} input channels per group but input has {in_channels} channels (groups={groups})"
            )));
        }
        if let Some(len) = bias_len {
            if len != out_channels {
                return Err(ConvError::shape(format!(
                    "bias has {len} elements but the weight has {out_channels} output channels"
                )));
            }
        }
        let in_size = lift(&input[2..], 1);
        let kernel = lift(&weight[2..], 1);
        let stride = lift(&params.stride, 1);
        let dilation = lift(&params.dilation, 1);
        let pad_before = lift(&params.pad_before, 0);
        let pad_after = lift(&params.pad_after, 0);
        let mut out_size = [1; 3];
        let mut padded_size = [1; 3];
        for a in 3 - dims..3 {
            let axis = AXES[a];
            let max_pad = params.padding_mode.max_pad(in_size[a]);
            if pad_before[a] > max_pad || pad_after[a] > max_pad {
                return Err(ConvError::invalid(format!(
                    "padding ({}, {}) on axis {axis} is too large for paddingMode '{}' with input size {} (at most {max_pad})",
                    pad_before[a],
                    pad_after[a],
                    params.padding_mode.name(),
                    in_size[a]
                )));
            }
            let padded = checked_sum("padded size", [in_size[a], pad_before[a], pad_after[a]])?;
            let extent = dilation[a]
                .checked_mul(kernel[a] - 1)
                .and_then(|e| e.checked_add(1))
                .ok_or_else(|| ConvError::out_of_memory("kernel extent overflows"))?;
            if extent > padded {
                return Err(ConvError::invalid(format!(
                    "kernel extent {extent} (size {} with dilation {}) on axis {axis} is larger than the padded input {padded}",
                    kernel[a], dilation[a]
                )));
            }
            out_size[a] = (padded - extent) / stride[a] + 1;
            padded_size[a] = padded;
        }
        checked_len("padded input", &[in_channels, padded_size[0], padded_size[1], padded_size[2]])?;
        checked_len("input", input)?;
        checked_len("output", &[batch, out_channels, out_size[0], out_size[1], out_size[2]])?;
        Ok(ConvGeometry {
            spatial_dims: dims,
            batch,
            in_channels,
            out_channels,
            groups,
            in_size,
            kernel,
            out_size,
            stride,
            dilation,
            pad_before,
            pad_after,
            padding_mode: params.padding_mode,
            flip: params.flip,
        })
    }

    /// How each input image is padded.
    pub fn padding(&self) -> ImagePadding {
        ImagePadding { size: self.in_size, before: self.pad_before, after: self.pad_after, mode: self.padding_mode }
    }
    pub fn padded_size(&self) -> [usize; 3] {
        self.padding().padded_size()
    }
    pub fn in_plane(&self) -> usize {
        self.in_size.iter().product()
    }
    pub fn out_plane(&self) -> usize {
        self.out_size.iter().product()
    }
    pub fn kernel_volume(&self) -> usize {
        self.kernel.iter().product()
    }
    pub fn in_channels_per_group(&self) -> usize {
        self.in_channels / self.groups
    }
    pub fn out_channels_per_group(&self) -> usize {
        self.out_channels / self.groups
    }
    /// `[N, Cout, ...out spatial]` with the call's own number of spatial axes.
    pub fn output_shape(&self) -> Vec<usize> {
        let mut shape = vec![self.batch, self.out_channels];
        shape.extend_from_slice(&self.out_size[3 - self.spatial_dims..]);
        shape
    }
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_plane()
    }
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.in_channels_per_group() * self.kernel_volume()
    }
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_plane()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_size_follows_pytorch_formula() {
        let mut p = ConvParams::new(2);
        p.stride = vec![2, 3];
        p.dilation = vec![2, 1];
        p.pad_before = vec![1, 0];
        p.pad_after = vec![1, 2];
        let g = ConvGeometry::new(&[2, 4, 11, 9], &[6, 4, 3, 4], Some(6), &p).unwrap();
        // floor((11 + 2 - 2*(3-1) - 1) / 2) + 1 = 5; floor((9 + 2 - 4) / 3) + 1 = 3
        assert_eq!(g.output_shape(), vec![2, 6, 5, 3]);
        assert_eq!(g.in_size, [1, 11, 9]);
    }

    #[test]
    fn rejects_bad_arguments_naming_them() {
        let p = ConvParams::new(2);
        let e = ConvGeometry::new(&[1, 4, 5, 5], &[2, 3, 3, 3], None, &p).unwrap_err();
        assert!(e.message.contains("weight has 3 input channels per group but input has 4"));
        let mut p2 = p.clone();
        p2.stride = vec![0, 1];
        assert!(ConvGeometry::new(&[1, 3, 5, 5], &[2, 3, 3, 3], None, &p2)
            .unwrap_err()
            .message
            .contains("stride"));
        let mut p3 = p.clone();
        p3.padding_mode = PaddingMode::Reflect;
        p3.pad_before = vec![5, 0];
        assert!(ConvGeometry::new(&[1, 3, 5, 5], &[2, 3, 3, 3], None, &p3)
            .unwrap_err()
            .message
            .contains("reflect"));
        assert!(ConvGeometry::new(&[1, 3, 2, 5], &[2, 3, 3, 3], None, &p)
            .unwrap_err()
            .message
            .contains("kernel extent"));
        assert!(ConvGeometry::new(&[1, 3, 5, 5], &[2, 3, 3, 3], Some(3), &p)
            .unwrap_err()
            .message
            .contains("bias"));
    }

    #[test]
    fn sizes_beyond_the_address_space_are_out_of_memory_not_overflow() {
        let mut p = ConvParams::new(2);
        p.pad_before = vec![usize::MAX / 2, 0];
        p.pad_after = vec![usize::MAX / 2, 0];
        let e = ConvGeometry::new(&[1, 1, 4, 4], &[1, 1, 3, 3], None, &p).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::OutOfMemory);
        // Each padded axis fits, their product does not.
        let mut p = ConvParams::new(2);
        p.pad_before = vec![usize::MAX / 8, usize::MAX / 8];
        p.pad_after = vec![usize::MAX / 8, usize::MAX / 8];
        let e = ConvGeometry::new(&[1, 1, 4, 4], &[1, 1, 1, 1], None, &p).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::OutOfMemory, "{}", e.message);
        assert!(checked_len("x", &[usize::MAX, 2]).is_err());
        assert_eq!(checked_len("x", &[3, 4]).unwrap(), 12);
    }
}
