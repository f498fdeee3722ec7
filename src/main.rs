fn main() -> std::process::ExitCode {
    stockman::rlimit::raise_open_files();
    stockman::cli::main()
}
