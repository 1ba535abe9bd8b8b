//! The identity of a row: a hash of its cells under which a sent row is matched to its line in
//! the job's result files.

use std::hash::{BuildHasher, Hasher};

/// Rows are hashed with one fixed seed: a hash is only compared with hashes of the same process
/// (sent rows against result rows), and needs no resistance to chosen input.
const SEED: u64 = 0x243f_6a88_85a3_08d3;

/// A stable hash of a row's cells: the identity under which a row is matched in result files.
/// Identical rows hash alike and are interchangeable for accounting.
pub(crate) fn row_hash<'a>(cells: impl IntoIterator<Item = &'a str>) -> u64 {
    row_hash_bytes(cells.into_iter().map(str::as_bytes))
}

/// [`row_hash`] over raw cell bytes (result files are read without UTF-8 checks).
pub(crate) fn row_hash_bytes<'a>(cells: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    let mut hasher = foldhash::quality::FixedState::with_seed(SEED).build_hasher();
    for cell in cells {
        hasher.write(cell);
        // Each cell ends with its length, so cell boundaries count: ["ab", "c"] ≠ ["a", "bc"].
        hasher.write_usize(cell.len());
    }
    hasher.finish()
}
