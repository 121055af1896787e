//! `drctl run` and `drctl runbook list|show|validate|actions`: load (exit 2 on a bad runbook,
//! naming file, line, column and path), run through the runbook engine, print a table of steps.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::args::{Format, GlobalArgs};
use super::args::{RunArgs, RunbookCommand};
use super::error::CliError;
use super::output::{print_json, table};
use crate::engines::drnode::Cluster;
use crate::runbook::{self, engine, journal, registry, RunbookError, RunbookReport};

impl From<RunbookError> for CliError {
    fn from(e: RunbookError) -> Self {
        CliError::new(e.exit(), e.to_string())
    }
}

pub(super) async fn cmd_run(g: &GlobalArgs, a: &RunArgs) -> Result<(), CliError> {
    let runs = journal::runs_dir();
    let (rb, vars, resume) = match &a.resume {
        Some(id) => {
            let (rb, mut vars, resume) = runbook::load_resume(&runs, id)?;
            secrets_again(&rb, id, &mut vars, &a.vars)?;
            (rb, vars, Some(resume))
        }
        None => {
            let rb = runbook::load(a.runbook.as_deref().expect("clap requires it"))?;
            let given: BTreeMap<String, String> = a.vars.iter().cloned().collect();
            let vars = engine::resolve_vars(&rb, &given)?;
            (rb, vars, None)
        }
    };
    for (k, p) in &rb.params {
        if p.secret {
            crate::util::redact::register(vars.get(k).map(String::as_str).unwrap_or_default());
        }
    }
    // The engine the run is bound to, chosen once by the registry. drnode's native steps run
    // on its nodes; another engine plans its own steps and has no drnode to reach.
    let global = super::context::global(g);
    let inventory = match &global.cluster_file {
        Some(path) => {
            Some(crate::engines::load_inventory(path).map_err(|e| CliError::usage(e.to_string()))?)
        }
        None => None,
    };
    let source = inventory
        .as_ref()
        .map(|i| i.path.display().to_string())
        .unwrap_or_default();
    let reg = crate::engines::registry::choose(g.kind.as_deref(), inventory.as_ref(), None)
        .map_err(|e| CliError::usage(format!("--kind: {e}")))?;
    runbook::check_engine(&rb, reg)?;
    let engine: Arc<dyn crate::engine::Engine> =
        crate::engines::registry::open(reg, &global, inventory.clone())
            .await?
            .into();
    let (name, source, targets, operator, http) = match engine
        .as_any()
        .downcast_ref::<crate::engines::drnode::Drnode>(
    ) {
        Some(d) => (
            d.ctx.cluster.clone(),
            d.ctx.source.clone(),
            d.ctx.targets.clone(),
            d.ctx
                .options
                .operator
                .clone()
                .unwrap_or_else(|| "unknown".into()),
            d.ctx.http.clone(),
        ),
        None => (
            inventory
                .as_ref()
                .map(|i| i.file.cluster.clone())
                .unwrap_or_default(),
            source,
            Vec::new(),
            global.operator.clone(),
            crate::runbook::front::trusting_no_ca().map_err(CliError::failed)?,
        ),
    };
    if let Some(r) = resume
        .as_ref()
        .filter(|r| !r.cluster.is_empty() && r.cluster != name)
    {
        return Err(CliError::usage(format!(
            "run {} ran on cluster {}, not {} ({}): give the same --cluster to resume it",
            r.run_id, r.cluster, name, source
        )));
    }
    let cl = Cluster::new(&name, &targets, &operator, a.wait);
    let yes = a.yes;
    let settings = engine::Settings {
        dry_run: a.dry_run,
        ask: Arc::new(move |q: &str| super::fronts::prompt(q, yes)),
        progress: !a.json,
        break_lock: a.break_lock,
        step_timeout: a.wait,
        journal_dir: Some(runs),
        export_dir: a.export_dir.clone(),
        http,
        engine: Some(engine),
    };
    if !a.json {
        eprintln!(
            "runbook {} (run {}){}",
            rb.name,
            resume
                .as_ref()
                .map(|r| r.run_id.clone())
                .unwrap_or_else(|| cl.run_id.clone()),
            if a.dry_run { ", dry run" } else { "" }
        );
    }
    let report = engine::run(&rb, vars, cl, &settings, resume).await;
    print_report(&report, a.json);
    match (report.exit, &report.error) {
        (None, _) => Ok(()),
        (Some(exit), e) => Err(CliError::new(
            exit,
            e.clone().unwrap_or_else(|| report.outcome.to_string()),
        )),
    }
}

/// A journal keeps `***` for a `secret: true` parameter: a resume is given it again with
/// `--var` (and only such parameters: the others are the run's own).
fn secrets_again(
    rb: &runbook::Runbook,
    run_id: &str,
    vars: &mut BTreeMap<String, String>,
    given: &[(String, String)],
) -> Result<(), CliError> {
    for (k, v) in given {
        match rb.params.get(k) {
            Some(p) if p.secret => {
                vars.insert(k.clone(), v.clone());
            }
            _ => {
                return Err(CliError::usage(format!(
                    "--var {k}: a resume keeps the parameters run {run_id} started with; only a \
                     `secret: true` parameter is given again"
                )))
            }
        }
    }
    for (k, p) in &rb.params {
        if p.secret && vars.get(k).is_some_and(|v| v == crate::util::redact::MASK) {
            return Err(CliError::usage(format!(
                "run {run_id} has the secret parameter {k}, which its journal does not keep: \
                 give it again with --var {k}=…"
            )));
        }
    }
    Ok(())
}

pub(super) fn print_report(r: &RunbookReport, json: bool) {
    if json {
        print_json(r);
    } else {
        print!("{}", runbook::render(r));
    }
}

pub(super) fn cmd_runbook(c: &RunbookCommand) -> Result<(), CliError> {
    match c {
        RunbookCommand::List(out) => {
            let mut rows = Vec::new();
            for name in runbook::bundled::names() {
                let rb = runbook::load(name)?;
                let mut row = BTreeMap::new();
                row.insert("name", serde_json::json!(rb.name));
                row.insert("description", serde_json::json!(rb.description));
                row.insert(
                    "params",
                    serde_json::json!(rb.params.keys().collect::<Vec<_>>()),
                );
                row.insert("steps", serde_json::json!(rb.steps.len()));
                row.insert("drill", serde_json::json!(rb.drill.is_some()));
                rows.push(row);
            }
            let format = out.format();
            match format {
                Format::Json => print_json(&rows),
                Format::Yaml => super::output::print_yaml(&rows),
                Format::Table | Format::Wide => {
                    let wide = format == Format::Wide;
                    let headers: &[&str] = if wide {
                        &["NAME", "PARAMS", "STEPS", "DRILL", "DESCRIPTION"]
                    } else {
                        &["NAME", "DRILL", "DESCRIPTION"]
                    };
                    let mut t = table(headers);
                    for r in &rows {
                        let params: Vec<String> =
                            serde_json::from_value(r["params"].clone()).unwrap_or_default();
                        let mut cells = vec![
                            r["name"].as_str().unwrap_or("").to_string(),
                            if r["drill"] == true { "yes" } else { "no" }.into(),
                            r["description"].as_str().unwrap_or("").to_string(),
                        ];
                        if wide {
                            cells.splice(1..1, [params.join(", "), r["steps"].to_string()]);
                        }
                        t.add_row(cells);
                    }
                    println!("{}", super::output::render(&t));
                }
            }
            Ok(())
        }
        RunbookCommand::Show { name } => {
            let rb = runbook::load(name)?;
            print!("# {}\n{}", rb.source, rb.text);
            Ok(())
        }
        RunbookCommand::Validate { files } => {
            let mut problems = Vec::new();
            for f in files {
                match runbook::load(f) {
                    Ok(rb) => println!(
                        "{f}: ok ({}, {} steps{})",
                        rb.name,
                        rb.steps.len(),
                        if rb.drill.is_some() { ", drill" } else { "" }
                    ),
                    Err(e) => problems.push(e.to_string()),
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(CliError::usage(problems.join("\n")))
            }
        }
        RunbookCommand::Actions { json } => {
            if *json {
                let param = |p: &registry::Param| serde_json::json!({"name": p.0, "required": p.1, "description": p.2});
                let v: Vec<_> = registry::ACTIONS
                    .iter()
                    .map(|a| {
                        let params: Vec<_> = a.params.iter().map(param).collect();
                        serde_json::json!({"name": a.name, "summary": a.summary,
                            "params": params, "outputs": a.outputs})
                    })
                    .collect();
                print_json(&v);
            } else {
                let mut t = table(&["ACTION", "PARAMETERS (* required)", "OUTPUTS", "WHAT"]);
                for a in registry::ACTIONS {
                    let params: Vec<String> = a
                        .params
                        .iter()
                        .map(|p| format!("{}{}", p.0, if p.1 { "*" } else { "" }))
                        .collect();
                    t.add_row(vec![
                        a.name.to_string(),
                        params.join(", "),
                        a.outputs.join(", "),
                        a.summary.to_string(),
                    ]);
                }
                println!("{}", super::output::render(&t));
            }
            Ok(())
        }
    }
}
