//! Shared by the integration tests.

/// The small Fig. 3 stack of the end-to-end and GPU tests: an 8×8 lattice, layers 64-16-4,
/// CD-1, 8 epochs per layer.
pub const SMALL_CONFIG: &str = r#"{
  "data": {"size": 8, "coupling": 0.408, "samples": 3000, "seed": 3, "valid_fraction": 0.2},
  "layers": [64, 16, 4],
  "units": "bernoulli",
  "init_std": 0.01,
  "visible_bias_from_data": true,
  "propagation": "mean",
  "training": {"cd": {"k": 1, "persistent": false, "chains": 100, "l1": 0.0002, "l2": 0.0},
               "learning_rate": 0.1, "schedule": {"kind": "constant"}, "momentum": 0.5,
               "batch_size": 50, "epochs": 8, "seed": 5}
}"#;
