//! C = A·B with an AVX-512 register-tiled kernel.
//!
//! The entry points ([`matmul`], [`matmul_sum`], [`matmul_new`]) are safe functions compiled
//! for AVX-512F and FMA: they check every shape and length, and calling them is `unsafe`
//! only where the caller does not itself have those features (then the features must have
//! been detected, [`super::available`]). The unsafe inner functions work on raw pointers
//! within the bounds the entry points checked.
use std::arch::x86_64::*;
use std::mem::MaybeUninit;

/// A left factor read through strides: A(i, p) = `data[i·row_stride + p·k_stride]`.
#[derive(Clone, Copy)]
pub struct Operand<'a> {
    data: &'a [f32],
    row_stride: usize,
    k_stride: usize,
}

impl<'a> Operand<'a> {
    /// A(i, p) = `data[i·row_stride + p·k_stride]`.
    pub fn new(data: &'a [f32], row_stride: usize, k_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            k_stride,
        }
    }
}

/// Rows of the result tile (R) and 16-lane vectors per row (Z): 25 accumulators, 5
/// right-factor vectors and a broadcast fill the 32 vector registers.
const R_MAX: usize = 5;
const Z_MAX: usize = 5;
/// Inner indices per block.
const KC: usize = 64;

/// C `[m, n]` (row stride n) = A `[m, k]` · B `[k, n]` (row stride `b_stride`), or
/// C += A·B when `accumulate`.
///
/// # Panics
/// If `n` is not a multiple of 16, or an operand or C is too short for the shapes.
///
/// # Safety
/// None beyond the instruction sets: the call is safe from code compiled with AVX-512F and
/// FMA; from other code it is `unsafe`, and the caller must have detected them
/// ([`super::available`]).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,fma")]
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: Operand,
    b: &[f32],
    b_stride: usize,
    c: &mut [f32],
    accumulate: bool,
) {
    let term = Term { k, a, b, b_stride };
    matmul_sum(m, n, &[term], c, accumulate)
}

/// One product A·B of a sum: A `[m, k]`, B `[k, n]` with row stride `b_stride`.
#[derive(Clone, Copy)]
pub struct Term<'a> {
    /// The inner dimension.
    pub k: usize,
    /// A.
    pub a: Operand<'a>,
    /// B, row-major with row stride `b_stride`.
    pub b: &'a [f32],
    /// B's row stride, at least n.
    pub b_stride: usize,
}

/// C `[m, n]` (row stride n) = Σ_t A_t·B_t, or C += Σ_t A_t·B_t when `accumulate`, in one
/// pass over each column panel of C. Each block of KC inner indices of a term is summed
/// in registers and added to C, block by block and, within a block, term by term (so
/// terms of at most KC inner indices are added in term order, as by one [`matmul`] per
/// term). Terms with an empty inner dimension contribute nothing; without terms that have
/// one, C = 0 (or is left as it is when `accumulate`).
///
/// # Panics
/// If `n` is not a multiple of 16, or an operand or C is too short for the shapes.
///
/// # Safety
/// None beyond the instruction sets: the call is safe from code compiled with AVX-512F and
/// FMA; from other code it is `unsafe`, and the caller must have detected them
/// ([`super::available`]).
#[target_feature(enable = "avx512f,fma")]
pub fn matmul_sum(m: usize, n: usize, terms: &[Term], c: &mut [f32], accumulate: bool) {
    // SAFETY: MaybeUninit<f32> has f32's layout, and only initialised values are written.
    let c = unsafe { &mut *(c as *mut [f32] as *mut [MaybeUninit<f32>]) };
    matmul_sum_into(m, n, terms, c, accumulate)
}

/// A new `[m, n]` vector C = Σ_t A_t·B_t (see [`matmul_sum`]), written without being
/// zeroed first.
///
/// # Panics
/// If `n` is not a multiple of 16, or an operand is too short for the shapes.
///
/// # Safety
/// None beyond the instruction sets: the call is safe from code compiled with AVX-512F and
/// FMA; from other code it is `unsafe`, and the caller must have detected them
/// ([`super::available`]).
#[target_feature(enable = "avx512f,fma")]
pub fn matmul_new(m: usize, n: usize, terms: &[Term]) -> Vec<f32> {
    let mut c = Vec::with_capacity(m * n);
    matmul_sum_into(m, n, terms, &mut c.spare_capacity_mut()[..m * n], false);
    // SAFETY: without accumulation `matmul_sum_into` writes every element of C: each column
    // panel's first contribution (of whichever term comes first with an inner dimension)
    // overwrites, and without such a term C is filled with zeros.
    unsafe { c.set_len(m * n) };
    c
}

/// One panel of B: the columns `col0..col0 + 16·Z_MAX` (fewer at the right edge) of the inner
/// indices `k0..k0 + kc` of term `term`.
#[derive(Clone, Copy)]
struct Panel {
    term: usize,
    k0: usize,
    col0: usize,
    kc: usize,
    /// Whether this is the first contribution to its columns of C, which then overwrites C
    /// instead of adding to it (unless accumulating).
    first: bool,
}

/// [`matmul_sum`] into C, which may be uninitialised when `accumulate` is false: every
/// element of C is then written before it is read.
///
/// # Panics
/// As [`matmul_sum`].
#[target_feature(enable = "avx512f,fma")]
fn matmul_sum_into(
    m: usize,
    n: usize,
    terms: &[Term],
    c: &mut [MaybeUninit<f32>],
    accumulate: bool,
) {
    assert_eq!(n % 16, 0, "the result's width must be a multiple of 16");
    assert!(c.len() >= m * n);
    for t in terms.iter().filter(|t| t.k > 0 && m > 0 && n > 0) {
        assert!(t.b_stride >= n);
        let last_a = (m - 1) * t.a.row_stride + (t.k - 1) * t.a.k_stride;
        assert!(last_a < t.a.data.len(), "left factor too short");
        assert!(
            (t.k - 1) * t.b_stride + n <= t.b.len(),
            "right factor too short"
        );
    }
    // Panels of B, (term, first inner index, first column), ordered by inner block, then
    // column, then term: a block of A stays in the L1 cache across the column panels, and
    // a panel of C across the terms.
    let blocks = terms.iter().map(|t| t.k.div_ceil(KC)).max().unwrap_or(0);
    let mut panels = Vec::new();
    for block in 0..blocks {
        for col0 in (0..n).step_by(16 * Z_MAX) {
            let mut first = block == 0;
            for (term, t) in terms.iter().enumerate() {
                let nb = t.k.div_ceil(KC);
                if block < nb {
                    let (k0, k1) = (block * t.k / nb, (block + 1) * t.k / nb);
                    panels.push(Panel {
                        term,
                        k0,
                        col0,
                        kc: k1 - k0,
                        first,
                    });
                    first = false;
                }
            }
        }
    }
    if m == 0 || n == 0 || panels.is_empty() {
        if !accumulate {
            c[..m * n].fill(MaybeUninit::new(0.0));
        }
        return;
    }
    // One block of rows of C per thread.
    super::team::for_each_rows(&mut c[..m * n], n, R_MAX, |rows, chunk| {
        // SAFETY: the chunk holds the rows `rows` of C, which lie within 0..m; the panels
        // lie within the terms' inner dimensions and 0..n (all checked above). The features
        // are this function's: the team runs the closure within this call.
        unsafe { product_rows(terms, &panels, chunk, n, accumulate, rows.start) }
    });
}

/// The rows `row0..` of C that `c` holds (row stride n): each panel over tiles of R_MAX
/// rows.
///
/// # Safety
/// The CPU has AVX-512F and FMA. `c` holds whole rows `row0..row0 + c.len()/n` of an
/// `[m, n]` result, `n` is a multiple of 16, and for every panel and every term: rows
/// `row0..` of its A exist (`(row0 + rows − 1)·row_stride + (k0 + kc − 1)·k_stride` is
/// within A), B has the panel's inner indices and columns (`(k0 + kc − 1)·b_stride + n`
/// within B), and the columns `col0..n` lie in C. Elements of `c` may be uninitialised only
/// where the first panel of their columns (`first`) is not accumulated into.
#[target_feature(enable = "avx512f,fma")]
unsafe fn product_rows(
    terms: &[Term],
    panels: &[Panel],
    c: &mut [MaybeUninit<f32>],
    n: usize,
    accumulate: bool,
    row0: usize,
) {
    let rows = c.len() / n;
    let tiles = rows.div_ceil(R_MAX);
    let mut panels = panels.iter().peekable();
    while let Some(&Panel {
        term,
        k0,
        col0,
        kc,
        first,
    }) = panels.next()
    {
        let t = &terms[term];
        let z = ((n - col0) / 16).min(Z_MAX);
        // A column panel's first contribution overwrites C unless accumulating.
        let add = accumulate || !first;
        // The next panel of B, fetched into the cache a slice of rows per tile while
        // this panel is used: its first tile would otherwise wait on every line.
        let (next, next_kc, next_stride) = match panels.peek() {
            Some(next) => {
                let u = &terms[next.term];
                (
                    u.b.as_ptr().wrapping_add(next.k0 * u.b_stride + next.col0),
                    next.kc,
                    u.b_stride,
                )
            }
            None => (std::ptr::null(), 0, 0),
        };
        let mut i = 0;
        let mut tile_index = 0;
        while i < rows {
            let r = (rows - i).min(R_MAX);
            let (pf0, pf1) = (
                tile_index * next_kc / tiles,
                (tile_index + 1) * next_kc / tiles,
            );
            // SAFETY: the caller's asserts bound every index the tile touches: rows
            // row0+i..row0+i+r ≤ m, columns col0..col0+16z ≤ n, inner indices
            // k0..k0+kc ≤ k of the term. Prefetches do not access memory.
            unsafe {
                tile_dyn(
                    r,
                    z,
                    kc,
                    t.a.data
                        .as_ptr()
                        .add((row0 + i) * t.a.row_stride + k0 * t.a.k_stride),
                    t.a.row_stride,
                    t.a.k_stride,
                    t.b.as_ptr().add(k0 * t.b_stride + col0),
                    t.b_stride,
                    c.as_mut_ptr().add(i * n + col0).cast::<f32>(),
                    n,
                    add,
                    Prefetch {
                        at: next.wrapping_add(pf0 * next_stride),
                        rows: pf1 - pf0,
                        stride: next_stride,
                    },
                )
            };
            i += r;
            tile_index += 1;
        }
    }
}

/// Rows of a B panel to bring into the L1 cache: `rows` rows of 16·Z_MAX floats from `at`
/// (row stride `stride`).
#[derive(Clone, Copy)]
struct Prefetch {
    at: *const f32,
    rows: usize,
    stride: usize,
}

/// [`tile`] for run-time `r` ≤ R_MAX (values above are treated as R_MAX) and `z` ≤ Z_MAX.
///
/// # Safety
/// As [`tile`], with R = min(r, R_MAX) and Z = min(z, Z_MAX) (`z` ≥ 1).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,fma")]
unsafe fn tile_dyn(
    r: usize,
    z: usize,
    k: usize,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    b_ks: usize,
    c: *mut f32,
    c_rs: usize,
    acc: bool,
    pf: Prefetch,
) {
    macro_rules! by_z {
        ($r:literal) => {
            match z {
                1 => unsafe { tile::<$r, 1>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                2 => unsafe { tile::<$r, 2>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                3 => unsafe { tile::<$r, 3>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                4 => unsafe { tile::<$r, 4>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
                _ => unsafe { tile::<$r, 5>(k, a, a_rs, a_ks, b, b_ks, c, c_rs, acc, pf) },
            }
        };
    }
    match r {
        1 => by_z!(1),
        2 => by_z!(2),
        3 => by_z!(3),
        4 => by_z!(4),
        _ => by_z!(5),
    }
}

/// One R × 16Z tile of C over the whole inner dimension, the accumulators in registers:
/// C(r, ·) = Σ_p A(r, p) B(p, ·), added to C when `accumulate`.
///
/// # Safety
/// The CPU has AVX-512F and FMA. For every r < R and p < k: `a + r·a_rs + p·a_ks` is
/// readable; for every p < k: the 16Z floats at `b + p·b_ks` are readable; for every r < R:
/// the 16Z floats at `c + r·c_rs` are writable, and initialised when `accumulate`. The
/// prefetch addresses need not be valid (prefetches do not access memory).
#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx512f,fma")]
unsafe fn tile<const R: usize, const Z: usize>(
    k: usize,
    a: *const f32,
    a_rs: usize,
    a_ks: usize,
    b: *const f32,
    b_ks: usize,
    c: *mut f32,
    c_rs: usize,
    accumulate: bool,
    pf: Prefetch,
) {
    let mut acc = [[_mm512_setzero_ps(); Z]; R];
    let mut bv = [_mm512_setzero_ps(); Z];
    for p in 0..k {
        if p < pf.rows {
            let at = pf.at.wrapping_add(p * pf.stride);
            for z in 0..Z_MAX {
                _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(16 * z) as *const i8);
            }
        }
        unsafe {
            let bp = b.add(p * b_ks);
            for z in 0..Z {
                bv[z] = _mm512_loadu_ps(bp.add(16 * z));
            }
            let ap = a.add(p * a_ks);
            for r in 0..R {
                let av = _mm512_set1_ps(*ap.add(r * a_rs));
                for z in 0..Z {
                    acc[r][z] = _mm512_fmadd_ps(av, bv[z], acc[r][z]);
                }
            }
        }
    }
    for r in 0..R {
        for z in 0..Z {
            unsafe {
                let cp = c.add(r * c_rs + 16 * z);
                let v = if accumulate {
                    _mm512_add_ps(_mm512_loadu_ps(cp), acc[r][z])
                } else {
                    acc[r][z]
                };
                _mm512_storeu_ps(cp, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::available;
    use crate::noise::Noise;
    #[test]
    #[cfg_attr(
        not(avx512_host),
        ignore = "this CPU lacks AVX-512F/DQ or FMA, which the kernel needs"
    )]
    fn matmul_matches_a_direct_sum_for_every_tile_shape() {
        assert!(available(), "the kernel's instruction sets");
        let mut noise = Noise::new(11);
        // m, n, k chosen to exercise row remainders 1..4 and panel widths 16..80.
        for &(m, n, k) in &[
            (1, 16, 1),
            (7, 48, 3),
            (13, 112, 17),
            (23, 400, 31),
            (100, 96, 5),
            // several inner blocks of KC
            (11, 176, 300),
        ] {
            let a = noise.uniforms(m * k);
            let b = noise.uniforms(k * n);
            for transposed in [false, true] {
                let op = if transposed {
                    // A(i, p) = at[p, i]
                    let mut at = vec![0.0; k * m];
                    for i in 0..m {
                        for p in 0..k {
                            at[p * m + i] = a[i * k + p];
                        }
                    }
                    (at, 1, m)
                } else {
                    (a.clone(), k, 1)
                };
                let mut c = vec![1.0f32; m * n];
                // SAFETY: `available()` checked the features.
                unsafe {
                    matmul(
                        m,
                        n,
                        k,
                        Operand::new(&op.0, op.1, op.2),
                        &b,
                        n,
                        &mut c,
                        transposed,
                    )
                };
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum::<f64>()
                            + if transposed { 1.0 } else { 0.0 };
                        let got = c[i * n + j] as f64;
                        assert!(
                            (got - want).abs() < 1e-5 * (k as f64),
                            "({m},{n},{k}) C[{i},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    #[cfg_attr(
        not(avx512_host),
        ignore = "this CPU lacks AVX-512F/DQ or FMA, which the kernel needs"
    )]
    fn a_sum_of_products_matches_a_direct_sum() {
        assert!(available(), "the kernel's instruction sets");
        let mut noise = Noise::new(12);
        let (m, n) = (37, 208);
        // Inner dimensions across block boundaries, and an empty term.
        let ks = [200usize, 0, 45];
        let a: Vec<Vec<f32>> = ks.iter().map(|&k| noise.uniforms(m * k)).collect();
        let b: Vec<Vec<f32>> = ks.iter().map(|&k| noise.uniforms(k * n)).collect();
        let terms: Vec<Term> = (0..ks.len())
            .map(|t| Term {
                k: ks[t],
                a: Operand::new(&a[t], ks[t], 1),
                b: &b[t],
                b_stride: n,
            })
            .collect();
        // SAFETY: `available()` checked the features.
        let c = unsafe { matmul_new(m, n, &terms) };
        let mut separate = vec![0.0f32; m * n];
        for (t, term) in terms.iter().enumerate() {
            // SAFETY: as above.
            unsafe {
                matmul(m, n, ks[t], term.a, &b[t], n, &mut separate, t > 0);
            }
        }
        for i in 0..m {
            for j in 0..n {
                let want: f64 = (0..ks.len())
                    .flat_map(|t| (0..ks[t]).map(move |p| (t, p)))
                    .map(|(t, p)| a[t][i * ks[t] + p] as f64 * b[t][p * n + j] as f64)
                    .sum();
                let got = c[i * n + j];
                assert!(
                    (got as f64 - want).abs() < 1e-5 * 245.0,
                    "C[{i},{j}] = {got}, want {want}"
                );
                let apart = separate[i * n + j] as f64;
                assert!((got as f64 - apart).abs() < 1e-6 * want.abs().max(1.0));
            }
        }
        // No term with an inner dimension: C = 0.
        let empty = [Term {
            k: 0,
            a: Operand::new(&[], 1, 1),
            b: &[],
            b_stride: n,
        }];
        // SAFETY: as above.
        let zero = unsafe { matmul_new(m, n, &empty) };
        assert!(zero.len() == m * n && zero.iter().all(|&x| x == 0.0));
    }

    /// A first term with an empty inner dimension must not leave C's columns to be added
    /// to: C, filled with NaN beforehand, is overwritten by the first term that has one.
    #[test]
    #[cfg_attr(
        not(avx512_host),
        ignore = "this CPU lacks AVX-512F/DQ or FMA, which the kernel needs"
    )]
    fn an_empty_first_term_does_not_read_c() {
        assert!(available(), "the kernel's instruction sets");
        let mut noise = Noise::new(13);
        let (m, n, k) = (9, 96, 70);
        let a = noise.uniforms(m * k);
        let b = noise.uniforms(k * n);
        for empty_terms in [1, 2] {
            let mut terms = vec![
                Term {
                    k: 0,
                    a: Operand::new(&[], 1, 1),
                    b: &[],
                    b_stride: n,
                };
                empty_terms
            ];
            terms.push(Term {
                k,
                a: Operand::new(&a, k, 1),
                b: &b,
                b_stride: n,
            });
            let mut c = vec![f32::NAN; m * n];
            // SAFETY: `available()` checked the features.
            unsafe { matmul_sum(m, n, &terms, &mut c, false) };
            // SAFETY: as above.
            let fresh = unsafe { matmul_new(m, n, &terms) };
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                        .sum();
                    for got in [c[i * n + j], fresh[i * n + j]] {
                        assert!(
                            (got as f64 - want).abs() < 1e-5 * k as f64,
                            "{empty_terms} empty terms: C[{i},{j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }
}
