//! Errors as data, exit codes named once, and the one place diagnostics are drawn.
//!
//! Owns: [`Diagnostic`] (a problem in a job file, with its position and field), [`Error`] (why a
//! command could not finish) and the exit codes. Does not own: deciding what is wrong with a job
//! (the spec reader and the planner do) or the verdict of a run (see `outcome`).

use std::fmt;

use serde::Serialize;

/// Exit codes, highest first when several apply. Documented in the README.
pub mod exit {
    /// Interrupted by SIGTERM.
    pub const SIGTERM: i32 = 143;
    /// Interrupted by SIGQUIT.
    pub const SIGQUIT: i32 = 131;
    /// Interrupted by SIGINT.
    pub const SIGINT: i32 = 130;
    /// Interrupted by SIGHUP.
    pub const SIGHUP: i32 = 129;
    /// A worker or the set-up (fork, shared memory, channel) failed.
    pub const FAILED: i32 = 3;
    /// Invalid job file, usage, or an output that cannot be written.
    pub const INVALID: i32 = 2;
    /// The final value is `wrong`.
    pub const WRONG: i32 = 1;
    /// `correct`, or `lost_updates` with the `none` backend.
    pub const OK: i32 = 0;
}

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// One problem in a job file (or in an override of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as named on the command line (`-` for standard input).
    pub file: String,
    /// Where in the file; `None` for problems with the file as a whole or with a flag.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub pos: Option<Pos>,
    /// The dotted path of the field (`value.initial`), when one is concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Diagnostic {
    pub fn at(file: &str, pos: Pos, field: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            pos: Some(pos),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
        }
    }

    pub fn file(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic { file: file.to_string(), pos: None, field: None, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COLUMN: FIELD: message`, leaving out the parts that do not apply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(pos) = self.pos {
            write!(f, ":{}:{}", pos.line, pos.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A signal that stopped a run: runner stops its workers, reports what they did, and exits
/// with the signal's code (128 + its number). SIGHUP and SIGQUIT are taken as SIGTERM is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Interrupt {
    #[serde(rename = "SIGHUP")]
    Sighup,
    #[serde(rename = "SIGINT")]
    Sigint,
    #[serde(rename = "SIGQUIT")]
    Sigquit,
    #[serde(rename = "SIGTERM")]
    Sigterm,
}

impl Interrupt {
    /// Every signal runner takes as an interrupt, in the order of their numbers.
    pub const ALL: [Interrupt; 4] = [Interrupt::Sighup, Interrupt::Sigint, Interrupt::Sigquit, Interrupt::Sigterm];

    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Sighup => "SIGHUP",
            Interrupt::Sigint => "SIGINT",
            Interrupt::Sigquit => "SIGQUIT",
            Interrupt::Sigterm => "SIGTERM",
        }
    }

    /// The signal's number (Linux's: 1, 2, 3, 15).
    pub fn number(self) -> i32 {
        match self {
            Interrupt::Sighup => 1,
            Interrupt::Sigint => 2,
            Interrupt::Sigquit => 3,
            Interrupt::Sigterm => 15,
        }
    }

    /// The signal numbered `n`, if runner takes it as an interrupt.
    pub fn from_number(n: i32) -> Option<Interrupt> {
        Interrupt::ALL.into_iter().find(|i| i.number() == n)
    }

    pub fn exit_code(self) -> i32 {
        match self {
            Interrupt::Sighup => exit::SIGHUP,
            Interrupt::Sigint => exit::SIGINT,
            Interrupt::Sigquit => exit::SIGQUIT,
            Interrupt::Sigterm => exit::SIGTERM,
        }
    }

    /// The interrupt whose exit code is `code`, if it is one.
    pub fn from_exit_code(code: i32) -> Option<Interrupt> {
        Interrupt::ALL.into_iter().find(|i| i.exit_code() == code)
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a command could not finish.
#[derive(Debug)]
pub enum Error {
    /// The job file (or an override) is invalid: every problem found.
    Invalid(Vec<Diagnostic>),
    /// The command line is wrong in a way clap cannot see.
    Usage(String),
    /// A report or export could not be written.
    Output(String),
    /// The run could not be set up or supervised (shared memory, channel, pins).
    Setup(String),
    /// A worker (or the channel's waker) could not be forked; those already forked were
    /// stopped and reaped.
    Fork(String),
    /// A signal came before anything ran: nothing to report but that.
    Interrupted(Interrupt),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::Usage(_) | Error::Output(_) => exit::INVALID,
            Error::Setup(_) | Error::Fork(_) => exit::FAILED,
            Error::Interrupted(signal) => signal.exit_code(),
        }
    }

    /// The text for standard error: one line per problem.
    pub fn render(&self) -> String {
        let text: String = match self {
            Error::Invalid(diags) => diags.iter().map(|d| format!("{d}\n")).collect(),
            Error::Usage(m) => format!("error: {m}\n"),
            Error::Output(m) => format!("error: cannot write output: {m}\n"),
            Error::Setup(m) | Error::Fork(m) => format!("error: {m}\n"),
            Error::Interrupted(signal) => {
                format!("error: interrupted by {signal} before the first run started: nothing ran\n")
            }
        };
        crate::terminal::for_people(&text).into_owned()
    }
}

impl From<Vec<Diagnostic>> for Error {
    fn from(diags: Vec<Diagnostic>) -> Error {
        Error::Invalid(diags)
    }
}
