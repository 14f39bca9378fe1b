//! `runner completions SHELL` and `runner man`: the scripts and pages are written from the
//! command line's own definition, and they work where they are used: the bash script, sourced
//! in a real bash, completes commands, flags and values; the page renders with man-db's
//! `man -l`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Test;

/// What bash's completion function for runner offers for `words` (the last one being completed),
/// as a user's Tab would: the script sourced, COMP_WORDS and COMP_CWORD set, the function the
/// script registered for `runner` called as bash calls it.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = Test::new().args(&["completions", "bash"]).status(0).run().stdout;
    let words_list = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" ");
    let line = words.join(" ");
    let program = format!(
        r#"source /dev/stdin
function=$(complete -p runner | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$function" ] || {{ echo "no completion function registered for runner" >&2; exit 3; }}
COMP_WORDS=({words_list})
COMP_CWORD={cword}
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
COMP_TYPE=9
"$function" runner '{current}' '{previous}'
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        cword = words.len() - 1,
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let mut bash = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &program])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash starts (the completion test needs bash on PATH)");
    bash.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("the script goes to bash");
    let out = bash.wait_with_output().expect("bash ends");
    assert!(out.status.success(), "bash: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_commands_flags_and_values() {
    let got = bash_completes(&["runner", "va"]);
    assert_eq!(got, ["validate"], "commands");
    let got = bash_completes(&["runner", ""]);
    for command in ["run", "validate", "plan", "schema", "compare", "completions", "man", "--matrix", "--repeat"] {
        assert!(got.iter().any(|c| c == command), "{command} not offered after `runner `: {got:?}");
    }
    let got = bash_completes(&["runner", "jobs/increment.yaml", "--mat"]);
    assert_eq!(got, ["--matrix"], "a flag of `runner JOB`");
    let got = bash_completes(&["runner", "run", "jobs/increment.yaml", "--war"]);
    assert_eq!(got, ["--warmup"], "a flag of `runner run`");
    let got = bash_completes(&["runner", "plan", "--backend", "a"]);
    assert_eq!(got, ["atomic"], "a flag's values");
    let got = bash_completes(&["runner", "completions", ""]);
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        assert!(got.iter().any(|c| c == shell), "{shell} not offered after `runner completions `: {got:?}");
    }
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef runner"),
        ("fish", "complete -c runner"),
        ("elvish", "edit:completion:arg-completer[runner]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = Test::new().args(&["completions", shell]).status(0).stderr("").run();
        assert!(out.stdout.contains(needle), "{shell}: no {needle:?} in:\n{}", out.stdout);
        for flag in ["matrix", "warmup", "export-json"] {
            assert!(out.stdout.contains(flag), "{shell}: no {flag:?}");
        }
    }
    let out = Test::new().args(&["completions", "tcsh"]).status(2).stdout("").run();
    assert!(out.stderr.contains("possible values: bash, elvish, fish, powershell, zsh"), "{}", out.stderr);
}

/// `man -l FILE` (man-db) renders `page` as a reader sees it.
fn man(page: &std::path::Path) -> String {
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .output()
        .expect("man starts (the man page test needs man-db: apt-get install man-db)");
    assert!(out.status.success(), "man -l {}: {}", page.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_manual_renders_with_man() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("printed.1");
    let out = Test::new().arg("man").status(0).stderr("").run();
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq") || out.stdout.contains(".TH runner 1"),
        "roff:\n{}",
        out.stdout
    );
    std::fs::write(&page, &out.stdout).unwrap();
    let text = man(&page);
    for needle in
        ["NAME", "Runs a YAML job", "SYNOPSIS", "--matrix <KEY=V1,V2,...>", "-r, --repeat", "runner-validate(1)"]
    {
        assert!(text.contains(needle), "the page lacks {needle:?}:\n{text}");
    }

    // A command's own page, and every page written at once.
    let out = Test::new().args(&["man", "plan"]).status(0).run();
    std::fs::write(&page, &out.stdout).unwrap();
    assert!(man(&page).contains("runner-plan - Show what a job would run"), "{}", man(&page));
    Test::new().args(&["man", "--dir", &dir.to_string_lossy()]).status(0).stdout("").stderr("").run();
    for name in ["runner.1", "runner-run.1", "runner-completions.1", "runner-man.1"] {
        assert!(man(&dir.join(name)).contains("NAME"), "{name}");
    }
    let out = Test::new().args(&["man", "nope"]).status(2).stdout("").run();
    assert!(out.stderr.contains("no such command"), "{}", out.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `completions` and `man` are commands: a misspelt one gets its did-you-mean.
#[test]
fn new_commands_are_known_names() {
    for (typo, name) in [("mna", "man"), ("completion", "completions")] {
        let out = Test::new().arg(typo).status(2).stdout("").run();
        assert!(out.stderr.contains(&format!("did you mean \"{name}\"")), "{}", out.stderr);
    }
}
