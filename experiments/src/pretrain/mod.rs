//! Greedy layer-wise pretraining of a stack of RBMs on 2D Ising samples (Mehta & Schwab,
//! Sec. IV.2 and Appendix A), each layer one Burn `SupervisedTraining` run, and the measures of
//! the learned receptive fields (Appendix B).
//!
//! - [`config`]: the run's configuration ([`PretrainConfig`]);
//! - [`data`]: the samples, loaded or generated, and their split into rows;
//! - [`stack`]: the training of the layers, with Burn's `Learner` and checkpoints;
//! - [`fields`]: the measures of the receptive fields;
//! - [`figures`]: Fig. 3b–d;
//! - [`first_layer`]: the first layer's likelihood and KL per spin, in absolute terms;
//! - [`overrides`]: settings by dotted keys (sweep axes, `fig3`'s flags).

pub mod config;
pub mod data;
pub mod fields;
pub mod figures;
pub mod first_layer;
pub mod overrides;
pub mod stack;

pub use config::{DataConfig, MIN_VALID_ROWS, PretrainConfig, json_differences};
pub use data::{DataSource, dataset_name, encoding_for, load_or_generate, run_rows, split_rows};
pub use fields::{FieldMeasures, LayerFields, field_measures};
pub use figures::{Figure, receptive_field_figures};
pub use first_layer::{FirstLayerQuality, first_layer_quality};
pub use overrides::{Override, apply as apply_overrides};
pub use stack::{LayerFiles, LayerReport, StackOptions, train_stack};
