//! The "RBM flow" of Iso, Shiba & Yokoo (Phys. Rev. E 97, 053304, 2018; arXiv:1801.07172),
//! reproduced quantitatively (the `isy_flow` binary).
//!
//! Their setup: configurations of the periodic 10×10 Ising model at T = 0.25, 0.5, …, 6
//! (J = 1, K = 1/T) and at T ≈ 0 train one RBM with 100 visible and 100 hidden Bernoulli
//! units by CD-1. The trained RBM then defines a map on configurations,
//! v → h ~ p(h|v) → v' ~ p(v|h), and iterating it from a cold (all up) and a hot (uniformly
//! random) start gives a flow of configurations whose "temperature" they report to approach
//! T_c = 2/ln(1+√2) ≈ 2.269 from both sides; an RBM trained on low temperatures only does not.
//!
//! Here the temperature of a set of flowed configurations is read from their mean energy per
//! spin alone ([`temperature_fit`]): T_fit is the temperature at which the exact mean energy of
//! the periodic 10×10 lattice (Kaufman 1949,
//! [`coupling_at_energy_2d`](ising_data::exact::coupling_at_energy_2d)) equals theirs. Iso et
//! al. measured it instead with a separately trained neural-network classifier of
//! temperatures; the two readouts agree on equilibrium samples (the data's own readout is in
//! the report, [`DataReadout`]) but need not agree on configurations that are not
//! equilibrium samples of any temperature.
//!
//! Conventions, stated once:
//! - Visible units are {0, 1} with spin up = 1 ([`SpinEncoding::ZeroOne`]).
//! - T ≈ 0 is the pair of ground states: half the rows all up, half all down, as the Wolff
//!   data at low temperature holds both signs equally ([`ground_state_rows`]).
//! - Every flow has `starts` independent chains; the statistics at one iteration are over
//!   those chains, which are independent, so their standard errors are plain ones (σ/√n).
//! - T_fit's error is the energy's propagated linearly: dT/du = c(T), the exact specific heat
//!   per spin at T_fit, so σ_T = σ_u / c and σ_K = K² σ_T.

mod figures;
mod flow;
mod options;
mod readout;
mod report;
mod training;

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::data::dataset::Dataset;
use burn::prelude::*;
use ising_data::config::{Checked, Valid};
use ising_data::exact::kaufman_energy_per_spin;
use ising_data::generate::generate;
use ising_data::{RowsDataset, SpinEncoding};
use rbm::{Noise, Rbm};

use crate::streams::Stream;

pub use figures::{flow_figure, format_temperature};
pub use flow::{Flow, FlowPoint, ModelFlows, Start, flow_step, rbm_flow};
pub use options::{IsyOptions, MAX_FIT_COUPLING, critical_temperature, paper_temperatures};
pub use readout::{
    Readout, TemperatureFit, ground_state_rows, read_out, spins_from_bernoulli, temperature_fit,
};
pub use report::{DataReadout, IsyReport};
pub use training::train_rbm;

/// The Monte Carlo data at every temperature: the {0, 1} rows per temperature and their
/// readouts against the exact energy.
fn monte_carlo_data(
    options: &IsyOptions,
    log: &dyn Fn(&str),
) -> Result<(Vec<Vec<f32>>, Vec<DataReadout>)> {
    let l = options.size;
    let mut blocks = Vec::with_capacity(options.temperatures.len());
    let mut data = Vec::with_capacity(options.temperatures.len());
    for (i, &t) in options.temperatures.iter().enumerate() {
        let config = options
            .generate_config(i, t)
            .validated()
            .with_context(|| format!("the data at T = {t}"))?;
        let generated = generate(&config, &|_| {});
        for w in &generated.warnings {
            log(&format!("warning (T = {t}): {w}"));
        }
        let readout = read_out(l, &generated.spins);
        log(&format!(
            "data T = {t:.2}: E/N {:.4} (exact {:.4}), |m| {:.3}, τ_int {:.2}/{:.2} sweeps",
            readout.energy_per_spin.value,
            kaufman_energy_per_spin(l, l, 1.0 / t),
            readout.abs_magnetization.value,
            generated.tau.sweeps.energy,
            generated.tau.sweeps.abs_magnetization
        ));
        blocks.push(
            generated
                .spins
                .iter()
                .map(|&s| SpinEncoding::ZeroOne.encode(s))
                .collect::<Vec<f32>>(),
        );
        data.push(DataReadout {
            temperature: t,
            exact_energy_per_spin: kaufman_energy_per_spin(l, l, 1.0 / t),
            tau_int_sweeps: [
                generated.tau.sweeps.energy,
                generated.tau.sweeps.abs_magnetization,
            ],
            readout,
        });
    }
    Ok((blocks, data))
}

/// The flows of the model `name` (index `m`) from each start, `options.iterations` steps.
fn model_flows(
    rbm: &Rbm,
    options: &IsyOptions,
    name: &str,
    m: usize,
    device: &Device,
    log: &dyn Fn(&str),
) -> Result<Vec<Flow>> {
    let (l, n) = (options.size, options.size * options.size);
    let mut flows = Vec::new();
    for (s, start) in Start::ALL.into_iter().enumerate() {
        let mut noise = Noise::new(
            Stream::IsyReadout {
                block: m,
                temperature: s,
            }
            .key(options.seed),
        );
        let v0 = start.configurations(options.starts, n, &mut noise, device);
        let points = rbm_flow(
            rbm,
            v0,
            l,
            options.iterations,
            options.flow_hidden,
            &mut noise,
        )?;
        let last = &points[points.len() - 1].readout;
        log(&format!(
            "  '{name}' flow from {}: after {} iterations E/N {:.4}, T_fit {}, |m| {:.3}",
            start.label(),
            options.iterations,
            last.energy_per_spin.value,
            format_temperature(&last.fit),
            last.abs_magnetization.value
        ));
        flows.push(Flow { start, points });
    }
    Ok(flows)
}

/// Runs the whole reproduction: the data, both models and their flows. `log` is told what
/// happens, one line at a time (progress for standard error).
///
/// # Errors
/// A device that cannot hand results back.
pub fn run(options: &Valid<IsyOptions>, device: &Device, log: &dyn Fn(&str)) -> Result<IsyReport> {
    let clock = Instant::now();
    let mut seconds = BTreeMap::new();
    let l = options.size;
    let n = l * l;

    // The Monte Carlo data, one block of {0, 1} rows per temperature.
    let (blocks, data) = monte_carlo_data(options, log)?;
    seconds.insert("data".to_string(), clock.elapsed().as_secs_f64());

    let mut models = Vec::new();
    let sets = [
        ("all", options.temperatures.clone()),
        ("control", options.control_temperatures()),
    ];
    for (m, (name, temperatures)) in sets.into_iter().enumerate() {
        let mut values = ground_state_rows(options.samples_per_temperature, n);
        for (t, block) in options.temperatures.iter().zip(&blocks) {
            if temperatures.contains(t) {
                values.extend_from_slice(block);
            }
        }
        let rows = RowsDataset::new(values, n);
        let training_rows = rows.len();
        let started = Instant::now();
        log(&format!(
            "training '{name}' on {training_rows} rows (T ≈ 0 and {} temperatures), {} epochs",
            temperatures.len(),
            options.epochs
        ));
        let every = (options.epochs / 10).max(1);
        let progress = |epoch: usize, error: f64| {
            if epoch.is_multiple_of(every) || epoch == options.epochs {
                log(&format!(
                    "  '{name}' epoch {epoch}/{}: reconstruction error {error:.5} ({:.1} s)",
                    options.epochs,
                    started.elapsed().as_secs_f64()
                ));
            }
        };
        let stream = Stream::IsyTraining { block: m }.key(options.seed);
        let (rbm, reconstruction_error) = train_rbm(rows, options, stream, device, &progress)?;
        let training_seconds = started.elapsed().as_secs_f64();
        let flows = model_flows(&rbm, options, name, m, device, log)?;
        seconds.insert(format!("{name}_training"), training_seconds);
        seconds.insert(
            format!("{name}_flow"),
            started.elapsed().as_secs_f64() - training_seconds,
        );
        models.push(ModelFlows {
            name: name.to_string(),
            temperatures,
            training_rows,
            reconstruction_error,
            training_seconds,
            flows,
        });
    }
    seconds.insert("total".to_string(), clock.elapsed().as_secs_f64());
    Ok(IsyReport {
        options: IsyOptions::clone(options),
        critical_temperature: critical_temperature(),
        ground_state: format!(
            "T ≈ 0 is {} rows of the two ground states in each model's training rows: {} all up, {} all down",
            options.samples_per_temperature,
            options.samples_per_temperature.div_ceil(2),
            options.samples_per_temperature / 2
        ),
        data,
        models,
        seconds,
        burn_version: crate::BURN_VERSION.to_string(),
    })
}
