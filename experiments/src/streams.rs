//! Every keyed random stream of the experiments, in one place.
//!
//! A stream is named by a [`Stream`] and derived from a *root*: the seed of the program that
//! draws it (the training seed of a stack, the seed of `quality`, `rg_analysis`, `isy_flow`, `fig1`,
//! `fig2` or `mapping`), or for the streams under a data loader the key of the loader. The
//! derivation is fixed — results are reproducible from the seeds a run records — so the
//! numbers below never change; [`Stream::parts`] states them and a unit test pins them.
//!
//! | program | stream | key |
//! |---|---|---|
//! | stack, layer l | [`TrainingRows`](Stream::TrainingRows) (order, CD noise) | (seed, l, 0) |
//! | | [`HeldOutRows`](Stream::HeldOutRows) (windows, noise of the held-out metrics) | (seed, l, 1) |
//! | | [`InitialWeights`](Stream::InitialWeights) | (seed, l, 2) |
//! | | [`PropagatedTraining`](Stream::PropagatedTraining) / [`PropagatedHeldOut`](Stream::PropagatedHeldOut) (sampled propagation) | (seed, l, 3) / (seed, l, 4) |
//! | | [`PersistentChains`](Stream::PersistentChains) (initial PCD chains) | (seed, l, 5) |
//! | stack, first layer | [`FinalCheck`](Stream::FinalCheck) (KL per spin at the end of `fig3`) | (seed, 1, 7) |
//! | | [`EpochCheck`](Stream::EpochCheck) (KL per spin on a checkpoint) | (seed, 1, 100 + epoch) |
//! | a loader's key | [`EpochOrder`](Stream::EpochOrder) (shuffle of an epoch) | (key, epoch, 2⁶⁴ − 1) |
//! | | [`Batch`](Stream::Batch) (CD noise of one batch) | (key, epoch, batch) |
//! | `quality` | [`QualityGibbs`](Stream::QualityGibbs) (chains 1: first RBM, 2: DBN, 100 + i: layer i's own) | (seed, gibbs seed, chains) |
//! | | [`QualityAis`](Stream::QualityAis) (forward AIS of layer index i) | (seed, 10, i) |
//! | a forward AIS key | [`ReverseAis`](Stream::ReverseAis) (repetition r) | (key, 1, r) |
//! | `rg_analysis` | [`RgLattice`](Stream::RgLattice) (Ising lattice at K_eff: 0 data, 2l RBM, 2l + 1 majority rule) | (seed, n) |
//! | | [`RgSampling`](Stream::RgSampling) (the stack's samples) | (seed, 100) |
//! | | [`RgMajorityTies`](Stream::RgMajorityTies) (ties of the majority rule, layer l) | xoshiro (seed, l) |
//! | `isy_flow` | [`IsyData`](Stream::IsyData) (Monte Carlo at temperature index i) | (seed, 1, i) |
//! | | [`IsyTraining`](Stream::IsyTraining) (RBM at block side index m; its key is a root) | (seed, 2, m) |
//! | an `isy` training key | [`IsyInit`](Stream::IsyInit) / [`IsyChains`](Stream::IsyChains) / [`IsyBatches`](Stream::IsyBatches) | (key, 0) / (key, 1) / (key, 2) |
//! | `isy_flow` | [`IsyReadout`](Stream::IsyReadout) (readout at block index m, temperature index s) | (seed, 3, m, s) |
//! | `fig1` | [`Fig1Data`](Stream::Fig1Data) (Monte Carlo seed at temperature index i) | seed + i |
//! | | [`Fig1Blocking`](Stream::Fig1Blocking) (majority ties at temperature index i) | xoshiro (seed, 1000 + i) |
//! | `fig2` | [`Fig2Layer`](Stream::Fig2Layer) (hidden units of layer l) | (seed, l) |
//! | `mapping` | [`MappingRandomRbm`](Stream::MappingRandomRbm), [`MappingInitialWeights`](Stream::MappingInitialWeights), [`MappingChains`](Stream::MappingChains), [`MappingBatches`](Stream::MappingBatches) | (seed, 0), (seed, 2), (seed, 3), (seed, 4) |
//! | | [`MappingRandomHamiltonian`](Stream::MappingRandomHamiltonian) | xoshiro (seed, 1) |
//!
//! "(a, b, …)" is [`rbm::noise::key`] of those numbers, which seeds a [`rbm::Noise`] or a
//! config's `seed`; "xoshiro (seed, n)" is [`ising_data::rng::Xoshiro256pp::stream`], given by
//! [`Stream::rng`]. Inside the libraries, a key given to them is split further (the lanes of a
//! [`rbm::Noise`], the runs of an AIS, the chains of a Monte Carlo generator) as their
//! documentation says.
//!
//! The Monte Carlo data of a stack (`data.seed`), of `fig2` and of `mapping` are generated with
//! the seed itself, and the generator draws chain c from xoshiro (seed, c); so `mapping`'s
//! [`MappingRandomHamiltonian`](Stream::MappingRandomHamiltonian) is the stream of its data's
//! chain 1 (harmless: the random Hamiltonian is an input of the exact check, never compared
//! with the data).
//!
//! Streams of one program are distinct for every setting but one: a `quality` Gibbs seed of
//! 10 would make [`QualityGibbs`](Stream::QualityGibbs) with chains i ≤ 2 the stream of
//! [`QualityAis`](Stream::QualityAis) i; the default Gibbs seed is 0.

use ising_data::rng::Xoshiro256pp;

/// One random stream of the experiments; see the [module documentation](self) for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// A stack layer's training rows: their order each epoch and the CD noise of each batch
    /// (the key of the training loader).
    TrainingRows {
        /// The layer, from 1.
        layer: usize,
    },
    /// A stack layer's held-out rows: their window each epoch and the noise of the held-out
    /// metrics (the key of the held-out loader).
    HeldOutRows {
        /// The layer, from 1.
        layer: usize,
    },
    /// A stack layer's initial weights.
    InitialWeights {
        /// The layer, from 1.
        layer: usize,
    },
    /// The sampled hidden units of a layer's training rows, passed to the next layer.
    PropagatedTraining {
        /// The layer, from 1.
        layer: usize,
    },
    /// The sampled hidden units of a layer's held-out rows, passed to the next layer.
    PropagatedHeldOut {
        /// The layer, from 1.
        layer: usize,
    },
    /// A stack layer's initial persistent chains.
    PersistentChains {
        /// The layer, from 1.
        layer: usize,
    },
    /// The first layer's KL per spin at the end of a `fig3` run.
    FinalCheck,
    /// The first layer's KL per spin on the checkpoint of an epoch.
    EpochCheck {
        /// The epoch, from 1.
        epoch: usize,
    },
    /// The shuffle of one epoch (root: a loader's key).
    EpochOrder {
        /// The epoch, from 1.
        epoch: usize,
    },
    /// The CD noise of one batch (root: a loader's key).
    Batch {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 0.
        batch: usize,
    },
    /// A set of `quality`'s Gibbs chains: 1 the first RBM's, 2 the DBN's, 100 + i layer
    /// index i's own.
    QualityGibbs {
        /// The Gibbs configuration's own seed.
        gibbs_seed: u64,
        /// Which chains.
        chains: u64,
    },
    /// `quality`'s forward AIS of the layer with index `layer` (from 0).
    QualityAis {
        /// The layer's index, from 0.
        layer: usize,
    },
    /// Repetition `repetition` of a reverse AIS (root: the forward AIS key).
    ReverseAis {
        /// The repetition, from 0.
        repetition: usize,
    },
    /// `rg_analysis`'s Ising lattice sampled at a fitted K_eff: 0 for the data, 2l for layer l's
    /// coarse spins, 2l + 1 for the majority rule's blocks beside it.
    RgLattice {
        /// Which lattice.
        n: u64,
    },
    /// `rg_analysis`'s samples of the stack.
    RgSampling,
    /// `rg_analysis`'s ties of the majority rule at layer `layer` (a xoshiro stream).
    RgMajorityTies {
        /// The layer, from 1.
        layer: usize,
    },
    /// `rg_analysis`'s ties of majority rule applied level by level (MCRG), at layer `layer`.
    RgMcrgTies {
        /// The layer, from 1.
        layer: usize,
    },
    /// `isy_flow`'s Monte Carlo data at the temperature with index `temperature`.
    IsyData {
        /// The temperature's index.
        temperature: usize,
    },
    /// `isy_flow`'s training of the RBM at block index `block` (a root for
    /// [`IsyInit`](Stream::IsyInit), [`IsyChains`](Stream::IsyChains), [`IsyBatches`](Stream::IsyBatches)).
    IsyTraining {
        /// The block side's index.
        block: usize,
    },
    /// The initial weights of an `isy_flow` RBM (root: its training key).
    IsyInit,
    /// The persistent chains of an `isy_flow` RBM (root: its training key).
    IsyChains,
    /// The batches of an `isy_flow` RBM (root: its training key).
    IsyBatches,
    /// `isy_flow`'s readout at block index `block` and temperature index `temperature`.
    IsyReadout {
        /// The block side's index.
        block: usize,
        /// The temperature's index.
        temperature: usize,
    },
    /// `fig1`'s Monte Carlo seed at temperature index `temperature`.
    Fig1Data {
        /// The temperature's index.
        temperature: usize,
    },
    /// `fig1`'s majority-rule ties at temperature index `temperature` (a xoshiro stream).
    Fig1Blocking {
        /// The temperature's index.
        temperature: usize,
    },
    /// `fig2`'s hidden units of layer `layer`.
    Fig2Layer {
        /// The layer, from 1.
        layer: usize,
    },
    /// `mapping`'s random RBM.
    MappingRandomRbm,
    /// `mapping`'s random Hamiltonian H\[v\] (a xoshiro stream).
    MappingRandomHamiltonian,
    /// `mapping`'s trained RBM's initial weights.
    MappingInitialWeights,
    /// `mapping`'s persistent chains.
    MappingChains,
    /// `mapping`'s batch order and Gibbs sampling.
    MappingBatches,
}

impl Stream {
    /// The numbers that follow the root in this stream's key.
    pub fn parts(self) -> Vec<u64> {
        use Stream::*;
        let u = |n: usize| n as u64;
        match self {
            TrainingRows { layer } => vec![u(layer), 0],
            HeldOutRows { layer } => vec![u(layer), 1],
            InitialWeights { layer } => vec![u(layer), 2],
            PropagatedTraining { layer } => vec![u(layer), 3],
            PropagatedHeldOut { layer } => vec![u(layer), 4],
            PersistentChains { layer } => vec![u(layer), 5],
            FinalCheck => vec![1, 7],
            EpochCheck { epoch } => vec![1, 100 + u(epoch)],
            EpochOrder { epoch } => vec![u(epoch), u64::MAX],
            Batch { epoch, batch } => vec![u(epoch), u(batch)],
            QualityGibbs { gibbs_seed, chains } => vec![gibbs_seed, chains],
            QualityAis { layer } => vec![10, u(layer)],
            ReverseAis { repetition } => vec![1, u(repetition)],
            RgLattice { n } => vec![n],
            RgSampling => vec![100],
            RgMajorityTies { layer } => vec![u(layer)],
            RgMcrgTies { layer } => vec![200, u(layer)],
            IsyData { temperature } => vec![1, u(temperature)],
            IsyTraining { block } => vec![2, u(block)],
            IsyInit => vec![0],
            IsyChains => vec![1],
            IsyBatches => vec![2],
            IsyReadout { block, temperature } => vec![3, u(block), u(temperature)],
            Fig1Data { temperature } => vec![u(temperature)],
            Fig1Blocking { temperature } => vec![1000 + u(temperature)],
            Fig2Layer { layer } => vec![u(layer)],
            MappingRandomRbm => vec![0],
            MappingRandomHamiltonian => vec![1],
            MappingInitialWeights => vec![2],
            MappingChains => vec![3],
            MappingBatches => vec![4],
        }
    }

    /// The key of this stream under `root`: [`rbm::noise::key`] of the root and
    /// [`parts`](Self::parts), but for [`Fig1Data`](Stream::Fig1Data), whose key is the root
    /// plus the temperature's index.
    pub fn key(self, root: u64) -> u64 {
        if let Stream::Fig1Data { temperature } = self {
            return root.wrapping_add(temperature as u64);
        }
        let mut all = vec![root];
        all.extend(self.parts());
        rbm::noise::key(&all)
    }

    /// A xoshiro256++ generator on this stream under `root`:
    /// [`Xoshiro256pp::stream`] of the root and the stream's one number for the streams the
    /// table marks "xoshiro", a generator seeded with [`key`](Self::key) for the others.
    pub fn rng(self, root: u64) -> Xoshiro256pp {
        match self.parts().as_slice() {
            [n] if self.is_xoshiro() => Xoshiro256pp::stream(root, *n),
            _ => Xoshiro256pp::seed_from_u64(self.key(root)),
        }
    }

    /// Whether the programs draw this stream with [`rng`](Self::rng).
    fn is_xoshiro(self) -> bool {
        matches!(
            self,
            Stream::RgMajorityTies { .. }
                | Stream::Fig1Blocking { .. }
                | Stream::MappingRandomHamiltonian
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Stream::*;
    use super::*;
    use rbm::noise::key;

    /// The derivation is part of every result's reproducibility: these are the numbers the
    /// programs used before the streams were named, written out.
    #[test]
    fn the_keys_are_the_documented_numbers() {
        let s = 1234;
        let cases: Vec<(Stream, Vec<u64>)> = vec![
            (TrainingRows { layer: 2 }, vec![s, 2, 0]),
            (HeldOutRows { layer: 1 }, vec![s, 1, 1]),
            (InitialWeights { layer: 3 }, vec![s, 3, 2]),
            (PropagatedTraining { layer: 1 }, vec![s, 1, 3]),
            (PropagatedHeldOut { layer: 2 }, vec![s, 2, 4]),
            (PersistentChains { layer: 1 }, vec![s, 1, 5]),
            (FinalCheck, vec![s, 1, 7]),
            (EpochCheck { epoch: 4 }, vec![s, 1, 104]),
            (EpochOrder { epoch: 3 }, vec![s, 3, u64::MAX]),
            (Batch { epoch: 3, batch: 9 }, vec![s, 3, 9]),
            (
                QualityGibbs {
                    gibbs_seed: 0,
                    chains: 2,
                },
                vec![s, 0, 2],
            ),
            (QualityAis { layer: 1 }, vec![s, 10, 1]),
            (ReverseAis { repetition: 4 }, vec![s, 1, 4]),
            (RgLattice { n: 5 }, vec![s, 5]),
            (RgSampling, vec![s, 100]),
            (RgMcrgTies { layer: 2 }, vec![s, 200, 2]),
            (IsyData { temperature: 2 }, vec![s, 1, 2]),
            (IsyTraining { block: 1 }, vec![s, 2, 1]),
            (IsyInit, vec![s, 0]),
            (IsyChains, vec![s, 1]),
            (IsyBatches, vec![s, 2]),
            (
                IsyReadout {
                    block: 1,
                    temperature: 3,
                },
                vec![s, 3, 1, 3],
            ),
            (Fig2Layer { layer: 2 }, vec![s, 2]),
            (MappingRandomRbm, vec![s, 0]),
            (MappingInitialWeights, vec![s, 2]),
            (MappingChains, vec![s, 3]),
            (MappingBatches, vec![s, 4]),
        ];
        for (stream, parts) in cases {
            assert_eq!(stream.key(s), key(&parts), "{stream:?}");
        }
        assert_eq!(Fig1Data { temperature: 3 }.key(s), s + 3);
        assert_eq!(
            RgMajorityTies { layer: 2 }.rng(s),
            Xoshiro256pp::stream(s, 2)
        );
        assert_eq!(
            Fig1Blocking { temperature: 3 }.rng(s),
            Xoshiro256pp::stream(s, 1003)
        );
        assert_eq!(MappingRandomHamiltonian.rng(s), Xoshiro256pp::stream(s, 1));
    }

    /// Within a stack, every layer's streams and the checks are distinct keys.
    #[test]
    fn a_stacks_streams_are_distinct() {
        let mut keys = Vec::new();
        for layer in 1..=4 {
            keys.extend(
                [
                    TrainingRows { layer },
                    HeldOutRows { layer },
                    InitialWeights { layer },
                    PropagatedTraining { layer },
                    PropagatedHeldOut { layer },
                    PersistentChains { layer },
                ]
                .map(|s| s.key(7)),
            );
        }
        keys.push(FinalCheck.key(7));
        keys.extend((1..=50).map(|epoch| EpochCheck { epoch }.key(7)));
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }
}
