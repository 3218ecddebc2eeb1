//! Reading tensors back to the host.

use burn::prelude::Tensor;
use burn::tensor::Element;

use crate::error::{RbmError, Result};

/// The elements of `t`, row-major, converted to `E`.
///
/// # Errors
/// [`RbmError::Device`] if the device cannot hand the data back (a failed GPU computation,
/// for instance). Never an empty vector for a non-empty tensor.
pub fn to_vec<E: Element, const D: usize>(t: Tensor<D>) -> Result<Vec<E>> {
    let data = t
        .try_into_data()
        .map_err(|e| RbmError::Device(format!("reading a tensor back from the device: {e:?}")))?;
    data.convert::<E>()
        .try_into_vec::<E>()
        .map_err(|e| RbmError::Device(format!("converting a tensor's data: {e:?}")))
}
