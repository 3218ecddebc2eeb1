//! The bridge between Burn tensors and the kernel: whether the kernel applies to a model,
//! and the parameters read out of their tensors (in place on flex).

use burn::prelude::*;

use super::isa::{CpuPath, Level};
use super::params::KernelParams;
use crate::error::{RbmError, Result};
use crate::rbm::Rbm;
use crate::tensor::to_vec;
use crate::units::Units;

/// The level the fused CPU kernel computes for `rbm` on, if it applies: Bernoulli units on
/// both layers, the flex device, and `path` naming an instruction set this CPU has.
pub(crate) fn applies(rbm: &Rbm, path: CpuPath) -> Option<Level> {
    let CpuPath::Kernel(isa) = path else {
        return None;
    };
    let device = rbm.weights.val().without_autodiff().device();
    let fits = rbm.visible_units == Units::Bernoulli
        && rbm.hidden_units == Units::Bernoulli
        && is_flex(&device);
    if fits { isa.level() } else { None }
}

/// An RBM's parameters read out of its tensors, owned, for [`KernelParams`] to borrow.
pub(crate) struct OwnedParams {
    weights: HostF32,
    visible_bias: Vec<f32>,
    hidden_bias: Vec<f32>,
    /// The (non-autodiff) device the parameters live on.
    pub(crate) device: Device,
}

impl OwnedParams {
    /// Reads the parameters; the weights in place on flex (see [`HostF32`]).
    ///
    /// # Errors
    /// If the device cannot hand the parameters back.
    pub(crate) fn read(rbm: &Rbm) -> Result<Self> {
        let weights = rbm.weights.val().without_autodiff();
        Ok(Self {
            device: weights.device(),
            weights: HostF32::read(weights)?,
            visible_bias: to_vec(rbm.visible_bias.val().without_autodiff())?,
            hidden_bias: to_vec(rbm.hidden_bias.val().without_autodiff())?,
        })
    }

    /// The kernel's view of the parameters.
    pub(crate) fn view(&self) -> KernelParams<'_> {
        KernelParams::new(
            self.weights.as_slice(),
            self.visible_bias.clone(),
            self.hidden_bias.clone(),
        )
    }
}

/// A tensor's f32 elements, row-major: the flex tensor's own buffer, shared without a copy,
/// when the tensor is a contiguous f32 tensor on flex; a copy otherwise (`into_data` would
/// copy the weights twice per step).
pub(crate) enum HostF32 {
    /// A flex tensor and the range of its buffer that holds the elements.
    Shared(burn_flex::FlexTensor, std::ops::Range<usize>),
    /// A copy.
    Owned(Vec<f32>),
}

impl HostF32 {
    /// The elements of `t` (a non-autodiff tensor).
    ///
    /// # Errors
    /// If the device cannot hand the data back.
    pub(crate) fn read<const D: usize>(t: Tensor<D>) -> Result<Self> {
        if !is_flex(&t.device()) {
            return Ok(Self::Owned(to_vec(t)?));
        }
        let flex = t.try_into_primitive::<burn_flex::Flex>().map_err(|e| {
            RbmError::Device(format!(
                "a tensor on the flex device is not a flex tensor: {e:?}"
            ))
        })?;
        if flex.dtype() == burn::tensor::DType::F32
            && let Some((start, end)) = flex.layout().contiguous_offsets()
        {
            return Ok(Self::Shared(flex, start..end));
        }
        Ok(Self::Owned(to_vec(Tensor::<D>::from_primitive::<
            burn_flex::Flex,
        >(flex))?))
    }

    /// The elements.
    pub(crate) fn as_slice(&self) -> &[f32] {
        match self {
            Self::Shared(flex, range) => &flex.storage::<f32>()[range.clone()],
            Self::Owned(v) => v,
        }
    }
}

/// Whether `device` is flex, the CPU backend the kernel is measured on. (On ndarray, reading
/// a tensor's data goes element by element and costs more than the kernel saves.)
fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        to_vec(t).unwrap()
    }

    /// The kernel reads flex tensors in place, and copies views that are not contiguous:
    /// either way it sees the elements `into_data` gives, row-major.
    #[test]
    fn host_f32_reads_the_elements_in_place_or_copied() {
        let device = Device::flex();
        let t = Tensor::<2>::from_data(
            TensorData::new((0..12).map(|x| x as f32).collect::<Vec<_>>(), [3, 4]),
            &device,
        );
        let shared = HostF32::read(t.clone()).unwrap();
        assert!(matches!(shared, HostF32::Shared(..)));
        assert_eq!(shared.as_slice(), values(t.clone()).as_slice());
        // A transposed view and a row slice with an offset are read as copies in their
        // logical order.
        let tt = t.clone().transpose();
        let read = HostF32::read(tt.clone()).unwrap();
        assert_eq!(read.as_slice(), values(tt).as_slice());
        let rows = t.slice([1..3, 0..4]);
        let read = HostF32::read(rows.clone()).unwrap();
        assert_eq!(read.as_slice(), &[4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        assert_eq!(read.as_slice(), values(rows).as_slice());
    }
}
