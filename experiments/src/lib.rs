//! The paper's figures and the exact checks of the variational RG ↔ RBM mapping
//! (Mehta & Schwab 2014): Kadanoff block spins (Fig. 1), the 1D decimation flow and its deep
//! architecture (Fig. 2), and Eqs. 6–22 verified by enumeration. The binaries in `src/bin`
//! turn these into PNG figures and JSON files.

pub mod blocking;
pub mod decimation;
pub mod mapping;
pub mod output;
pub mod plot;
