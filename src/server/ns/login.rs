//! Notification login: `VER` negotiation, `CVR`, `USR` (ticket and MD5 methods),
//! the dispatch redirect, and what happens at login and logout.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{LoggedIn, NsSession};
use crate::core::auth;
use crate::core::events::{Event, KickReason};
use crate::core::fan_out;
use crate::core::model::{Account, Credentials};
use crate::core::presence::Status;
use crate::core::registry::{SessionHandle, SharedState};
use crate::obs::{LoginMethod, metrics};
use crate::proto::command::UsrArgs;
use crate::proto::payloads::{self, Profile};
use crate::proto::reply::CvrInfo;
use crate::proto::{Dialect, ErrorCode, Reply, TrId};
use crate::server::outbox::Outbox;
use crate::store::StoreError;

impl NsSession {
    /// `VER`: pick the highest offered dialect the server serves; `VER trid 0` and
    /// close when there is none.
    pub(super) fn ver(&mut self, trid: TrId, offered: &[String], out: &mut Outbox) {
        let chosen = offered
            .iter()
            .filter_map(|t| Dialect::from_token(t))
            .filter(|d| self.ctx.serves(*d))
            .max();
        out.send(Reply::Ver {
            trid,
            dialect: chosen,
        });
        match chosen {
            Some(dialect) => {
                self.dialect = Some(dialect);
                out.set_dialect(dialect);
            }
            None => out.close(),
        }
    }

    /// `CVR`: accept any client version and recommend the one it runs.
    pub(super) fn cvr(&mut self, trid: TrId, args: &[String], out: &mut Outbox) {
        if args.len() < 6 {
            out.respond(trid).error(ErrorCode::BadCvrParameters);
            return;
        }
        let version = args.get(5).cloned().unwrap_or_default();
        out.send(Reply::Cvr {
            trid,
            info: CvrInfo {
                recommended: version.clone(),
                minimum: version.clone(),
                download: version,
                download_url: "http://messenger.msn.com/download".into(),
                info_url: "http://messenger.msn.com".into(),
            },
        });
    }

    /// `USR`: both steps of both login methods.
    pub(super) async fn usr(&mut self, trid: TrId, args: UsrArgs, out: &mut Outbox) {
        let Some(dialect) = self.dialect else {
            out.respond(trid).error(ErrorCode::NotExpected);
            return;
        };
        match args {
            UsrArgs::TwnInitial { email } | UsrArgs::Md5Initial { email }
                if self.dispatch.is_some() =>
            {
                let _ = email;
                if let Some((ns_addr, own_addr)) = self.dispatch.clone() {
                    out.send(Reply::XfrNs {
                        trid,
                        ns_addr,
                        dispatch_addr: own_addr,
                    });
                }
                out.close();
            }
            UsrArgs::TwnInitial { email } if dialect.uses_ticket_auth() => {
                self.pending_login = Some(email.to_ascii_lowercase());
                out.send(Reply::UsrTwnPolicy {
                    trid,
                    issued_at: unix_now(),
                    nonce: rand::random(),
                });
            }
            UsrArgs::TwnSubsequent { ticket } if dialect.uses_ticket_auth() => {
                let Some(expected) = self.pending_login.take() else {
                    out.respond(trid).error(ErrorCode::NotExpected);
                    return;
                };
                let logins = &self.ctx.limits.logins;
                if logins.ticket_refused(self.peer.ip()) {
                    metrics().login(LoginMethod::Ticket, false);
                    tracing::info!(peer = %self.peer, "ticket login refused: too many failures");
                    out.respond(trid).error(ErrorCode::AuthFailed);
                    return;
                }
                match self.ctx.tickets.verify(&ticket, SystemTime::now()) {
                    Ok(email) if email == expected => {
                        let ok = self.complete_login(trid, &email, out).await;
                        metrics().login(LoginMethod::Ticket, ok);
                    }
                    _ => {
                        metrics().login(LoginMethod::Ticket, false);
                        tracing::info!(peer = %self.peer, "ticket login refused");
                        logins.ticket_failed(self.peer.ip());
                        out.respond(trid).error(ErrorCode::AuthFailed);
                    }
                }
            }
            UsrArgs::Md5Initial { email } if dialect.uses_md5_auth() => {
                // Accounts that cannot log in with MD5 (unknown, or without a
                // verifier) get a decoy salt and fail at `USR MD5 S`, so this step
                // does not tell who has an account (as `USR TWN I` does not).
                let email = email.to_ascii_lowercase();
                let salt = match self.ctx.store.credentials(&email).await {
                    Ok(Credentials {
                        md5_salt: Some(salt),
                        md5_verifier: Some(_),
                        ..
                    }) => salt,
                    Ok(_) | Err(StoreError::UnknownUser) => self.ctx.tickets.decoy_md5_salt(&email),
                    Err(error) => {
                        tracing::warn!(%error, "store error during MD5 login");
                        out.respond(trid).error(ErrorCode::InternalError);
                        return;
                    }
                };
                self.pending_login = Some(email);
                out.send(Reply::UsrMd5Salt { trid, salt });
            }
            UsrArgs::Md5Subsequent { hash } if dialect.uses_md5_auth() => {
                let Some(email) = self.pending_login.take() else {
                    out.respond(trid).error(ErrorCode::NotExpected);
                    return;
                };
                // Refused before the store is asked while the account or the
                // address has had too many failures.
                let logins = &self.ctx.limits.logins;
                if logins.password_refused(self.peer.ip(), &email) {
                    metrics().login(LoginMethod::Md5, false);
                    tracing::info!(peer = %self.peer, "MD5 login refused: too many failures");
                    out.respond(trid).error(ErrorCode::AuthFailed);
                    return;
                }
                let verified = match self.ctx.store.credentials(&email).await {
                    Ok(Credentials {
                        md5_verifier: Some(verifier),
                        ..
                    }) => auth::check_md5_response(&verifier, &hash),
                    Ok(_) => {
                        tracing::info!(
                            peer = %self.peer,
                            user = %email,
                            "MD5 login refused: the account has no MD5 verifier \
                             (set its password again with auth.md5_dialects on)"
                        );
                        false
                    }
                    Err(StoreError::UnknownUser) => false,
                    Err(error) => {
                        tracing::warn!(%error, "store error during MD5 login");
                        out.respond(trid).error(ErrorCode::InternalError);
                        return;
                    }
                };
                if verified {
                    let ok = self.complete_login(trid, &email, out).await;
                    metrics().login(LoginMethod::Md5, ok);
                } else {
                    metrics().login(LoginMethod::Md5, false);
                    tracing::info!(peer = %self.peer, "MD5 login refused");
                    self.ctx
                        .limits
                        .logins
                        .password_failed(self.peer.ip(), &email);
                    out.respond(trid).error(ErrorCode::AuthFailed);
                }
            }
            _ => out.respond(trid).error(ErrorCode::AuthFailed),
        }
    }

    /// The account is authenticated: load its list, register the session (kicking
    /// an older one with `OUT OTH`), answer `USR OK` and send the profile.
    /// Returns whether the login completed.
    async fn complete_login(&mut self, trid: TrId, email: &str, out: &mut Outbox) -> bool {
        let (account, list) = match self.ctx.store.login_snapshot(email).await {
            Ok((snapshot, from_memory)) => {
                if from_memory {
                    tracing::warn!(
                        peer = %self.peer,
                        user = %email,
                        "store unavailable: login with the last known contact list"
                    );
                }
                (snapshot.account, snapshot.list)
            }
            Err(StoreError::UnknownUser) => {
                out.respond(trid).error(ErrorCode::AuthFailed);
                return false;
            }
            Err(error) => {
                tracing::warn!(%error, "store error during login");
                out.respond(trid).error(ErrorCode::InternalError);
                return false;
            }
        };
        // A login that takes over from another session of the same account keeps
        // what watchers were shown until it sets its own status: they see no FLN
        // now, and an FLN if it leaves before its first CHG.
        let (status, capabilities, msn_object, personal_message) = self
            .ctx
            .router
            .session(&account.email)
            .map(|old| {
                old.with_shared(|s| {
                    (
                        s.status,
                        s.capabilities,
                        s.msn_object.clone(),
                        s.personal_message.clone(),
                    )
                })
            })
            .unwrap_or((Status::Offline, 0, None, None));
        let lists = Arc::new(list.lists_by_contact());
        let shared = SharedState {
            status,
            nick: account.nick.clone(),
            capabilities,
            msn_object,
            personal_message,
            privacy: list.privacy,
            lists: Arc::clone(&lists),
        };
        let handle = SessionHandle {
            id: self.ctx.router.registry().next_session_id(),
            tx: self.events_tx.clone(),
            shared: Arc::new(Mutex::new(shared)),
        };
        if let Some(old) = self.ctx.router.register(&account.email, handle.clone()) {
            old.deliver(Event::Kick(KickReason::OtherLogin));
        }
        crate::server::connection::record_user(&account.email);
        tracing::info!(peer = %self.peer, user = %account.email, "logged in");
        out.send(Reply::UsrOk {
            trid,
            email: account.email.clone(),
            nick: account.nick.clone(),
            verified: true,
        });
        let payload = payloads::profile(
            out.dialect(),
            &Profile {
                email: &account.email,
                login_time: unix_now(),
                member_id: u64::try_from(account.id).unwrap_or_default(),
                client_ip: &self.peer.ip().to_string(),
                client_port: self.peer.port(),
            },
        );
        out.send(Reply::Msg {
            sender: "Hotmail".into(),
            sender_nick: "Hotmail".into(),
            payload,
        });
        self.user = Some(LoggedIn {
            account,
            handle,
            list,
            lists,
            online: false,
            offline_pending: true,
        });
        self.send_challenge(out);
        true
    }

    /// Ends the login: unregister and show watchers the user offline (unless a
    /// newer session of the same account took over).
    pub(super) fn logout(&mut self) {
        let Some(user) = self.user.take() else {
            return;
        };
        if self
            .ctx
            .router
            .unregister(&user.account.email, user.handle.id)
        {
            let before = user.handle.with_shared(|s| s.clone());
            user.handle.update_shared(|s| s.status = Status::Offline);
            self.notify_watchers(&user.account, &user.handle, &before);
            tracing::info!(user = %user.account.email, "logged out");
        }
    }

    /// Tells each watcher of `account` what changed in what they see, comparing
    /// with the state `before` (see [`fan_out::presence_changes`]).
    pub(super) fn notify_watchers(
        &self,
        account: &Account,
        handle: &SessionHandle,
        before: &SharedState,
    ) {
        let after = handle.with_shared(SharedState::clone);
        fan_out::presence_changes(&account.email, before, &after, |watcher, event| {
            self.ctx.router.deliver(watcher, event);
        });
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
