//! Reproducible random numbers for Gibbs sampling, owned by this crate.
//!
//! Burn's `Tensor::random` draws from the device's generator, which on the CPU backends is
//! one stream per process: a result then depends on every other draw made in the process and
//! on their order. A training step instead draws from a [`Noise`] stream derived from a
//! 64-bit key (for example from the run seed, the layer, the epoch and the batch), on the
//! host, and uploads the numbers to the device. A step is then a pure function of the model,
//! the batch and its key, on every backend, which is what makes training runs reproducible
//! and resumable bit for bit.
//!
//! The stream interleaves eight xoshiro256++ generators, lane l seeded (through SplitMix64) with
//! [`key`]`(&[seed, l])`: the 64-bit draws are taken eight at a time, one from each lane in
//! lane order, so that a block of eight is one vector operation (compiled for the vector
//! instructions the CPU has, chosen at run time). A request for a number of draws that is not a multiple of eight discards the rest of
//! its last block. Uniforms are f32 on the grid k·2⁻²⁴ in [0, 1), two per 64-bit draw; normals
//! come from the Box–Muller transform in f64.

use burn::prelude::*;
use ising_data::rng::splitmix64;

/// Interleaved generators.
const LANES: usize = 8;

/// A deterministic stream of random numbers keyed by a 64-bit seed.
#[derive(Debug, Clone)]
pub struct Noise {
    /// The lanes' xoshiro256++ states, word-major: `s[w][lane]`.
    s: [[u64; LANES]; 4],
}

/// The next draw of every lane (xoshiro256++), advancing the states.
#[inline(always)]
fn next_block(s: &mut [[u64; LANES]; 4]) -> [u64; LANES] {
    let mut out = [0u64; LANES];
    for l in 0..LANES {
        out[l] = s[0][l]
            .wrapping_add(s[3][l])
            .rotate_left(23)
            .wrapping_add(s[0][l]);
        let t = s[1][l] << 17;
        s[2][l] ^= s[0][l];
        s[3][l] ^= s[1][l];
        s[1][l] ^= s[2][l];
        s[0][l] ^= s[3][l];
        s[2][l] ^= t;
        s[3][l] = s[3][l].rotate_left(45);
    }
    out
}

/// Fills `out` with uniforms, two per draw (see the module docs).
#[inline(always)]
fn fill_uniforms_body(s: &mut [[u64; LANES]; 4], out: &mut [f32]) {
    const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
    let convert = |bits: u64| {
        (
            ((bits >> 40) as u32) as f32 * SCALE,
            (((bits >> 8) & 0xFF_FFFF) as u32) as f32 * SCALE,
        )
    };
    let mut blocks = out.chunks_exact_mut(2 * LANES);
    for block in &mut blocks {
        let draws = next_block(s);
        for (pair, bits) in block.chunks_exact_mut(2).zip(draws) {
            (pair[0], pair[1]) = convert(bits);
        }
    }
    let rest = blocks.into_remainder();
    if !rest.is_empty() {
        let draws = next_block(s);
        for (i, x) in rest.iter_mut().enumerate() {
            let (hi, lo) = convert(draws[i / 2]);
            *x = if i % 2 == 0 { hi } else { lo };
        }
    }
}

/// [`fill_uniforms_body`] as an operation for `macerator`'s dispatch, inlined into the
/// function compiled for the detected instruction set (a closure is not).
struct FillUniforms<'a> {
    s: &'a mut [[u64; LANES]; 4],
    out: &'a mut [f32],
}

impl macerator::WithSimd for FillUniforms<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: macerator::Simd>(self) {
        fill_uniforms_body(self.s, self.out)
    }
}

/// Hashes a sequence of integers into one key (SplitMix64 chained over the parts), for
/// deriving a stream's key from, e.g., (seed, layer, epoch, batch).
pub fn key(parts: &[u64]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3_u64;
    for &p in parts {
        let mut s = h ^ p.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h = splitmix64(&mut s);
    }
    h
}

impl Noise {
    /// The stream with key `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = [[0u64; LANES]; 4];
        for l in 0..LANES {
            let mut sm = key(&[seed, l as u64]);
            for word in s.iter_mut() {
                word[l] = splitmix64(&mut sm);
            }
        }
        Self { s }
    }

    /// The next `out.len()` 64-bit draws, eight at a time (see the module docs).
    pub fn fill_u64(&mut self, out: &mut [u64]) {
        for block in out.chunks_mut(LANES) {
            let draws = next_block(&mut self.s);
            block.copy_from_slice(&draws[..block.len()]);
        }
    }

    /// `n` uniforms in [0, 1) as f32 (multiples of 2⁻²⁴), two per draw.
    pub fn uniforms(&mut self, n: usize) -> Vec<f32> {
        let mut out = vec![0.0f32; n];
        // Compiled for the best instruction set the CPU has (macerator's run-time dispatch); the
        // numbers are the same on every one.
        macerator::AutoArch::new().dispatch(FillUniforms {
            s: &mut self.s,
            out: &mut out,
        });
        out
    }

    /// `n` standard normal numbers as f32 (Box–Muller, one pair per two draws).
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        let mut bits = vec![0u64; 2 * n.div_ceil(2)];
        self.fill_u64(&mut bits);
        let unit = |b: u64| (b >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let mut out = Vec::with_capacity(n + 1);
        for pair in bits.chunks_exact(2) {
            // 1 − U ∈ (0, 1], so the logarithm is finite.
            let r = (-2.0 * (1.0 - unit(pair[0])).ln()).sqrt();
            let phi = std::f64::consts::TAU * unit(pair[1]);
            out.push((r * phi.cos()) as f32);
            out.push((r * phi.sin()) as f32);
        }
        out.truncate(n);
        out
    }

    /// A uniform integer in `0..n` (from one draw, Lemire's multiply-shift).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        self.below_many(1, n)[0]
    }

    /// `n` uniform integers in `0..n_values`, one draw each (see [`Noise::below`]).
    ///
    /// # Panics
    /// If `n_values == 0`.
    pub fn below_many(&mut self, n: usize, n_values: usize) -> Vec<usize> {
        assert!(n_values > 0, "below(0)");
        let mut bits = vec![0u64; n];
        self.fill_u64(&mut bits);
        bits.iter()
            .map(|b| ((b >> 32).wrapping_mul(n_values as u64) >> 32) as usize)
            .collect()
    }

    /// A tensor of uniforms in [0, 1) on `device`.
    pub fn uniform_tensor<const D: usize>(
        &mut self,
        shape: [usize; D],
        device: &Device,
    ) -> Tensor<D> {
        let n = shape.iter().product();
        Tensor::from_data(TensorData::new(self.uniforms(n), shape), device)
    }

    /// A tensor of standard normal numbers on `device`.
    pub fn normal_tensor<const D: usize>(
        &mut self,
        shape: [usize; D],
        device: &Device,
    ) -> Tensor<D> {
        let n = shape.iter().product();
        Tensor::from_data(TensorData::new(self.normals(n), shape), device)
    }
}

/// The ecosystem's generator interface (`rand_core`, the version of Burn's `rand`), so a
/// `Noise` stream can be handed to `rand`'s distributions. Each call draws through
/// [`Noise::fill_u64`]: a call for one number takes a whole block of eight draws (one per
/// lane) and discards the other seven, as the module docs say of any request; to consume
/// the stream densely, ask for many numbers at once (`fill_bytes`).
impl rand_core::TryRng for Noise {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut x = [0u64];
        self.fill_u64(&mut x);
        Ok(x[0])
    }

    /// Little-endian bytes of successive 64-bit draws, all taken in one request.
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let mut words = vec![0u64; dst.len().div_ceil(8)];
        self.fill_u64(&mut words);
        for (chunk, w) in dst.chunks_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::SeedableRng for Noise {
    /// The stream's 64-bit key, little-endian.
    type Seed = [u8; 8];

    fn from_seed(seed: [u8; 8]) -> Self {
        Noise::new(u64::from_le_bytes(seed))
    }

    /// The stream with key `state`, as [`Noise::new`].
    fn seed_from_u64(state: u64) -> Self {
        Noise::new(state)
    }
}

/// What kind of number one sampled unit consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// One uniform in [0, 1) ([`Noise::uniforms`]): discrete units.
    Uniform,
    /// One standard normal number ([`Noise::normals`]): Gaussian units.
    Normal,
}

impl Noise {
    /// `n` numbers of kind `draw`.
    pub fn draw(&mut self, draw: Draw, n: usize) -> Vec<f32> {
        match draw {
            Draw::Uniform => self.uniforms(n),
            Draw::Normal => self.normals(n),
        }
    }
}

/// The shape of one CD-k or PCD step, which fixes how many random numbers it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepShape {
    /// Visible units n_v.
    pub n_visible: usize,
    /// Hidden units n_h.
    pub n_hidden: usize,
    /// Rows of the batch.
    pub batch: usize,
    /// Rows of the chains the negative phase starts from (persistent chains, or random
    /// restarts), `None` for CD (the batch).
    pub chains: Option<usize>,
    /// Gibbs steps k.
    pub k: usize,
    /// The numbers a visible unit consumes when sampled.
    pub visible: Draw,
    /// The numbers a hidden unit consumes when sampled.
    pub hidden: Draw,
}

/// Every random number of one CD step, drawn from the step's stream in one fixed order.
///
/// Both implementations of the step (the tensor reference in [`crate::train`] and the fused
/// CPU kernel) take a `StepNoise`, never a [`Noise`]: they cannot draw on their own, so the
/// order of the draws is defined once, here, and cannot differ between them.
#[derive(Debug, Clone)]
pub struct StepNoise {
    /// The numbers of each hidden sampling, in the order the chain samples: h⁰ of the batch
    /// (`[batch, n_h]`), then h of each further Gibbs step (`[rows, n_h]`).
    pub hidden: Vec<Vec<f32>>,
    /// The numbers of each visible sampling: for CD, v¹ of the batch first; then v of each
    /// further Gibbs step (`[rows, n_v]`).
    pub visible: Vec<Vec<f32>>,
    /// The site of each batch row's stochastic pseudo-likelihood term, uniform in `0..n_v`.
    pub sites: Vec<usize>,
}

impl StepNoise {
    /// Draws, in this order: h⁰ for the batch; for CD, v¹ for the batch (PCD continues its
    /// chains instead); (h, v) for each further Gibbs step of the `rows` chains (the batch for
    /// CD); one pseudo-likelihood site per batch row.
    pub fn draw(noise: &mut Noise, shape: &StepShape) -> Self {
        let StepShape {
            n_visible: nv,
            n_hidden: nh,
            batch,
            chains,
            k,
            visible: vd,
            hidden: hd,
        } = *shape;
        let persistent = chains.is_some();
        let rows = chains.unwrap_or(batch);
        let mut hidden = vec![noise.draw(hd, batch * nh)];
        let mut visible = Vec::with_capacity(k);
        if !persistent {
            visible.push(noise.draw(vd, batch * nv));
        }
        for _ in usize::from(!persistent)..k {
            hidden.push(noise.draw(hd, rows * nh));
            visible.push(noise.draw(vd, rows * nv));
        }
        let sites = noise.below_many(batch, nv);
        Self {
            hidden,
            visible,
            sites,
        }
    }

    /// The next hidden sampling's numbers.
    ///
    /// # Panics
    /// If the step samples the hidden layer more often than its shape said.
    pub fn next_hidden(&mut self) -> Vec<f32> {
        assert!(
            !self.hidden.is_empty(),
            "a hidden sampling beyond the step's shape"
        );
        self.hidden.remove(0)
    }

    /// The next visible sampling's numbers.
    ///
    /// # Panics
    /// If the step samples the visible layer more often than its shape said.
    pub fn next_visible(&mut self) -> Vec<f32> {
        assert!(
            !self.visible.is_empty(),
            "a visible sampling beyond the step's shape"
        );
        self.visible.remove(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniforms_have_the_moments_of_the_uniform_distribution() {
        // Mean 1/2 and variance 1/12; with n = 10⁶ the standard errors are 2.9e-4 and 8.3e-5,
        // and the tolerances are 5σ.
        let u = Noise::new(3).uniforms(1_000_000);
        let n = u.len() as f64;
        let mean = u.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = u.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 0.5).abs() < 5.0 * 2.9e-4, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 5.0 * 8.3e-5, "variance {var}");
        assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
        // Odd lengths are honoured and a stream is a function of its key.
        assert_eq!(Noise::new(3).uniforms(7), Noise::new(3).uniforms(7));
        assert_ne!(Noise::new(3).uniforms(7), Noise::new(4).uniforms(7));
    }

    #[test]
    fn normals_have_unit_variance_and_gaussian_tails() {
        let z = Noise::new(5).normals(400_001);
        assert_eq!(z.len(), 400_001);
        let n = z.len() as f64;
        let mean = z.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = z.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / n;
        // P(|Z| > 2) = 0.0455; standard error √(p(1−p)/n) = 3.3e-4.
        let tail = z.iter().filter(|x| x.abs() > 2.0).count() as f64 / n;
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
        assert!((tail - 0.045_500_3).abs() < 5.0 * 3.3e-4, "tail {tail}");
    }

    #[test]
    fn each_lane_is_a_xoshiro256pp_stream_and_the_fast_paths_agree() {
        // Lane l of the stream with key k is xoshiro256++ seeded by SplitMix64 from
        // key(&[k, l]) (ising-data's independent implementation), drawn in lane order.
        use ising_data::rng::Xoshiro256pp;
        let mut lanes: Vec<Xoshiro256pp> = (0..LANES)
            .map(|l| Xoshiro256pp::seed_from_u64(key(&[9, l as u64])))
            .collect();
        let mut bits = vec![0u64; 8 * 5 + 3];
        let mut noise = Noise::new(9);
        noise.fill_u64(&mut bits);
        for (i, &b) in bits[..40].iter().enumerate() {
            assert_eq!(b, lanes[i % LANES].next_u64(), "draw {i}");
        }
        // The partial last block consumed a whole block.
        for lane in lanes.iter_mut() {
            lane.next_u64();
        }
        noise.fill_u64(&mut bits[..1]);
        assert_eq!(bits[0], lanes[0].next_u64());
        // Uniforms (vectorised where the CPU allows) are two per draw, high bits first,
        // and discard the rest of their last block.
        for n in [1usize, 15, 16, 17, 100] {
            let mut a = Noise::new(4);
            let u = a.uniforms(n);
            let mut b = Noise::new(4);
            let mut draws = vec![0u64; n.div_ceil(2)];
            b.fill_u64(&mut draws);
            for (i, &x) in u.iter().enumerate() {
                let d = draws[i / 2];
                let bits24 = if i % 2 == 0 {
                    d >> 40
                } else {
                    (d >> 8) & 0xFF_FFFF
                };
                assert_eq!(x, bits24 as f32 / (1u32 << 24) as f32, "n {n}, uniform {i}");
            }
            assert_eq!(
                a.below(1000),
                b.below(1000),
                "n {n}: the streams stay in step"
            );
        }
        let mut a = Noise::new(5);
        let mut b = Noise::new(5);
        let many = a.below_many(20, 7);
        assert!(many.iter().all(|&x| x < 7));
        let mut draws = [0u64; 20];
        b.fill_u64(&mut draws);
        assert_eq!(many[3], (((draws[3] >> 32) * 7) >> 32) as usize);
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&[1, 2]), key(&[2, 1]));
        assert_ne!(key(&[1, 2]), key(&[1, 2, 0]));
        assert_eq!(key(&[7, 8, 9]), key(&[7, 8, 9]));
    }

    #[test]
    fn the_rand_core_interface_draws_from_the_same_stream() {
        use rand_core::{Rng, SeedableRng};
        let mut via_trait = <Noise as SeedableRng>::from_seed(11u64.to_le_bytes());
        let mut direct = Noise::new(11);
        let mut bytes = [0u8; 20];
        via_trait.fill_bytes(&mut bytes);
        let mut words = [0u64; 3];
        direct.fill_u64(&mut words);
        for (chunk, w) in bytes.chunks(8).zip(words) {
            assert_eq!(chunk, &w.to_le_bytes()[..chunk.len()]);
        }
        // One number per call takes a block of eight draws.
        let (a, b) = (via_trait.next_u64(), via_trait.next_u64());
        let mut block = [0u64; 16];
        direct.fill_u64(&mut block);
        assert_eq!((a, b), (block[0], block[8]));
        assert_eq!(
            Noise::seed_from_u64(11).uniforms(5),
            Noise::new(11).uniforms(5)
        );
    }
}
