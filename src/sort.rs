//! A stable insertion sort for the few short lists that need an order (health checks,
//! error summaries). Each `slice::sort_by` instance costs a few kB of
//! the size-budgeted static binary (README "Size after the feature merges"); this one
//! costs a loop.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order. O(n²): for lists of
/// tens of items, never for input-sized ones.
pub(crate) fn small_sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && compare(&items[j - 1], &items[j]) == Ordering::Greater {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key, tag): sorted by key, the tag shows which of equal keys came first.
    type Items = &'static [(u8, char)];

    #[test]
    fn sorts_and_keeps_equal_items_in_order() {
        let cases: &[(Items, Items)] = &[
            (&[], &[]),
            (&[(1, 'a')], &[(1, 'a')]),
            (&[(2, 'a'), (1, 'b')], &[(1, 'b'), (2, 'a')]),
            (
                &[(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')],
                &[(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')],
            ),
            (
                &[(5, 'a'), (4, 'b'), (3, 'c'), (2, 'd'), (1, 'e')],
                &[(1, 'e'), (2, 'd'), (3, 'c'), (4, 'b'), (5, 'a')],
            ),
        ];
        for (input, want) in cases {
            let mut items = input.to_vec();
            small_sort_by(&mut items, |a, b| a.0.cmp(&b.0));
            assert_eq!(
                items, *want,
                "sorted by key, ties in input order: {input:?}"
            );
        }
    }
}
