//! Reproducible random numbers for Gibbs sampling, owned by this crate.
//!
//! Burn's `Tensor::random` draws from the device's generator, which on the CPU backends is
//! one stream per process: a result then depends on every other draw made in the process and
//! on their order. A training step instead draws from a [`Noise`] stream derived from a
//! 64-bit key (for example from the run seed, the layer, the epoch and the batch), on the
//! host with xoshiro256++, and uploads the numbers to the device. A step is then a pure
//! function of the model, the batch and its key, on every backend, which is what makes
//! training runs reproducible and resumable bit for bit.
//!
//! Uniforms are f32 on the grid k·2⁻²⁴ in [0, 1), two per 64-bit draw; normals come from the
//! Box–Muller transform in f64.

use burn::prelude::*;
use ising_data::rng::{Xoshiro256pp, splitmix64};

/// A deterministic stream of random numbers keyed by a 64-bit seed.
#[derive(Debug, Clone)]
pub struct Noise {
    rng: Xoshiro256pp,
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
        Self {
            rng: Xoshiro256pp::seed_from_u64(seed),
        }
    }

    /// `n` uniforms in [0, 1) as f32 (multiples of 2⁻²⁴).
    pub fn uniforms(&mut self, n: usize) -> Vec<f32> {
        const SCALE: f32 = 1.0 / (1u32 << 24) as f32;
        let mut out = vec![0.0f32; n.div_ceil(2) * 2];
        for pair in out.chunks_exact_mut(2) {
            let bits = self.rng.next_u64();
            pair[0] = ((bits >> 40) as u32) as f32 * SCALE;
            pair[1] = (((bits >> 8) & 0xFF_FFFF) as u32) as f32 * SCALE;
        }
        out.truncate(n);
        out
    }

    /// `n` standard normal numbers as f32 (Box–Muller).
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(n + 1);
        while out.len() < n {
            // 1 − U ∈ (0, 1], so the logarithm is finite.
            let r = (-2.0 * (1.0 - self.rng.next_f64()).ln()).sqrt();
            let phi = std::f64::consts::TAU * self.rng.next_f64();
            out.push((r * phi.cos()) as f32);
            out.push((r * phi.sin()) as f32);
        }
        out.truncate(n);
        out
    }

    /// A uniform integer in `0..n`.
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.below(n)
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
    fn keys_separate_their_parts() {
        assert_ne!(key(&[1, 2]), key(&[2, 1]));
        assert_ne!(key(&[1, 2]), key(&[1, 2, 0]));
        assert_eq!(key(&[7, 8, 9]), key(&[7, 8, 9]));
    }
}
