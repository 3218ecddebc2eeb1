//! One CD-1 training step of the paper's first layer (1600 → 400 Bernoulli units, batch 100,
//! SGD with momentum), timed over a fixed number of batches after a warm-up; `--shape 400x100`
//! times another layer's shape.
//!
//! `cargo run --release -p rbm --example bench_cd1 -- --device flex [--batches 200] [--tensor-ops] [--shape NVxNH]`
//!
//! The step runs where `RBM_KERNEL` says (`avx512`, `avx2`, `neon`, `tensor`; by default the
//! widest instruction set of the fused kernel this CPU has; see `rbm::CpuPath`).
//! `--tensor-ops` is `RBM_KERNEL=tensor`: the step as separate Burn tensor operations.
//!
//! `--pt R` times a PT-PCD step instead: 100 persistent chains on a geometric ladder of R
//! inverse temperatures from 0.8 (the training-methods sweep's), the ladder's update
//! included.
//!
//! The last line printed is `samples_per_s <number>`.
//!
//! `--competitors 1,2,4` measures the step beside k busy single-threaded processes (copies of
//! this program started with `--busy`, ended by pid), alternated with the quiet step
//! (`--rounds` rounds), and prints the median rate for each k as a fraction of the quiet
//! rate and of the team's fair share, quiet × n / (n + k) for a team of n threads.

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::TrainStep;
use rbm::device::select_device;
use rbm::{CdConfig, RbmConfig, sgd_with_momentum};

type Error = Box<dyn std::error::Error>;

struct Options {
    device: String,
    batches: usize,
    warmup: usize,
    generic: bool,
    shape: (usize, usize),
    competitors: Vec<usize>,
    rounds: usize,
    pt: Option<usize>,
}

fn parse_options() -> Result<Options, Error> {
    let mut o = Options {
        device: "flex".to_string(),
        batches: 200,
        warmup: 20,
        generic: false,
        shape: (1600, 400),
        competitors: Vec::new(),
        rounds: 3,
        pt: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--busy" => busy(),
            "--device" => o.device = value()?,
            "--batches" => o.batches = value()?.parse()?,
            "--warmup" => o.warmup = value()?.parse()?,
            "--rounds" => o.rounds = value()?.parse()?,
            "--bench" => {}
            "--tensor-ops" => o.generic = true,
            "--pt" => o.pt = Some(value()?.parse()?),
            "--shape" => {
                let v = value()?;
                let (a, b) = v.split_once('x').ok_or(format!(
                    "--shape {v}: expected VISIBLExHIDDEN, e.g. 400x100"
                ))?;
                o.shape = (a.parse()?, b.parse()?);
            }
            "--competitors" => {
                o.competitors = value()?
                    .split(',')
                    .map(|k| k.trim().parse::<usize>())
                    .collect::<Result<_, _>>()?;
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(o)
}

/// A competitor: one thread kept busy until it is killed.
fn busy() -> ! {
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// The model, its batches and its optimiser, and the step timed over a number of batches.
struct Bench {
    data: Vec<Tensor<2>>,
    model: rbm::CdModel,
    optim: burn::optim::ModuleOptimizer,
    /// Seconds in the CD step and in the optimiser.
    split: [f64; 2],
    step: usize,
}

impl Bench {
    fn new(o: &Options, device: &Device) -> Result<Self, Error> {
        device.seed(1);
        let (nv, nh) = o.shape;
        let data = (0..8)
            .map(|_| Tensor::random([BATCH, nv], Distribution::Bernoulli(0.5), device))
            .collect();
        let rbm = RbmConfig::new(nv, nh).init(device)?;
        let cd = CdConfig::new().with_k(1).with_l1(2e-4);
        let cd = match o.pt {
            None => cd,
            Some(replicas) => cd
                .with_persistent(true)
                .with_chains(100)
                .with_tempering(Some(rbm::train::PtConfig {
                    replicas,
                    beta_min: 0.8,
                })),
        };
        let model = cd.init(rbm)?.with_cpu_kernel(!o.generic);
        Ok(Self {
            data,
            model,
            optim: sgd_with_momentum(0.5),
            split: [0.0; 2],
            step: 0,
        })
    }

    /// Runs `n` steps and returns a hash of the weights' bits (FNV-1a), after the device
    /// has finished.
    fn run(&mut self, n: usize) -> u64 {
        for _ in 0..n {
            let i = self.step;
            self.step += 1;
            let batch = rbm::CdBatch::new(self.data[i % self.data.len()].clone(), i as u64);
            let t0 = Instant::now();
            let out = TrainStep::step(&self.model, batch);
            let t1 = Instant::now();
            self.model = self.optim.step(0.1, self.model.clone(), out.grads);
            self.split[0] += (t1 - t0).as_secs_f64();
            self.split[1] += t1.elapsed().as_secs_f64();
        }
        let weights = self.model.rbm.weights.val().into_data();
        let bits = weights
            .iter::<f32>()
            .flat_map(|w| w.to_bits().to_le_bytes());
        bits.fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// Samples per second over `n` steps.
    fn rate(&mut self, n: usize) -> f64 {
        let start = Instant::now();
        self.run(n);
        (n * BATCH) as f64 / start.elapsed().as_secs_f64()
    }
}

const BATCH: usize = 100;

fn main() -> Result<(), Error> {
    rbm::retain_freed_memory();
    let o = parse_options()?;
    // An invalid RBM_KERNEL is an error here, before any work.
    rbm::CpuPath::from_env()?;
    let device = select_device(&o.device)?;
    let mut bench = Bench::new(&o, &device)?;
    let kernel = match bench.model.effective_cpu_path() {
        rbm::CpuPath::Kernel(isa) => format!("fused CPU kernel, {isa}"),
        rbm::CpuPath::Tensor => "tensor operations".to_string(),
    };
    let ((nv, nh), batches) = (o.shape, o.batches);
    bench.run(o.warmup);
    if !o.competitors.is_empty() {
        println!("device {} ({kernel}), {nv}x{nh}, batch {BATCH}", o.device);
        return beside_competitors(&o, &mut bench);
    }
    let start = Instant::now();
    let check = bench.run(batches);
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "device {} ({kernel}): {batches} {} steps of {nv}x{nh}, batch {BATCH}: {:.3} ms/step (weights hash {check:016x})",
        o.device,
        o.pt.map_or("CD-1".to_string(), |r| format!("PT-PCD ({r} rungs)")),
        1e3 * seconds / batches as f64
    );
    let all = (batches + o.warmup) as f64;
    println!(
        "of which the CD step {:.3} ms, the optimiser {:.3} ms (per step, warm-up included)",
        1e3 * bench.split[0] / all,
        1e3 * bench.split[1] / all
    );
    println!("samples_per_s {:.0}", (batches * BATCH) as f64 / seconds);
    Ok(())
}

/// `k` busy copies of this program.
fn start_competitors(k: usize) -> Result<Vec<Child>, Error> {
    let exe = std::env::current_exe()?;
    (0..k)
        .map(|_| {
            Command::new(&exe)
                .arg("--busy")
                .stdout(Stdio::null())
                .spawn()
                .map_err(Error::from)
        })
        .collect()
}

fn end_competitors(children: Vec<Child>) {
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The step's rate quiet and beside each number of competitors, alternated over rounds.
fn beside_competitors(o: &Options, bench: &mut Bench) -> Result<(), Error> {
    let n = rbm::profiling::threads();
    let mut quiet = Vec::new();
    let mut loaded = vec![Vec::new(); o.competitors.len()];
    for round in 0..o.rounds {
        for (i, &k) in o.competitors.iter().enumerate() {
            quiet.push(bench.rate(o.batches));
            let children = start_competitors(k)?;
            // Let the competitors reach their loops before timing.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let rate = bench.rate(o.batches);
            end_competitors(children);
            loaded[i].push(rate);
            eprintln!("round {round}, k = {k}: {rate:.0} samples/s");
        }
    }
    let q = median(quiet.clone());
    println!(
        "team of {n} threads; quiet: median {q:.0} samples/s over {} measurements",
        quiet.len()
    );
    println!("k\tsamples/s\tof quiet\tfair share\tof fair share");
    for (&k, rates) in o.competitors.iter().zip(loaded) {
        let r = median(rates);
        let fair = q * n as f64 / (n + k) as f64;
        println!("{k}\t{r:.0}\t{:.3}\t{fair:.0}\t{:.3}", r / q, r / fair);
    }
    Ok(())
}
