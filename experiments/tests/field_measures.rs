//! Receptive-field measures on fields whose answers are known by hand.

use experiments::pretrain::field_measures;

#[test]
fn a_single_site_a_block_and_a_uniform_field() {
    let l = 8;
    // One unit whose field is a single site: radius 0, all of |r| inside its 2×2 block
    // (16 units on 8×8 → b = 2).
    let units = 16;
    let mut r = vec![0.0f32; l * l * units];
    for j in 0..units {
        r[(3 * l + 5) * units + j] = if j % 2 == 0 { 1.0 } else { -2.0 };
    }
    let m = field_measures(&r, l, units);
    assert_eq!(m.block_side, 2);
    assert!(m.radius_of_gyration.abs() < 1e-9);
    assert!((m.block_fraction - 1.0).abs() < 1e-12);
    assert!((m.uniform_block_fraction - 4.0 / 64.0).abs() < 1e-12);
    assert!((m.half_max_area - 1.0).abs() < 1e-12);

    // A 2×2 block straddling the periodic boundary (rows 7, 0; columns 7, 0): the centre
    // lies on the boundary, the radius of gyration is √(0.5² + 0.5²), and the whole field is
    // inside the block.
    let mut r = vec![0.0f32; l * l];
    for &(y, x) in &[(7usize, 7usize), (7, 0), (0, 7), (0, 0)] {
        r[y * l + x] = 1.0;
    }
    let m = field_measures(&r, l, 1);
    assert_eq!(m.block_side, 8);
    assert!(
        (m.radius_of_gyration - 0.5f64.sqrt()).abs() < 1e-9,
        "{}",
        m.radius_of_gyration
    );

    // The same field for 16 units (b = 2): all of |r| lies in the 2×2 block at the centre.
    let r16: Vec<f32> = r.iter().flat_map(|&x| std::iter::repeat_n(x, 16)).collect();
    let m = field_measures(&r16, l, 16);
    assert!(
        (m.block_fraction - 1.0).abs() < 1e-12,
        "{}",
        m.block_fraction
    );

    // A uniform field: the block holds exactly b²/L² of it.
    let r = vec![1.0f32; l * l * 16];
    let m = field_measures(&r, l, 16);
    assert!((m.block_fraction - m.uniform_block_fraction).abs() < 1e-12);
    assert!((m.half_max_area - 64.0).abs() < 1e-12);
}
