//! Test data shared by the unit tests: seeded values (a small LCG, so the tests need no crate) and
//! the padding modes.

use crate::padding::PaddingMode;

/// Deterministic uniform values in [-1, 1).
pub(crate) fn uniform(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Every padding mode, for tests that cover them all.
pub(crate) const MODES: [PaddingMode; 5] = [PaddingMode::Zeros, PaddingMode::Reflect, PaddingMode::Symmetric, PaddingMode::Replicate, PaddingMode::Circular];
