//! The shipped base in the source tree, for the test files that load it directly.

/// The shipped base in the source tree (tests may read it; the binary carries its own copy).
pub fn shipped_base() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/base/tiny.en")
}
