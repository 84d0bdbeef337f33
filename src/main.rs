//! The `panthera` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    panthera::cli::main()
}
