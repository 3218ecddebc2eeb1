//! A team of spinning helper threads for the short parallel regions of the CPU kernel.
//!
//! One CD-1 step of the paper's first layer is about ten short parallel regions. A rayon
//! region started from a thread outside the pool reaches its other cores late (the job is
//! injected, the pool's idle workers are woken in turn, the caller blocks until a worker
//! wakes it again); `examples/bench_regions` measures both, and the README's speed section
//! gives the figures. Here the calling thread takes part in the work, and each helper spins
//! for [`SPIN`] after a region before it parks, so a region that follows within that time
//! starts on every core at once.
//!
//! The team has one helper fewer than its size ([`set_threads`], `RBM_THREADS`, else the
//! threads the process may run on) and runs one region at a time. A
//! region asked for while another runs (from another thread, or from inside a task) runs
//! its tasks on the calling thread instead, in index order: callers must not depend on
//! which thread runs a task, and the kernel's results do not.
//!
//! A region's tasks are dealt out in contiguous blocks, block t to thread t, so that the same
//! part of a split lands on the same core and finds its data in that core's cache. Each
//! thread runs its own block from the front; a thread that has run out takes tasks from the
//! back of the others' blocks. The kernel cuts its regions into several tasks per thread
//! ([`TASKS_PER_THREAD`]), so a thread that loses its core to another program (or has not
//! woken yet) holds back only the task it is running: the threads that do run take the rest.
//! The caller, once every task is claimed, spins briefly for the helpers still running
//! one and then parks until the last leaves, so that a wait for a helper without a core
//! does not burn the caller's own share of the machine.
//!
//! `unsafe` (see the inventory in [`super`]): the borrow of a
//! region's tasks is handed to the helpers with its lifetime erased, which is sound because
//! a helper reads it only after entering the open region, and [`run`] closes the region and
//! waits for every helper inside it before it returns.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper keeps spinning for the next region before it parks: about the gap
/// between two regions inside a step. A helper that spins through the longer gaps (the
/// optimiser's update, the step's tensor work) costs nothing on a quiet machine, but on a
/// loaded one every microsecond spun is taken from the team's share of the cores; a helper
/// that parks instead is woken at the next region, and the threads already running take
/// its tasks until it arrives.
pub const SPIN: Duration = Duration::from_micros(20);

/// How long the caller spins for the helpers still running a task of a region whose tasks
/// are all claimed before it parks: about one task's time on a machine with cores to spare.
pub const CLOSE_SPIN: Duration = Duration::from_micros(50);

/// The tasks per thread the kernel's splits aim at ([`row_ranges`]): enough that a thread
/// that loses its core holds back a small part of a region, few enough that each task's
/// products keep their tile and cache use.
pub const TASKS_PER_THREAD: usize = 8;

/// A region's tasks, as the helpers see them: a type-erased borrow that the caller keeps
/// alive until every helper has finished with it (see [`run`]).
type Job = *const (dyn Fn(usize) + Sync);

/// [`Shared::state`]: the region's epoch in the high bits, whether it is open to helpers,
/// and how many helpers are inside it.
const EPOCH_SHIFT: u32 = 24;
const OPEN: u64 = 1 << 23;
const INSIDE: u64 = OPEN - 1;

fn epoch_of(state: u64) -> u64 {
    state >> EPOCH_SHIFT
}

struct Shared {
    /// The current region: its epoch (incremented by the caller when a region starts; a
    /// helper enters each region at most once), the [`OPEN`] flag (set from the start of
    /// the region until every task has been claimed and the caller closes it), and the
    /// number of helpers inside it ([`INSIDE`]). A helper enters only an open region, by
    /// one compare-and-swap, so once the caller has closed it and seen no helper inside,
    /// none can enter it any more.
    state: AtomicU64,
    /// The current region's tasks; written only while no helper is inside a region.
    job: UnsafeCell<Option<Job>>,
    /// Per thread (the caller 0, helper h at h + 1): the tasks of its block not yet claimed,
    /// `front | back << 32`; the owner claims `front`, the others `back − 1`.
    blocks: Vec<AtomicU64>,
    /// The caller of the current region, named when it parks until the last helper leaves.
    caller: Mutex<Option<Thread>>,
    /// Whether the caller is parked (or about to park) waiting for the helpers.
    caller_sleeping: AtomicBool,
    /// Per helper: parked (or about to park) and needing an unpark.
    sleeping: Vec<AtomicBool>,
    /// The first panic raised by a task of the current region.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `job` is written by the caller only between regions, while no helper is inside a
// region (the caller holds `Team::lock`, and the previous caller closed its region and saw no
// helper inside before releasing it), and read by helpers only after entering an open region,
// which the caller publishes after the write. The pointee is `Sync`.
unsafe impl Sync for Shared {}

struct Team {
    shared: &'static Shared,
    helpers: Vec<Thread>,
    /// Held by the thread whose region is running.
    lock: Mutex<()>,
}

/// The environment variable that sets the team's size (threads, the caller included) when
/// [`set_threads`] was not called: a positive integer.
pub const THREADS_VARIABLE: &str = "RBM_THREADS";

/// The size [`set_threads`] asked for.
static ASKED: OnceLock<usize> = OnceLock::new();

/// The team's size in threads, the caller included: [`set_threads`]'s, else
/// [`THREADS_VARIABLE`]'s when it is a positive integer, else the threads this process may
/// run on (`available_parallelism`: its CPU affinity and cgroup quota).
fn wanted_threads() -> usize {
    let from_env = || {
        std::env::var(THREADS_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
    };
    ASKED
        .get()
        .copied()
        .or_else(from_env)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Sets the kernel team's size to `threads` (the calling thread and `threads − 1` helpers),
/// before its first region; binaries call it from `--threads`.
///
/// # Errors
/// The size in use, if the team started, or another size was set, before (0 is refused the
/// same way, as the size in use).
pub fn set_threads(threads: usize) -> Result<(), usize> {
    if threads == 0 {
        return Err(wanted_threads());
    }
    match (TEAM.get(), ASKED.set(threads)) {
        (None, Ok(())) => Ok(()),
        (Some(team), _) if team.helpers.len() + 1 == threads => Ok(()),
        (Some(team), _) => Err(team.helpers.len() + 1),
        (None, Err(_)) if ASKED.get() == Some(&threads) => Ok(()),
        (None, Err(_)) => Err(wanted_threads()),
    }
}

static TEAM: OnceLock<Team> = OnceLock::new();

fn team() -> &'static Team {
    TEAM.get_or_init(|| {
        let wanted = wanted_threads() - 1;
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            state: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            blocks: (0..=wanted).map(|_| AtomicU64::new(0)).collect(),
            caller: Mutex::new(None),
            caller_sleeping: AtomicBool::new(false),
            sleeping: (0..wanted).map(|_| AtomicBool::new(false)).collect(),
            panic: Mutex::new(None),
        }));
        // A helper that cannot be started leaves the team smaller; the kernel still runs.
        let helpers = (0..wanted)
            .map_while(|h| {
                std::thread::Builder::new()
                    .name(format!("rbm-team-{h}"))
                    .spawn(move || helper(shared, h))
                    .ok()
                    .map(|handle| handle.thread().clone())
            })
            .collect();
        Team {
            shared,
            helpers,
            lock: Mutex::new(()),
        }
    })
}

/// The number of threads a region runs on: the caller and the helpers.
pub fn threads() -> usize {
    team().helpers.len() + 1
}

fn helper(s: &'static Shared, h: usize) {
    let mut seen = 0u64;
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        while epoch_of(s.state.load(Ordering::Acquire)) == seen {
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(256) && start.elapsed() > SPIN {
                // Announce the park before the last look at the epoch (both sequentially
                // consistent, as is the caller's publication and its look at `sleeping`),
                // so that either this look sees the new region or the caller sees the flag.
                s.sleeping[h].store(true, Ordering::SeqCst);
                while epoch_of(s.state.load(Ordering::SeqCst)) == seen {
                    std::thread::park();
                }
                s.sleeping[h].store(false, Ordering::SeqCst);
            }
        }
        // Enter the region if it is still open (else it is over: wait for the next one).
        let mut state = s.state.load(Ordering::Acquire);
        let entered = loop {
            if state & OPEN == 0 {
                break false;
            }
            match s.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break true,
                Err(now) => state = now,
            }
        };
        seen = epoch_of(state);
        if entered {
            // SAFETY: see `Shared`: the job was written before the region was opened, and
            // the caller does not return (ending the borrow) while a helper is inside.
            let job = unsafe { (*s.job.get()).expect("a region was published") };
            claim_tasks(s, job, h + 1);
            leave(s);
        }
    }
}

/// Leaves the current region; the last helper out of a closed region wakes the caller if it
/// parked.
fn leave(s: &Shared) {
    let before = s.state.fetch_sub(1, Ordering::SeqCst);
    if before & INSIDE == 1 && before & OPEN == 0 && s.caller_sleeping.load(Ordering::SeqCst) {
        let caller = s.caller.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(thread) = caller.as_ref() {
            thread.unpark();
        }
    }
}

const LOW: u64 = u32::MAX as u64;

/// Claims the front task of `block` (its owner) or the back one (another thread).
fn claim(block: &AtomicU64, front: bool) -> Option<usize> {
    let mut now = block.load(Ordering::Acquire);
    loop {
        let (f, b) = (now & LOW, now >> 32);
        if f >= b {
            return None;
        }
        let (next, task) = if front {
            (now + 1, f)
        } else {
            (f | (b - 1) << 32, b - 1)
        };
        match block.compare_exchange_weak(now, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(task as usize),
            Err(seen) => now = seen,
        }
    }
}

/// Runs the tasks of thread `own`'s block (0 for the caller, h + 1 for helper h) from the
/// front, then the other blocks' tasks from the back until none is left unclaimed; a panic
/// is recorded for the caller to resume.
fn claim_tasks(s: &Shared, job: Job, own: usize) {
    let run = |i: usize| {
        // SAFETY: `job` points to the caller's closure, alive for the whole region.
        let result = catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(i) }));
        if let Err(payload) = result {
            let mut first = s.panic.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert(payload);
        }
    };
    while let Some(i) = claim(&s.blocks[own], true) {
        run(i);
    }
    let threads = s.blocks.len();
    for other in (1..threads).map(|d| (own + d) % threads) {
        while let Some(i) = claim(&s.blocks[other], false) {
            run(i);
        }
    }
}

/// Runs `task(0)`, …, `task(n − 1)` on the team, the calling thread included, and returns
/// when all have finished. The tasks are dealt out in contiguous blocks, block t to thread t
/// (the caller is thread 0), each thread running its own from the front and then the rest
/// of the others' from the back: which thread runs a task depends on the scheduling.
/// If a task panics, the others still run and the first panic is resumed on the caller.
pub fn run(n: usize, task: &(dyn Fn(usize) + Sync)) {
    let t = team();
    let guard = match t.lock.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    };
    let Some(guard) = guard.filter(|_| n > 1 && !t.helpers.is_empty()) else {
        (0..n).for_each(task);
        return;
    };
    let s = t.shared;
    // SAFETY: only the lifetime is erased. The pointer is read by helpers during this
    // region only, and this function does not return before every helper has finished it.
    let job: Job =
        unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), Job>(task as *const _) };
    // SAFETY: no helper is inside a region (the previous caller waited for `pending` to
    // reach 0 before releasing the lock), so nothing reads `job` now.
    unsafe { *s.job.get() = Some(job) };
    // Only the threads that exist get blocks (a helper may have failed to start).
    let threads = t.helpers.len() + 1;
    for (i, block) in s.blocks.iter().enumerate() {
        let (f, b) = if i < threads {
            (i * n / threads, (i + 1) * n / threads)
        } else {
            (0, 0)
        };
        block.store(f as u64 | (b as u64) << 32, Ordering::Relaxed);
    }
    // Open the next epoch's region with no helper inside (the last region ended with none).
    let epoch = epoch_of(s.state.load(Ordering::Relaxed)) + 1;
    s.state
        .store((epoch << EPOCH_SHIFT) | OPEN, Ordering::SeqCst);
    for (h, thread) in t.helpers.iter().enumerate() {
        if s.sleeping[h].load(Ordering::SeqCst) {
            thread.unpark();
        }
    }
    claim_tasks(s, job, 0);
    // Every task has been claimed: close the region, then wait for the helpers inside it
    // (running tasks they claimed). One that has not entered by now never will.
    s.state.fetch_and(!OPEN, Ordering::SeqCst);
    wait_for_helpers(s);
    let panic = s.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(guard);
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// Waits until no helper is inside the closed region: spins for [`CLOSE_SPIN`], then parks
/// (announced in `caller_sleeping` before the last look, as the helpers' in `sleeping`).
fn wait_for_helpers(s: &Shared) {
    let inside = || s.state.load(Ordering::SeqCst) & INSIDE != 0;
    let start = Instant::now();
    let mut spins = 0u32;
    while inside() {
        std::hint::spin_loop();
        spins = spins.wrapping_add(1);
        if spins.is_multiple_of(64) && start.elapsed() > CLOSE_SPIN {
            // Named before the flag is raised, so a helper that sees the flag wakes this
            // thread.
            *s.caller.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current());
            s.caller_sleeping.store(true, Ordering::SeqCst);
            while inside() {
                std::thread::park();
            }
            s.caller_sleeping.store(false, Ordering::SeqCst);
        }
    }
}

/// Runs `task(i, part)` for each of `parts` on the team (see [`run`]): the parts are
/// typically disjoint `&mut` chunks of the outputs.
pub fn for_each<P: Send>(parts: Vec<P>, task: impl Fn(usize, P) + Sync) {
    let cells: Vec<Mutex<Option<P>>> = parts.into_iter().map(|p| Mutex::new(Some(p))).collect();
    run(cells.len(), &|i| {
        let part = cells[i]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("each task runs once");
        task(i, part);
    });
}

/// `rows` split into contiguous ranges, [`TASKS_PER_THREAD`] per thread where the rows
/// allow, each a multiple of `multiple` rows (the last range may be shorter): the row split
/// of the kernel's products and row passes.
pub fn row_ranges(rows: usize, multiple: usize) -> Vec<std::ops::Range<usize>> {
    let per = rows
        .div_ceil(threads() * TASKS_PER_THREAD)
        .div_ceil(multiple)
        .max(1)
        * multiple;
    (0..rows)
        .step_by(per)
        .map(|r0| r0..(r0 + per).min(rows))
        .collect()
}

/// The rows of `data` (a row-major matrix with rows of `width` elements) split by
/// [`row_ranges`]`(rows, multiple)`, and `task(rows, part)` run on each block in parallel,
/// where `part` holds the rows `rows`.
pub fn for_each_rows<T: Send>(
    data: &mut [T],
    width: usize,
    multiple: usize,
    task: impl Fn(std::ops::Range<usize>, &mut [T]) + Sync,
) {
    assert!(
        width > 0 && data.len().is_multiple_of(width),
        "data must hold whole rows"
    );
    let ranges = row_ranges(data.len() / width, multiple);
    let parts: Vec<_> = ranges
        .iter()
        .scan(data, |rest, range| {
            let (part, tail) = std::mem::take(rest).split_at_mut(range.len() * width);
            *rest = tail;
            Some(part)
        })
        .collect();
    for_each(parts, |t, part| task(ranges[t].clone(), part));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn every_task_runs_once_and_the_caller_waits_for_all() {
        for n in [0, 1, 2, 3, 17, 100] {
            let counts: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            run(n, &|i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "n = {n}"
            );
        }
    }

    #[test]
    fn parts_are_handed_out_once_and_results_match_a_serial_loop() {
        let mut out = vec![0u64; 1000];
        let parts: Vec<(usize, &mut [u64])> = out
            .chunks_mut(64)
            .enumerate()
            .map(|(i, c)| (i * 64, c))
            .collect();
        for_each(parts, |_, (offset, chunk)| {
            for (j, x) in chunk.iter_mut().enumerate() {
                *x = ((offset + j) as u64).pow(2);
            }
        });
        assert!(out.iter().enumerate().all(|(i, &x)| x == (i as u64).pow(2)));
    }

    #[test]
    fn regions_from_inside_a_task_and_from_other_threads_run_correctly() {
        // A nested region finds the team busy and runs on its caller; so may regions asked
        // for by several threads at once. Either way every task runs once.
        let total = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        run(3, &|_| {
                            run(5, &|_| {
                                total.fetch_add(1, Ordering::Relaxed);
                            });
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 50 * 3 * 5);
    }

    #[test]
    fn a_panicking_task_reaches_the_caller_and_the_team_still_works() {
        let result = catch_unwind(|| {
            run(8, &|i| {
                if i == 5 {
                    panic!("task five");
                }
            })
        });
        let payload = result.expect_err("the panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task five"));
        let done = AtomicUsize::new(0);
        run(8, &|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn regions_close_correctly_whether_helpers_arrive_early_late_or_not_at_all() {
        // Regions of a few short tasks, back to back and after pauses around SPIN (helpers
        // spinning, parking, or waking while the caller has already taken their tasks over):
        // every task runs exactly once per region, whoever runs it.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for region in 0..3000usize {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = 1 + (state % 5) as usize;
            let counts: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            run(n, &|i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
                if (state >> 8).is_multiple_of(7) {
                    std::hint::black_box((0..2000).sum::<u64>());
                }
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "region {region}, n = {n}"
            );
            if (state >> 16).is_multiple_of(50) {
                std::thread::sleep(SPIN.mul_f64(0.5 + ((state >> 24) % 4) as f64 * 0.4));
            }
        }
    }

    #[test]
    fn parked_helpers_are_woken() {
        // Longer than SPIN, so the helpers have parked before the second region.
        let done = AtomicUsize::new(0);
        run(4, &|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        std::thread::sleep(SPIN * 4);
        run(4, &|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn helpers_take_part() {
        // Two tasks that each wait (up to a second) for the other to start can only both
        // see the other when they run on different threads. The team may be busy with
        // another test's region (then the tasks run serially), so this tries repeatedly.
        if threads() < 2 {
            return;
        }
        let together = (0..200).any(|_| {
            let started = [AtomicBool::new(false), AtomicBool::new(false)];
            let met = AtomicUsize::new(0);
            run(2, &|i| {
                started[i].store(true, Ordering::SeqCst);
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(5) {
                    if started[1 - i].load(Ordering::SeqCst) {
                        met.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                }
            });
            met.load(Ordering::SeqCst) == 2
        });
        assert!(
            together,
            "the two tasks of a region never ran at the same time"
        );
    }

    #[test]
    fn for_each_rows_hands_each_block_its_own_rows() {
        for (rows, width, multiple) in [(0, 3, 1), (1, 3, 1), (7, 3, 1), (100, 4, 5), (33, 1, 16)] {
            let mut data: Vec<usize> = vec![usize::MAX; rows * width];
            for_each_rows(&mut data, width, multiple, |range, part| {
                assert_eq!(part.len(), range.len() * width);
                assert_eq!(range.start % multiple, 0);
                for (r, row) in range.zip(part.chunks_exact_mut(width)) {
                    row.fill(r);
                }
            });
            let expected: Vec<usize> = (0..rows).flat_map(|r| [r].repeat(width)).collect();
            assert_eq!(data, expected, "rows {rows}, width {width}");
        }
    }

    #[test]
    fn row_ranges_cover_the_rows_in_order_with_aligned_starts() {
        for rows in [0, 1, 5, 99, 100, 1600] {
            let ranges = row_ranges(rows, 5);
            assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), rows);
            let mut next = 0;
            for r in &ranges {
                assert_eq!(r.start, next);
                assert_eq!(r.start % 5, 0);
                next = r.end;
            }
            assert!(ranges.len() <= threads() * TASKS_PER_THREAD);
        }
    }
}
