//! Samples of one layer: block-Gibbs or tempered chains, and records spread over them as the
//! starts of reverse AIS.

use anyhow::Result;
use burn::prelude::*;
use ising_data::stats::integrated_autocorrelation_time;
use rbm::Rbm;
use rbm::eval::generator::{Chains, GibbsConfig, gibbs_chains, tempered_chains};
use rbm::eval::tempering::geometric_ladder;

use super::judge::{magnetization, series, slices};
use super::options::QualityOptions;

/// Chains of one layer by parallel tempering (`options.replicas` > 1) or block Gibbs, with
/// the swap acceptances of the former.
pub(super) fn sample_layer(
    layer: &Rbm,
    base: &Tensor<1>,
    gibbs: &GibbsConfig,
    options: &QualityOptions,
    progress: &dyn Fn(usize),
) -> Result<(Chains, Option<Vec<f64>>)> {
    Ok(match options.replicas {
        1 => (gibbs_chains(layer, gibbs, progress)?, None),
        r => {
            let base = match options.base_path {
                true => Some(rbm::tensor::to_vec::<f32, 1>(base.clone())?),
                false => None,
            };
            let (chains, acceptance) = tempered_chains(
                layer,
                gibbs,
                geometric_ladder(options.beta_min, r)?,
                base,
                progress,
            )?;
            (chains, Some(acceptance))
        }
    })
}

/// `count` records spread evenly over the chains (round robin) and over each chain's
/// recorded stretch (the last record included), encoded for `layer`'s visible units
/// (`[count, n]`).
///
/// # Panics
/// If there are fewer records than `count` (excluded by [`QualityOptions::validate`]).
pub(super) fn spread_records(
    chains: &Chains,
    count: usize,
    layer: &Rbm,
    device: &Device,
) -> Tensor<2> {
    assert!(count <= chains.chains * chains.records, "too few records");
    let encode = |s: i8| rbm::eval::likelihood::encode_spin(layer.visible_units, s) as f32;
    let per_chain = count.div_ceil(chains.chains);
    let rows: Vec<f32> = (0..count)
        .flat_map(|i| {
            let (c, k) = (i % chains.chains, i / chains.chains);
            // The k-th of per_chain records counted back from the last, evenly spaced.
            let r = chains.records - 1 - k * chains.records / per_chain;
            let record = &chains.chain(c)[r * chains.units..][..chains.units];
            record.iter().map(|&s| encode(s)).collect::<Vec<_>>()
        })
        .collect();
    Tensor::from_data(TensorData::new(rows, [count, chains.units]), device)
}

/// τ_int in sweeps of the mean visible activity of `chains` recorded every `thin` sweeps.
pub(super) fn tau_of_mean(chains: &Chains, thin: usize) -> f64 {
    thin as f64 * integrated_autocorrelation_time(&slices(&series(chains, magnetization)))
}
