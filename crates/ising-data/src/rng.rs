//! A small, fast, seedable random-number generator with a stable output stream.
//!
//! Reproducibility is part of the data format: a dataset is identified by its seed and
//! configuration, so the generator must never change between versions of a dependency. We
//! therefore implement xoshiro256++ (Blackman & Vigna, 2019) ourselves, seeded through
//! SplitMix64, and derive one independent stream per Monte Carlo chain from
//! `(seed, chain index)`.

/// One step of SplitMix64; used for seeding and for hashing seeds together.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The xoshiro256++ generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoshiro256pp {
    s: [u64; 4],
}

impl Xoshiro256pp {
    /// A generator seeded from one 64-bit number through SplitMix64.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Self { s }
    }

    /// The generator of stream `stream` under master seed `seed` (e.g. one per chain).
    ///
    /// Streams are derived by hashing, so stream `i` does not depend on how many other streams
    /// exist or on the order in which they are created.
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut h = seed ^ 0x6A09_E667_F3BC_C908;
        let a = splitmix64(&mut h);
        let mut h2 = a ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Self::seed_from_u64(splitmix64(&mut h2))
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// The top 32 random bits, for comparison against precomputed integer thresholds.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; bias below 2^-32 for the sizes
    /// used here).
    ///
    /// # Panics
    /// If `n == 0`.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        ((self.next_u64() >> 32).wrapping_mul(n as u64) >> 32) as usize
    }

    /// A fair coin.
    #[inline]
    pub fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }
}

/// An acceptance threshold: `u32` value `t` such that `next_u32() < t` has probability `p`
/// (to within 2^-32). `p >= 1` maps to "always" (`None`).
pub fn threshold(p: f64) -> Option<u32> {
    if p >= 1.0 {
        None
    } else {
        Some((p.max(0.0) * 4_294_967_296.0) as u32)
    }
}

/// The ecosystem's generator interface (`rand_core`, the version of Burn's `rand`): the
/// same stream as the inherent methods, so a user can hand this generator to `rand`'s
/// distributions or compare it with other implementations of xoshiro256++.
impl rand_core::TryRng for Xoshiro256pp {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(Xoshiro256pp::next_u32(self))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(Xoshiro256pp::next_u64(self))
    }

    /// Little-endian bytes of successive draws (the last draw's extra bytes discarded).
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand_core::utils::fill_bytes_via_next_word(dst, || Ok(Xoshiro256pp::next_u64(self)))
    }
}

impl rand_core::SeedableRng for Xoshiro256pp {
    /// The state's four words, little-endian.
    type Seed = [u8; 32];

    /// The generator with state `seed`; the all-zero state, a fixed point of xoshiro, is
    /// replaced by the state of [`Xoshiro256pp::seed_from_u64`]`(0)`.
    fn from_seed(seed: [u8; 32]) -> Self {
        if seed == [0; 32] {
            return Xoshiro256pp::seed_from_u64(0);
        }
        let s = rand_core::utils::read_words::<u64, 4>(&seed);
        Self { s }
    }

    /// Seeding through SplitMix64, as [`Xoshiro256pp::seed_from_u64`] (not `rand_core`'s
    /// default PCG32 expansion), so both give one stream.
    fn seed_from_u64(state: u64) -> Self {
        Xoshiro256pp::seed_from_u64(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_of_xoshiro256pp() {
        // Reference: the C implementation by Blackman & Vigna with state s = {1, 2, 3, 4}
        // produces 41943041, 58720359, 3588806011781223, 3591011842654386.
        let mut g = Xoshiro256pp { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| g.next_u64()).collect();
        assert_eq!(
            got,
            vec![41943041, 58720359, 3588806011781223, 3591011842654386]
        );
    }

    #[test]
    fn uniform_doubles_have_the_right_mean_and_variance() {
        // A uniform on [0,1) has mean 1/2 and variance 1/12; with n = 10^6 draws the
        // standard error of the mean is 0.000289, so 4 standard errors is 0.00116.
        let mut g = Xoshiro256pp::seed_from_u64(7);
        let n = 1_000_000;
        let xs: Vec<f64> = (0..n).map(|_| g.next_f64()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 4.0 * (1.0f64 / 12.0 / n as f64).sqrt());
        assert!((var - 1.0 / 12.0).abs() < 1e-3);
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
    }

    #[test]
    fn streams_differ_and_are_reproducible() {
        let a: Vec<u64> = {
            let mut g = Xoshiro256pp::stream(7, 0);
            (0..8).map(|_| g.next_u64()).collect()
        };
        let a2: Vec<u64> = {
            let mut g = Xoshiro256pp::stream(7, 0);
            (0..8).map(|_| g.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut g = Xoshiro256pp::stream(7, 1);
            (0..8).map(|_| g.next_u64()).collect()
        };
        assert_eq!(a, a2);
        assert_ne!(a, b);
    }

    #[test]
    fn the_rand_core_interface_gives_the_same_stream() {
        use rand_core::{Rng, SeedableRng};
        // Through the traits, as a generic caller sees it.
        fn draws<R: Rng>(rng: &mut R) -> (u64, u32, [u8; 12]) {
            let mut bytes = [0u8; 12];
            let a = rng.next_u64();
            let b = rng.next_u32();
            rng.fill_bytes(&mut bytes);
            (a, b, bytes)
        }
        let mut via_trait = <Xoshiro256pp as SeedableRng>::seed_from_u64(42);
        let mut direct = Xoshiro256pp::seed_from_u64(42);
        let (a, b, bytes) = draws(&mut via_trait);
        assert_eq!(a, direct.next_u64());
        assert_eq!(b, direct.next_u32());
        let (w0, w1) = (direct.next_u64(), direct.next_u64());
        assert_eq!(bytes[..8], w0.to_le_bytes());
        assert_eq!(bytes[8..], w1.to_le_bytes()[..4]);
        // from_seed takes the state's words little-endian; the zero seed is not a fixed point.
        let mut seed = [0u8; 32];
        for (i, w) in [1u64, 2, 3, 4].iter().enumerate() {
            seed[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        let mut g = Xoshiro256pp::from_seed(seed);
        // xoshiro256++ from state (1, 2, 3, 4): rotl(1 + 4, 23) + 1.
        assert_eq!(g.next_u64(), (5u64 << 23) + 1);
        let mut zero = Xoshiro256pp::from_seed([0; 32]);
        assert_ne!(zero.next_u64(), 0);
    }
}
