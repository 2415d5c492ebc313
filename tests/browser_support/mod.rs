//! Running a script of browser/ (playwright-core driving Debian's headless Chromium) from
//! a test: whether it can run here, and running it at a viewport with its environment.
//!
//! Needs node, Chromium (`CHROMIUM`, default /usr/bin/chromium) and `npm ci` in
//! browser/. Without them a test prints a skip note — unless
//! `HANDOFF_BROWSER_TESTS=required` or `CI=true` (.ci/run installs them and sets the
//! former), where it fails instead.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use crate::common;

/// Where the scripts and Chromium are; `Err` says what is missing.
pub struct Scripts {
    dir: PathBuf,
    chromium: PathBuf,
}

impl Scripts {
    /// The scripts, when they can run here. Without them: `None` after a skip note, or a
    /// failure where the browser tests are required.
    pub fn find() -> Option<Scripts> {
        match prerequisites() {
            Ok(scripts) => Some(scripts),
            Err(missing) => {
                assert!(!mandatory(), "the browser test is required here (CI) but cannot run: {missing}");
                eprintln!("SKIPPED: the browser test: {missing}");
                None
            }
        }
    }

    /// Runs `node {script}` at `viewport` (`desktop` or `phone`) with `env`; screenshots go
    /// to target/browser-screenshots/{area}/{viewport}/. Fails the test when a step fails.
    pub async fn run(&self, script: &str, area: &str, viewport: &str, env: Vec<(&'static str, String)>) -> String {
        let screenshots = common::repo_path(&format!("target/browser-screenshots/{area}"));
        let (dir, chromium, script_name, viewport_name) = (self.dir.clone(), self.chromium.clone(), script.to_owned(), viewport.to_owned());
        let out = tokio::task::spawn_blocking(move || {
            Command::new("node")
                .arg(&script_name)
                .current_dir(&dir)
                .envs(env)
                .env("BROWSER_VIEWPORT", viewport_name)
                .env("BROWSER_SCREENSHOTS", screenshots)
                .env("CHROMIUM", chromium)
                .output()
        })
        .await
        .unwrap()
        .expect("node runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("--- {script} at {viewport} ---\n{stdout}");
        assert!(out.status.success(), "browser/{script} failed at {viewport}:\n{stdout}\n{stderr}");
        assert!(stdout.contains(" passed, "), "the script ran to its summary:\n{stdout}\n{stderr}");
        stdout
    }
}

fn prerequisites() -> Result<Scripts, String> {
    let dir = common::repo_path("browser");
    let chromium = PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    if !chromium.exists() {
        return Err(format!("no Chromium at {} (apt-get install chromium)", chromium.display()));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("no node on PATH".into());
    }
    if !dir.join("node_modules/playwright-core").exists() {
        return Err(format!("playwright-core is missing: run `npm ci` in {}", dir.display()));
    }
    Ok(Scripts { dir, chromium })
}

fn mandatory() -> bool {
    std::env::var("HANDOFF_BROWSER_TESTS").as_deref() == Ok("required") || std::env::var("CI").as_deref() == Ok("true")
}
