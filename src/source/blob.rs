//! The bytes of one input, wherever they are: a local file or an object on
//! a store ([`super::remote::RemoteFile`]). The readers see one type with
//! `Read + Seek`, parquet's `ChunkReader` and positional reads
//! ([`ReadAt`], for the footer checks), so that the code that opens and
//! reads an input does not ask where it is.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

use bytes::Bytes;
use parquet::file::reader::{ChunkReader, Length};

use super::remote::RemoteFile;

/// Positional reads (the cursor, where there is one, does not move).
pub(crate) trait ReadAt {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()>;
}

impl ReadAt for File {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        FileExt::read_exact_at(self, buf, at)
    }
}

impl ReadAt for RemoteFile {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        // Past the end: as a local file's `read_exact_at`, not a store failure.
        if let Some(why) = self.past_end(at, buf.len()) {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, why));
        }
        let b = self
            .bytes_at(at, buf.len())
            .map_err(std::io::Error::other)?;
        buf.copy_from_slice(&b);
        Ok(())
    }
}

/// A local file or a remote object.
#[derive(Debug)]
pub(crate) enum Blob {
    Local(File),
    Remote(RemoteFile),
}

impl ReadAt for Blob {
    fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        match self {
            Blob::Local(f) => ReadAt::read_exact_at(f, buf, at),
            Blob::Remote(r) => r.read_exact_at(buf, at),
        }
    }
}

impl Read for Blob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Blob::Local(f) => f.read(buf),
            Blob::Remote(r) => r.read(buf),
        }
    }
}

impl Seek for Blob {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Blob::Local(f) => f.seek(to),
            Blob::Remote(r) => r.seek(to),
        }
    }
}

impl Length for Blob {
    fn len(&self) -> u64 {
        match self {
            Blob::Local(f) => f.len(),
            Blob::Remote(r) => r.len(),
        }
    }
}

impl ChunkReader for Blob {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            Blob::Local(f) => Box::new(f.get_read(start)?),
            Blob::Remote(r) => Box::new(r.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            Blob::Local(f) => f.get_bytes(start, length),
            Blob::Remote(r) => r.get_bytes(start, length),
        }
    }
}
