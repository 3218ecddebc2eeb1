//! Receptive-field measures of a finished `fig3` run, recomputed from its saved weights.
//!
//! `cargo run --release -p experiments --example measure_fields -- runs/fig3-paper`

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use experiments::pretrain::{field_measures, tensor_values};
use ising_data::npy;

fn main() -> Result<()> {
    let Some(dir) = std::env::args().nth(1) else {
        bail!("usage: measure_fields RUN_DIR");
    };
    let weights = std::path::Path::new(&dir).join("weights");
    let device = Device::flex();
    let mut field: Option<Tensor<2>> = None;
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
        let r = match field.take() {
            None => w,
            Some(prev) => prev.matmul(w),
        };
        let n_sites = r.dims()[0];
        let l = (n_sites as f64).sqrt().round() as usize;
        if l * l != n_sites {
            bail!("the first layer has {n_sites} units, not a square lattice");
        }
        let m = field_measures(&tensor_values(r.clone()), l, nh);
        println!(
            "{}",
            serde_json::json!({ "layer": layer, "units": nh, "measures": m })
        );
        field = Some(r);
    }
    if field.is_none() {
        bail!("no weights/layer1_W.npy in {dir}");
    }
    Ok(())
}
