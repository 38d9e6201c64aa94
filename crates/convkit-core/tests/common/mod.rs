//! Shared by the integration tests.

use convkit_core::PaddingMode;

/// Every padding mode, for tests that cover them all.
pub const MODES: [PaddingMode; 5] = [PaddingMode::Zeros, PaddingMode::Reflect, PaddingMode::Symmetric, PaddingMode::Replicate, PaddingMode::Circular];
