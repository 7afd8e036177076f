use std::time::Instant;
fn main() {
    let base = valine_prisma::generate_schema(1000);
    let target = base.replace(
        "  title     String\n",
        "  title     String\n  note      String?\n",
    );
    for _ in 0..5 {
        let t = Instant::now();
        let a = valine_prisma::parse(&base).unwrap_or_default();
        let t1 = t.elapsed();
        let t = Instant::now();
        let ia = valine_prisma::lower(&a);
        let t2 = t.elapsed();
        let b = valine_prisma::parse(&target).unwrap_or_default();
        let ib = valine_prisma::lower(&b);
        let t = Instant::now();
        let d = valine_prisma::diff::diff(&ia, &ib);
        let t3 = t.elapsed();
        let t = Instant::now();
        drop((a, b, ia, ib));
        let t4 = t.elapsed();
        let t = Instant::now();
        let _ = valine_prisma::analyze(&base, &target);
        let t5 = t.elapsed();
        println!(
            "parse {t1:?} lower {t2:?} diff {t3:?} drop-all {t4:?} analyze {t5:?} ops {}",
            d.operations.len()
        );
    }
}
