//! `runner jobs/` and `runner A.yaml B.yaml`: a catalog, every job file of a folder (or each
//! named) run in turn, with a summary; one file named alone runs as itself.
//!
//! Owns: finding the job files, the catalog's exit code (the worst of its jobs'), stopping at
//! a signal, and where each file's report goes. Does not own: running a file (see `run`).

use super::run::{RunOptions, run_file};
use super::{Done, Format, failure};
use crate::error::{Error, Interrupt, exit};
use crate::report;

/// Runs every job named: one file as itself, several (or a folder) as a catalog.
pub(crate) fn run_jobs(options: &RunOptions) -> Result<Done, Error> {
    options.exports.check()?;
    let (files, catalog) = job_files(&options.jobs)?;
    if !catalog {
        return run_file(&files[0], options);
    }
    if options.exports.any() || options.trace.is_some() {
        return Err(Error::Usage("--export-*, --plot and --trace take one job file, not a catalog".to_string()));
    }
    let format = options.format;
    let mut worst = exit::OK;
    let mut docs = Vec::new();
    let mut failed = Vec::new();
    // The files that ran (a file a signal stopped before its first run, while it was read from
    // a FIFO or standard input, did not).
    let mut ran = 0;
    for (n, file) in files.iter().enumerate() {
        if format == Format::Human {
            report::emit(&format!("== {file}\n"))?;
        }
        let done = match run_file(file, options) {
            Ok(done) => {
                ran += 1;
                done
            }
            // Nothing of this file ran when the error is a signal's (it came first).
            Err(e) => {
                ran += usize::from(!matches!(e, Error::Interrupted(_)));
                Done { code: e.exit_code(), document: failure(&e, format) }
            }
        };
        let code = done.code;
        if code != exit::OK {
            failed.push(format!("{file} (exit {code})"));
        }
        worst = worst.max(code);
        docs.push(serde_json::json!({ "file": file, "exit_code": code, "report": done.document }));
        // A signal stops the catalog (its later files do not run), whenever it came.
        let later = n + 1 < files.len();
        let caught = crate::exec::interrupt::Interrupts::armed().and_then(|i| i.caught()).filter(|_| later);
        if Interrupt::from_exit_code(code).is_some() || caught.is_some() {
            worst = worst.max(caught.map_or(code, Interrupt::exit_code));
            break;
        }
    }
    match format {
        Format::Human => {
            // A signal stops the catalog: say how many of its jobs ran.
            let jobs = match ran {
                ran if ran < files.len() => format!("{ran} of {} jobs ran (interrupted)", files.len()),
                1 => "1 job".to_string(),
                n => format!("{n} jobs"),
            };
            let summary = if failed.is_empty() {
                format!("catalog: {jobs}, all passed\n")
            } else {
                format!("catalog: {jobs}, {} failed: {}\n", failed.len(), failed.join(", "))
            };
            report::emit(&summary)?;
            Ok(Done::code(worst))
        }
        Format::Json => Ok(Done {
            code: worst,
            document: Some(serde_json::json!({
                "schema_version": report::SCHEMA_VERSION,
                "jobs": docs,
                "failed": failed.len(),
            })),
        }),
    }
}

/// The job files named on the command line, folders replaced by the `.yaml` files in them,
/// and whether they make a catalog.
pub(super) fn job_files(names: &[String]) -> Result<(Vec<String>, bool), Error> {
    let mut files = Vec::new();
    let mut catalog = names.len() > 1;
    for name in names {
        let path = std::path::Path::new(name);
        if !path.is_dir() {
            files.push(name.clone());
            continue;
        }
        catalog = true;
        let entries = std::fs::read_dir(path).map_err(|e| Error::Usage(format!("{name}: {e}")))?;
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if found.is_empty() {
            return Err(Error::Usage(format!("{name}: a folder with no job files (*.yaml)")));
        }
        found.sort();
        files.extend(found);
    }
    Ok((files, catalog))
}
