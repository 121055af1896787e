//! `drctl events`: the nodes' durable event logs, merged by time; filtered by time and kind;
//! `--follow` keeps printing new ones.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use futures_util::future::join_all;

use super::args::{EventsArgs, Format};
use super::context::Context;
use super::error::CliError;
use super::output::{print_json, print_yaml, table};
use crate::api::Event;
use crate::engines::drnode::cluster::Target;

/// How often `--follow` asks each node for what is new.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

pub(super) async fn cmd_events(ctx: &Context, args: &EventsArgs) -> Result<(), CliError> {
    let since = args
        .since
        .as_deref()
        .map(crate::util::clock::since)
        .transpose()
        .map_err(|e| CliError::usage(format!("--since: {e}")))?;
    let targets = match &ctx.selected {
        Some(t) => vec![t.clone()],
        None => ctx.targets.clone(),
    };
    let keep = |e: &Event| {
        since.as_ref().is_none_or(|s| e.ts >= *s)
            && (args.types.is_empty() || args.types.contains(&e.kind))
    };
    let mut after: BTreeMap<String, u64> = targets
        .iter()
        .map(|t| (t.name.clone(), args.after))
        .collect();
    let (rows, failures) = fetch(&targets, &mut after, Some(args.limit as usize), &keep).await;
    let format = args.out.format();
    if args.follow {
        for row in &rows {
            print_line(row, format);
        }
        report_failures(&failures);
        loop {
            tokio::time::sleep(FOLLOW_EVERY).await;
            let (rows, failures) = fetch(&targets, &mut after, None, &keep).await;
            for row in &rows {
                print_line(row, format);
            }
            report_failures(&failures);
        }
    }
    match format {
        Format::Json => print_json(&rows.iter().map(as_json).collect::<Vec<_>>()),
        Format::Yaml => print_yaml(&rows.iter().map(as_json).collect::<Vec<_>>()),
        Format::Table | Format::Wide => {
            let wide = format == Format::Wide;
            let mut headers = vec!["TIME", "NODE", "KIND", "OK", "OPERATOR", "MESSAGE"];
            if wide {
                headers.insert(5, "RUN");
            }
            let mut t = table(&headers);
            for row in &rows {
                t.add_row(cells(row, wide));
            }
            println!("{}", super::output::render(&t));
        }
    }
    report_failures(&failures);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} node(s) did not answer",
            failures.len()
        )))
    }
}

type Row = (String, Event);

/// The events after `after[node]` on every target that `keep` keeps (the newest `limit` per
/// node), merged by time; `after` moves to the last event read from each node that answered.
async fn fetch(
    targets: &[Target],
    after: &mut BTreeMap<String, u64>,
    limit: Option<usize>,
    keep: &impl Fn(&Event) -> bool,
) -> (Vec<Row>, Vec<String>) {
    let results = join_all(targets.iter().map(|t| {
        let mut from = after.get(&t.name).copied().unwrap_or(0);
        async move {
            let mut all = Vec::new();
            loop {
                let page = t.client.events(from, 1000).await?;
                let done = page.len() < 1000;
                from = page.last().map(|e| e.id).unwrap_or(from);
                all.extend(page);
                if done {
                    break;
                }
            }
            all.retain(keep);
            let skip = limit.map_or(0, |l| all.len().saturating_sub(l));
            Ok::<_, crate::api::ClientError>((from, all.split_off(skip)))
        }
    }))
    .await;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (t, r) in targets.iter().zip(results) {
        match r {
            Ok((last, events)) => {
                after.insert(t.name.clone(), last);
                rows.extend(events.into_iter().map(|e| (t.name.clone(), e)));
            }
            Err(e) => failures.push(format!("{}: {e}", t.name)),
        }
    }
    rows.sort_by(|a, b| a.1.ts.cmp(&b.1.ts).then(a.0.cmp(&b.0)));
    (rows, failures)
}

fn report_failures(failures: &[String]) {
    for f in failures {
        eprintln!("drctl: events: {f}");
    }
}

fn as_json((node, e): &Row) -> serde_json::Value {
    let mut v = serde_json::to_value(e).expect("event serializes");
    v["node"] = serde_json::Value::String(node.clone());
    v["schema"] = serde_json::Value::from(super::output::SCHEMA);
    v
}

fn cells((node, e): &Row, wide: bool) -> Vec<String> {
    let mut c = vec![
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
    ];
    if wide {
        c.insert(5, e.run_id.clone().unwrap_or_default());
    }
    c
}

/// One event as it arrives under `--follow`: a JSON object per line with `-o json`, else the
/// table's cells tab-separated, flushed at once for `grep --line-buffered` and the like.
fn print_line(row: &Row, format: Format) {
    let line = match format {
        Format::Json | Format::Yaml => {
            serde_json::to_string(&as_json(row)).expect("event serializes")
        }
        Format::Table | Format::Wide => cells(row, format == Format::Wide).join("\t"),
    };
    println!("{}", crate::util::redact::redact(&line));
    let _ = std::io::stdout().flush();
}
