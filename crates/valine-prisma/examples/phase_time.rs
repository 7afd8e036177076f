//! Where the time of one `analyze` goes, phase by phase, on a generated schema.
//! Run: `cargo run --release -p valine-prisma --example phase_time [models] [phase]`.

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let models: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let only = args.next();
    let base = valine_prisma::generate_schema(models);
    for _ in 0..5 {
        if only.as_deref() == Some("validate") {
            let a = valine_prisma::parser::parse_syntax(&base).unwrap_or_default();
            let t = Instant::now();
            for _ in 0..20 {
                let _ = valine_prisma::validate::validate(&base, &a);
            }
            println!("validate x20 {:?}", t.elapsed());
            continue;
        }
        if only.as_deref() == Some("lower") {
            let a = valine_prisma::parser::parse_syntax(&base).unwrap_or_default();
            let t = Instant::now();
            for _ in 0..20 {
                drop(valine_prisma::lower(&a));
            }
            println!("lower x20 {:?}", t.elapsed());
            continue;
        }
        if only.as_deref() == Some("parse") {
            let t = Instant::now();
            let a = valine_prisma::parser::parse_syntax(&base).unwrap_or_default();
            let t1 = t.elapsed();
            let t = Instant::now();
            drop(a);
            println!("syntax {t1:?} drop {:?}", t.elapsed());
            continue;
        }
        let t = Instant::now();
        let tokens = valine_prisma::lexer::lex(&base)
            .map(|t| t.len())
            .unwrap_or(0);
        let t0 = t.elapsed();
        let t = Instant::now();
        let a = valine_prisma::parser::parse_syntax(&base).unwrap_or_default();
        let t1 = t.elapsed();
        let t = Instant::now();
        let valid = valine_prisma::validate::validate(&base, &a).is_ok();
        let t2 = t.elapsed();
        let t = Instant::now();
        let ia = valine_prisma::lower(&a);
        let t3 = t.elapsed();
        let t = Instant::now();
        let d = valine_prisma::diff::diff(&ia, &ia);
        let t4 = t.elapsed();
        let t = Instant::now();
        drop(ia);
        let t5 = t.elapsed();
        let t = Instant::now();
        drop(a);
        let t6 = t.elapsed();
        println!(
            "{tokens} tokens: lex {t0:?}, lex+parse {t1:?}, validate {t2:?} ({valid}), lower {t3:?}, self-diff {t4:?} ({} ops), drop IR {t5:?}, drop AST {t6:?}",
            d.operations.len()
        );
    }
}
