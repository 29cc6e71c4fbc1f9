//! What a run would do, without running: which case × dialect instances run
//! and which cases are skipped and why. `msnp-conform check-manifest --cases`
//! prints it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::case::Case;
use crate::manifest::Manifest;
use crate::runner::skip_reason;

/// The plan of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Case × dialect instances that would run.
    pub runs: usize,
    /// Skip reason → ids of the cases skipped for it.
    pub skipped: BTreeMap<String, Vec<String>>,
}

/// Plans running `cases` against `manifest`. With fixed accounts, a case
/// needing more accounts than listed is skipped (as the runner does).
pub fn plan(manifest: &Manifest, cases: &[Case]) -> Plan {
    let mut p = Plan::default();
    let fixed = manifest.provision.command.is_none();
    let have = manifest.provision.accounts.len();
    for case in cases {
        let reason = skip_reason(manifest, case).or_else(|| {
            (fixed && case.accounts.len() > have).then(|| {
                format!(
                    "the manifest lists {have} fixed account(s); the case needs {}",
                    case.accounts.len()
                )
            })
        });
        match reason {
            Some(reason) => p.skipped.entry(reason).or_default().push(case.id.clone()),
            None => {
                p.runs += case
                    .dialects
                    .dialects()
                    .iter()
                    .filter(|d| manifest.dialects.contains(**d))
                    .count();
            }
        }
    }
    p
}

impl Plan {
    /// The plan as text: runs, then each skip reason with its cases.
    pub fn render(&self) -> String {
        let skipped: usize = self.skipped.values().map(Vec::len).sum();
        let mut out = format!(
            "{} case x dialect run(s); {skipped} case(s) skipped\n",
            self.runs
        );
        for (reason, ids) in &self.skipped {
            let _ = writeln!(out, "  skipped ({}): {reason}", ids.len());
            for id in ids {
                let _ = writeln!(out, "    {id}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    #[test]
    fn counts_runs_and_groups_skips() {
        let m = Manifest::from_toml(
            "name='x'\nhost='h'\ndialects=['MSNP8-9']\n[auth]\nnexus='http://h/'\n[ports]\nns=1\n\
             [[provision.accounts]]\nemail='a@h.test'\npassword='p'\n",
        )
        .unwrap();
        let case = |id: &str, header: &str| {
            parse_case(id, &format!("# title: {id}\n{header}\n@a connect ns\n")).unwrap()
        };
        let cases = vec![
            case("both", "# dialects: MSNP8+\n# roles: ns\n# accounts: a"),
            case("one", "# dialects: MSNP9\n# roles: ns\n# accounts: a"),
            case("new", "# dialects: MSNP11+\n# roles: ns\n# accounts: a"),
            case(
                "sb",
                "# dialects: MSNP8\n# roles: ns dispatch\n# accounts: a",
            ),
            case("two", "# dialects: MSNP8\n# roles: ns\n# accounts: a b"),
        ];
        let p = plan(&m, &cases);
        assert_eq!(p.runs, 3);
        assert_eq!(p.skipped.len(), 3, "{:?}", p.skipped);
        assert_eq!(
            p.skipped["the manifest lists 1 fixed account(s); the case needs 2"],
            vec!["two".to_string()]
        );
        let text = p.render();
        assert!(
            text.starts_with("3 case x dialect run(s); 3 case(s) skipped\n"),
            "{text}"
        );
        assert!(text.contains("needs role `dispatch`"), "{text}");
        assert!(text.contains("    new\n"), "{text}");
    }
}
