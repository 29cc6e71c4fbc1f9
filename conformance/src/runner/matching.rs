//! Assigning received lines to the expected lines of an `unordered` block: a
//! perfect bipartite matching (Kuhn's augmenting paths), so a loose pattern
//! cannot steal the line a stricter one needed.

/// Given `fits[p][l]` (pattern `p` accepts line `l`), finds for each pattern a
/// distinct line, or `None` if no complete assignment exists. Square input.
pub fn assign(fits: &[Vec<bool>]) -> Option<Vec<usize>> {
    let n = fits.len();
    let mut line_owner: Vec<Option<usize>> = vec![None; n];
    for p in 0..n {
        let mut seen = vec![false; n];
        if !augment(p, fits, &mut seen, &mut line_owner) {
            return None;
        }
    }
    let mut result = vec![0; n];
    for (line, owner) in line_owner.iter().enumerate() {
        if let Some(p) = owner {
            result[*p] = line;
        }
    }
    Some(result)
}

fn augment(p: usize, fits: &[Vec<bool>], seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
    for line in 0..fits[p].len() {
        if fits[p][line] && !seen[line] {
            seen[line] = true;
            let free = match owner[line] {
                None => true,
                Some(other) => augment(other, fits, seen, owner),
            };
            if free {
                owner[line] = Some(p);
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_pattern_yields_to_strict_one() {
        // Pattern 0 accepts both lines, pattern 1 only line 0.
        let fits = vec![vec![true, true], vec![true, false]];
        assert_eq!(assign(&fits), Some(vec![1, 0]));
    }

    #[test]
    fn reports_impossible() {
        let fits = vec![vec![true, false], vec![true, false]];
        assert_eq!(assign(&fits), None);
        assert_eq!(assign(&[]), Some(vec![]));
    }
}
