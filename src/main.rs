//! The `handoff` binary: everything is in the library; see `handoff --help`.

fn main() -> std::process::ExitCode {
    handoff::cli::main()
}
