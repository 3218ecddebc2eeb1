//! Receptive-field measures of a finished `fig3` run, recomputed from its saved weights;
//! with `--write`, also redraws the run's Fig. 3b, 3c and 3d from them (atomically).
//!
//! `cargo run --release -p experiments --example measure_fields -- runs/fig3-paper [--write]`

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use experiments::output::write_file_atomic;
use experiments::pretrain::receptive_field_figures;
use ising_data::npy;

fn main() -> Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        bail!("usage: measure_fields RUN_DIR [--write]");
    };
    let write = std::env::args().any(|a| a == "--write");
    let weights = std::path::Path::new(&dir).join("weights");
    let device = Device::flex();
    let mut fields: Vec<Tensor<2>> = Vec::new();
    for layer in 1.. {
        let path = weights.join(format!("layer{layer}_W.npy"));
        if !path.exists() {
            break;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let (shape, data) = npy::decode_f32(&path, &bytes)?;
        let [nv, nh] = shape[..] else {
            bail!("{}: expected a matrix, got shape {shape:?}", path.display());
        };
        let w = Tensor::<2>::from_data(TensorData::new(data, [nv, nh]), &device);
        let r = match fields.last() {
            None => w,
            Some(prev) => prev.clone().matmul(w),
        };
        fields.push(r);
    }
    let Some(first) = fields.first() else {
        bail!("no weights/layer1_W.npy in {dir}");
    };
    let n_sites = first.dims()[0];
    let l = (n_sites as f64).sqrt().round() as usize;
    if l * l != n_sites {
        bail!("the first layer has {n_sites} units, not a square lattice");
    }
    let (reports, figures) = receptive_field_figures(&fields, l)?;
    for r in &reports {
        println!("{}", serde_json::to_string(r)?);
    }
    if write {
        for (name, bytes) in &figures {
            write_file_atomic(&std::path::Path::new(&dir).join(name), bytes)?;
        }
        println!("redrew {} figures in {dir}", figures.len());
    }
    Ok(())
}
