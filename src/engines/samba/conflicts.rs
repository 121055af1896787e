//! What a join that stopped part-way leaves once the DC it went through replicates again beside
//! a join done through another: objects renamed by a replication name conflict, found on every
//! DC that answers and deleted there (`SambaAction::Conflicts`).

use super::ctx::SambaCtx;
use super::probe;
use crate::engine::ProcError;

/// No DC that answers has an object of `dc` renamed by a name conflict.
pub(super) async fn none_left(
    ctx: &SambaCtx,
    dc: &str,
) -> Result<Result<String, String>, ProcError> {
    let left = conflicts(ctx, dc).await?;
    Ok(if left.is_empty() {
        Ok(format!(
            "no DC that answers has an object of {dc} renamed by a name conflict"
        ))
    } else {
        Err(left
            .iter()
            .map(|(on, dn)| format!("{on} has {dn}"))
            .collect::<Vec<_>>()
            .join("; "))
    })
}

/// Deletes, on each DC that answers, the objects of `dc` renamed by a name conflict.
pub(super) async fn delete(ctx: &SambaCtx, dc: &str) -> Result<Option<String>, ProcError> {
    let mut done = Vec::new();
    for (on, dn) in conflicts(ctx, dc).await? {
        probe::delete_tree(ctx.node(&on)?, ctx.timeout, &dn)
            .await
            .map_err(|e| ProcError::failed(format!("{on}: delete {dn}: {e}")))?;
        done.push(format!("{dn} on {on}"));
    }
    Ok((!done.is_empty()).then(|| format!("deleted {}", done.join("; "))))
}

/// What a join of `dc` that stopped part-way left on the DC it went through, once that DC
/// replicates again beside a join done through another: every object named `DC1\0ACNF:guid`
/// (a replication name conflict renamed it: the server object with its NTDS Settings, the
/// computer account, whose duplicate `DC1$` makes the DC's logons fail, its DNS node), as each
/// DC that answers has it: (DC, DN). An object a DC that answers reads as its own (its server
/// object, the computer account that names) is never one of them: that is an error.
async fn conflicts(ctx: &SambaCtx, dc: &str) -> Result<Vec<(String, String)>, ProcError> {
    let probed = ctx.probe().await;
    let mut own: Vec<(String, String)> = Vec::new();
    for d in &probed {
        let Ok(v) = &d.view else { continue };
        let Some(server) = v.servers.get(&v.dsa) else {
            continue;
        };
        own.push((d.name.clone(), server.to_ascii_lowercase()));
        if let Ok(Some(computer)) =
            probe::server_reference(ctx.node(&d.name)?, ctx.timeout, server).await
        {
            own.push((d.name.clone(), computer.to_ascii_lowercase()));
        }
    }
    let mut out = Vec::new();
    for d in &probed {
        let Ok(v) = &d.view else { continue };
        let n = ctx.node(&d.name)?;
        for nc in v.all_ncs() {
            let found = probe::conflicted(n, ctx.timeout, &nc, dc)
                .await
                .map_err(|e| ProcError::failed(format!("{}: {e}", d.name)))?;
            for dn in found {
                if let Some((x, _)) = own.iter().find(|(_, o)| *o == dn.to_ascii_lowercase()) {
                    return Err(ProcError::failed(format!(
                        "{dn} is {x}'s own (it lost a replication name conflict to what a join \
                         that stopped part-way left): drctl deletes only the losers; remove \
                         {dc} (`drctl remove-instance {dc}`) and join it again"
                    )));
                }
                out.push((d.name.clone(), dn));
            }
        }
    }
    Ok(out)
}
