mod interrupt;

fn main() -> std::process::ExitCode {
    interrupt::install();
    stockman::cli::main()
}
