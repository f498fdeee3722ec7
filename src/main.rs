fn main() -> std::process::ExitCode {
    stockman::cli::main()
}
