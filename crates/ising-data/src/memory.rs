//! Sizes checked against the machine's memory before any work, so that an impossible request
//! is one clear error naming the bytes instead of an aborted allocation.

use crate::error::{IsingDataError, Result};

/// The memory available to new allocations, in bytes: `MemAvailable` of `/proc/meminfo`
/// (Linux); `None` where it cannot be read.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Refuses `what` needing `bytes` (computed by the caller, `None` when it overflows) when
/// that is more than the memory [available](available_bytes); where that cannot be read,
/// only sizes beyond the address space are refused.
///
/// # Errors
/// [`IsingDataError::Memory`] naming `what`, the bytes needed and the bytes available.
pub fn check_fits(what: &str, bytes: Option<u128>) -> Result<()> {
    let limit = available_bytes().map_or(u128::from(u64::MAX), u128::from);
    match bytes {
        Some(b) if b <= limit => Ok(()),
        Some(b) => Err(IsingDataError::Memory(format!(
            "{what} needs about {b} bytes of memory, more than the {limit} bytes available"
        ))),
        None => Err(IsingDataError::Memory(format!(
            "{what} needs more bytes of memory than can be counted"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_size_is_refused_naming_its_bytes_and_a_small_one_passes() {
        let e = check_fits("8 TB of spins", Some(8_000_000_000_000_000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("8000000000000000 bytes"), "{e}");
        check_fits("a kilobyte", Some(1024)).unwrap();
        assert!(check_fits("overflow", None).is_err());
    }
}
