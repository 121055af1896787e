//! `drctl events`: the nodes' durable event logs, merged by time.

use futures_util::future::join_all;

use super::args::EventsArgs;
use super::context::Context;
use super::error::CliError;
use super::output::{print_json, table};

pub(super) async fn cmd_events(ctx: &Context, args: &EventsArgs) -> Result<(), CliError> {
    let targets = match &ctx.selected {
        Some(t) => vec![t.clone()],
        None => ctx.targets.clone(),
    };
    let results = join_all(targets.iter().map(|t| async move {
        // Page through the log, keeping the newest `limit` events.
        let mut after = args.after;
        let mut all = Vec::new();
        loop {
            let page = t.client.events(after, 1000).await?;
            let done = page.len() < 1000;
            after = page.last().map(|e| e.id).unwrap_or(after);
            all.extend(page);
            if done {
                break;
            }
        }
        let skip = all.len().saturating_sub(args.limit as usize);
        Ok::<_, crate::api::ClientError>(all.split_off(skip))
    }))
    .await;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        match r {
            Ok(events) => rows.extend(events.into_iter().map(|e| (t.name.clone(), e))),
            Err(e) => failures.push(format!("{}: {e}", t.name)),
        }
    }
    rows.sort_by(|a, b| a.1.ts.cmp(&b.1.ts).then(a.0.cmp(&b.0)));
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(node, e)| {
                let mut v = serde_json::to_value(e).expect("event serializes");
                v["node"] = serde_json::Value::String(node.clone());
                v
            })
            .collect();
        print_json(&list);
    } else {
        let mut t = table(&["TIME", "NODE", "KIND", "OK", "OPERATOR", "MESSAGE"]);
        for (node, e) in &rows {
            t.add_row(vec![
                e.ts.clone(),
                node.clone(),
                e.kind.clone(),
                match e.success {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "".into(),
                },
                e.operator.clone().unwrap_or_default(),
                e.message.clone(),
            ]);
        }
        println!("{t}");
    }
    for f in &failures {
        eprintln!("drctl: events: {f}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} node(s) did not answer",
            failures.len()
        )))
    }
}
