mod interrupt;

fn main() -> std::process::ExitCode {
    stockman::rlimit::raise_open_files();
    interrupt::install();
    stockman::cli::main()
}
