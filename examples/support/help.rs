//! `--help` for the examples: each passes its usage text, printed on request.

/// Prints `usage` and exits with success when the command line asks for help (`--help` or
/// `-h`), before any argument is taken as a file.
pub fn on_request(usage: &str) {
    if std::env::args()
        .skip(1)
        .any(|arg| arg == "--help" || arg == "-h")
    {
        print!("{usage}");
        std::process::exit(0);
    }
}
