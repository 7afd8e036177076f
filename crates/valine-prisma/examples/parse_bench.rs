//! Parse + diff time of a generated schema (1,000 models by default) against modified
//! copies. Run: `cargo run --release -p valine-prisma --example parse_bench [models]`.

use std::time::Instant;

// The `valine` binary's allocator, so this measures what `valine schema diff` and the
// server run with; parse + diff is allocation-heavy (a tree per schema, an IR per tree).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Adds a nullable field to every `every`-th model, widens a few columns, adds a model.
fn modified(base: &str, every: usize) -> String {
    let mut out = String::with_capacity(base.len() + base.len() / 8);
    for (i, chunk) in base.split("\nmodel ").enumerate() {
        if i > 0 {
            out.push_str("\nmodel ");
        }
        // Chunk i (i ≥ 1) is model i - 1.
        if i > 0 && (i - 1) % every == 0 {
            out.push_str(&chunk.replacen(
                "  title     String\n",
                "  title     String\n  note      String?\n",
                1,
            ));
        } else {
            out.push_str(chunk);
        }
    }
    let mut out = out.replacen("@db.VarChar(64)", "@db.VarChar(255)", 3);
    out.push_str("\nmodel Extra {\n  id Int @id @default(autoincrement())\n}\n");
    out
}

fn measure(base: &str, target: &str) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut ops = 0;
    for _ in 0..15 {
        let start = Instant::now();
        let analysis = match valine_prisma::analyze(base, target) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        ops = analysis.operations.len();
    }
    (best, ops)
}

fn main() {
    let models: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let base = valine_prisma::generate_schema(models);
    for (label, every) in [("10% of models changed", 10), ("every model changed", 1)] {
        let target = modified(&base, every);
        let (ms, ops) = measure(&base, &target);
        println!(
            "prisma parse+diff: {models} models ({} KiB), {label}: {ops} operations, best of 15: {ms:.2} ms",
            base.len() / 1024
        );
    }
}
