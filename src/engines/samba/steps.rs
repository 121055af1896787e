//! The steps Samba AD procedures are made of: each knows from a fresh probe whether it is
//! done, does itself with `samba-tool` on the DC it is about (through the cluster file's
//! `command_prefix`, against the DC's own database: over LDAP samba-tool's exit status lies, P8)
//! and proves it took effect by reading the DCs again, never by an exit status.
//!
//! Here each action is described and dispatched; the steps themselves live with their noun:
//! the roles in `seize.rs`, the metadata cleanup in `remove.rs`, what a join left in
//! `conflicts.rs`, the export in `salvage.rs`, the rejoin in `rejoin.rs`, the clients in
//! `clients.rs`.

use super::host::tool;
use crate::engine::{check_holds, verify_holds, Act, Check, ProcError};

pub(crate) use super::ctx::{SambaAction, SambaCtx};

impl SambaAction {
    /// Ok(Ok(note)) when the step holds; Ok(Err(why)) when not yet.
    async fn holds(&self, ctx: &SambaCtx) -> Result<Result<String, String>, ProcError> {
        match self {
            SambaAction::Seize { dc, roles } => super::seize::held_by_itself(ctx, dc, roles).await,
            SambaAction::Transfer { dc, role, .. } => {
                super::seize::held_by_itself(ctx, dc, std::slice::from_ref(role)).await
            }
            SambaAction::Agreed { dc, roles } => super::seize::agreed(ctx, dc, roles).await,
            SambaAction::Cleanup { on, dc } => super::remove::cleaned(ctx, on, dc).await,
            SambaAction::PdcSrv { pdc } => super::seize::pdc_srv_names(ctx, pdc).await,
            SambaAction::Clients { ips, .. } => super::clients::holds(ctx, ips),
            SambaAction::Conflicts { dc } => super::conflicts::none_left(ctx, dc).await,
            SambaAction::Salvage { dc, path, via } => {
                super::salvage::salvaged(ctx, dc, path, via.as_deref()).await
            }
            SambaAction::Stop { .. }
            | SambaAction::MoveAside { .. }
            | SambaAction::Join { .. }
            | SambaAction::Start { .. }
            | SambaAction::Pulls { .. }
            | SambaAction::Settled { .. } => super::rejoin::holds(ctx, self).await,
            SambaAction::Forgotten { dc } => super::remove::forgotten(ctx, dc).await,
        }
    }
}

impl Act for SambaAction {
    type Ctx = SambaCtx;
    fn describe(&self) -> String {
        match self {
            SambaAction::Seize { dc, roles } => match roles.as_slice() {
                [role] => format!("seize the {role} role on {dc} (samba-tool fsmo seize --force)"),
                _ if super::seize::every_role(roles) => {
                    format!("seize every role on {dc} (samba-tool fsmo seize --role=all --force)")
                }
                _ => format!(
                    "seize the roles {} on {dc} (samba-tool fsmo seize --force, one by one)",
                    roles.join(", ")
                ),
            },
            SambaAction::Transfer { dc, role, from } => {
                format!("transfer the {role} role from {from} to {dc} (samba-tool fsmo transfer)")
            }
            SambaAction::Agreed { dc, roles } => format!(
                "wait until every DC that answers names {dc} the holder of {}",
                roles.join(", ")
            ),
            SambaAction::Cleanup { on, dc } => format!(
                "remove the DC {dc} from the domain on {on} (samba-tool domain demote \
                 --remove-other-dead-server)"
            ),
            SambaAction::PdcSrv { pdc } => {
                format!("make the PDC's DNS SRV record name {pdc} (samba_dnsupdate on {pdc})")
            }
            SambaAction::Clients { dcs, ips } => format!(
                "point the clients' resolver and KDC list at {}",
                dcs.iter()
                    .zip(ips)
                    .map(|(d, ip)| format!("{d} ({ip})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SambaAction::Salvage { dc, path, .. } => format!(
                "stop {dc} if it runs (its stop_command), then export what its own database holds \
                 that no other DC received to {} (read on its host)",
                crate::util::words::absolute(path).display()
            ),
            SambaAction::Stop { dc } => format!("stop {dc} (its stop_command)"),
            SambaAction::MoveAside {
                dc, dirs, suffix, ..
            } => format!(
                "move {dc}'s databases aside to *.{suffix}: {}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SambaAction::Join { dc, via } => {
                format!("join {dc} to the domain through {via} (samba-tool domain join)")
            }
            SambaAction::Start { dc } => format!("start {dc} (its start_command)"),
            SambaAction::Conflicts { dc } => format!(
                "delete what a join of {dc} that stopped part-way left, renamed by a name \
                 conflict ({dc}\\0ACNF:…: server object, computer account, DNS node)"
            ),
            SambaAction::Pulls { dst, src, .. } => format!(
                "{dst} pulls every naming context from {src} (samba-tool drs replicate; {dst} \
                 restarted if its pull fails, P14)"
            ),
            SambaAction::Settled { dc } => format!(
                "after {dc}'s join, pull again what failed since its step (no failing pull \
                 between DCs that answer, as status reads it)"
            ),
            SambaAction::Forgotten { dc } => format!(
                "every DC that answers pulls the removal now; wait until none has {dc}'s computer \
                 account, server object or DNS host record"
            ),
        }
    }
    fn changes(&self) -> bool {
        matches!(
            self,
            SambaAction::Seize { .. }
                | SambaAction::Transfer { .. }
                | SambaAction::Cleanup { .. }
                | SambaAction::PdcSrv { .. }
                | SambaAction::Clients { .. }
                | SambaAction::Salvage { .. }
                | SambaAction::Stop { .. }
                | SambaAction::MoveAside { .. }
                | SambaAction::Join { .. }
                | SambaAction::Start { .. }
                | SambaAction::Pulls { .. }
                | SambaAction::Settled { .. }
                | SambaAction::Conflicts { .. }
        )
    }
    async fn check(&self, ctx: &SambaCtx) -> Result<Check, ProcError> {
        check_holds(self.holds(ctx).await)
    }
    async fn apply(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        match self {
            // Its exit status is not the proof (P8): `verify` reads the role owner.
            SambaAction::Seize { dc, roles } => super::seize::seize(ctx, dc, roles).await,
            SambaAction::Transfer { dc, role, .. } => {
                tool(ctx, dc, &format!("fsmo transfer --role={role}")).await
            }
            SambaAction::Cleanup { on, dc } => super::remove::clean_up(ctx, on, dc).await,
            SambaAction::Agreed { dc, roles } => super::seize::pull(ctx, dc, roles).await,
            SambaAction::PdcSrv { pdc } => super::seize::register_pdc_srv(ctx, pdc).await,
            SambaAction::Clients { ips, .. } => super::clients::apply(ctx, ips),
            SambaAction::Salvage { dc, path, .. } => {
                super::salvage::apply(ctx, dc, path).await.map(Some)
            }
            SambaAction::Stop { .. }
            | SambaAction::MoveAside { .. }
            | SambaAction::Join { .. }
            | SambaAction::Start { .. }
            | SambaAction::Pulls { .. }
            | SambaAction::Settled { .. } => super::rejoin::apply(ctx, self).await,
            SambaAction::Forgotten { dc } => super::remove::forget(ctx, dc).await,
            SambaAction::Conflicts { dc } => super::conflicts::delete(ctx, dc).await,
        }
    }
    async fn verify(&self, ctx: &SambaCtx) -> Result<Option<String>, ProcError> {
        if let SambaAction::MoveAside { dc, dirs, .. } = self {
            return super::rejoin::verify_moved(ctx, dc, dirs).await;
        }
        if let SambaAction::Stop { dc } = self {
            return super::rejoin::verify_stopped(ctx, dc).await;
        }
        if let SambaAction::Salvage { path, .. } = self {
            return super::salvage::exported(path);
        }
        verify_holds(ctx.step_timeout, self.describe(), || self.holds(ctx)).await
    }
}
