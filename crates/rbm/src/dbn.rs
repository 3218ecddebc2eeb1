//! A deep belief network: a stack of RBMs trained greedily, layer by layer.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{RbmError, Result};
use crate::rbm::Rbm;

/// How activities are passed up the stack (for greedy training and reconstructions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Propagation {
    /// Conditional means E[h|v] (hidden probabilities for Bernoulli units), as in Hinton &
    /// Salakhutdinov's code.
    #[default]
    Mean,
    /// Samples h ~ p(h|v).
    Sample,
}

/// A stack of RBMs; layer l's hidden layer is layer l+1's visible layer.
#[derive(Module, Debug)]
pub struct Dbn {
    /// The RBMs, bottom first.
    pub layers: Vec<Rbm>,
}

impl Dbn {
    /// A stack of `layers`.
    ///
    /// # Errors
    /// If the stack is empty or the widths or unit types of adjacent layers disagree.
    pub fn new(layers: Vec<Rbm>) -> Result<Self> {
        if layers.is_empty() {
            return Err(RbmError::Mismatch("a DBN needs at least one layer".into()));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            if pair[0].n_hidden() != pair[1].n_visible() {
                return Err(RbmError::Mismatch(format!(
                    "layer {} has {} hidden units but layer {} has {} visible units",
                    l + 1,
                    pair[0].n_hidden(),
                    l + 2,
                    pair[1].n_visible()
                )));
            }
            if pair[0].hidden_units != pair[1].visible_units {
                return Err(RbmError::Mismatch(format!(
                    "layer {} has {:?} hidden units but layer {} has {:?} visible units",
                    l + 1,
                    pair[0].hidden_units,
                    l + 2,
                    pair[1].visible_units
                )));
            }
        }
        Ok(Self { layers })
    }

    /// The activities of the hidden layer of RBM `depth` (1-based: 1 is the first hidden
    /// layer) for visible data `v`. `[batch, n_h(depth)]`.
    ///
    /// # Panics
    /// If `depth` is 0 or larger than the number of layers.
    pub fn up(&self, v: Tensor<2>, depth: usize, propagation: Propagation) -> Tensor<2> {
        assert!(
            (1..=self.layers.len()).contains(&depth),
            "depth out of range"
        );
        self.layers[..depth]
            .iter()
            .fold(v, |x, rbm| match propagation {
                Propagation::Mean => rbm.hidden_mean(x),
                Propagation::Sample => rbm.sample_hidden(x),
            })
    }

    /// The Hinton–Salakhutdinov reconstruction: conditional means up through the whole stack,
    /// then conditional means down again to the visible layer. `[batch, n_v]`.
    pub fn reconstruct(&self, v: Tensor<2>) -> Tensor<2> {
        let top = self.up(v, self.layers.len(), Propagation::Mean);
        self.layers
            .iter()
            .rev()
            .fold(top, |h, rbm| rbm.visible_mean(h))
    }

    /// Effective receptive fields (Mehta & Schwab, Appendix B): r(1) = W(1),
    /// r(l) = r(l−1) W(l); entry `[l-1]` is `[n_v, n_h(l)]`, column j the field of hidden
    /// unit j of layer l on the visible units.
    pub fn receptive_fields(&self) -> Vec<Tensor<2>> {
        let mut fields: Vec<Tensor<2>> = Vec::with_capacity(self.layers.len());
        for rbm in &self.layers {
            let w = rbm.weights.val();
            let r = match fields.last() {
                None => w,
                Some(prev) => prev.clone().matmul(w),
            };
            fields.push(r);
        }
        fields
    }
}
