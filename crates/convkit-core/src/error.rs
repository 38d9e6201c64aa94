//! Errors carry the same codes as the TypeScript `ConvkitError`, so the wasm boundary can pass
//! them through unchanged.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    ShapeMismatch,
    Unsupported,
    OutOfMemory,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::ShapeMismatch => "SHAPE_MISMATCH",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::OutOfMemory => "OUT_OF_MEMORY",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvError {
    pub code: ErrorCode,
    pub message: String,
}

impl ConvError {
    pub fn invalid(message: impl Into<String>) -> Self {
        ConvError { code: ErrorCode::InvalidArgument, message: message.into() }
    }
    pub fn shape(message: impl Into<String>) -> Self {
        ConvError { code: ErrorCode::ShapeMismatch, message: message.into() }
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        ConvError { code: ErrorCode::Unsupported, message: message.into() }
    }
    pub fn out_of_memory(message: impl Into<String>) -> Self {
        ConvError { code: ErrorCode::OutOfMemory, message: message.into() }
    }
}

impl fmt::Display for ConvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ConvError {}
