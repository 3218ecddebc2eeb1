//! The fused CPU path of the CD-k / PCD step of a Bernoulli–Bernoulli RBM.
//!
//! On the flex CPU device a CD step built from separate tensor operations spends most of
//! its time outside arithmetic: the gradient products vᵀE[h|v] have a short inner dimension
//! (the batch), every elementwise operation is a separate pass over memory, and the penalty
//! terms add passes over the weights. This module does the same step on the host, on the
//! tensors' f32 data:
//!
//! - one register-tiled matrix kernel ([`matmul`]) serves all three product shapes
//!   (vW, W hᵀ and vᵀp), split by rows of the result (vW by halves of its inner dimension)
//!   over the threads of [`team`], whose helpers spin between the step's short parallel
//!   regions;
//! - the step's random numbers arrive drawn ([`StepNoise`]), so the sampling runs in
//!   parallel;
//! - the gradient is accumulated as v⁰ᵀ(s₀ E[h|v⁰]) + v^kᵀ(s_k E[h|v^k]) with the 1/B
//!   scalings and the sign folded into the small factors, and the penalties added in the same
//!   pass that unpads the result;
//! - sigmoid, softplus and sampling are vectorised loops over a polynomial exp ([`math`]).
//!
//! The code is written once, generic over `macerator`'s vector levels, and compiled for
//! AVX-512, AVX2 and NEON ([`isa`]); the level runs that the CPU has, or the one
//! `RBM_KERNEL` forces. Every level forms every sum in the same order, so their results are
//! bit-identical (tested).
//!
//! The step consumes the same [`StepNoise`] as the tensor reference in [`crate::train`], so
//! the two agree up to float rounding (tested in `tests/training.rs`); it is deterministic:
//! each element of a result is computed by one thread in a fixed order.
//!
//! Layout: [`host`] reads Burn tensors in place and decides whether the kernel applies;
//! [`isa`] the instruction sets and the switch; `step` is the step and the exact
//! pseudo-likelihood; [`matmul`] the matrix products; [`math`] the vectorised elementwise
//! functions; [`team`] the thread team; `tempered` the sweeps of parallel tempering, whose
//! chains `annealed` moves along AIS's path with its importance weights; `ladder` the
//! ladder update of PT-PCD's negative phase.
//!
//! # `unsafe`
//! This module holds all of the workspace's `unsafe` code:
//! - entering code compiled for an instruction set ([`isa::Level::run`], once its features
//!   were detected, and [`isa::within`] for the thread team's tasks inside it);
//! - raw-pointer loads and stores in the tile of the matrix kernel ([`matmul`]), whose
//!   indices are bounded by the shapes its entry points assert;
//! - buffers written without being zeroed first, then given their length (the optimiser's
//!   pass in `update`, and [`matmul::matmul_new`]);
//! - the thread team ([`team`]), which hands a region's borrowed tasks to its helpers with
//!   the lifetime erased and does not return before they are done;
//! - `mallopt` in [`retain_freed_memory`].
#![allow(unsafe_code)]

use crate::noise::StepNoise;

mod annealed;
mod host;
pub(crate) mod isa;
mod ladder;
mod math;
pub(crate) mod matmul;
mod params;
mod step;
mod team;
mod tempered;
mod update;

pub(crate) use host::{HostF32, OwnedParams, applies};
pub(crate) use isa::Level;
pub use isa::{CpuPath, Isa, KERNEL_VARIABLE, describe_cpu};
pub(crate) use ladder::LadderHidden;
pub(crate) use params::{GradientForm, HostStep, KernelParams, StepRequest};
pub use team::{THREADS_VARIABLE, set_threads};
pub(crate) use tempered::Replicas;
pub(crate) use update::{WeightPenalty, momentum_update};

/// What the profiling and benchmark examples reach into; not a stable interface.
#[doc(hidden)]
pub mod profiling {
    pub use super::matmul::{Operand, Term};
    pub use super::team::{
        SPIN, TASKS_PER_THREAD, for_each, for_each_rows, row_ranges, run, threads,
    };

    /// C `[m, n]` = Σ A·B (or C += when `accumulate`) on the kernel compiled for `isa`
    /// (see the crate-private `matmul` module).
    ///
    /// # Panics
    /// If the CPU lacks `isa`, or on inconsistent shapes.
    pub fn matmul_sum(
        isa: super::Isa,
        m: usize,
        n: usize,
        terms: &[Term],
        c: &mut [f32],
        accumulate: bool,
    ) {
        let level = isa
            .level()
            .unwrap_or_else(|| panic!("this CPU lacks {isa}"));
        level.run(super::matmul::MatmulSum {
            m,
            n,
            terms,
            c,
            accumulate,
        })
    }

    /// A loop of `iterations` rounds over independent fused multiply-add chains that touch no
    /// memory, compiled for `isa` (as many chains as its vector registers hold beside two
    /// constants): the ceiling of the kernel's arithmetic. Returns a value to keep and the
    /// number of floating-point operations done.
    ///
    /// # Panics
    /// If the CPU lacks `isa`.
    pub fn fma_chains(isa: super::Isa, iterations: usize) -> (f32, u64) {
        let level = isa
            .level()
            .unwrap_or_else(|| panic!("this CPU lacks {isa}"));
        level.run(FmaChains { iterations })
    }

    struct FmaChains {
        iterations: usize,
    }

    impl macerator::WithSimd for FmaChains {
        type Output = (f32, u64);

        #[inline(always)]
        fn with_simd<S: macerator::Simd>(self) -> (f32, u64) {
            use macerator::Scalar;
            // 16 registers on AVX2, 32 on AVX-512 and NEON.
            if f32::lanes::<S>() == 8 {
                chains::<S, 12>(self.iterations)
            } else {
                chains::<S, 24>(self.iterations)
            }
        }
    }

    #[inline(always)]
    fn chains<S: macerator::Simd, const N: usize>(iterations: usize) -> (f32, u64) {
        use macerator::{Scalar, Vector};
        let a: Vector<S, f32> = 0.999_999f32.splat::<S>();
        let b: Vector<S, f32> = 1e-7f32.splat::<S>();
        let mut acc = [0.0f32.splat::<S>(); N];
        for _ in 0..iterations {
            for x in acc.iter_mut() {
                *x = a.fma(*x, b);
            }
        }
        let mut sum = 0.0f32.splat::<S>();
        for x in acc {
            sum += x;
        }
        let lanes = f32::lanes::<S>();
        (sum.reduce_add(), (iterations * N * lanes * 2) as u64)
    }
}

/// Asks the C allocator (glibc) to keep freed memory for reuse instead of returning it to
/// the operating system: every training step allocates and frees buffers of a few MB (the
/// kernel's and Burn's), and with glibc's defaults each of them comes back as fresh pages
/// whose first touch costs a page fault.
/// Freed memory up to 256 MiB is kept; buffers up to 32 MiB come from the heap.
///
/// A process-wide setting, so binaries call it at start (`fig3`, `bench_cd1`, …), never the
/// library on its own. Does nothing outside Linux with glibc.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes glibc's allocation thresholds; both values are within
        // the documented ranges (the mmap threshold's maximum is 32 MiB on 64-bit systems).
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
        }
    }
}

/// One CD-k / PCD step for the batch `v0` (`[batch, nv]`, row-major) with the step's random
/// numbers `noise`, on the kernel compiled for `level`.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn cd_step(
    level: Level,
    rbm: &KernelParams,
    v0: &[f32],
    req: &StepRequest,
    noise: StepNoise,
) -> HostStep {
    level.run(step::CdStep {
        rbm,
        v0,
        req,
        noise,
    })
}

/// The exact pseudo-log-likelihood per unit, (1/n_v) Σ_i ln p(v_i | v_{−i}) averaged over the
/// rows of the Bernoulli data `v` (`[rows, nv]`), as
/// [`crate::eval::likelihood::pseudo_log_likelihood`] computes it: rows in parallel, n_v
/// flipped hidden inputs per row.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn pseudo_log_likelihood(level: Level, rbm: &KernelParams, v: &[f32]) -> f64 {
    level.run(step::ExactPll { rbm, v })
}

/// The mean free energy F(v) = −v·a − Σ_j softplus(x_j) over the rows of `v` (`[rows, nv]`),
/// as a step computes that of its batch (rows in parallel, summed in row order).
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn mean_free_energy(level: Level, rbm: &KernelParams, v: &[f32]) -> f64 {
    assert_eq!(v.len() % rbm.nv, 0, "the rows must be [rows, n_v]");
    assert!(!v.is_empty(), "no rows");
    level.run(step::MeanFreeEnergy { rbm, v })
}

/// The hidden means σ(vW + b) of the rows of `v` (`[rows, nv]`, any real values), `[rows, nh]`.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn hidden_means(level: Level, rbm: &KernelParams, v: &[f32]) -> Vec<f32> {
    assert_eq!(v.len() % rbm.nv, 0, "the rows must be [rows, n_v]");
    level.run(tempered::Means { rbm, v })
}

/// The replicas of parallel tempering at the visible states `v` (`[rows, nv]`).
pub(crate) fn replicas(level: Level, rbm: &KernelParams, v: Vec<f32>) -> Replicas {
    assert_eq!(v.len() % rbm.nv, 0, "the rows must be [rows, n_v]");
    level.run(tempered::Start { rbm, v })
}

/// One sweep of parallel tempering (see [`crate::eval::tempering`]): each row at its
/// inverse temperature `beta`, on the base-rate path from a₀ = `base` if given, from the
/// uniforms of the hidden (`[rows, nh]`) and visible (`[rows, nv]`) draws. Returns the new
/// replicas and the energy that β multiplies, per row.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn tempered_sweep(
    level: Level,
    rbm: &KernelParams,
    replicas: Replicas,
    (beta, base): (&[f32], Option<&[f32]>),
    (hidden_u, visible_u): (&[f32], &[f32]),
) -> (Replicas, Vec<f64>) {
    let (replicas, energy) = level.run(tempered::Sweep {
        rbm,
        replicas,
        beta,
        base,
        hidden_u,
        visible_u,
        energy: true,
    });
    (replicas, energy.expect("asked for"))
}

/// One transition of annealed importance sampling: [`tempered_sweep`] without the energies,
/// which only the swaps use.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn annealed_sweep(
    level: Level,
    rbm: &KernelParams,
    replicas: Replicas,
    (beta, base): (&[f32], Option<&[f32]>),
    (hidden_u, visible_u): (&[f32], &[f32]),
) -> Replicas {
    level
        .run(tempered::Sweep {
            rbm,
            replicas,
            beta,
            base,
            hidden_u,
            visible_u,
            energy: false,
        })
        .0
}

/// The importance-weight increment of annealed importance sampling from inverse temperature
/// `from` to `to`, per row of `replicas` (see [`crate::eval::ais`]): (to − from) a_diff·v +
/// Σ_j [softplus(to x_j) − softplus(from x_j)], with a_diff = a − a₀.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn ais_increment(
    level: Level,
    rbm: &KernelParams,
    replicas: &Replicas,
    a_diff: &[f32],
    (from, to): (f64, f64),
) -> Vec<f64> {
    level.run(annealed::Increment {
        rbm,
        replicas,
        a_diff,
        from,
        to,
    })
}

/// The first half of a PT-PCD ladder update: every row of `v` (`[rows, nv]`) draws h at
/// its inverse temperature `beta` from `hidden_u` (`[rows, nh]`); returns the hidden states
/// and the energy E(v, h) that β multiplies, per row, for the swaps.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn ladder_hidden(
    level: Level,
    rbm: &KernelParams,
    v: &[f32],
    beta: &[f32],
    hidden_u: &[f32],
) -> (LadderHidden, Vec<f64>) {
    level.run(ladder::Hidden {
        rbm,
        v,
        beta,
        hidden_u,
    })
}

/// The second half: the rows below β = 1 (`beta` holds their inverse temperatures) take the
/// hidden states of `hidden`'s rows `order[..beta.len()]` (the swaps' outcome) and draw v
/// from `visible_u` (`[rows, nv]`); returns those rows' v.
///
/// # Panics
/// On inconsistent shapes.
pub(crate) fn ladder_visible(
    level: Level,
    rbm: &KernelParams,
    hidden: &LadderHidden,
    order: &[i64],
    (beta, visible_u): (&[f32], &[f32]),
) -> Vec<f32> {
    level.run(ladder::Visible {
        rbm,
        hidden,
        order,
        beta,
        visible_u,
    })
}

/// The instruction sets this CPU has, for the tests: every one of them is tested.
///
/// # Panics
/// Where the build found one (`cfg(kernel_host)`) but detection finds none.
#[cfg(test)]
pub(crate) fn test_levels() -> Vec<Level> {
    let levels: Vec<Level> = Isa::ALL.into_iter().filter_map(Isa::level).collect();
    assert!(
        !levels.is_empty(),
        "no instruction set of the kernel was detected ({})",
        describe_cpu()
    );
    levels
}
