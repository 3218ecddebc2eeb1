//! Dataset folders: round trip, atomic writes that never destroy existing data, loading that
//! rejects every kind of damaged file with an error naming the file, and the Burn dataset.

use std::path::Path;

use burn::data::dataset::Dataset;
use burn::prelude::Device;
use ising_data::config::Checked;
use ising_data::generate::{GenerateConfig, generate};
use ising_data::observables::{MeasureOptions, measure};
use ising_data::store::{self, MANIFEST_FILE, SPINS_FILE};
use ising_data::{IsingDataError, IsingDataset, Lattice, SpinEncoding, npy};

fn small_config(seed: u64) -> GenerateConfig {
    let mut config = GenerateConfig::new(Lattice::Square { l: 6 }, 0.35, 40, seed);
    config.chains = 2;
    config
}

fn write(dir: &Path, seed: u64, force: bool) -> ising_data::Result<store::Manifest> {
    let config = small_config(seed);
    let generated = generate(&config.clone().validated()?, &|_| {});
    let measured = measure(
        &config.lattice,
        &generated.chains(),
        MeasureOptions {
            coupling: config.coupling,
            field: 0.0,
            correlation: false,
            bins_per_chain: 4,
        },
    );
    store::write_dataset(dir, &generated, measured, force)
}

#[test]
fn round_trip_preserves_samples_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    let manifest = write(&dir, 1, false).unwrap();
    let loaded = store::load_dataset(&dir).unwrap();
    assert_eq!(loaded.manifest, manifest);
    assert_eq!(loaded.manifest.shape, vec![40, 6, 6]);
    let again = generate(&small_config(1).validated().unwrap(), &|_| {});
    assert_eq!(loaded.spins, again.spins);
    // The manifest records the exact finite-lattice energy (Kaufman) for 2D data.
    let exact = manifest
        .exact
        .expect("2D zero-field data have exact values");
    let kaufman = ising_data::exact::kaufman_energy_per_spin(6, 6, 0.35);
    assert!((exact.energy_per_spin.unwrap() - kaufman).abs() < 1e-12);
    // Only the two files are left: no temporary folders beside the destination.
    let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn existing_folders_are_kept_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    let first = write(&dir, 1, false).unwrap();
    let err = write(&dir, 2, false).unwrap_err();
    assert!(matches!(err, IsingDataError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("--force"));
    assert_eq!(store::load_dataset(&dir).unwrap().manifest, first);
    let second = write(&dir, 2, true).unwrap();
    assert_ne!(first.spins_sha256, second.spins_sha256);
    assert_eq!(store::load_dataset(&dir).unwrap().manifest, second);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

fn damaged(edit: impl Fn(&Path)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    write(&dir, 3, false).unwrap();
    edit(&dir);
    store::load_dataset(&dir).unwrap_err().to_string()
}

#[test]
fn damaged_datasets_are_rejected_with_the_file_and_fault_named() {
    let spins = |d: &Path| d.join(SPINS_FILE);
    // Truncated.
    let e = damaged(|d| {
        let b = std::fs::read(spins(d)).unwrap();
        std::fs::write(spins(d), &b[..b.len() - 7]).unwrap();
    });
    assert!(e.contains(SPINS_FILE) && e.contains("truncated"), "{e}");
    // One spin changed: the checksum catches it.
    let e = damaged(|d| {
        let mut b = std::fs::read(spins(d)).unwrap();
        let last = b.len() - 1;
        b[last] = (-(b[last] as i8)) as u8;
        std::fs::write(spins(d), &b).unwrap();
    });
    assert!(e.contains(SPINS_FILE) && e.contains("checksum"), "{e}");
    // A value that is not a spin, with a matching checksum in the manifest.
    let e = damaged(|d| {
        let (shape, mut data) = npy::read_i8(&spins(d)).unwrap();
        data[5] = 0;
        npy::write_i8(&spins(d), &shape, &data).unwrap();
        let bytes = std::fs::read(spins(d)).unwrap();
        let m = std::fs::read_to_string(d.join(MANIFEST_FILE)).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&m).unwrap();
        v["spins_sha256"] = store::sha256_hex(&bytes).into();
        std::fs::write(d.join(MANIFEST_FILE), v.to_string()).unwrap();
    });
    assert!(
        e.contains("not a spin") && e.contains("sample 0, site 5"),
        "{e}"
    );
    // Wrong dtype.
    let e = damaged(|d| {
        let b = std::fs::read(spins(d)).unwrap();
        let at = b.windows(3).position(|w| w == b"|i1").unwrap();
        std::fs::write(spins(d), [&b[..at], b"<i2", &b[at + 3..]].concat()).unwrap();
    });
    assert!(e.contains("dtype is '<i2'"), "{e}");
    // Wrong shape (a valid int8 array of another shape).
    let e = damaged(|d| {
        npy::write_i8(&spins(d), &[40, 36], &vec![1; 40 * 36]).unwrap();
    });
    assert!(e.contains("shape [40, 36]"), "{e}");
    // Malformed manifest.
    let e = damaged(|d| std::fs::write(d.join(MANIFEST_FILE), "{ not json").unwrap());
    assert!(
        e.contains(MANIFEST_FILE) && e.contains("not a valid manifest"),
        "{e}"
    );
    // Missing file.
    let e = damaged(|d| std::fs::remove_file(spins(d)).unwrap());
    assert!(e.contains(SPINS_FILE), "{e}");
}

#[test]
fn burn_dataset_split_and_batches() {
    let lattice = Lattice::Square { l: 3 };
    let spins: Vec<i8> = (0..10 * 9)
        .map(|i| if i % 4 == 0 { 1 } else { -1 })
        .collect();
    let ds = IsingDataset::new(lattice, spins.clone()).unwrap();
    assert_eq!(ds.len(), 10);
    let (train, valid) = ds.split(0.3, 5).unwrap();
    assert_eq!((train.len(), valid.len()), (7, 3));
    // The split is a partition of the items, reproducible from the seed.
    let configurations = |d: &IsingDataset| {
        (0..d.len())
            .map(|i| d.spins_at(i).to_vec())
            .collect::<Vec<_>>()
    };
    let mut seen = configurations(&train);
    seen.extend(configurations(&valid));
    let mut all: Vec<Vec<i8>> = spins.chunks(9).map(|c| c.to_vec()).collect();
    seen.sort();
    all.sort();
    assert_eq!(seen, all);
    let (train2, _) = ds.split(0.3, 5).unwrap();
    assert_eq!(configurations(&train), configurations(&train2));
    assert!(ds.split(1.0, 5).is_err());

    // The Burn dataset of a part holds its configurations in its order, encoded; a batch
    // gathered from it is the same rows as a tensor.
    let device = Device::flex();
    for (encoding, lo) in [
        (SpinEncoding::ZeroOne, 0.0f32),
        (SpinEncoding::PlusMinusOne, -1.0),
    ] {
        let close = |a: &[f32], b: &[f32]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-7)
        };
        let encode =
            |s: &[i8]| -> Vec<f32> { s.iter().map(|&s| if s > 0 { 1.0 } else { lo }).collect() };
        let rows = train.rows(encoding);
        assert_eq!((rows.len(), rows.width()), (7, 9));
        for i in 0..rows.len() {
            assert!(close(&rows.get(i).unwrap(), &encode(train.spins_at(i))));
        }
        assert!(rows.get(7).is_err());
        let batch = rows.gather([4, 0, 2, 6], &device);
        assert_eq!(batch.dims(), [4, 9]);
        let values = batch.into_data().try_to_vec::<f32>().unwrap();
        let expected: Vec<f32> = [4, 0, 2, 6]
            .iter()
            .flat_map(|&i| encode(train.spins_at(i)))
            .collect();
        assert!(close(&values, &expected));
        let whole = ds
            .to_tensor(encoding, &device)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(close(&whole, &encode(&spins)));
    }
}

#[test]
fn the_wolff_burn_in_counts_sweep_equivalents_and_old_manifests_say_so() {
    use ising_data::generate::{BurnInUnit, run_chain};
    use ising_data::rng::Xoshiro256pp;
    use ising_data::sampler::{Sampler, Wolff, random_configuration};
    // One burn-in sweep-equivalent of Wolff flips at least N spins, and the cluster that
    // reaches N is the last: at K = 0.2 (small clusters) it takes many clusters, where the
    // old counting took one.
    let lattice = Lattice::Square { l: 16 };
    let mut rng = Xoshiro256pp::stream(3, 0);
    let mut wolff = Wolff::new(&lattice, 0.2, random_configuration(256, &mut rng));
    let mut sizes = Vec::new();
    let mut probe = wolff.clone();
    let mut probe_rng = rng.clone();
    let mut flipped = 0;
    while flipped < 256 {
        let size = probe.flip_cluster(&mut probe_rng);
        sizes.push(size);
        flipped += size;
    }
    wolff.burn_in_sweep(&mut rng);
    assert_eq!(wolff.spins(), probe.spins());
    assert!(sizes.len() > 10, "{} clusters", sizes.len());

    // The two units give different Wolff chains and the same Metropolis chains.
    let mut config = GenerateConfig::new(lattice, 0.3, 20, 5);
    config.chains = 1;
    let legacy = GenerateConfig {
        burn_in_unit: BurnInUnit::UncalibratedClusters,
        ..config.clone()
    };
    assert_ne!(
        run_chain(&config, 0, &|_| {}).spins,
        run_chain(&legacy, 0, &|_| {}).spins
    );
    let metropolis = GenerateConfig {
        algorithm: ising_data::Algorithm::Metropolis,
        ..config.clone()
    };
    let metropolis_legacy = GenerateConfig {
        burn_in_unit: BurnInUnit::UncalibratedClusters,
        ..metropolis.clone()
    };
    assert_eq!(
        run_chain(&metropolis, 0, &|_| {}).spins,
        run_chain(&metropolis_legacy, 0, &|_| {}).spins
    );

    // A manifest written before the unit existed reads as the old counting for Wolff and as
    // the (identical) new one for the other samplers.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("set");
    write(&dir, 1, false).unwrap();
    let path = dir.join(MANIFEST_FILE);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(manifest["config"]["burn_in_unit"], "sweep_equivalents");
    manifest["config"]
        .as_object_mut()
        .unwrap()
        .remove("burn_in_unit");
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let old = store::read_manifest(&dir).unwrap();
    assert_eq!(old.config.burn_in_unit, BurnInUnit::UncalibratedClusters);
    manifest["config"]["algorithm"] = "metropolis".into();
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let old = store::read_manifest(&dir).unwrap();
    assert_eq!(old.config.burn_in_unit, BurnInUnit::SweepEquivalents);
}
