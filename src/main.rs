fn main() {
    std::process::exit(stockman::cli::main());
}
