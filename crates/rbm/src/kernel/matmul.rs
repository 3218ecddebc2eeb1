//! C = A·B with a register-tiled kernel, written once over `macerator`'s portable vectors
//! and compiled for each instruction set of [`super::isa`].
//!
//! The functions are generic over the [`Simd`] level `S` and `#[inline(always)]`: they are
//! meant to be called inside [`super::isa::Level::run`] (or [`super::isa::within`]), which
//! compiles them for that level's instruction sets. Each element of C is summed in the same
//! order on every level (see [`matmul_sum`]), so the results do not depend on it.
//!
//! The entry points check every shape and length; the tile works on raw pointers within the
//! bounds they checked.
use std::mem::MaybeUninit;

use macerator::{Scalar, Simd, Vector, vload_unaligned, vstore_unaligned};

use super::isa::within;

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

/// The tile's largest shape for the level `S`: rows of C (R) and vectors per row (Z). The
/// R·Z accumulators, Z vectors of B and a broadcast of A must fit the vector registers:
/// 32 on AVX-512 and NEON (5 × 5), 16 on AVX2 (4 × 3).
#[inline(always)]
fn tile_shape<S: Simd>() -> (usize, usize) {
    if f32::lanes::<S>() == 8 {
        (4, 3)
    } else {
        (5, 5)
    }
}

/// The columns of one panel of C for the level `S` (the tile's vectors per row times the
/// level's lanes): splits of C's columns at multiples of it keep every panel whole.
#[inline(always)]
pub fn panel_width<S: Simd>() -> usize {
    tile_shape::<S>().1 * f32::lanes::<S>()
}

/// Inner indices per block.
const KC: usize = 64;

/// The result's width must be a multiple of this (the widest vector, AVX-512's 16 lanes), so
/// that the columns split into whole vectors on every level.
pub const WIDTH_MULTIPLE: usize = 16;

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
/// terms of at most KC inner indices are added in term order, as by one call per
/// term). This order is the same for every tile shape, hence for every level. Terms with an
/// empty inner dimension contribute nothing; without terms that have one, C = 0 (or is left
/// as it is when `accumulate`).
///
/// # Panics
/// If `n` is not a multiple of [`WIDTH_MULTIPLE`], or an operand or C is too short for the
/// shapes.
#[inline(always)]
pub fn matmul_sum<S: Simd>(m: usize, n: usize, terms: &[Term], c: &mut [f32], accumulate: bool) {
    // SAFETY: MaybeUninit<f32> has f32's layout, and only initialised values are written.
    let c = unsafe { &mut *(c as *mut [f32] as *mut [MaybeUninit<f32>]) };
    matmul_sum_into::<S>(m, n, terms, c, accumulate)
}

/// A new `[m, n]` vector C = Σ_t A_t·B_t (see [`matmul_sum`]), written without being
/// zeroed first.
///
/// # Panics
/// If `n` is not a multiple of [`WIDTH_MULTIPLE`], or an operand is too short for the
/// shapes.
#[inline(always)]
pub fn matmul_new<S: Simd>(m: usize, n: usize, terms: &[Term]) -> Vec<f32> {
    let mut c = Vec::with_capacity(m * n);
    matmul_sum_into::<S>(m, n, terms, &mut c.spare_capacity_mut()[..m * n], false);
    // SAFETY: without accumulation `matmul_sum_into` writes every element of C: each column
    // panel's first contribution (of whichever term comes first with an inner dimension)
    // overwrites, and without such a term C is filled with zeros.
    unsafe { c.set_len(m * n) };
    c
}

/// One panel of B: the columns `col0..col0 + width` of the inner indices `k0..k0 + kc` of
/// term `term`.
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
#[inline(always)]
fn matmul_sum_into<S: Simd>(
    m: usize,
    n: usize,
    terms: &[Term],
    c: &mut [MaybeUninit<f32>],
    accumulate: bool,
) {
    assert_eq!(
        n % WIDTH_MULTIPLE,
        0,
        "the result's width must be a multiple of {WIDTH_MULTIPLE}"
    );
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
    let r_max = tile_shape::<S>().0;
    let panel_width = panel_width::<S>();
    // Panels of B, (term, first inner index, first column), ordered by inner block, then
    // column, then term: a block of A stays in the L1 cache across the column panels, and
    // a panel of C across the terms.
    let blocks = terms.iter().map(|t| t.k.div_ceil(KC)).max().unwrap_or(0);
    let mut panels = Vec::new();
    for block in 0..blocks {
        for col0 in (0..n).step_by(panel_width) {
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
    super::team::for_each_rows(&mut c[..m * n], n, r_max, |rows, chunk| {
        // SAFETY: the chunk holds the rows `rows` of C, which lie within 0..m; the panels
        // lie within the terms' inner dimensions and 0..n (all checked above). This task
        // runs within the caller's level `S`, whose instruction sets are therefore present.
        unsafe {
            within::<S, _>(ProductRows {
                terms,
                panels: &panels,
                c: chunk,
                n,
                accumulate,
                row0: rows.start,
            })
        }
    });
}

/// [`product_rows`] as an operation for [`within`]: the call chain from the level's entry to
/// the tile is `#[inline(always)]` throughout, so the tile is compiled for the level (a
/// closure's body may be left out of line, compiled for the base instruction set).
struct ProductRows<'a, 'b> {
    terms: &'a [Term<'b>],
    panels: &'a [Panel],
    c: &'a mut [MaybeUninit<f32>],
    n: usize,
    accumulate: bool,
    row0: usize,
}

impl macerator::WithSimd for ProductRows<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self) {
        // SAFETY: `within`'s caller guarantees S's instruction sets, and `matmul_sum_into`
        // checked the bounds that `product_rows` requires.
        unsafe {
            product_rows::<S>(
                self.terms,
                self.panels,
                self.c,
                self.n,
                self.accumulate,
                self.row0,
            )
        }
    }
}

/// The rows `row0..` of C that `c` holds (row stride n): each panel over tiles of the
/// level's R rows.
///
/// # Safety
/// The CPU has the instruction sets of `S`. `c` holds whole rows `row0..row0 + c.len()/n` of
/// an `[m, n]` result, `n` is a multiple of [`WIDTH_MULTIPLE`], and for every panel and every
/// term: rows `row0..` of its A exist (`(row0 + rows − 1)·row_stride + (k0 + kc − 1)·k_stride`
/// is within A), B has the panel's inner indices and columns (`(k0 + kc − 1)·b_stride + n`
/// within B), and the columns `col0..n` lie in C. Elements of `c` may be uninitialised only
/// where the first panel of their columns (`first`) is not accumulated into.
#[inline(always)]
unsafe fn product_rows<S: Simd>(
    terms: &[Term],
    panels: &[Panel],
    c: &mut [MaybeUninit<f32>],
    n: usize,
    accumulate: bool,
    row0: usize,
) {
    let (r_max, z_max) = tile_shape::<S>();
    let lanes = f32::lanes::<S>();
    let rows = c.len() / n;
    let tiles = rows.div_ceil(r_max);
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
        let z = ((n - col0) / lanes).min(z_max);
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
            let r = (rows - i).min(r_max);
            let (pf0, pf1) = (
                tile_index * next_kc / tiles,
                (tile_index + 1) * next_kc / tiles,
            );
            // SAFETY: the caller's asserts bound every index the tile touches: rows
            // row0+i..row0+i+r ≤ m, columns col0..col0+lanes·z ≤ n, inner indices
            // k0..k0+kc ≤ k of the term. Prefetches do not access memory.
            unsafe {
                tile_dyn::<S>(
                    r,
                    z,
                    TileOperands {
                        k: kc,
                        a: t.a
                            .data
                            .as_ptr()
                            .add((row0 + i) * t.a.row_stride + k0 * t.a.k_stride),
                        a_rs: t.a.row_stride,
                        a_ks: t.a.k_stride,
                        b: t.b.as_ptr().add(k0 * t.b_stride + col0),
                        b_ks: t.b_stride,
                        c: c.as_mut_ptr().add(i * n + col0).cast::<f32>(),
                        c_rs: n,
                        accumulate: add,
                        pf: Prefetch {
                            at: next.wrapping_add(pf0 * next_stride),
                            rows: pf1 - pf0,
                            stride: next_stride,
                            lines: (z_max * lanes).div_ceil(16),
                        },
                    },
                )
            };
            i += r;
            tile_index += 1;
        }
    }
}

/// Rows of a B panel to bring into the L1 cache: `rows` rows of `lines` cache lines from `at`
/// (row stride `stride`). Used on x86-64 only.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Prefetch {
    at: *const f32,
    rows: usize,
    stride: usize,
    lines: usize,
}

impl Prefetch {
    /// Asks for the cache lines of row `p` (x86-64 only; elsewhere a no-op).
    #[inline(always)]
    fn row(&self, p: usize) {
        #[cfg(target_arch = "x86_64")]
        if p < self.rows {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let at = self.at.wrapping_add(p * self.stride);
            for line in 0..self.lines {
                // SAFETY: a prefetch does not access memory, whatever the address; SSE is part
                // of x86-64's base instruction set.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(16 * line) as *const i8) };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = p;
    }
}

/// The operands of one tile: A from `a` (row stride `a_rs`, inner stride `a_ks`), `k` rows
/// of B from `b` (row stride `b_ks`), C at `c` (row stride `c_rs`), added to when
/// `accumulate`, and the prefetches to issue.
#[derive(Clone, Copy)]
struct TileOperands {
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
}

/// [`tile`] for run-time `r` ≤ 5 and `z` ≤ 5 (larger values are treated as 5), the largest
/// shape of any level.
///
/// # Safety
/// As [`tile`], with R = min(r, 5) and Z = min(z, 5) (`z` ≥ 1).
#[inline(always)]
unsafe fn tile_dyn<S: Simd>(r: usize, z: usize, t: TileOperands) {
    macro_rules! by_z {
        ($r:literal) => {
            match z {
                1 => unsafe { tile::<S, $r, 1>(t) },
                2 => unsafe { tile::<S, $r, 2>(t) },
                3 => unsafe { tile::<S, $r, 3>(t) },
                4 => unsafe { tile::<S, $r, 4>(t) },
                _ => unsafe { tile::<S, $r, 5>(t) },
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

/// One R × Z-vector tile of C over the whole inner dimension, the accumulators in registers:
/// C(r, ·) = Σ_p A(r, p) B(p, ·) with one rounding per term (fused multiply-add), added to C
/// when `accumulate`.
///
/// # Safety
/// The CPU has the instruction sets of `S`. For every r < R and p < k:
/// `a + r·a_rs + p·a_ks` is readable; for every p < k: the Z vectors at `b + p·b_ks` are
/// readable; for every r < R: the Z vectors at `c + r·c_rs` are writable, and initialised
/// when `accumulate`. The prefetch addresses need not be valid.
#[inline(always)]
unsafe fn tile<S: Simd, const R: usize, const Z: usize>(t: TileOperands) {
    let TileOperands {
        k,
        a,
        a_rs,
        a_ks,
        b,
        b_ks,
        c,
        c_rs,
        accumulate,
        pf,
    } = t;
    let lanes = f32::lanes::<S>();
    let zero: Vector<S, f32> = 0.0f32.splat::<S>();
    let mut acc = [[zero; Z]; R];
    let mut bv = [zero; Z];
    for p in 0..k {
        pf.row(p);
        unsafe {
            let bp = b.add(p * b_ks);
            for z in 0..Z {
                bv[z] = vload_unaligned::<S, f32>(bp.add(lanes * z));
            }
            let ap = a.add(p * a_ks);
            for r in 0..R {
                let av = (*ap.add(r * a_rs)).splat::<S>();
                for z in 0..Z {
                    acc[r][z] = av.fma(bv[z], acc[r][z]);
                }
            }
        }
    }
    for r in 0..R {
        for z in 0..Z {
            unsafe {
                let cp = c.add(r * c_rs + lanes * z);
                let v = if accumulate {
                    vload_unaligned::<S, f32>(cp) + acc[r][z]
                } else {
                    acc[r][z]
                };
                vstore_unaligned::<S, f32>(cp, v);
            }
        }
    }
}

/// [`matmul_sum`] as an operation for [`super::isa::Level::run`].
pub struct MatmulSum<'a, 'b> {
    pub m: usize,
    pub n: usize,
    pub terms: &'a [Term<'b>],
    pub c: &'a mut [f32],
    pub accumulate: bool,
}

impl macerator::WithSimd for MatmulSum<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self) {
        matmul_sum::<S>(self.m, self.n, self.terms, self.c, self.accumulate)
    }
}

/// [`matmul_new`] as an operation for [`super::isa::Level::run`] (the tests').
#[cfg(test)]
pub struct MatmulNew<'a, 'b> {
    pub m: usize,
    pub n: usize,
    pub terms: &'a [Term<'b>],
}

#[cfg(test)]
impl macerator::WithSimd for MatmulNew<'_, '_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self) -> Vec<f32> {
        matmul_new::<S>(self.m, self.n, self.terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::test_levels;
    use crate::noise::Noise;
    #[test]
    #[cfg_attr(
        not(kernel_host),
        ignore = "this CPU has none of the kernel's instruction sets (AVX-512, AVX2, NEON)"
    )]
    fn matmul_matches_a_direct_sum_for_every_tile_shape() {
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
                for level in test_levels() {
                    let mut c = vec![1.0f32; m * n];
                    let terms = [Term {
                        k,
                        a: Operand::new(&op.0, op.1, op.2),
                        b: &b,
                        b_stride: n,
                    }];
                    level.run(MatmulSum {
                        m,
                        n,
                        terms: &terms,
                        c: &mut c,
                        accumulate: transposed,
                    });
                    for i in 0..m {
                        for j in 0..n {
                            let want: f64 = (0..k)
                                .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                                .sum::<f64>()
                                + if transposed { 1.0 } else { 0.0 };
                            let got = c[i * n + j] as f64;
                            assert!(
                                (got - want).abs() < 1e-5 * (k as f64),
                                "{level:?} ({m},{n},{k}) C[{i},{j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    #[cfg_attr(
        not(kernel_host),
        ignore = "this CPU has none of the kernel's instruction sets (AVX-512, AVX2, NEON)"
    )]
    fn a_sum_of_products_matches_a_direct_sum() {
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
        let levels = test_levels();
        let c = levels[0].run(MatmulNew {
            m,
            n,
            terms: &terms,
        });
        // Every level gives the same bits.
        for &level in &levels[1..] {
            assert!(
                level.run(MatmulNew {
                    m,
                    n,
                    terms: &terms
                }) == c,
                "{level:?}"
            );
        }
        let mut separate = vec![0.0f32; m * n];
        for (t, term) in terms.iter().enumerate() {
            levels[0].run(MatmulSum {
                m,
                n,
                terms: std::slice::from_ref(term),
                c: &mut separate,
                accumulate: t > 0,
            });
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
        let zero = levels[0].run(MatmulNew {
            m,
            n,
            terms: &empty,
        });
        assert!(zero.len() == m * n && zero.iter().all(|&x| x == 0.0));
    }

    /// A first term with an empty inner dimension must not leave C's columns to be added
    /// to: C, filled with NaN beforehand, is overwritten by the first term that has one.
    #[test]
    #[cfg_attr(
        not(kernel_host),
        ignore = "this CPU has none of the kernel's instruction sets (AVX-512, AVX2, NEON)"
    )]
    fn an_empty_first_term_does_not_read_c() {
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
            for level in test_levels() {
                let mut c = vec![f32::NAN; m * n];
                level.run(MatmulSum {
                    m,
                    n,
                    terms: &terms,
                    c: &mut c,
                    accumulate: false,
                });
                let fresh = level.run(MatmulNew {
                    m,
                    n,
                    terms: &terms,
                });
                for i in 0..m {
                    for j in 0..n {
                        let want: f64 = (0..k)
                            .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                            .sum();
                        for got in [c[i * n + j], fresh[i * n + j]] {
                            assert!(
                                (got as f64 - want).abs() < 1e-5 * k as f64,
                                "{level:?}, {empty_terms} empty terms: C[{i},{j}] = {got}, want {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
