//! Choosing a Burn device by name among the backends compiled in.

use burn::prelude::Device;

use crate::error::Result;

/// The device names this build supports, in the order `select_device` documents.
pub fn available_devices() -> Vec<&'static str> {
    let mut names = vec!["flex"];
    if cfg!(feature = "ndarray") {
        names.push("ndarray");
    }
    if cfg!(feature = "wgpu") {
        names.push("wgpu");
    }
    if cfg!(feature = "cuda") {
        names.push("cuda");
    }
    names
}

/// The device called `name` (`flex`, or `ndarray`, `wgpu`, `cuda` when compiled in).
///
/// # Errors
/// [`crate::RbmError::Config`] naming the compiled-in devices when `name` is not one of them.
pub fn select_device(name: &str) -> Result<Device> {
    match name {
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Ok(Device::ndarray()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(Default::default())),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(0)),
        other => Err(ising_data::config::ConfigError::invalid(
            "device",
            format!(
                "a device this build has ({})",
                available_devices().join(", ")
            ),
            format!("'{other}'"),
        )
        .into()),
    }
}
