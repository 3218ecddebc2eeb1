//! Sets `cfg(kernel_host)` when the tests will run on a CPU with one of the fused kernel's
//! instruction sets: a native build on an x86-64 CPU with AVX2 and FMA (x86-64-v3) or
//! AVX-512, or any build for aarch64, where NEON is part of the base instruction set (a
//! cross-compiled test runs under an aarch64 machine or `qemu-aarch64`). Tests of the kernel
//! are `#[ignore]`d, with the reason, where none is present, instead of passing without
//! running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kernel_host)");
    println!("cargo::rerun-if-changed=build.rs");
    let target_arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if target_arch == "aarch64" || (native && host_has_x86_v3()) {
        println!("cargo::rustc-cfg=kernel_host");
    }
}

/// The features of macerator's x86-64-v3 level, which the kernel's AVX2 build needs (the
/// AVX-512 level adds to them).
#[cfg(target_arch = "x86_64")]
fn host_has_x86_v3() -> bool {
    use std::arch::is_x86_feature_detected as has;
    has!("avx2") && has!("fma") && has!("bmi1") && has!("bmi2") && has!("lzcnt") && has!("f16c")
}

#[cfg(not(target_arch = "x86_64"))]
fn host_has_x86_v3() -> bool {
    false
}
