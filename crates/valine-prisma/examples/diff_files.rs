//! Prints the analysis of two schema files: `cargo run -p valine-prisma --example diff_files
//! -- base.prisma target.prisma [--json]`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(base), Some(target)) = (args.first(), args.get(1)) else {
        eprintln!("usage: diff_files <base.prisma> <target.prisma> [--json]");
        std::process::exit(2);
    };
    let read = |p: &str| {
        std::fs::read_to_string(p).unwrap_or_else(|e| {
            eprintln!("{p}: {e}");
            std::process::exit(2);
        })
    };
    match valine_prisma::analyze(&read(base), &read(target)) {
        Ok(a) if args.iter().any(|a| a == "--json") => {
            println!("{}", serde_json::to_string_pretty(&a).unwrap_or_default());
        }
        Ok(a) => print!("{}", a.to_text()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
