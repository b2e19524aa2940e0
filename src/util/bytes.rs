//! A bounds-checked little-endian reader over a file's bytes, shared by the binary model formats
//! (CTranslate2 `model.bin`, whisper.cpp ggml): a read past the end is an error naming the file
//! and the offset, never a panic or an allocation sized by the file.

use std::path::{Path, PathBuf};

/// A read ran past the end of `file`.
#[derive(Debug, thiserror::Error)]
#[error("{}: truncated at byte {at}", file.display())]
pub struct Truncated {
    pub file: PathBuf,
    pub at: usize,
}

/// Reads little-endian values from `bytes` (of `file`, named in errors) front to back.
pub struct LeReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    file: &'a Path,
}

impl<'a> LeReader<'a> {
    pub fn new(bytes: &'a [u8], file: &'a Path) -> Self {
        Self {
            bytes,
            pos: 0,
            file,
        }
    }

    pub fn file(&self) -> &'a Path {
        self.file
    }

    /// Whether every byte has been read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Truncated> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Truncated {
            file: self.file.to_path_buf(),
            at: self.pos,
        })?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Truncated> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8, Truncated> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, Truncated> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn i32(&mut self) -> Result<i32, Truncated> {
        Ok(i32::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_refuses_past_the_end() {
        let bytes = [1u8, 2, 0, 3, 0, 0, 0, 0xff];
        let mut r = LeReader::new(&bytes, Path::new("f.bin"));
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.u32().unwrap(), 3);
        assert!(!r.at_end());
        let e = r.u32().unwrap_err();
        assert_eq!(e.to_string(), "f.bin: truncated at byte 7");
        assert_eq!(r.take(1).unwrap(), [0xff]);
        assert!(r.at_end());
        assert!(r.take(usize::MAX).is_err(), "no overflow on a huge length");
    }
}
