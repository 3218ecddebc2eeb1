//! The instruction sets the fused kernel is compiled for, which one runs, and the switch that
//! forces the choice (`RBM_KERNEL`).
//!
//! The kernel is written once, generic over `macerator`'s [`Simd`] levels; [`Level::run`]
//! enters the code compiled for one of them after its instruction sets were detected. The
//! results do not depend on the level: every sum is formed in the same order on each (the
//! lanes of a vector are different columns of a result, and the elementwise functions are
//! written without fused operations), so the steps of every level are bit-identical.

use std::fmt;
use std::sync::OnceLock;

use ising_data::config::ConfigError;
use macerator::{Arch, Simd, WithSimd};

use crate::error::{RbmError, Result};

/// The environment variable that forces the CD step's CPU path: `avx512`, `avx2`, `neon`,
/// `tensor` (Burn's tensor operations, no fused kernel) or `auto` (the default: the widest
/// instruction set this CPU has, or the tensor path where it has none).
pub const KERNEL_VARIABLE: &str = "RBM_KERNEL";

/// An instruction set the fused CPU kernel is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// x86-64 with AVX-512 (F, BW, CD, DQ, VL) and FMA: 16 lanes of f32.
    Avx512,
    /// x86-64 with AVX2 and FMA (x86-64-v3): 8 lanes.
    Avx2,
    /// aarch64 with NEON: 4 lanes.
    Neon,
}

impl Isa {
    /// Every instruction set, widest first.
    pub const ALL: [Isa; 3] = [Isa::Avx512, Isa::Avx2, Isa::Neon];

    /// The name `RBM_KERNEL` takes.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Neon => "neon",
        }
    }

    /// Whether this CPU has the instruction set (detected at run time).
    pub fn available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => has_x86_v3() && has_x86_v4_extra(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => has_x86_v3(),
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The instruction sets this CPU has, widest first.
    pub fn detected() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.available()).collect()
    }

    /// The entry to the code compiled for this instruction set, if the CPU has it.
    pub(crate) fn level(self) -> Option<Level> {
        self.available().then_some(Level(self))
    }
}

/// Whether the CPU has every one of the listed x86 features.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_has {
    ($($feature:tt),*) => { true $(&& std::arch::is_x86_feature_detected!($feature))* };
}

/// The features `macerator`'s x86-64-v3 level is compiled with (its `V3`): [`Level::run`]
/// enters it only where all of them were detected.
#[cfg(target_arch = "x86_64")]
fn has_x86_v3() -> bool {
    x86_has!(
        "sse", "sse2", "fxsr", "sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2",
        "bmi1", "bmi2", "fma", "lzcnt", "f16c"
    )
}

/// What its x86-64-v4 level (`V4`) adds to them.
#[cfg(target_arch = "x86_64")]
fn has_x86_v4_extra() -> bool {
    x86_has!("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which implementation runs the CD step of a Bernoulli RBM on the flex CPU device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuPath {
    /// The fused kernel compiled for this instruction set.
    Kernel(Isa),
    /// Burn's tensor operations (the reference step).
    Tensor,
}

impl CpuPath {
    /// The widest instruction set this CPU has, or the tensor path.
    pub fn best() -> CpuPath {
        Isa::detected()
            .first()
            .map_or(CpuPath::Tensor, |&isa| CpuPath::Kernel(isa))
    }

    /// The path an `RBM_KERNEL` value asks for.
    ///
    /// # Errors
    /// An unknown value, or an instruction set this CPU lacks (the message names what it
    /// has).
    pub fn parse(value: &str) -> Result<CpuPath> {
        let wanted = value.trim().to_ascii_lowercase();
        if wanted.is_empty() || wanted == "auto" {
            return Ok(CpuPath::best());
        }
        if wanted == "tensor" {
            return Ok(CpuPath::Tensor);
        }
        let Some(isa) = Isa::ALL.into_iter().find(|i| i.name() == wanted) else {
            return Err(ConfigError::invalid(
                KERNEL_VARIABLE,
                "one of avx512, avx2, neon, tensor, auto",
                format!("{value:?}"),
            )
            .into());
        };
        if !isa.available() {
            return Err(RbmError::Config(ConfigError::inconsistent(
                &[KERNEL_VARIABLE],
                format!(
                    "{KERNEL_VARIABLE}={value}: this CPU lacks the {} instruction set{}; it has: {}",
                    isa.name(),
                    match isa {
                        Isa::Avx512 => " (AVX-512F/BW/CD/DQ/VL with FMA)",
                        Isa::Avx2 => " (AVX2 with FMA, BMI1/2, LZCNT, F16C)",
                        Isa::Neon => " (aarch64 NEON)",
                    },
                    describe_cpu()
                ),
            )));
        }
        Ok(CpuPath::Kernel(isa))
    }

    /// The path `RBM_KERNEL` asks for (read once per process; unset means `auto`).
    ///
    /// # Errors
    /// As [`CpuPath::parse`], and a value that is not Unicode.
    pub fn from_env() -> Result<CpuPath> {
        static CHOSEN: OnceLock<std::result::Result<CpuPath, String>> = OnceLock::new();
        CHOSEN
            .get_or_init(|| match std::env::var(KERNEL_VARIABLE) {
                Ok(value) => CpuPath::parse(&value).map_err(|e| e.to_string()),
                Err(std::env::VarError::NotPresent) => Ok(CpuPath::best()),
                Err(std::env::VarError::NotUnicode(v)) => {
                    Err(format!("{KERNEL_VARIABLE}={v:?} is not Unicode"))
                }
            })
            .clone()
            .map_err(RbmError::Unsupported)
    }

    /// The name `RBM_KERNEL` takes for this path.
    pub fn name(self) -> &'static str {
        match self {
            CpuPath::Kernel(isa) => isa.name(),
            CpuPath::Tensor => "tensor",
        }
    }
}

impl fmt::Display for CpuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What this CPU offers the kernel, for messages: e.g. "avx2 (x86_64)" or "no vector
/// instruction set the kernel uses (x86_64)".
pub fn describe_cpu() -> String {
    let found: Vec<&str> = Isa::detected().into_iter().map(Isa::name).collect();
    let arch = std::env::consts::ARCH;
    if found.is_empty() {
        format!("no vector instruction set the kernel uses ({arch})")
    } else {
        format!("{} ({arch})", found.join(", "))
    }
}

/// An instruction set the CPU was found to have: the only way into the code compiled for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Level(Isa);

impl Level {
    /// The instruction set.
    pub(crate) fn isa(self) -> Isa {
        self.0
    }

    /// Runs `op` compiled for this level's instruction sets.
    #[inline(always)]
    pub(crate) fn run<Op: WithSimd>(self, op: Op) -> Op::Output {
        let arch = match self.0 {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Arch::V4,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Arch::V3,
            #[cfg(target_arch = "aarch64")]
            Isa::Neon => Arch::NeonFma,
            #[allow(unreachable_patterns)]
            other => unreachable!("{other} is never detected on this architecture"),
        };
        // SAFETY: a `Level` is made only by `Isa::level`, after the CPU was found to have
        // every feature that the `macerator` level entered here is compiled with (the lists
        // `has_x86_v3` and `has_x86_v4_extra`, copied from macerator 0.5's `V3` and `V4`;
        // NEON for `NeonFma`).
        unsafe { arch.dispatch(op) }
    }
}

/// Runs `op` compiled for the instruction sets of `S`: the entry of every task that the thread
/// team runs for the kernel (a task is called through a `dyn Fn`, so it would otherwise be
/// compiled for the base instruction set of the target). A closure is an operation too, but
/// one that is `Fn` or `FnMut` is called through a `call_once` shim that the compiler may
/// leave out of line, compiled for the base instruction set: closures go through
/// [`within_once!`], other hot code in an operation whose `with_simd` is
/// `#[inline(always)]` throughout.
///
/// # Safety
/// The CPU has the instruction sets of `S`: the caller runs inside [`Level::run`] for `S`.
#[inline(always)]
pub(crate) unsafe fn within<S: Simd, Op: WithSimd>(op: Op) -> Op::Output {
    // SAFETY: the caller's guarantee.
    unsafe { S::vectorize(op) }
}

/// The token that [`within_once!`] moves into its closure.
pub(crate) struct Once;

/// [`within`] for a block: `within_once!(S, { … })` runs the block compiled for the level
/// `S` (inside `unsafe`, under [`within`]'s safety condition).
///
/// The block becomes a `move` closure that moves a token in, so the closure is `FnOnce`
/// only and its body is the `call_once` that [`within`] inlines into the level's entry. A
/// closure that is `Fn` or `FnMut` is called there through a `call_once` shim, which the
/// compiler may leave out of line, compiled for the base instruction set: the step's
/// elementwise passes ran as scalar SSE code that way. Captured values are moved in, so
/// the block names borrows of what the caller keeps.
macro_rules! within_once {
    ($s:ty, $body:block) => {{
        let once = $crate::kernel::isa::Once;
        $crate::kernel::isa::within::<$s, _>(
            #[inline(always)]
            move || {
                let _once = once;
                $body
            },
        )
    }};
}
pub(crate) use within_once;

#[cfg(test)]
mod tests {
    use super::*;

    /// No kernel source hands a closure to `within` (which would run it through an
    /// out-of-line `call_once` shim compiled for the base instruction set, as the step's
    /// elementwise passes once ran): closures go through `within_once!`.
    #[test]
    fn no_closure_is_handed_to_within() {
        let sources = [
            ("step.rs", include_str!("step.rs")),
            ("matmul.rs", include_str!("matmul.rs")),
            ("update.rs", include_str!("update.rs")),
            ("team.rs", include_str!("team.rs")),
            ("mod.rs", include_str!("mod.rs")),
        ];
        let pattern = concat!("within::<S, _>", "(");
        for (name, text) in sources {
            for (i, line) in text.lines().enumerate() {
                if let Some(at) = line.find(pattern) {
                    let rest = line[at + pattern.len()..].trim_start();
                    assert!(
                        !rest.starts_with('|')
                            && !rest.starts_with("move")
                            && !rest.starts_with('#'),
                        "{name}:{}: a closure handed to within: {line}",
                        i + 1
                    );
                }
            }
        }
    }

    #[test]
    fn the_switch_names_what_is_wrong() {
        let e = CpuPath::parse("avx1024").unwrap_err().to_string();
        assert!(e.contains("RBM_KERNEL") && e.contains("avx1024"), "{e}");
        assert_eq!(CpuPath::parse("tensor").unwrap(), CpuPath::Tensor);
        assert_eq!(CpuPath::parse(" Auto ").unwrap(), CpuPath::best());
        for isa in Isa::ALL {
            match CpuPath::parse(isa.name()) {
                Ok(path) => {
                    assert!(isa.available());
                    assert_eq!(path, CpuPath::Kernel(isa));
                }
                Err(e) => {
                    assert!(!isa.available());
                    let e = e.to_string();
                    assert!(e.contains("lacks") && e.contains(&describe_cpu()), "{e}");
                }
            }
        }
        // No x86 level on aarch64 and no NEON on x86-64.
        #[cfg(target_arch = "x86_64")]
        assert!(!Isa::Neon.available());
        #[cfg(target_arch = "aarch64")]
        assert!(Isa::Neon.available() && !Isa::Avx2.available());
    }
}
