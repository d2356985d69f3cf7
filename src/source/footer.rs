//! Checks of a file's footer before its reader trusts it: a Parquet
//! footer walked with bounds ([`check`]), and the blocks an Arrow IPC
//! file's footer points to kept inside the file ([`check_ipc_file`]).
//!
//! The footer is Thrift's compact protocol. The parquet crate (60.x) skips
//! a field it does not know element by element, and skips a boolean
//! element of a list without consuming a byte, so a corrupt footer whose
//! unknown field is a list of 2^31 booleans makes it loop 2^31 times, and a
//! few such fields make `skewer` spin for minutes before any error. Here the
//! footer is walked the way that parser walks it, with the limits a valid
//! footer always meets: a list, set or map never claims more elements than
//! bytes remain (each element takes at least one byte on the wire), the
//! elements of all lists add up to at most 64 per byte of footer (nesting is
//! at most 64 deep), and nesting stops at 64 levels. A footer that breaks
//! them is corrupt, reported before the parser spins on it.
//!
//! Only the footer is checked: page headers, read later by the same parser,
//! are left to the stall watchdog of the command line.

use super::blob::ReadAt;

/// `n` bytes of `f` at `at` (positional: the file's cursor does not move).
fn read_at(f: &impl ReadAt, at: u64, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    f.read_exact_at(&mut buf, at)?;
    Ok(buf)
}

/// Check the footer of the Parquet file `f` of `size` bytes. `Ok` when it
/// is sound or when it is not one this walk understands (no `PAR1` magic,
/// a length beyond the file, an encrypted footer): the parser then reports
/// its own error.
pub(crate) fn check(f: &impl ReadAt, size: u64) -> std::io::Result<Result<(), String>> {
    if size < 12 {
        return Ok(Ok(()));
    }
    let tail = read_at(f, size - 8, 8)?;
    let len = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64;
    if &tail[4..] != b"PAR1" || len > size - 12 {
        return Ok(Ok(()));
    }
    Ok(walk_footer(&read_at(f, size - 8 - len, len as usize)?))
}

/// Check that every block an Arrow IPC file's footer lists (dictionaries
/// and record batches) lies inside the file. The reader allocates and zeroes
/// a block's claimed length before reading it: a corrupt length of 2 GB in
/// a 24 KB file cost 2 GB of memory. `Ok` for a footer this check cannot
/// parse (the reader reports that itself).
pub(crate) fn check_ipc_file(f: &impl ReadAt, size: u64) -> std::io::Result<Result<(), String>> {
    if size < 10 {
        return Ok(Ok(()));
    }
    let mut tail = [0u8; 10];
    f.read_exact_at(&mut tail, size - 10)?;
    let Ok(len) = arrow::ipc::reader::read_footer_length(tail) else {
        return Ok(Ok(()));
    };
    if len as u64 > size - 10 {
        return Ok(Ok(()));
    }
    let buf = read_at(f, size - 10 - len as u64, len)?;
    let Ok(footer) = arrow::ipc::root_as_footer(&buf) else {
        return Ok(Ok(()));
    };
    let blocks = footer
        .dictionaries()
        .into_iter()
        .flatten()
        .chain(footer.recordBatches().into_iter().flatten());
    for (i, b) in blocks.enumerate() {
        let parts = [b.offset(), b.metaDataLength() as i64, b.bodyLength()];
        let end = parts.iter().try_fold(0i64, |acc, &x| {
            (x >= 0).then(|| acc.checked_add(x)).flatten()
        });
        if end.is_none_or(|e| e as u64 > size) {
            return Ok(Err(format!(
                "block {i} of the footer (offset {}, metadata {} bytes, body {} bytes) lies outside the file's {size} bytes",
                parts[0], parts[1], parts[2]
            )));
        }
    }
    Ok(Ok(()))
}

/// Walk a footer (the FileMetaData struct) as the parquet crate skips it.
fn walk_footer(meta: &[u8]) -> Result<(), String> {
    let mut w = Walker {
        b: meta,
        pos: 0,
        elements: 0,
        budget: 64 * meta.len() as u64 + 1024,
    };
    w.skip(STRUCT, 0)
}

const MAX_DEPTH: u32 = 64;
const BOOL_TRUE: u8 = 1;
const BOOL_FALSE: u8 = 2;
const STRUCT: u8 = 12;

struct Walker<'a> {
    b: &'a [u8],
    pos: usize,
    /// Elements of all lists, sets and maps so far, against `budget`.
    elements: u64,
    budget: u64,
}

impl Walker<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let v = *self
            .b
            .get(self.pos)
            .ok_or("the footer's metadata ends early")?;
        self.pos += 1;
        Ok(v)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint in the footer's metadata is too long".into())
    }

    fn advance(&mut self, n: u64) -> Result<(), String> {
        let rest = (self.b.len() - self.pos) as u64;
        if n > rest {
            return Err(format!(
                "the footer's metadata claims {n} bytes where {rest} remain"
            ));
        }
        self.pos += n as usize;
        Ok(())
    }

    /// `n` elements announced: within the bytes left and the total budget.
    fn elements(&mut self, n: u64) -> Result<(), String> {
        let rest = (self.b.len() - self.pos) as u64;
        self.elements = self.elements.saturating_add(n);
        if n > rest || self.elements > self.budget {
            return Err(format!(
                "the footer's metadata claims a list of {n} elements where {rest} bytes remain"
            ));
        }
        Ok(())
    }

    /// Skip a value of compact-protocol type `ty`. Booleans take no byte,
    /// as in the parser (a struct field's boolean is in its header; the
    /// parser's skip treats a list's boolean elements the same way).
    fn skip(&mut self, ty: u8, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("the footer's metadata nests too deeply".into());
        }
        match ty {
            BOOL_TRUE | BOOL_FALSE => Ok(()),
            3 => self.byte().map(|_| ()),
            4..=6 => self.varint().map(|_| ()),
            7 => self.advance(8),
            8 => {
                let n = self.varint()?;
                self.advance(n)
            }
            9 | 10 => {
                let h = self.byte()?;
                let n = match h >> 4 {
                    15 => self.varint()?,
                    short => short as u64,
                };
                self.elements(n)?;
                for _ in 0..n {
                    self.skip(h & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            11 => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let kv = self.byte()?;
                self.elements(n)?;
                for _ in 0..n {
                    self.skip(kv >> 4, depth + 1)?;
                    self.skip(kv & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => loop {
                let h = self.byte()?;
                // The parser ends a struct at any header of type 0 (stop).
                if h & 0x0f == 0 {
                    return Ok(());
                }
                if h >> 4 == 0 {
                    self.varint()?; // the field id, in full
                }
                self.skip(h & 0x0f, depth + 1)?;
            },
            13 => self.advance(16), // uuid
            other => Err(format!(
                "the footer's metadata has a value of unknown type {other}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn sound_footers_pass_and_lying_lists_do_not() {
        // struct { 1: i32 = 3, 2: list<i32> [1, 2], 3: binary "ab", 4: true }
        let ok = [
            0x15, 0x06, 0x19, 0x25, 0x02, 0x04, 0x18, 0x02, b'a', b'b', 0x11, 0x00,
        ];
        assert_eq!(walk_footer(&ok), Ok(()));
        // An unknown field (id 100) holding a list of 2^31 − 1 booleans: what
        // makes the parser spin.
        let mut bad = vec![0x09];
        bad.extend(varint(200)); // zigzag(100)
        bad.push(0xf1);
        bad.extend(varint((1 << 31) - 1));
        bad.extend_from_slice(&ok);
        let e = walk_footer(&bad).unwrap_err();
        assert!(e.contains("2147483647 elements"), "{e}");
        // Many small lists whose elements add up beyond the budget.
        let mut many = Vec::new();
        for _ in 0..2000 {
            many.extend([0x09, 0xc8, 0x01, 0xf1]);
            many.extend(varint(4000));
        }
        many.push(0);
        assert!(walk_footer(&many).is_err());
        // Truncation and deep nesting.
        assert!(walk_footer(&ok[..5]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect();
        assert!(walk_footer(&deep).unwrap_err().contains("deeply"));
    }
}
