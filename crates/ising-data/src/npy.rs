//! Reading and writing NumPy `.npy` files of `int8` (format versions 1.0–3.0 read, 1.0
//! written), strictly validated.

use std::path::Path;

use crate::error::{IsingDataError, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The header (magic, version 1.0, padded dict) of a C-order `.npy` file.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so that magic (6) + version (2) + length (2) + header is a multiple of 64, ending
    // in a newline, as the format specification recommends.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// The bytes of a C-order `int8` `.npy` file of the given shape.
///
/// # Panics
/// If `data.len()` is not the product of `shape`.
pub fn encode_i8(shape: &[usize], data: &[i8]) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        data.len(),
        "shape does not match data"
    );
    let mut out = header("|i1", shape);
    out.extend(data.iter().map(|&x| x as u8));
    out
}

/// The bytes of a C-order little-endian `float32` `.npy` file of the given shape.
///
/// # Panics
/// If `data.len()` is not the product of `shape`.
pub fn encode_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        data.len(),
        "shape does not match data"
    );
    let mut out = header("<f4", shape);
    out.reserve(4 * data.len());
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Writes an `int8` `.npy` file atomically ([`crate::folder::write_file_atomic`]).
///
/// # Errors
/// On I/O failure, naming `path`.
pub fn write_i8(path: &Path, shape: &[usize], data: &[i8]) -> Result<()> {
    crate::folder::write_file_atomic(path, &encode_i8(shape, data))
}

/// Parses the bytes of an `.npy` file that must hold C-order `int8` data; returns the shape
/// and the data. `path` only names the file in errors.
///
/// # Errors
/// [`IsingDataError::Format`] for a bad magic string, an unsupported version, a header that
/// is not a well-formed dict, a dtype other than 1-byte signed integers, Fortran order, or a
/// data section shorter (truncated) or longer than the shape says.
pub fn decode_i8(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<i8>)> {
    let (shape, data) = decode(
        path,
        bytes,
        &["|i1", "<i1", ">i1", "i1", "=i1"],
        "int8 ('|i1') spins of ±1",
        1,
    )?;
    Ok((shape, data.iter().map(|&b| b as i8).collect()))
}

/// Parses the bytes of an `.npy` file that must hold C-order little-endian `float32` data.
///
/// # Errors
/// As [`decode_i8`], with `'<f4'` the accepted dtype.
pub fn decode_f32(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    let (shape, data) = decode(path, bytes, &["<f4", "f4"], "float32 ('<f4')", 4)?;
    let values = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((shape, values))
}

/// Validates an `.npy` file of one of the `dtypes` (elements of `size` bytes) and returns its
/// shape and raw data bytes.
fn decode<'a>(
    path: &Path,
    bytes: &'a [u8],
    dtypes: &[&str],
    expected: &str,
    size: usize,
) -> Result<(Vec<usize>, &'a [u8])> {
    let fail = |r: String| Err(IsingDataError::format(path, r));
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return fail("not a NumPy .npy file (bad magic string)".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return fail(format!("unsupported .npy version {major}.{minor}")),
    };
    let Some(header) = bytes.get(start..start + header_len) else {
        return fail("truncated .npy header".into());
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return fail(".npy header is not text".into());
    };
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?;
        Some(rest.trim_start())
    };
    let Some(descr) = field("descr") else {
        return fail(".npy header has no 'descr'".into());
    };
    let descr = descr.split(['\'', '"']).nth(1).unwrap_or("");
    if !dtypes.contains(&descr) {
        return fail(format!("dtype is '{descr}', expected {expected}"));
    }
    match field("fortran_order") {
        Some(v) if v.starts_with("False") => {}
        Some(_) => return fail("Fortran-ordered arrays are not supported".into()),
        None => return fail(".npy header has no 'fortran_order'".into()),
    }
    let Some(shape_txt) = field("shape")
        .and_then(|s| s.strip_prefix('('))
        .and_then(|s| s.split(')').next())
    else {
        return fail(".npy header has no readable 'shape'".into());
    };
    let mut shape = Vec::new();
    for part in shape_txt
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.parse::<usize>() {
            Ok(d) => shape.push(d),
            Err(_) => return fail(format!("bad dimension '{part}' in .npy shape")),
        }
    }
    let Some(count) = shape.iter().try_fold(size, |a, &d| a.checked_mul(d)) else {
        return fail("shape overflows".into());
    };
    let data = &bytes[start + header_len..];
    if data.len() < count {
        return fail(format!(
            "truncated: shape {shape:?} needs {count} bytes of data, the file has {}",
            data.len()
        ));
    }
    if data.len() > count {
        return fail(format!(
            "{} bytes of data beyond the {count} that shape {shape:?} holds",
            data.len() - count
        ));
    }
    Ok((shape, data))
}

/// Reads an `int8` `.npy` file (see [`decode_i8`]).
///
/// # Errors
/// On I/O failure or a malformed file, naming `path`.
pub fn read_i8(path: &Path) -> Result<(Vec<usize>, Vec<i8>)> {
    let bytes = std::fs::read(path).map_err(|e| IsingDataError::io(path, e))?;
    decode_i8(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header_alignment() {
        let data: Vec<i8> = (0..24).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
        for shape in [vec![24], vec![2, 3, 4], vec![6, 4]] {
            let bytes = encode_i8(&shape, &data);
            assert_eq!((bytes.len() - 24) % 64, 0, "header not 64-aligned");
            let (s, d) = decode_i8(Path::new("x.npy"), &bytes).unwrap();
            assert_eq!((s, d), (shape, data.clone()));
        }
    }

    #[test]
    fn float32_round_trip() {
        let data = [1.5f32, -0.25, 3.0e-8, 7.0, 0.0, -1.0];
        let bytes = encode_f32(&[3, 2], &data);
        let (shape, back) = decode_f32(Path::new("w.npy"), &bytes).unwrap();
        assert_eq!(shape, vec![3, 2]);
        assert_eq!(back, data.to_vec(), "bit-exact round trip");
        let err = decode_i8(Path::new("w.npy"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("dtype is '<f4'"), "{err}");
        let truncated = decode_f32(Path::new("w.npy"), &bytes[..bytes.len() - 2]);
        assert!(truncated.unwrap_err().to_string().contains("truncated"));
    }

    #[test]
    fn float32_files_have_the_numpy_header_and_little_endian_data() {
        let bytes = encode_f32(&[2], &[1.5, -0.25]);
        assert_eq!((bytes.len() - 8) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..bytes.len() - 8]).unwrap();
        assert_eq!(
            header.trim_end(),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        );
        assert_eq!(&bytes[bytes.len() - 8..], &[0, 0, 192, 63, 0, 0, 128, 190]);
    }

    #[test]
    fn header_is_what_numpy_writes() {
        // numpy.save of np.ones((2,3), np.int8) writes exactly this header (NumPy ≥ 1.x).
        let bytes = encode_i8(&[2, 3], &[1; 6]);
        let header = std::str::from_utf8(&bytes[10..bytes.len() - 6]).unwrap();
        assert_eq!(
            header.trim_end(),
            "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }"
        );
        assert!(header.ends_with('\n'));
    }

    #[test]
    fn faults_are_named() {
        let p = Path::new("spins.npy");
        let good = encode_i8(&[2, 3], &[1; 6]);
        let err = |b: &[u8]| decode_i8(p, b).unwrap_err().to_string();
        assert!(err(&good[..good.len() - 1]).contains("truncated"));
        assert!(err(&[good.as_slice(), &[1]].concat()).contains("beyond"));
        assert!(err(b"hello world").contains("magic"));
        let replace = |from: &[u8], to: &[u8]| -> Vec<u8> {
            let at = good.windows(from.len()).position(|w| w == from).unwrap();
            [&good[..at], to, &good[at + from.len()..]].concat()
        };
        assert!(err(&replace(b"|i1", b"<f8")).contains("dtype is '<f8'"));
        assert!(err(&replace(b"False", b"True ")).contains("Fortran"));
        assert!(err(&good[..20]).contains("truncated .npy header"));
    }
}
