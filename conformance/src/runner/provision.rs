//! Getting accounts for a case: run the manifest's provisioning command once
//! per fresh account (`alice-<random>@<domain>`, random password, nick = the
//! label), or hand out the manifest's fixed accounts in order.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::manifest::Manifest;
use crate::runner::random::Rng;

/// How long one provisioning command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// An account a case acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The label in the case (`alice`).
    pub label: String,
    /// Passport name.
    pub email: String,
    /// Password.
    pub password: String,
    /// Friendly name as the server sends it, when known.
    pub nick: Option<String>,
}

/// Accounts could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The manifest lists fewer fixed accounts than the case needs.
    #[error("the manifest lists {have} fixed account(s); the case needs {need}")]
    NotEnough {
        /// Listed.
        have: usize,
        /// Needed.
        need: usize,
    },
    /// The command could not start.
    #[error("cannot run provisioning command `{program}`: {source}")]
    Spawn {
        /// `argv[0]`.
        program: String,
        /// The error.
        source: std::io::Error,
    },
    /// The command did not finish in time.
    #[error("provisioning command for {email} did not finish in {COMMAND_TIMEOUT:?}")]
    Timeout {
        /// The account.
        email: String,
    },
    /// The command failed.
    #[error("provisioning command for {email} failed ({status}): {stderr}")]
    Failed {
        /// The account.
        email: String,
        /// Exit status.
        status: String,
        /// Its stderr (trimmed).
        stderr: String,
    },
    /// The manifest has neither a command nor accounts.
    #[error("the manifest has no provisioning")]
    NoProvisioning,
}

/// Replaces `{email}`, `{password}` and `{nick}` in one argument.
pub fn fill(arg: &str, account: &Account) -> String {
    arg.replace("{email}", &account.email)
        .replace("{password}", &account.password)
        .replace("{nick}", account.nick.as_deref().unwrap_or_default())
}

/// A never-provisioned address in the manifest's account domain.
pub fn nobody(manifest: &Manifest, rng: &mut Rng) -> String {
    let domain = match manifest.provision.accounts.first() {
        Some(a) if manifest.provision.command.is_none() => a
            .email
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| manifest.provision.domain.clone()),
        _ => manifest.provision.domain.clone(),
    };
    format!("nobody-{}@{domain}", rng.token(10))
}

/// Gets one account per label.
pub async fn provision(
    manifest: &Manifest,
    labels: &[String],
    rng: &mut Rng,
) -> Result<Vec<Account>, ProvisionError> {
    let Some(command) = &manifest.provision.command else {
        let fixed = &manifest.provision.accounts;
        if fixed.is_empty() {
            return Err(ProvisionError::NoProvisioning);
        }
        if fixed.len() < labels.len() {
            return Err(ProvisionError::NotEnough {
                have: fixed.len(),
                need: labels.len(),
            });
        }
        return Ok(labels
            .iter()
            .zip(fixed)
            .map(|(label, a)| Account {
                label: label.clone(),
                email: a.email.clone(),
                password: a.password.clone(),
                nick: a.nick.clone(),
            })
            .collect());
    };
    let mut accounts = Vec::with_capacity(labels.len());
    for label in labels {
        let account = Account {
            label: label.clone(),
            email: format!("{label}-{}@{}", rng.token(10), manifest.provision.domain),
            password: rng.token(16),
            nick: Some(label.clone()),
        };
        run_command(command, &manifest.provision.env, &account).await?;
        let provides_nick = command.iter().any(|a| a.contains("{nick}"));
        accounts.push(Account {
            nick: if provides_nick { account.nick } else { None },
            ..account
        });
    }
    Ok(accounts)
}

async fn run_command(
    command: &[String],
    env: &std::collections::BTreeMap<String, String>,
    account: &Account,
) -> Result<(), ProvisionError> {
    let Some((program, args)) = command.split_first() else {
        return Err(ProvisionError::NoProvisioning);
    };
    let child = Command::new(fill(program, account))
        .args(args.iter().map(|a| fill(a, account)))
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ProvisionError::Spawn {
            program: program.clone(),
            source,
        })?;
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| ProvisionError::Timeout {
            email: account.email.clone(),
        })?
        .map_err(|source| ProvisionError::Spawn {
            program: program.clone(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(ProvisionError::Failed {
        email: account.email.clone(),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(provision: &str) -> Manifest {
        Manifest::from_toml(&format!(
            "name='x'\nhost='h'\ndialects=['MSNP8']\n[auth]\nnexus='http://h/'\n[ports]\nns=1\n{provision}"
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn runs_the_command_per_account() {
        let m = manifest(
            "[provision]\ncommand=['sh', '-c', 'test \"$1\" = \"--nick\" && test \"$2\" = \"$X\"', 'sh', '--nick', '{nick}']\nenv={X='alice'}\n",
        );
        let mut rng = Rng::new();
        let accounts = provision(&m, &["alice".to_string()], &mut rng)
            .await
            .unwrap();
        assert_eq!(accounts.len(), 1);
        assert!(accounts[0].email.starts_with("alice-"));
        assert!(accounts[0].email.ends_with("@conform.test"));
        assert_eq!(accounts[0].password.len(), 16);
        assert_eq!(accounts[0].nick.as_deref(), Some("alice"));
        // The same command fails for another label: the exit status is reported.
        let err = provision(&m, &["bob".to_string()], &mut rng)
            .await
            .unwrap_err();
        assert!(matches!(err, ProvisionError::Failed { .. }), "{err}");
    }

    #[tokio::test]
    async fn reports_a_missing_program() {
        let m = manifest("[provision]\ncommand=['/nonexistent/msnp-conform-provision']\n");
        let err = provision(&m, &["a".to_string()], &mut Rng::new())
            .await
            .unwrap_err();
        assert!(matches!(err, ProvisionError::Spawn { .. }), "{err}");
    }

    #[tokio::test]
    async fn hands_out_fixed_accounts() {
        let m = manifest(
            "[[provision.accounts]]\nemail='a@ex.test'\npassword='p'\n[[provision.accounts]]\nemail='b@ex.test'\npassword='q'\nnick='B'\n",
        );
        let mut rng = Rng::new();
        let got = provision(&m, &["x".into(), "y".into()], &mut rng)
            .await
            .unwrap();
        assert_eq!(got[0].email, "a@ex.test");
        assert_eq!(got[0].label, "x");
        assert_eq!(got[1].nick.as_deref(), Some("B"));
        let err = provision(&m, &["x".into(), "y".into(), "z".into()], &mut rng)
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ProvisionError::NotEnough { have: 2, need: 3 }
        ));
        assert!(nobody(&m, &mut rng).ends_with("@ex.test"));
    }
}
