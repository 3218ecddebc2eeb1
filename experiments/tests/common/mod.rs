//! Shared by the integration tests.

/// The small Fig. 3 stack of the end-to-end and GPU tests: an 8×8 lattice, layers 64-16-4,
/// CD-1, 8 epochs per layer.
#[allow(dead_code)]
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

/// Sends SIGINT to process `pid` (`kill -INT PID`, through python3, which the interrupt tests
/// already need, rather than a `kill` program that a minimal machine may lack).
#[allow(dead_code)]
pub fn send_sigint(pid: u32) {
    let kill = std::process::Command::new("python3")
        .args([
            "-c",
            "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGINT)",
            &pid.to_string(),
        ])
        .status()
        .expect("python3 runs");
    assert!(kill.success());
}

/// What an interrupted process printed: its standard output's lines, its standard error and
/// its exit status.
#[allow(dead_code)]
pub struct Interrupted {
    pub stdout: Vec<String>,
    pub stderr: String,
    pub code: i32,
}

/// Runs `command`, sends it SIGINT once a line of its standard output satisfies `trigger`,
/// and returns what it printed. Reads its output to the end (a reader that went away would
/// end it with a broken pipe); fails after 300 s or if the trigger never came.
#[allow(dead_code)]
pub fn interrupt(
    mut command: std::process::Command,
    trigger: impl Fn(&str) -> bool,
) -> Interrupted {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let start = std::time::Instant::now();
    let (mut stdout, mut sent) = (Vec::new(), false);
    for line in reader.lines() {
        let line = line.unwrap();
        if !sent && trigger(&line) {
            send_sigint(child.id());
            sent = true;
        }
        stdout.push(line);
        assert!(start.elapsed().as_secs() < 300, "timed out");
    }
    assert!(sent, "the trigger line never came");
    let o = child.wait_with_output().unwrap();
    Interrupted {
        stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().expect("an exit status"),
    }
}

/// Every entry under `dir`, at every depth, hidden ones included: relative path → bytes
/// (folders as `None`).
#[allow(dead_code)]
pub fn snapshot(
    dir: &std::path::Path,
) -> std::collections::BTreeMap<std::path::PathBuf, Option<Vec<u8>>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let content = if path.is_dir() {
                stack.push(path.clone());
                None
            } else {
                Some(std::fs::read(&path).unwrap())
            };
            files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), content);
        }
    }
    files
}

/// Writes into `dir` a dataset under the small config's name made with other settings: 4
/// Monte Carlo chains instead of 8 (`force` replaces one there).
#[allow(dead_code)]
pub fn other_dataset(dir: &std::path::Path, force: bool) {
    let mut other =
        ising_data::GenerateConfig::new(ising_data::Lattice::Square { l: 8 }, 0.408, 3000, 3);
    other.chains = 4;
    let generated = ising_data::generate::generate(
        &ising_data::config::Checked::validated(other.clone()).unwrap(),
        &|_| {},
    );
    let measured = ising_data::observables::measure(
        &other.lattice,
        &generated.chains(),
        ising_data::observables::MeasureOptions {
            coupling: 0.408,
            field: 0.0,
            correlation: false,
            bins_per_chain: 4,
        },
    );
    ising_data::store::write_dataset(dir, &generated, measured, force).unwrap();
}

/// Runs `binary` with `args` in `cwd` and waits for it.
#[allow(dead_code)]
pub fn run(binary: &str, args: &[&str], cwd: &std::path::Path) -> std::process::Output {
    std::process::Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs")
}

/// What `o` wrote to standard error.
#[allow(dead_code)]
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
