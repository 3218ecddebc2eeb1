//! Sets `cfg(avx512_host)` when the crate is built on, and for, a CPU with the fused kernel's
//! instruction sets (AVX-512F, AVX-512DQ, FMA). Tests of the kernel are `#[ignore]`d, with
//! the reason, where it is missing, instead of passing without running.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(avx512_host)");
    println!("cargo::rerun-if-changed=build.rs");
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if native && host_has_avx512() {
        println!("cargo::rustc-cfg=avx512_host");
    }
}

#[cfg(target_arch = "x86_64")]
fn host_has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(not(target_arch = "x86_64"))]
fn host_has_avx512() -> bool {
    false
}
