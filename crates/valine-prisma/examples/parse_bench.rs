//! Parse + diff time of a generated 1,000-model schema against a modified copy.
//! Run: `cargo run --release -p valine-prisma --example parse_bench [models]`.

use std::time::Instant;

fn main() {
    let models: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let base = valine_prisma::generate_schema(models);
    // A realistic change set: a new field on every tenth model, a widened column, a dropped
    // index and a new model at the end.
    let mut target = base.replace(
        "  title     String\n",
        "  title     String\n  note      String?\n",
    );
    target = target.replacen("@db.VarChar(64)", "@db.VarChar(255)", 3);
    target.push_str("\nmodel Extra {\n  id Int @id @default(autoincrement())\n}\n");

    let mut best = f64::MAX;
    let mut ops = 0;
    for _ in 0..10 {
        let start = Instant::now();
        let analysis = match valine_prisma::analyze(&base, &target) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        ops = analysis.operations.len();
    }
    println!(
        "prisma parse+diff: {models} models, {} KiB x2, {ops} operations, best of 10: {best:.2} ms",
        base.len() / 1024
    );
}
