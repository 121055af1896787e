//! `drctl api METHOD PATH [JSON|-]`: the raw escape hatch to a node's admin API.

use std::io::Read;

use super::args::ApiArgs;
use super::context::Context;
use super::error::CliError;

pub(super) async fn cmd_api(ctx: &Context, args: &ApiArgs) -> Result<(), CliError> {
    let method: reqwest::Method = args
        .method
        .to_uppercase()
        .parse()
        .map_err(|_| CliError::usage(format!("'{}' is not an HTTP method", args.method)))?;
    if !args.path.starts_with('/') {
        return Err(CliError::usage(format!(
            "path '{}' must start with '/', e.g. /v1/node",
            args.path
        )));
    }
    let body = match args.body.as_deref() {
        None => None,
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| CliError::usage(format!("cannot read the body from stdin: {e}")))?;
            Some(s)
        }
        Some(s) => Some(s.to_string()),
    };
    let body = match body {
        Some(s) => Some(
            serde_json::from_str::<serde_json::Value>(&s)
                .map_err(|e| CliError::usage(format!("the body is not JSON: {e}")))?,
        ),
        None => None,
    };
    let target = ctx.default_target().await?;
    let (status, value) = target.client.raw(method, &args.path, body).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&value).expect("json serializes")
    );
    if status.is_success() {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "{} answered HTTP {}",
            target.name,
            status.as_u16()
        )))
    }
}
