//! ln Z of every layer bracketed by forward and reverse AIS, and the first layer's likelihood
//! and KL per spin against the exact distribution.

use anyhow::Result;
use burn::prelude::*;
use rbm::eval::ais::{
    AisConfig, AisRepeated, ais_log_partition_batch, ais_reverse_log_partition_batch,
};
use rbm::eval::generator::Chains;
use rbm::eval::likelihood::{Estimate, mean_free_energy, nll_per_unit};
use rbm::{Dbn, Propagation, Rbm};

use super::options::QualityOptions;
use super::report::{Bracket, EXACT_UNITS, FirstLayerLikelihood, LayerPartition};
use super::sampling::{sample_layer, spread_records, tau_of_mean};
use crate::pretrain::first_layer::exact_entropy_per_spin;
use crate::progress::Tick;
use crate::streams::Stream;

/// ln Ẑ as an [`Estimate`] for the likelihood formulas.
pub(super) fn estimate(z: &AisRepeated) -> Estimate {
    Estimate {
        value: z.log_partition,
        std_error: z.std_error,
    }
}

/// Each layer's base model for AIS (and the base-rate tempering path): independent visible
/// units fitted to the held-out data (`held_out`, the first layer's rows) as that layer sees
/// it, passed up by `propagation`.
pub(super) fn layer_bases(
    dbn: &Dbn,
    held_out: Tensor<2>,
    propagation: Propagation,
) -> Vec<Tensor<1>> {
    let mut bases = Vec::new();
    let mut layer_data = held_out;
    for (i, layer) in dbn.layers.iter().enumerate() {
        bases.push(
            layer
                .clone()
                .with_visible_bias_from_data(layer_data.clone())
                .visible_bias
                .val(),
        );
        if i + 1 < dbn.layers.len() {
            layer_data = match propagation {
                Propagation::Mean => layer.hidden_mean(layer_data),
                Propagation::Sample => layer.sample_hidden(layer_data),
            };
        }
    }
    bases
}

/// ln Z of layer `i` (0-based), bracketed: forward AIS from `base`, reverse AIS from records
/// of the layer's own chains (for the first layer the generator's, `first`: its chains and
/// swap acceptances), and the exact value where the layer is small enough to enumerate.
pub(super) fn layer_partition(
    i: usize,
    layer: &Rbm,
    base: &Tensor<1>,
    first: (&Chains, &Option<Vec<f64>>),
    options: &QualityOptions,
    device: &Device,
    progress: &dyn Fn(Tick),
) -> Result<LayerPartition> {
    let gibbs = |chains: u64| options.gibbs_of(chains);
    let base = base.clone();
    let ais = AisConfig {
        runs: options.ais_runs,
        segments: options.ladder.clone(),
        seed: Stream::QualityAis { layer: i }.key(options.seed),
        cpu_path: None,
    };
    // One tick per direction: the repetitions of one direction run as one batch.
    let tick = || {
        progress(Tick {
            done: 1,
            total: 2,
            unit: "AIS directions (forward, then reverse)",
        })
    };
    // As `ais_log_partition_repeated`: repetition r with the stream key(seed, r).
    let forward: Vec<AisConfig> = (0..options.ais_repetitions as u64)
        .map(|r| AisConfig {
            seed: rbm::noise::key(&[ais.seed, r]),
            ..ais.clone()
        })
        .collect();
    let forward = ais_log_partition_batch(layer, Some(base.clone()), &forward)?;
    tick();
    let forward = AisRepeated::of(forward, ais.clone());
    // The reverse starts: records of the layer's own chains (for the first layer, the
    // generator's; above it, chains of that layer alone), spread evenly over the chains
    // and their recorded stretch.
    let starts_needed = options.ais_runs * options.ais_repetitions;
    let (starts, tau, swap_acceptance) = match i {
        0 => (
            spread_records(first.0, starts_needed, layer, device),
            tau_of_mean(first.0, options.gibbs.thin),
            first.1.clone(),
        ),
        _ => {
            let (chains, acceptance) =
                sample_layer(layer, &base, &gibbs(100 + i as u64), options, &|_| {})?;
            (
                spread_records(&chains, starts_needed, layer, device),
                tau_of_mean(&chains, options.gibbs.thin),
                acceptance,
            )
        }
    };
    let reverse = (0..options.ais_repetitions)
        .map(|r| {
            let rows = r * options.ais_runs..(r + 1) * options.ais_runs;
            let config = AisConfig {
                seed: Stream::ReverseAis { repetition: r }.key(ais.seed),
                ..ais.clone()
            };
            (config, starts.clone().slice([rows, 0..layer.n_visible()]))
        })
        .collect();
    let reverse = ais_reverse_log_partition_batch(layer, Some(base.clone()), reverse)?;
    tick();
    let reverse = AisRepeated::of(reverse, ais.clone());
    let log_partition_exact = match layer.n_hidden().min(layer.n_visible()) <= EXACT_UNITS {
        true => Some(rbm::eval::exact::HostRbm::from_rbm(layer)?.log_partition_exact()?),
        false => None,
    };
    Ok(LayerPartition {
        layer: i + 1,
        shape: [layer.n_visible(), layer.n_hidden()],
        bracket_width: reverse.log_partition - forward.log_partition,
        log_partition_forward: forward,
        log_partition_reverse: reverse,
        tau_int_sweeps: tau,
        swap_acceptance,
        log_partition_exact,
    })
}

/// The first layer's held-out and training NLL and KL per spin, bracketed by the forward and
/// reverse ln Z of `partition`, on the L×L lattice at coupling K (`lattice`).
pub(super) fn first_layer_likelihood(
    first: &Rbm,
    held_out: Tensor<2>,
    train: ising_data::RowsDataset,
    partition: &LayerPartition,
    lattice: (usize, f64),
    device: &Device,
) -> Result<FirstLayerLikelihood> {
    let (l, k) = lattice;
    let entropy = exact_entropy_per_spin(l, k);
    let f_valid = mean_free_energy(first, held_out)?;
    let f_train = mean_free_energy(first, train.to_tensor(device))?;
    let (z_fwd, z_rev) = (
        estimate(&partition.log_partition_forward),
        estimate(&partition.log_partition_reverse),
    );
    let n = first.n_visible();
    let bracket = |f: Estimate| Bracket {
        forward: nll_per_unit(f, z_fwd, n),
        reverse: nll_per_unit(f, z_rev, n),
    };
    let nll = bracket(f_valid);
    let minus_entropy = |e: Estimate| Estimate {
        value: e.value - entropy,
        std_error: e.std_error,
    };
    Ok(FirstLayerLikelihood {
        entropy_per_spin: entropy,
        train_nll_per_spin: bracket(f_train),
        kl_per_spin: Bracket {
            forward: minus_entropy(nll.forward),
            reverse: minus_entropy(nll.reverse),
        },
        nll_per_spin: nll,
        bias: "forward: ln Z from below in expectation, so NLL and KL biased low; reverse: from the model's own equilibrated Gibbs chains, ln Z from above in expectation, so NLL and KL biased high".into(),
    })
}
