//! How good a trained stack is in absolute terms (the `quality` binary): each layer's ln Z
//! bracketed by forward and reverse AIS, the first layer's negative log-likelihood and KL
//! divergence per spin from the exact Ising distribution, and the stack as a generator of
//! 40×40 configurations whose physics is measured against Kaufman's exact values and the
//! Monte Carlo data.
//!
//! Conventions and biases, stated once:
//! - Forward AIS gives ln Ẑ whose expectation is below ln Z (Jensen), so the NLL and KL
//!   computed with it are biased **low**. Reverse AIS here starts from the final states of
//!   long block-Gibbs chains of the same layer (samples of the model as far as the chains
//!   have equilibrated, which their τ_int shows), so its ln Ẑ is above ln Z in expectation and
//!   the NLL and KL computed with it are biased **high**: the two bracket the truth.
//! - Errors of ln Z come from the spread of independent repetitions (forward) or of disjoint
//!   groups of starts (reverse), not from one run's importance weights.
//! - The generator's errors are binned jackknife errors over chains
//!   ([`ising_data::observables`]); z-scores are (generated − reference)/error, the errors of
//!   both added in quadrature when the reference is itself measured (the data).

mod figures;
mod judge;
mod options;
mod partition;
mod report;
mod sampling;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use burn::prelude::*;
use ising_data::Lattice;
use ising_data::config::Valid;
use rbm::eval::generator::dbn_chains;

use crate::pretrain::run_rows;
use crate::progress::Tick;
use crate::run::{load_run, load_run_dataset};
use judge::{Reference, data_and_exact, judge_generators};
use partition::{first_layer_likelihood, layer_bases, layer_partition};
use sampling::sample_layer;

pub use figures::figures;
pub use options::QualityOptions;
pub use report::{
    Bracket, EXACT_UNITS, FirstLayerLikelihood, GeneratorReport, LayerPartition, QualityReport,
    Samples,
};

/// The analysis of the finished run in `dir` whose dataset is found in `datasets`
/// (see the module docs). `stage` is told the name of each stage as it starts; `progress`
/// the sweeps of the generators as they are done.
///
/// # Errors
/// A folder that is not a finished run, a missing or different dataset, or a device that
/// cannot hand results back.
pub fn assess(
    dir: &Path,
    datasets: Option<&Path>,
    options: &Valid<QualityOptions>,
    device: &Device,
    stage: &dyn Fn(&str),
    progress: &dyn Fn(Tick),
) -> Result<(QualityReport, Samples)> {
    let mut seconds = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, seconds: &mut BTreeMap<String, f64>| {
        seconds.insert(name.to_string(), clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };

    stage("reading the run and its data");
    let (config, dbn) = load_run(dir, device)?;
    options.check_memory(config.layers.iter().copied().max().unwrap_or(0))?;
    let stored = load_run_dataset(dir, &config, datasets)?;
    let (l, k) = (config.data.size, config.data.coupling);
    let lattice = Lattice::Square { l };
    let (data_chains, data, exact) = data_and_exact(&stored, &lattice, k);
    let (train, valid) = run_rows(&config, stored)?;
    lap("data", &mut seconds);

    // Generators: the first RBM alone, then the DBN; every layer's own chains give its
    // reverse-AIS starts.
    let gibbs = |chains: u64| options.gibbs_of(chains);
    let held_out = valid.to_tensor(device);
    let bases = layer_bases(&dbn, held_out.clone(), config.propagation);
    let first = &dbn.layers[0];
    stage(&match options.replicas {
        1 => "sampling the first RBM (block Gibbs)".to_string(),
        r => format!("sampling the first RBM (parallel tempering, {r} replicas)"),
    });
    let total = options.gibbs.burn_in + options.gibbs.sweeps;
    let sweeps = |done| {
        progress(Tick {
            done,
            total,
            unit: "sweeps",
        })
    };
    let (rbm_chains, rbm_acceptance) = sample_layer(first, &bases[0], &gibbs(1), options, &sweeps)?;
    lap("generator_rbm", &mut seconds);
    stage("sampling the DBN");
    let dbn_chains = dbn_chains(&dbn, &gibbs(2), options.downward, &sweeps)?;
    lap("generator_dbn", &mut seconds);
    let reference = Reference {
        lattice,
        coupling: k,
        exact: &exact,
        data: &data,
    };
    let generated = [(&rbm_chains, rbm_acceptance.clone()), (&dbn_chains, None)];
    let generators = judge_generators(generated, dbn.layers.len(), options, &reference);

    // ln Z of every layer, bracketed.
    let mut log_partition = Vec::new();
    for (i, layer) in dbn.layers.iter().enumerate() {
        stage(&format!("AIS, layer {}", i + 1));
        let first = (&rbm_chains, &rbm_acceptance);
        log_partition.push(layer_partition(
            i, layer, &bases[i], first, options, device, progress,
        )?);
        lap(&format!("ais_layer{}", i + 1), &mut seconds);
    }

    stage("likelihood of the first layer");
    let first_layer =
        first_layer_likelihood(first, held_out, train, &log_partition[0], (l, k), device)?;
    lap("likelihood", &mut seconds);

    let report = QualityReport {
        run: dir.display().to_string(),
        options: QualityOptions::clone(options),
        size: l,
        coupling: k,
        log_partition,
        first_layer,
        exact,
        data,
        generators,
        seconds,
    };
    let samples = Samples {
        data: data_chains,
        generated: vec![rbm_chains, dbn_chains],
    };
    Ok((report, samples))
}
