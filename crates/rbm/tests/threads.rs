//! The fused kernel's team takes the size it is given before it starts, and refuses another
//! afterwards, naming the size in use. (One test in this file: the team is one per process.)

#[test]
fn the_team_takes_its_size_before_it_starts_and_keeps_it() {
    // Before the team starts: 1 is taken, asking again for 1 is fine, 0 and 2 are refused
    // with the size asked for.
    assert_eq!(rbm::set_threads(1), Ok(()));
    assert_eq!(rbm::set_threads(1), Ok(()));
    assert_eq!(rbm::set_threads(0), Err(1));
    assert_eq!(rbm::set_threads(2), Err(1));
    // The team starts with that size: the caller alone.
    assert_eq!(rbm::profiling::threads(), 1);
    let mut seen = vec![0usize; 4];
    let parts: Vec<&mut usize> = seen.iter_mut().collect();
    rbm::profiling::for_each(parts, |i, x| *x = i + 1);
    assert_eq!(seen, [1, 2, 3, 4], "every task ran");
    // Afterwards another size is refused, naming the size in use.
    assert_eq!(rbm::set_threads(2), Err(1));
    assert_eq!(rbm::set_threads(1), Ok(()));
}
