//! Every shipped case parses, runs in some dialect of MSNP2–MSNP12, and names
//! only the roles and features the msnpd manifests can claim.

use std::collections::BTreeSet;

use msnp_conform::case::Role;
use msnp_conform::{load_cases, shipped_cases_dir};

#[test]
fn shipped_cases_parse() {
    let cases = load_cases(&shipped_cases_dir()).unwrap();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut titles = BTreeSet::new();
    for case in &cases {
        assert!(
            case.dialects
                .dialects()
                .iter()
                .any(|d| (2..=12).contains(&d.version())),
            "{}",
            case.id
        );
        assert!(
            titles.insert(case.title.clone()),
            "duplicate title in {}",
            case.id
        );
        let top = case.id.split('/').next().unwrap();
        let role: Role = top.parse().unwrap();
        assert!(case.roles.contains(&role), "{} lives under {top}/", case.id);
        for feature in &case.features {
            assert_eq!(feature, "challenges", "{}", case.id);
        }
        assert!(!case.steps.is_empty(), "{}", case.id);
    }
}
