//! How a training run reports its epochs when no dashboard shows them (its output piped to
//! a file or another program): one short line for the first epoch of the process, then every
//! tenth of the epochs and the last, each with the time spent and the time left.

use std::collections::BTreeMap;
use std::time::Instant;

/// Which epochs of a layer get a line, and how long the rest will take.
#[derive(Debug, Clone)]
pub struct Pace {
    total: usize,
    first: usize,
    started: Instant,
}

impl Pace {
    /// The pace of a layer of `total` epochs whose process starts at epoch `first` (1, or
    /// the epoch after the last checkpoint of a resumed layer), starting now.
    pub fn new(total: usize, first: usize) -> Self {
        Self {
            total,
            first,
            started: Instant::now(),
        }
    }

    /// Whether epoch `epoch` gets a line: the process's first, every tenth of the epochs
    /// (rounded up) and the last.
    pub fn reports(&self, epoch: usize) -> bool {
        let stride = self.total.div_ceil(10).max(1);
        epoch == self.first || epoch.is_multiple_of(stride) || epoch >= self.total
    }

    /// `epoch 20/200, 12 s, about 1 min 48 s left` once epoch `epoch` has ended.
    pub fn progress(&self, epoch: usize) -> String {
        let spent = self.started.elapsed().as_secs_f64();
        let done = (epoch + 1).saturating_sub(self.first).max(1);
        let left = self.total.saturating_sub(epoch);
        let tail = match left {
            0 => String::new(),
            n => format!(", about {} left", duration(spent / done as f64 * n as f64)),
        };
        format!("epoch {epoch}/{}, {}{tail}", self.total, duration(spent))
    }
}

/// A duration for people: `0.4 s`, `48 s`, `1 min 48 s`, `2 h 05 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    match s {
        s if s < 10.0 => format!("{s:.1} s"),
        s if s < 60.0 => format!("{s:.0} s"),
        s if s < 3600.0 => format!("{} min {:02.0} s", (s / 60.0).floor(), s % 60.0),
        s => format!(
            "{} h {:02.0} min",
            (s / 3600.0).floor(),
            (s % 3600.0 / 60.0).floor()
        ),
    }
}

/// The short line of an epoch: its reconstruction error on the training and held-out rows
/// and the held-out free-energy gap (both means over the epoch's batches), from the
/// per-epoch means keyed by metric id.
pub fn epoch_summary(train: &BTreeMap<String, f64>, valid: &BTreeMap<String, f64>) -> String {
    let mut parts = Vec::new();
    let recon = "reconstruction_error";
    match (train.get(recon), valid.get(recon)) {
        (Some(t), Some(v)) => parts.push(format!("reconstruction error {t:.4} (held-out {v:.4})")),
        (Some(t), None) => parts.push(format!("reconstruction error {t:.4}")),
        (None, Some(v)) => parts.push(format!("held-out reconstruction error {v:.4}")),
        (None, None) => {}
    }
    if let Some(gap) = valid.get("free_energy_gap") {
        parts.push(format!("free-energy gap {gap:+.3} (batch mean)"));
    }
    let swaps: Vec<String> = (0..)
        .map_while(|k| train.get(&format!("swap_acceptance_{k}")))
        .map(|a| format!("{a:.2}"))
        .collect();
    if !swaps.is_empty() {
        parts.push(format!("swap acceptance by pair {}", swaps.join(" ")));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_line_names_the_swap_acceptance_of_each_pair() {
        let train: BTreeMap<String, f64> = [
            ("reconstruction_error", 0.12),
            ("swap_acceptance_0", 0.41),
            ("swap_acceptance_1", 0.266),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into();
        let line = epoch_summary(&train, &BTreeMap::new());
        assert_eq!(
            line,
            "reconstruction error 0.1200, swap acceptance by pair 0.41 0.27"
        );
    }

    #[test]
    fn a_tenth_of_the_epochs_and_the_ends_get_a_line() {
        let pace = Pace::new(200, 1);
        let lines: Vec<usize> = (1..=200).filter(|&e| pace.reports(e)).collect();
        assert_eq!(lines, [1, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
        // A resumed layer reports where it starts; a short one reports every epoch.
        assert!(Pace::new(200, 57).reports(57));
        assert_eq!((1..=3).filter(|&e| Pace::new(3, 1).reports(e)).count(), 3);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.42), "0.4 s");
        assert_eq!(duration(48.2), "48 s");
        assert_eq!(duration(108.0), "1 min 48 s");
        assert_eq!(duration(7500.0), "2 h 05 min");
    }

    #[test]
    fn the_time_left_is_the_mean_epoch_times_the_epochs_to_go() {
        let mut pace = Pace::new(10, 1);
        pace.started = Instant::now() - std::time::Duration::from_secs(20);
        // Two epochs in 20 s: eight more take about 80 s.
        let line = pace.progress(2);
        assert!(
            line.starts_with("epoch 2/10, 20 s, about 1 min 2"),
            "{line}"
        );
        assert_eq!(
            pace.progress(10),
            format!("epoch 10/10, {}", duration(20.0))
        );
    }

    #[test]
    fn the_summary_names_both_splits_and_the_gap() {
        let train = BTreeMap::from([("reconstruction_error".to_string(), 0.05123)]);
        let valid = BTreeMap::from([
            ("reconstruction_error".to_string(), 0.05028),
            ("free_energy_gap".to_string(), 0.13387),
        ]);
        assert_eq!(
            epoch_summary(&train, &valid),
            "reconstruction error 0.0512 (held-out 0.0503), free-energy gap +0.134 (batch mean)"
        );
    }
}
