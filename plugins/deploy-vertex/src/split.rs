//! Traffic split arithmetic. An endpoint's `trafficSplit` maps deployed-model ids to percents
//! that must sum to 100, or be empty when the endpoint is to take no traffic. While a
//! deployment moves from one set of versions to another, only some of the desired versions
//! are deployed; they share all the traffic in proportion to their desired percents, so every
//! intermediate split is valid and the last one is exactly the desired one.

use std::collections::BTreeMap;

/// Deployed-model id (or `"0"`, the model a `deployModel` call deploys) → percent.
pub type Split = BTreeMap<String, u8>;

/// The key `deployModel` takes for the model it is deploying.
pub const NEW_MODEL: &str = "0";

/// Shares of 100 in proportion to `weights`, by largest remainder (ties to the earlier
/// member). Members of weight 0 get nothing and are left out; all zero gives an empty split.
pub fn shares(weights: &[(String, u8)]) -> Split {
    let total: u32 = weights.iter().map(|(_, w)| u32::from(*w)).sum();
    if total == 0 {
        return Split::new();
    }
    let mut parts: Vec<(usize, u32, u32)> = weights
        .iter()
        .enumerate()
        .map(|(i, (_, w))| {
            let exact = 100 * u32::from(*w);
            (i, exact / total, exact % total)
        })
        .collect();
    let given: u32 = parts.iter().map(|p| p.1).sum();
    let mut by_remainder: Vec<usize> = (0..parts.len()).collect();
    by_remainder.sort_by_key(|&i| (std::cmp::Reverse(parts[i].2), i));
    for &i in by_remainder.iter().take((100 - given) as usize) {
        parts[i].1 += 1;
    }
    parts
        .into_iter()
        .filter(|p| p.1 > 0)
        .map(|(i, share, _)| (weights[i].0.clone(), share as u8))
        .collect()
}

/// `split` with the `"0"` key renamed to the id the deployed model got.
pub fn with_new_id(split: &Split, id: &str) -> Split {
    split
        .iter()
        .map(|(k, v)| {
            let key = if k == NEW_MODEL { id } else { k.as_str() };
            (key.to_owned(), *v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(pairs: &[(&str, u8)]) -> Vec<(String, u8)> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn s(pairs: &[(&str, u8)]) -> Split {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn desired_percents_pass_through_when_all_are_there() {
        assert_eq!(
            shares(&w(&[("7", 30), ("0", 70)])),
            s(&[("7", 30), ("0", 70)])
        );
        // An old version kept deployed until the new one serves gets nothing.
        assert_eq!(shares(&w(&[("7", 0), ("0", 100)])), s(&[("0", 100)]));
    }

    #[test]
    fn a_partial_set_shares_everything_in_proportion() {
        assert_eq!(shares(&w(&[("0", 50)])), s(&[("0", 100)]));
        assert_eq!(
            shares(&w(&[("a", 20), ("0", 20)])),
            s(&[("a", 50), ("0", 50)])
        );
        let thirds = shares(&w(&[("a", 10), ("b", 10), ("c", 10)]));
        assert_eq!(thirds, s(&[("a", 34), ("b", 33), ("c", 33)]));
        assert_eq!(thirds.values().map(|v| u32::from(*v)).sum::<u32>(), 100);
    }

    #[test]
    fn nothing_desired_takes_no_traffic() {
        assert_eq!(shares(&w(&[("a", 0), ("b", 0)])), Split::new());
        assert_eq!(shares(&[]), Split::new());
    }

    #[test]
    fn the_new_model_key_is_renamed() {
        assert_eq!(
            with_new_id(&s(&[("0", 60), ("7", 40)]), "9"),
            s(&[("9", 60), ("7", 40)])
        );
    }
}
